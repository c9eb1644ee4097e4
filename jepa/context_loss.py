"""The V-JEPA 2.1 context loss (`predict_all`): the predictor also reconstructs the context tokens.

Each context token's L1 error is divided by sqrt(d), d the Euclidean distance on the (t, h, w)
token grid to the nearest masked (target) token of the same sample, so tokens next to a hole count
most; the term's weight ramps linearly from 0 to its full value over a span of training
(released code: `models/utils/masks_dist.py`, `Lambda_LinearWarmupHold` in `models/utils/modules.py`).
"""

from __future__ import annotations

import torch

from jepa.models.pos import grid_coords


def nearest_target_distance(ctx_idx: torch.Tensor, tgt_idx: torch.Tensor, grid: tuple[int, int, int]) -> torch.Tensor:
    """ctx_idx (B, Nc), tgt_idx (B, Nt) flat token indices -> (B, Nc) distance of each context token to the
    nearest target."""
    coords = grid_coords(grid, device=ctx_idx.device).float()
    # the direct (not matrix-product) form keeps integer-grid distances exact
    d = torch.cdist(coords[ctx_idx], coords[tgt_idx], compute_mode="donot_use_mm_for_euclid_dist")
    return d.min(dim=-1).values


def distance_weights(ctx_idx: torch.Tensor, tgt_idx: torch.Tensor, grid: tuple[int, int, int]) -> torch.Tensor:
    """(B, Nc) weights 1/sqrt(distance to the nearest target token); context and target are disjoint, so d >= 1."""
    return nearest_target_distance(ctx_idx, tgt_idx, grid).rsqrt()


def ramp_weight(progress_frac: float, weight: float, ramp: tuple[float, float]) -> float:
    """0 before the ramp starts, `weight` from its end on, linear in between (progress_frac = step / steps)."""
    start, end = ramp
    return weight * min(1.0, max(0.0, (progress_frac - start) / (end - start)))


def context_loss(pred_context: torch.Tensor, target_context: torch.Tensor,
                 weights: torch.Tensor | None) -> torch.Tensor:
    """mean over (B, Nc, D) of w * |pred - target| (w = 1 without distance weighting), as the released loss."""
    err = (pred_context - target_context).abs()
    return (err if weights is None else err * weights.unsqueeze(-1).to(err.dtype)).mean()
