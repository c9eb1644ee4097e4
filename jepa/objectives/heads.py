"""Objectives that own parameters (heads). They live in `JEPA.aux`, so the optimizer trains them
and checkpoints save them with the rest of the model."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

from jepa.objectives.common import hard_weights, input_dim, mlp, patch_means, select_input, step_positions, zero_loss
from jepa.objectives.registry import AuxContext, Objective, register


@register("ld")
class LatentDynamics(Objective):
    """Latent dynamics: dyn head MLP(D_in -> hidden -> D, GELU); + w |dyn(z[t]) - sg(h[t+1] - h[t])|.

    input: `full` (z) or `dyn` (the FWM Z_dyn half only: fwm_ld, fwm_hw_ld).
    hard_weighted: per-position errors get hard-region weights K softmax(sg(err)/T) (hw_ld, fwm_hw_ld),
    pooled over every valid position of the batch (hard_scope `batch`, as released) or per sample
    (`sample`).
    detach: compute the term under no-grad, as the released hw_ld / fwm_hw_ld code does: it only
    shifts the logged loss and the dyn head never trains (the *_as_released ablations).
    Positions: seen by the context encoder at t and t+1 (positions `pairs`, as released) or at t
    only (`start`), t < T'-1, video clips.
    """

    def __init__(self, dim: int, weight: float = 1.0, input: str = "full", hidden: int = 256,
                 hard_weighted: bool = False, temperature: float = 1.0, detach: bool = False, split: float = 0.5,
                 hard_scope: str = "batch", positions: str = "pairs"):
        super().__init__(dim)
        if hard_scope not in ("batch", "sample"):
            raise ValueError(f"hard_scope must be 'batch' or 'sample', got {hard_scope!r}")
        if positions not in ("pairs", "start"):
            raise ValueError(f"positions must be 'pairs' or 'start', got {positions!r}")
        self.weight, self.input, self.split = weight, input, split
        self.hard_weighted, self.temperature, self.detach = hard_weighted, temperature, detach
        self.hard_scope, self.positions = hard_scope, positions
        self.head = mlp(input_dim(dim, input, split), hidden, dim)

    def forward(self, ctx: AuxContext) -> dict[str, torch.Tensor]:
        valid = step_positions(ctx, self.positions)
        if not valid.any():
            return {"ld": zero_loss(ctx.z)}
        with torch.no_grad() if self.detach else nullcontext():
            # the head runs on the seen positions only (10-25 % of the grid on the tiny profile)
            pred = self.head(select_input(ctx.z[:, :-1][valid], self.input, self.split))
            target = (ctx.h[:, 1:] - ctx.h[:, :-1])[valid].detach()
            err = (pred - target).abs().mean(-1)  # (M,)
            if self.hard_weighted:
                grid = err.new_zeros(valid.shape)
                grid[valid] = err.detach()
                err = err * hard_weights(grid, valid, self.temperature, self.hard_scope)[valid]
            loss = self.weight * err.mean()
        return {"ld": loss}

    def extra_repr(self) -> str:
        return (f"weight={self.weight}, input={self.input}, hard_weighted={self.hard_weighted}, "
                f"hard_scope={self.hard_scope}, detach={self.detach}, positions={self.positions}")


@register("ac")
class ActionConditioning(Objective):
    """Action head MLP(D_in -> hidden -> 3) predicts the RGB patch-mean change of each tubelet between
    t and t+1 from z[t]; + w L1. input `dyn` reads the FWM Z_dyn half only (fac). Positions as ld's."""

    def __init__(self, dim: int, weight: float = 1.0, input: str = "full", hidden: int = 256, split: float = 0.5,
                 positions: str = "pairs"):
        super().__init__(dim)
        self.weight, self.input, self.split, self.positions = weight, input, split, positions
        if positions not in ("pairs", "start"):
            raise ValueError(f"positions must be 'pairs' or 'start', got {positions!r}")
        self.head = mlp(input_dim(dim, input, split), hidden, 3)

    def forward(self, ctx: AuxContext) -> dict[str, torch.Tensor]:
        valid = step_positions(ctx, self.positions)
        if not valid.any():
            return {"ac": zero_loss(ctx.z)}
        a = patch_means(ctx.clip, ctx.tubelet, ctx.patch)  # (B, T', S, 3)
        target = (a[:, 1:] - a[:, :-1])[valid].to(ctx.z.dtype)
        pred = self.head(select_input(ctx.z[:, :-1][valid], self.input, self.split))
        return {"ac": self.weight * (pred - target).abs().mean()}


@register("hamiltonian")
class Hamiltonian(Objective):
    """z split into (q, p); energy H = MLP(D -> hidden -> hidden -> 1, GELU); one symplectic Euler step,
    q first as released (update_first `q`):

        q' = q + dt dH/dp(q, p),    p' = p - dt dH/dq(q', p)

    (`p`: p' = p - dt dH/dq(q, p), q' = q + dt dH/dp(q, p')). Loss, as released (reduction `halves`):
    + w (mean|q' - sg(q*)| + mean|p' - sg(p*)|), (q*, p*) the halves of h[t+1]; `joint`: one mean over
    the concatenation (half the weight). Positions as ld's.
    """

    def __init__(self, dim: int, weight: float = 1.0, hidden: int = 256, dt: float = 0.1,
                 update_first: str = "q", reduction: str = "halves", positions: str = "pairs"):
        super().__init__(dim)
        if dim % 2:
            raise ValueError(f"hamiltonian splits z into equal (q, p) halves; feature dim {dim} is odd")
        if update_first not in ("q", "p"):
            raise ValueError(f"update_first must be 'q' or 'p', got {update_first!r}")
        if reduction not in ("halves", "joint"):
            raise ValueError(f"reduction must be 'halves' or 'joint', got {reduction!r}")
        if positions not in ("pairs", "start"):
            raise ValueError(f"positions must be 'pairs' or 'start', got {positions!r}")
        self.weight, self.dt = weight, dt
        self.update_first, self.reduction, self.positions = update_first, reduction, positions
        self.energy = mlp(dim, hidden, 1, layers=2)

    def _grad(self, q: torch.Tensor, p: torch.Tensor, wrt: torch.Tensor) -> torch.Tensor:
        g, = torch.autograd.grad(self.energy(torch.cat([q, p], -1)).sum(), wrt, create_graph=True)
        return g

    def step(self, q: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One symplectic Euler step; differentiable (create_graph) so the encoder and H both learn."""
        with torch.enable_grad():
            if not q.requires_grad:
                q = q.detach().requires_grad_()
            if not p.requires_grad:
                p = p.detach().requires_grad_()
            if self.update_first == "q":
                q1 = q + self.dt * self._grad(q, p, p)
                p1 = p - self.dt * self._grad(q1, p, q1)
            else:
                p1 = p - self.dt * self._grad(q, p, q)
                q1 = q + self.dt * self._grad(q, p1, p1)
        return q1, p1

    def forward(self, ctx: AuxContext) -> dict[str, torch.Tensor]:
        valid = step_positions(ctx, self.positions)
        x = ctx.z[:, :-1][valid]  # (M, D)
        if x.shape[0] == 0:
            return {"hamiltonian": zero_loss(ctx.z)}
        q_star, p_star = ctx.h[:, 1:][valid].detach().chunk(2, dim=-1)
        q, p = x.chunk(2, dim=-1)
        q1, p1 = self.step(q, p)
        if self.reduction == "halves":
            loss = (q1 - q_star).abs().mean() + (p1 - p_star).abs().mean()
        else:
            loss = (torch.cat([q1, p1], -1) - torch.cat([q_star, p_star], -1)).abs().mean()
        return {"hamiltonian": self.weight * loss}


def tubelet_pixels(clip: torch.Tensor, tubelet: int, patch: int, normalize: bool = True,
                   eps: float = 1e-6) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, N, tubelet*patch*patch*C) pixels per token in (t, h, w) token order.

    normalize: VideoMAE per-patch normalization (each channel of each tubelet to zero mean and
    unit unbiased variance over the tubelet's pixels).
    """
    b, c, t, h, w = clip.shape
    x = clip.view(b, c, t // tubelet, tubelet, h // patch, patch, w // patch, patch)
    x = x.permute(0, 2, 4, 6, 3, 5, 7, 1).reshape(b, -1, tubelet * patch * patch, c)
    if normalize:
        x = (x - x.mean(dim=-2, keepdim=True)) / (x.var(dim=-2, unbiased=True, keepdim=True).sqrt() + eps)
    return x.flatten(2)


@register("pixel_recon")
class PixelRecon(Objective):
    """Reconstructive control (VideoMAE-style): a light decoder (one GELU hidden layer, or linear with
    hidden 0) maps the predictor outputs at the target tokens (ctx.pred) to the per-tubelet
    normalized pixels of those masked tubelets; + w MSE."""

    def __init__(self, dim: int, weight: float = 1.0, hidden: int = 256, normalize: bool = True,
                 model: Any = None):
        super().__init__(dim)
        if model is None:
            raise ValueError("pixel_recon needs the model config (embed_dim, tubelet, patch)")
        self.weight, self.normalize = weight, normalize
        self.tubelet, self.patch = model.tubelet, model.patch
        out = 3 * model.tubelet * model.patch * model.patch
        self.decoder = nn.Linear(model.target_dim, out) if hidden == 0 else mlp(model.target_dim, hidden, out)

    def forward(self, ctx: AuxContext) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            pix = tubelet_pixels(ctx.clip.float(), self.tubelet, self.patch, self.normalize)
            target = torch.gather(pix, 1, ctx.tgt_idx.unsqueeze(-1).expand(-1, -1, pix.shape[-1]))
        pred = self.decoder(ctx.pred)
        return {"pixel_recon": self.weight * (pred - target.to(pred.dtype)).pow(2).mean()}
