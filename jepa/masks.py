"""Mask generators: which tokens the context encoder sees and which the predictor must predict.

Three forms, all returning `MaskPair(ctx, tgt)` of token indices with the same
count in every sample of the batch (so the encoder runs on a dense tensor):
- multiblock (V-JEPA): union of 3-D boxes is the target, the rest is context;
- random: a random fraction of tokens is the target (the CPU `tiny` profile,
  where box masks did not learn at 64 tokens: docs/method.md, "Profiles");
- future (future_predictive, motion_future), as released: the two generators
  `FUTURE_BLOCKS` (4 boxes of 0.15 and 1 box of 0.7 of the frame, spanning all
  time); context = the first half of time minus the boxes, target = the full
  complement of the context (the second half and the boxes). `future: halves`
  keeps the older form: context = the whole first half, target = the second half.
Motion guidance (MGM / AMG) biases *where* targets land: box origins (or
tokens) are drawn with probability ~ (box-mean motion)**strength, with a
fraction `random_frac` drawn uniformly; in future masks it therefore picks
where the boxes are cut out of the first-half context.
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


FUTURE_BLOCKS = (
    BlockSpec(num_blocks=4, spatial_scale=(0.15, 0.15), temporal_scale=(1.0, 1.0), aspect_ratio=(0.75, 1.5)),
    BlockSpec(num_blocks=1, spatial_scale=(0.7, 0.7), temporal_scale=(1.0, 1.0), aspect_ratio=(0.75, 1.5)),
)
FUTURE_CONTEXT_FRACTION = 0.5  # the released max_temporal_keep: context spans the first half of time


def motion_map(x: torch.Tensor, tubelet: int, patch: int) -> torch.Tensor:
    """Per-token motion, as released: (B, C, T, H, W) -> (B, T', H', W') in [0, 1].

    Mean absolute frame difference over channels, the first difference repeated in front (T-1
    differences -> T frames), trilinearly resized to the token grid (align_corners False) and
    divided by each clip's maximum (a static clip stays all zero).
    """
    b, _, t, h, w = x.shape
    diff = (x[:, :, 1:] - x[:, :, :-1]).abs().mean(dim=1)  # (B, T-1, H, W)
    diff = torch.cat([diff[:, :1], diff], dim=1).unsqueeze(1)
    m = F.interpolate(diff, size=(t // tubelet, h // patch, w // patch), mode="trilinear",
                      align_corners=False).squeeze(1)
    return m / m.flatten(1).amax(dim=1).clamp_min(1e-6).view(-1, 1, 1, 1)


def _guided_probs(motion: torch.Tensor, strength: float) -> torch.Tensor:
    w = motion.flatten(1).clamp_min(1e-6) ** strength
    return w / w.sum(dim=1, keepdim=True)


def _to_pair(masked: torch.Tensor, gen: torch.Generator, full_complement: bool = False) -> MaskPair:
    """Boolean (B, N) target mask -> index pair with equal counts across the batch.

    As released, each set is trimmed to the batch minimum by keeping its first (lowest) indices;
    full_complement: the target is every token outside the trimmed context.
    """
    b, n = masked.shape
    masked = masked.clone()
    empty_ctx = masked.all(dim=1)
    if empty_ctx.any():  # a sample must keep at least one visible token
        masked[empty_ctx, torch.randint(n, (int(empty_ctx.sum()),), generator=gen)] = False
    n_ctx = int((~masked).sum(1).min())
    order = torch.arange(n).expand(b, n)
    # ascending indices of each set first (stable sort on "not in the set"), keep the first n
    ctx = torch.sort((masked.long() * n + order), dim=1).values[:, :n_ctx] % n
    if full_complement:
        keep = torch.zeros(b, n, dtype=torch.bool).scatter_(1, ctx, True)
        tgt = torch.sort((keep.long() * n + order), dim=1).values[:, :n - n_ctx] % n
    else:
        n_tgt = int(masked.sum(1).min())
        tgt = torch.sort(((~masked).long() * n + order), dim=1).values[:, :n_tgt] % n
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


def _aspect(spec: BlockSpec, u: float) -> float:
    lo, hi = spec.aspect_ratio
    if spec.aspect_sampling == "log_uniform":
        return math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * u)
    return lo + (hi - lo) * u  # uniform, as released


def _box_size(spec: BlockSpec, grid: tuple[int, int, int], gen: torch.Generator) -> tuple[int, int, int]:
    """Box size as released: t = floor(T' ts), area = floor(H'W' s) tokens, h = round(sqrt(area ar)),
    w = round(sqrt(area / ar)); every side at least 1 (a tiny grid can floor the area to 0)."""
    t, h, w = grid
    u = torch.rand(3, generator=gen).tolist()
    ts = spec.temporal_scale[0] + (spec.temporal_scale[1] - spec.temporal_scale[0]) * u[0]
    s = spec.spatial_scale[0] + (spec.spatial_scale[1] - spec.spatial_scale[0]) * u[1]
    ar = _aspect(spec, u[2])
    area = int(h * w * s)
    bh = min(h, max(1, round(math.sqrt(area * ar))))
    bw = min(w, max(1, round(math.sqrt(area / ar))))
    bt = min(t, max(1, int(t * ts)))
    return bt, bh, bw


def multiblock(batch: int, grid: tuple[int, int, int], spec: BlockSpec, gen: torch.Generator,
               motion: torch.Tensor | None = None, guidance: GuidanceCfg | None = None,
               context_frames: int | None = None) -> MaskPair:
    """Union of `num_blocks` boxes (one size per batch, as V-JEPA) is the target.

    context_frames (future masks): the context is further limited to the first `context_frames`
    time tokens and the target is the full complement of the context.
    """
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
    masked = inside.any(dim=1)  # (B, T, H, W)
    if context_frames is None:
        return _to_pair(masked.flatten(1), gen)
    masked[:, context_frames:] = True
    return _to_pair(masked.flatten(1), gen, full_complement=True)


def future_blocks(batch: int, grid: tuple[int, int, int], gen: torch.Generator, motion: torch.Tensor | None = None,
                  guidance: GuidanceCfg | None = None) -> list[MaskPair]:
    """The released future masks: one pair per generator of FUTURE_BLOCKS; context = first half of time
    minus the boxes, target = the full complement (motion guidance places the boxes)."""
    if grid[0] < 2:
        raise ValueError(f"future prediction needs at least 2 time tokens, the grid has {grid[0]}")
    frames = max(1, int(grid[0] * FUTURE_CONTEXT_FRACTION))
    return [multiblock(batch, grid, spec, gen, motion, guidance, context_frames=frames) for spec in FUTURE_BLOCKS]


def future(batch: int, grid: tuple[int, int, int], gen: torch.Generator, probs: torch.Tensor | None = None,
           ratio: tuple[float, float] = (1.0, 1.0), random_frac: float = 0.0) -> MaskPair:
    """`future: halves`: context = first half of the time tokens; targets = the second half (or a guided
    subset of it)."""
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
    """Turns a profile's mask config plus a variant's guidance/future switches into mask pairs for a batch.

    future: False, True (the released future masks, `future_blocks`) or "halves".
    """

    def __init__(self, mask: MaskCfg, model: ModelCfg, guidance: GuidanceCfg | None = None,
                 future: bool | str = False):
        self.mask, self.model, self.guidance, self.future = mask, model, guidance, future
        self.grid = model.grid

    def __call__(self, x: torch.Tensor, gen: torch.Generator, rank: int = 0, world_size: int = 1) -> list[MaskPair]:
        """Masks for this rank's slice `x` of the global batch.

        Under DDP every rank draws the masks of the whole global batch from the same generator (the
        motion maps of guided variants are all-gathered first) and keeps its own rows, so a run's masks,
        and with them its loss curve, do not depend on how many processes share the batch.
        """
        motion = motion_map(x.float().cpu(), self.model.tubelet, self.model.patch) if self.guidance else None
        if world_size == 1:
            return self._draw(x.shape[0], motion, gen)
        if motion is not None:  # gathered on the batch's device: NCCL collectives take CUDA tensors only
            import torch.distributed as dist

            local = motion.to(x.device)
            parts = [torch.empty_like(local) for _ in range(world_size)]
            dist.all_gather(parts, local)
            motion = torch.cat(parts).cpu()
        b = x.shape[0]
        rows = slice(rank * b, (rank + 1) * b)
        return [MaskPair(p.ctx[rows], p.tgt[rows]) for p in self._draw(b * world_size, motion, gen)]

    def _draw(self, b: int, motion: torch.Tensor | None, gen: torch.Generator) -> list[MaskPair]:
        g = self.guidance
        if self.future and self.future != "halves":
            return future_blocks(b, self.grid, gen, motion, g)
        if self.future:
            probs = _guided_probs(motion, g.strength) if g else None
            return [future(b, self.grid, gen, probs, self.mask.ratio, g.random_frac if g else 0.0)]
        if self.mask.kind == "random":
            probs = _guided_probs(motion, g.strength) if g else None
            n = self.model.num_tokens
            return [random_tokens(b, n, self.mask.ratio, gen, probs, g.random_frac if g else 0.0)]
        return [multiblock(b, self.grid, spec, gen, motion, g) for spec in self.mask.blocks]
