"""Positional encodings over a (T, H, W) token grid: fixed 3-D sin-cos and 3-D RoPE.

Both are computed from integer grid coordinates, so a masked subset of tokens
keeps its true positions (the predictor must know *where* it predicts).
"""

from __future__ import annotations

import torch


def grid_coords(grid: tuple[int, int, int], device=None) -> torch.Tensor:
    """(N, 3) integer (t, h, w) coordinates of every token, in flattening order."""
    t, h, w = grid
    axes = [torch.arange(n, device=device) for n in (t, h, w)]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, 3)


def _sincos_1d(pos: torch.Tensor, dim: int) -> torch.Tensor:
    omega = 1.0 / 10000 ** (torch.arange(dim // 2, dtype=torch.float32, device=pos.device) / (dim / 2))
    out = pos.float()[..., None] * omega
    return torch.cat([out.sin(), out.cos()], dim=-1)


def sincos_3d(grid: tuple[int, int, int], dim: int) -> torch.Tensor:
    """(N, dim) fixed embedding: a quarter of channels for time, the rest split over h and w (as V-JEPA)."""
    dim_t = (dim // 4) // 2 * 2
    dim_s = ((dim - dim_t) // 2) // 2 * 2
    dim_t = dim - 2 * dim_s
    c = grid_coords(grid)
    return torch.cat([_sincos_1d(c[:, 0], dim_t), _sincos_1d(c[:, 1], dim_s), _sincos_1d(c[:, 2], dim_s)], dim=-1)


def rope_3d(coords: torch.Tensor, head_dim: int, theta: float = 100.0) -> torch.Tensor:
    """Rotary table for timm's `apply_rot_embed_cat` (interleaved pairs): (..., N, 2*head_dim).

    Each axis (t, h, w) rotates its own even-sized share of the head dim (as
    V-JEPA 2 does); channels left over (head_dim not divisible by 6) stay unrotated.
    """
    part = 2 * ((head_dim // 3) // 2)
    freqs = 1.0 / theta ** (torch.arange(0, part, 2, dtype=torch.float32, device=coords.device) / part)
    angles = [coords[..., i, None].float() * freqs for i in range(3)]
    ang = torch.cat(angles, dim=-1).repeat_interleave(2, dim=-1)  # (..., N, 3*part)
    ang = torch.nn.functional.pad(ang, (0, head_dim - ang.shape[-1]))  # angle 0: identity rotation
    return torch.cat([ang.sin(), ang.cos()], dim=-1)
