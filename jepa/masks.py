"""Mask generators: which tokens the context encoder sees and which the predictor must predict.

Three forms, all returning `MaskPair(ctx, tgt)` of token indices with the same
count in every sample of the batch (so the encoder runs on a dense tensor):
- multiblock (V-JEPA): union of 3-D boxes is the target, the rest is context;
- random: a random fraction of tokens is the target (the CPU `tiny` profile,
  where box masks did not learn at 64 tokens: docs/method.md, "Profiles");
- future: context = first half of time, target = the rest.
Motion guidance (MGM / AMG) biases *where* targets land: box origins (or
tokens) are drawn with probability ~ (mean frame-difference motion)**strength,
with a fraction `random_frac` drawn uniformly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from jepa.config import BlockSpec, GuidanceCfg, MaskCfg, ModelCfg


@dataclass(frozen=True)
class MaskPair:
    ctx: torch.Tensor  # (B, Nc) long, sorted
    tgt: torch.Tensor  # (B, Nt) long, sorted


def motion_map(x: torch.Tensor, tubelet: int, patch: int) -> torch.Tensor:
    """Mean absolute frame difference per token: (B, C, T, H, W) -> (B, T', H', W')."""
    diff = (x[:, :, 1:] - x[:, :, :-1]).abs().mean(dim=1, keepdim=True)
    diff = torch.cat([diff, diff[:, :, -1:]], dim=2)  # T-1 differences -> T frames
    return F.avg_pool3d(diff, kernel_size=(tubelet, patch, patch)).squeeze(1)


def _guided_probs(motion: torch.Tensor, strength: float) -> torch.Tensor:
    w = (motion.flatten(1).clamp_min(0) + 1e-6) ** strength
    return w / w.sum(dim=1, keepdim=True)


def _to_pair(masked: torch.Tensor, gen: torch.Generator) -> MaskPair:
    """Boolean (B, N) target mask -> index pair with equal counts, trimming at random to the batch minimum."""
    b, n = masked.shape
    masked = masked.clone()
    empty_ctx = masked.all(dim=1)
    if empty_ctx.any():  # a sample must keep at least one visible token
        masked[empty_ctx, torch.randint(n, (int(empty_ctx.sum()),), generator=gen)] = False
    n_tgt = int(masked.sum(1).min())
    n_ctx = int((~masked).sum(1).min())
    noise = torch.rand(b, n, generator=gen)
    # Rank candidates randomly within each set, keep the first n of each.
    tgt = torch.topk(torch.where(masked, noise, -1.0), n_tgt, dim=1).indices.sort(dim=1).values
    ctx = torch.topk(torch.where(~masked, noise, -1.0), n_ctx, dim=1).indices.sort(dim=1).values
    return MaskPair(ctx, tgt)


def random_tokens(batch: int, n: int, ratio: tuple[float, float], gen: torch.Generator,
                  probs: torch.Tensor | None = None, random_frac: float = 0.0) -> MaskPair:
    lo, hi = ratio
    r = lo + (hi - lo) * float(torch.rand(1, generator=gen))
    n_tgt = min(n - 1, max(1, round(r * n)))
    if probs is None:
        tgt = torch.rand(batch, n, generator=gen).argsort(dim=1)[:, :n_tgt]
    else:
        n_rand = round(random_frac * n_tgt)
        chosen = torch.multinomial(probs, n_tgt - n_rand, replacement=False, generator=gen) if n_tgt > n_rand else \
            torch.empty(batch, 0, dtype=torch.long)
        if n_rand:
            free = torch.ones(batch, n).scatter_(1, chosen, 0.0)
            chosen = torch.cat([chosen, torch.multinomial(free, n_rand, replacement=False, generator=gen)], 1)
        tgt = chosen
    masked = torch.zeros(batch, n, dtype=torch.bool).scatter_(1, tgt, True)
    return _to_pair(masked, gen)


def _box_size(spec: BlockSpec, grid: tuple[int, int, int], gen: torch.Generator) -> tuple[int, int, int]:
    t, h, w = grid
    u = torch.rand(3, generator=gen).tolist()
    s = spec.spatial_scale[0] + (spec.spatial_scale[1] - spec.spatial_scale[0]) * u[0]
    ts = spec.temporal_scale[0] + (spec.temporal_scale[1] - spec.temporal_scale[0]) * u[1]
    ar = math.exp(math.log(spec.aspect_ratio[0]) + (math.log(spec.aspect_ratio[1]) - math.log(spec.aspect_ratio[0])) * u[2])
    area = s * h * w
    bh = min(h, max(1, round(math.sqrt(area * ar))))
    bw = min(w, max(1, round(math.sqrt(area / ar))))
    bt = min(t, max(1, round(ts * t)))
    return bt, bh, bw


def multiblock(batch: int, grid: tuple[int, int, int], spec: BlockSpec, gen: torch.Generator,
               motion: torch.Tensor | None = None, guidance: GuidanceCfg | None = None) -> MaskPair:
    """Union of `num_blocks` boxes (one size per batch, as V-JEPA) is the target."""
    t, h, w = grid
    bt, bh, bw = _box_size(spec, grid, gen)
    n_origins = (t - bt + 1, h - bh + 1, w - bw + 1)
    if motion is not None and guidance is not None:
        box_motion = F.avg_pool3d(motion.unsqueeze(1), (bt, bh, bw), stride=1).squeeze(1)
        probs = _guided_probs(box_motion, guidance.strength)
        uniform = torch.full_like(probs, 1.0 / probs.shape[1])
        pick_uniform = torch.rand(batch, spec.num_blocks, generator=gen) < guidance.random_frac
        guided = torch.multinomial(probs, spec.num_blocks, replacement=True, generator=gen)
        rand = torch.multinomial(uniform, spec.num_blocks, replacement=True, generator=gen)
        flat = torch.where(pick_uniform, rand, guided)
    else:
        flat = torch.randint(n_origins[0] * n_origins[1] * n_origins[2], (batch, spec.num_blocks), generator=gen)
    ot = flat // (n_origins[1] * n_origins[2])
    oh = (flat // n_origins[2]) % n_origins[1]
    ow = flat % n_origins[2]
    tt = torch.arange(t).view(1, 1, t, 1, 1)
    hh = torch.arange(h).view(1, 1, 1, h, 1)
    ww = torch.arange(w).view(1, 1, 1, 1, w)
    inside = ((tt >= ot[..., None, None, None]) & (tt < (ot + bt)[..., None, None, None])
              & (hh >= oh[..., None, None, None]) & (hh < (oh + bh)[..., None, None, None])
              & (ww >= ow[..., None, None, None]) & (ww < (ow + bw)[..., None, None, None]))
    return _to_pair(inside.any(dim=1).flatten(1), gen)


def future(batch: int, grid: tuple[int, int, int], gen: torch.Generator, probs: torch.Tensor | None = None,
           ratio: tuple[float, float] = (1.0, 1.0), random_frac: float = 0.0) -> MaskPair:
    """Context = first half of the time tokens; targets = the second half (or a guided subset of it)."""
    t, h, w = grid
    if t < 2:
        raise ValueError(f"future prediction needs at least 2 time tokens, the grid has {t}")
    n, half = t * h * w, (t // 2) * h * w
    in_future = torch.arange(n) >= half
    if probs is None:
        masked = in_future.expand(batch, n)
    else:
        future_probs = probs * in_future
        future_probs = future_probs / future_probs.sum(1, keepdim=True)
        lo, hi = ratio
        r = lo + (hi - lo) * float(torch.rand(1, generator=gen))
        k = max(1, round(r * (n - half)))
        n_rand = round(random_frac * k)
        idx = torch.multinomial(future_probs, k - n_rand, replacement=False, generator=gen)
        masked = torch.zeros(batch, n, dtype=torch.bool).scatter_(1, idx, True)
        if n_rand:
            free = (in_future & ~masked).float()
            masked.scatter_(1, torch.multinomial(free, n_rand, replacement=False, generator=gen), True)
    ctx = torch.arange(half).expand(batch, half)
    pair = _to_pair(masked, gen)
    return MaskPair(ctx.clone(), pair.tgt)


class MaskGenerator:
    """Turns a profile's mask config plus a variant's guidance/future switches into mask pairs for a batch."""

    def __init__(self, mask: MaskCfg, model: ModelCfg, guidance: GuidanceCfg | None = None, future: bool = False):
        self.mask, self.model, self.guidance, self.future = mask, model, guidance, future
        self.grid = model.grid

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> list[MaskPair]:
        b = x.shape[0]
        motion = motion_map(x.float().cpu(), self.model.tubelet, self.model.patch) if self.guidance else None
        g = self.guidance
        if self.future:
            probs = _guided_probs(motion, g.strength) if g else None
            return [future(b, self.grid, gen, probs, self.mask.ratio, g.random_frac if g else 0.0)]
        if self.mask.kind == "random":
            probs = _guided_probs(motion, g.strength) if g else None
            n = self.model.num_tokens
            return [random_tokens(b, n, self.mask.ratio, gen, probs, g.random_frac if g else 0.0)]
        return [multiblock(b, self.grid, spec, gen, motion, g) for spec in self.mask.blocks]
