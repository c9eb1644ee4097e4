"""SIGReg (docs/method.md, "Variants"): LeJEPA's Epps-Pulley test of the context features against an isotropic
Gaussian along random slices, one statistic over the context tokens of every mask pair and DDP rank."""

from __future__ import annotations

import torch
import torch.distributed as dist

from jepa.objectives.common import visible, zero_loss
from jepa.objectives.registry import AuxContext, Objective, register


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


def slice_directions(dim: int, n: int, progress_frac: float, seed: int, device=None) -> torch.Tensor:
    """(dim, n) random unit directions; drawn fresh each step from (seed, progress_frac) so a resumed run
    sees the same slices as an uninterrupted one and the global RNG is left untouched."""
    g = torch.Generator().manual_seed(hash((seed, round(progress_frac * 2 ** 40))) % (2 ** 63))
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
