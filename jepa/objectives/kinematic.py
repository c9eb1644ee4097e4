"""Kinematic priors (docs/method.md, "Variants"): velocity / acceleration penalties on the target features and
velocity-gated slowness, the single-regime variants' temporal terms."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from jepa.objectives.common import masked_mean, split_size, valid_pairs, video_mask
from jepa.objectives.registry import AuxContext, register


@register("kinematic")
def kinematic(ctx: AuxContext, weight: float = 1.0, order: int = 1, loss: str = "l1", huber_delta: float = 0.1,
              channels: float = 1.0, anneal: bool = False, epochs: int = 100) -> dict[str, torch.Tensor]:
    """Kinematic prior on the target features h over the full grid (video clips).

    order 1: velocity h[t+1]-h[t]; order 2: acceleration h[t+2]-2h[t+1]+h[t].
    loss `l1` (mean |.|) or `huber` (Huber towards 0 with `huber_delta`).
    channels < 1: penalise only the first fraction of channels (kinematic_split).
    anneal: coefficient x 0.5 (1 + cos(pi * epoch / epochs)) (kinematic_anneal), stepped once per
    epoch as released; an epoch is 1/`epochs` of the run (the paper's 100 epochs of 300 iterations:
    300 steps on the paper profile, 10 on tiny's 1,000); epochs 0 anneals every step.
    The variants run with EMA off, so h is the online encoder on the full clip and gradients flow
    through it; with an EMA target h is constant and the term only shifts the logged loss.
    """
    h = ctx.h
    if channels < 1.0:
        h = h[..., :split_size(h.shape[-1], channels)]
    t = h.shape[1]
    if order not in (1, 2):
        raise ValueError(f"kinematic order must be 1 or 2, got {order}")
    if t <= order:
        raise ValueError(f"kinematic order {order} needs more than {order} time tokens, the grid has {t}")
    d = h[:, 1:] - h[:, :-1] if order == 1 else h[:, 2:] - 2 * h[:, 1:-1] + h[:, :-2]
    if loss == "l1":
        per = d.abs().mean(-1)
    elif loss == "huber":
        per = F.huber_loss(d, torch.zeros_like(d), delta=huber_delta, reduction="none").mean(-1)
    else:
        raise ValueError(f"kinematic loss must be 'l1' or 'huber', got {loss!r}")
    if epochs < 0:
        raise ValueError(f"kinematic epochs must be >= 0, got {epochs}")
    frac = min(1.0, max(0.0, ctx.progress))
    if epochs:
        frac = math.floor(frac * epochs + 1e-9) / epochs
    coef = weight * (0.5 * (1.0 + math.cos(math.pi * frac)) if anneal else 1.0)
    return {"kinematic": coef * masked_mean(per, video_mask(ctx, per.shape))}


@register("velgate")
def velgate(ctx: AuxContext, weight: float = 1.0) -> dict[str, torch.Tensor]:
    """Velocity-gated slowness: gate = 1 where ||h[t+1]-h[t]|| <= the frame pair's median over positions
    (torch's lower median), + w mean over valid pairs of gate * |z[t+1]-z[t]|."""
    speed = (ctx.h[:, 1:] - ctx.h[:, :-1]).detach().norm(dim=-1)  # (B, T'-1, S)
    gate = speed <= speed.median(dim=-1, keepdim=True).values
    dz = (ctx.z[:, 1:] - ctx.z[:, :-1]).abs().mean(-1)
    return {"velgate": weight * masked_mean(gate * dz, valid_pairs(ctx))}
