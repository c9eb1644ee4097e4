"""Single-regime objectives (docs/method.md, "Variants"): kinematic priors on the target, velocity gating, SIGReg."""

from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F

from jepa.objectives.common import masked_mean, split_size, valid_pairs, video_mask, visible, zero_loss
from jepa.objectives.registry import AuxContext, Objective, register


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


def epps_pulley_nodes(t_max: float, points: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes on [0, t_max] and weights integrating an even function over [-t_max, t_max] (trapezoid),
    times the Gaussian window exp(-t^2/2)."""
    t = torch.linspace(0.0, t_max, points, device=device)
    dt = t_max / (points - 1)
    w = torch.full((points,), 2 * dt, device=device)
    w[0] = w[-1] = dt
    return t, w * torch.exp(-0.5 * t * t)


def _mean_over_ranks(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """(mean of x over the DDP ranks, world size); differentiable; x itself and 1 in a single process."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x, 1
    from torch.distributed.nn.functional import all_reduce

    world = dist.get_world_size()
    return all_reduce(x, op=dist.ReduceOp.SUM) / world, world


def epps_pulley(x: torch.Tensor, t_max: float = 3.0, points: int = 17) -> torch.Tensor:
    """Epps-Pulley statistic of each column of x (N, K) against N(0, 1):

        N * integral_{-t_max}^{t_max} |phi_N(t) - exp(-t^2/2)|^2 exp(-t^2/2) dt,
        phi_N(t) = mean_n exp(i t x_n)  ->  (mean cos(t x) - phi)^2 + (mean sin(t x))^2

    Under DDP the empirical characteristic function is averaged over the ranks and N is the
    global count (local N x world size), as lejepa's EppsPulley does: every rank's tokens enter
    one statistic.
    """
    t, w = epps_pulley_nodes(t_max, points, x.device)
    xt = x.float().unsqueeze(-1) * t  # (N, K, P)
    cos_mean, world = _mean_over_ranks(xt.cos().mean(0))
    sin_mean, _ = _mean_over_ranks(xt.sin().mean(0))
    err = (cos_mean - torch.exp(-0.5 * t * t)).square() + sin_mean.square()
    return (err @ w) * x.shape[0] * world


def slice_directions(dim: int, n: int, progress: float, seed: int, device=None) -> torch.Tensor:
    """(dim, n) random unit directions; drawn fresh each step from (seed, progress) so a resumed run
    sees the same slices as an uninterrupted one and the global RNG is left untouched."""
    g = torch.Generator().manual_seed(hash((seed, round(progress * 2 ** 40))) % (2 ** 63))
    a = torch.randn(dim, n, generator=g)
    return (a / a.norm(dim=0, keepdim=True)).to(device)


@register("sigreg")
class SIGReg(Objective):
    """LeJEPA SIGReg on the context features of the visible tokens of the batch (all clips):
    + w mean over `slices` random unit directions a of EppsPulley(z a).

    joint_pairs: called once with the contexts of every mask pair, whose visible tokens are
    concatenated into one sample, as released (one statistic over both generators' context
    tokens); a single context is accepted too. The ECF is averaged over DDP ranks (epps_pulley).
    """

    joint_pairs = True

    def __init__(self, dim: int, weight: float = 1.0, slices: int = 1024, t_max: float = 3.0, points: int = 17,
                 seed: int = 0):
        super().__init__(dim)
        self.weight, self.slices, self.t_max, self.points, self.seed = weight, slices, t_max, points, seed

    def forward(self, ctx: AuxContext | list[AuxContext]) -> dict[str, torch.Tensor]:
        ctxs = ctx if isinstance(ctx, list) else [ctx]
        x = torch.cat([c.z[visible(c, videos_only=True)] for c in ctxs])  # (M, D)
        if x.shape[0] < 2:
            return {"sigreg": zero_loss(*(c.z for c in ctxs))}
        a = slice_directions(x.shape[-1], self.slices, ctxs[0].progress, self.seed, x.device).to(x.dtype)
        return {"sigreg": self.weight * epps_pulley(x @ a, self.t_max, self.points).mean()}

    def extra_repr(self) -> str:
        return f"weight={self.weight}, slices={self.slices}, t_max={self.t_max}, points={self.points}"
