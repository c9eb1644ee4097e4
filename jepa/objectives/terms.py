"""Auxiliary loss terms of DESIGN section 4 (mixed and single regimes, plus RQ1's additions)."""

from __future__ import annotations

import torch

from jepa.objectives.registry import AuxContext, register


@register("delta")
def delta(ctx: AuxContext, weight: float = 0.5) -> dict[str, torch.Tensor]:
    """Match context-feature velocity to target velocity on positions visible at t and t+1."""
    valid = (ctx.z_valid[:, 1:] & ctx.z_valid[:, :-1] & ctx.video[:, None, None]).unsqueeze(-1)
    dz = ctx.z[:, 1:] - ctx.z[:, :-1]
    dh = (ctx.h[:, 1:] - ctx.h[:, :-1]).detach()
    err = (dz - dh).abs() * valid
    denom = valid.sum() * ctx.z.shape[-1]
    return {"delta": weight * err.sum() / denom.clamp_min(1)}
