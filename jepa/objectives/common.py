"""Shared pieces of the auxiliary objectives: valid pairs, masked means, the FWM split, hard weights, heads.

Every temporal term reduces with `masked_mean`, so a batch without a single valid
position (all images, or a context encoder that saw no token at both t and t+1)
gives an exact zero that keeps a gradient path instead of a NaN.

"Video clips" below means the samples `AuxContext.video` admits: every clip by default (the
released loader repeats an image over the clip's frames and every term reads it), real videos
only under an objective's `skip_images` switch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from jepa.objectives.registry import AuxContext


def video_mask(ctx: AuxContext, shape: torch.Size | tuple[int, ...]) -> torch.Tensor:
    """(B,) video flag broadcast to a (B, ...) boolean mask of the given shape."""
    return ctx.video.view(-1, *([1] * (len(shape) - 1))).expand(shape)


def valid_pairs(ctx: AuxContext) -> torch.Tensor:
    """(B, T'-1, S): positions the context encoder saw at both t and t+1, in video clips only."""
    v = ctx.z_valid[:, 1:] & ctx.z_valid[:, :-1]
    return v & video_mask(ctx, v.shape)


def valid_start(ctx: AuxContext) -> torch.Tensor:
    """(B, T'-1, S): positions seen at t (t < T'-1), in video clips; the `positions: start` switch of
    the terms that read z[t] and h[t+1] only (the released code asks for t and t+1: `valid_pairs`)."""
    v = ctx.z_valid[:, :-1]
    return v & video_mask(ctx, v.shape)


def step_positions(ctx: AuxContext, positions: str) -> torch.Tensor:
    """Positions of a one-step term (ld, ltc, ac, hamiltonian): `pairs` (seen at t and t+1, as released)
    or `start` (seen at t)."""
    if positions == "pairs":
        return valid_pairs(ctx)
    if positions == "start":
        return valid_start(ctx)
    raise ValueError(f"positions must be 'pairs' or 'start', got {positions!r}")


def visible(ctx: AuxContext, videos_only: bool = False) -> torch.Tensor:
    """(B, T', S): positions the context encoder saw (optionally only in video clips)."""
    v = ctx.z_valid
    return v & video_mask(ctx, v.shape) if videos_only else v


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of x over mask (same shape); 0 with a gradient path when the mask is empty."""
    m = mask.to(x.dtype)
    return (x * m).sum() / m.sum().clamp_min(1.0)


def zero_loss(*tensors: torch.Tensor) -> torch.Tensor:
    """A zero that is connected to the inputs' graphs (so backward and DDP see the usual parameters)."""
    return sum(t.sum() * 0.0 for t in tensors)


def split_channels(x: torch.Tensor, frac: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """FWM split of the last dim: (Z_app = first `frac` of channels, Z_dyn = the rest).

    With hierarchical features the first half holds the shallow encoder levels, the second the deep ones.
    """
    k = split_size(x.shape[-1], frac)
    return x[..., :k], x[..., k:]


def split_size(dim: int, frac: float = 0.5) -> int:
    """Channels in the first part: max(1, floor(dim * frac)), as released (D_app, D_kinematic)."""
    if not 0 < frac < 1:
        raise ValueError(f"split fraction must be in (0, 1), got {frac}")
    k = max(1, int(dim * frac))
    if not 0 < k < dim:
        raise ValueError(f"cannot split {dim} channels at fraction {frac}")
    return k


def select_input(z: torch.Tensor, which: str, frac: float = 0.5) -> torch.Tensor:
    """What a head reads: all channels (`full`) or the FWM dynamics part (`dyn`)."""
    if which == "full":
        return z
    if which == "dyn":
        return split_channels(z, frac)[1]
    raise ValueError(f"input must be 'full' or 'dyn', got {which!r}")


def input_dim(dim: int, which: str, frac: float = 0.5) -> int:
    if which == "full":
        return dim
    if which == "dyn":
        return dim - split_size(dim, frac)
    raise ValueError(f"input must be 'full' or 'dyn', got {which!r}")


def hard_weights(err: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0,
                 scope: str = "sample") -> torch.Tensor:
    """Hard-region weights w = K * softmax(sg(err) / T) over the valid positions (0 elsewhere).

    err, mask: (B, ...). scope `sample`: one softmax per sample, K = that sample's valid positions
    (hw's predicted tokens, as released); `batch`: one softmax over every valid position of the
    batch, K = their number (the released hard-weighted LD). Either way the weights average to 1.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if scope not in ("sample", "batch"):
        raise ValueError(f"hard-weight scope must be 'sample' or 'batch', got {scope!r}")
    b = err.shape[0] if scope == "sample" else 1
    e = err.detach().reshape(b, -1) / temperature
    m = mask.reshape(b, -1)
    logits = e.masked_fill(~m, torch.finfo(e.dtype).min)
    w = torch.softmax(logits, dim=1) * m * m.sum(1, keepdim=True)
    return w.view_as(err)


def mlp(inp: int, hidden: int, out: int, layers: int = 1) -> nn.Sequential:
    """MLP with `layers` GELU hidden layers of width `hidden`."""
    mods: list[nn.Module] = []
    d = inp
    for _ in range(layers):
        mods += [nn.Linear(d, hidden), nn.GELU()]
        d = hidden
    mods.append(nn.Linear(d, out))
    return nn.Sequential(*mods)


def patch_means(clip: torch.Tensor, tubelet: int, patch: int) -> torch.Tensor:
    """RGB mean of each tubelet: (B, C, T, H, W) -> (B, T', S, C)."""
    a = F.avg_pool3d(clip, kernel_size=(tubelet, patch, patch))  # (B, C, T', H', W')
    return a.flatten(3).permute(0, 2, 3, 1)


def variance_covariance(x: torch.Tensor, std_weight: float, cov_weight: float,
                        eps: float = 1e-4) -> dict[str, torch.Tensor]:
    """VICReg's anti-collapse terms on (M, D) samples: std_weight mean relu(1 - std_d)
    + cov_weight sum_{i != j} C_ij^2 / D. Keeps every channel varying across samples and the
    channels decorrelated, so features cannot fold onto a few directions."""
    if x.shape[0] < 2:
        return {"vc_std": zero_loss(x), "vc_cov": zero_loss(x)}
    x = x - x.mean(0)
    std = torch.sqrt(x.var(0) + eps)
    cov = x.T @ x / (x.shape[0] - 1)
    off = cov - torch.diag_embed(torch.diagonal(cov))
    return {"vc_std": std_weight * F.relu(1 - std).mean(), "vc_cov": cov_weight * off.pow(2).sum() / x.shape[1]}

