"""Objectives that own parameters (heads). They live in `JEPA.aux`, so the optimizer trains them
and checkpoints save them with the rest of the model."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

from jepa.objectives.common import hard_weights, input_dim, mlp, patch_means, select_input, valid_start, zero_loss
from jepa.objectives.registry import AuxContext, Objective, register


@register("ld")
class LatentDynamics(Objective):
    """Latent dynamics: dyn head MLP(D_in -> hidden -> D, GELU); + w |dyn(z[t]) - sg(h[t+1] - h[t])|.

    input: `full` (z) or `dyn` (the FWM Z_dyn half only: fwm_ld, fwm_hw_ld).
    hard_weighted: per-position errors get hard-region weights K softmax(sg(err)/T) over each
    sample's positions (hw_ld, fwm_hw_ld).
    detach: compute the term under no-grad, as the released hw_ld / fwm_hw_ld code does: it only
    shifts the logged loss and the dyn head never trains (the *_as_released ablations).
    Positions: z[t] seen by the context encoder, t < T'-1, video clips.
    """

    def __init__(self, dim: int, weight: float = 1.0, input: str = "full", hidden: int = 256,
                 hard_weighted: bool = False, temperature: float = 1.0, detach: bool = False, split: float = 0.5):
        super().__init__(dim)
        self.weight, self.input, self.split = weight, input, split
        self.hard_weighted, self.temperature, self.detach = hard_weighted, temperature, detach
        self.head = mlp(input_dim(dim, input, split), hidden, dim)

    def forward(self, ctx: AuxContext) -> dict[str, torch.Tensor]:
        valid = valid_start(ctx)
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
                err = err * hard_weights(grid, valid, self.temperature)[valid]
            loss = self.weight * err.mean()
        return {"ld": loss}

    def extra_repr(self) -> str:
        return (f"weight={self.weight}, input={self.input}, hard_weighted={self.hard_weighted}, "
                f"detach={self.detach}")


@register("ac")
class ActionConditioning(Objective):
    """Action head MLP(D_in -> hidden -> 3) predicts the RGB patch-mean change of each tubelet between
    t and t+1 from z[t]; + w L1. input `dyn` reads the FWM Z_dyn half only (fac)."""

    def __init__(self, dim: int, weight: float = 1.0, input: str = "full", hidden: int = 256, split: float = 0.5):
        super().__init__(dim)
        self.weight, self.input, self.split = weight, input, split
        self.head = mlp(input_dim(dim, input, split), hidden, 3)

    def forward(self, ctx: AuxContext) -> dict[str, torch.Tensor]:
        valid = valid_start(ctx)
        if not valid.any():
            return {"ac": zero_loss(ctx.z)}
        a = patch_means(ctx.clip, ctx.tubelet, ctx.patch)  # (B, T', S, 3)
        target = (a[:, 1:] - a[:, :-1])[valid].to(ctx.z.dtype)
        pred = self.head(select_input(ctx.z[:, :-1][valid], self.input, self.split))
        return {"ac": self.weight * (pred - target).abs().mean()}


@register("hamiltonian")
class Hamiltonian(Objective):
    """z split into (q, p); energy H = MLP(D -> hidden -> hidden -> 1, GELU); one symplectic Euler step

        p' = p - dt dH/dq(q, p),    q' = q + dt dH/dp(q, p')

    + w |(q', p') - sg(h[t+1])| (L1 to the two halves of the next target), over seen z[t], video clips.
    """

    def __init__(self, dim: int, weight: float = 1.0, hidden: int = 256, dt: float = 0.1):
        super().__init__(dim)
        if dim % 2:
            raise ValueError(f"hamiltonian splits z into equal (q, p) halves; feature dim {dim} is odd")
        self.weight, self.dt = weight, dt
        self.energy = mlp(dim, hidden, 1, layers=2)

    def step(self, q: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One symplectic Euler step; differentiable (create_graph) so the encoder and H both learn."""
        with torch.enable_grad():
            if not q.requires_grad:
                q = q.detach().requires_grad_()
            if not p.requires_grad:
                p = p.detach().requires_grad_()
            dh_dq, = torch.autograd.grad(self.energy(torch.cat([q, p], -1)).sum(), q, create_graph=True)
            p1 = p - self.dt * dh_dq
            dh_dp, = torch.autograd.grad(self.energy(torch.cat([q, p1], -1)).sum(), p1, create_graph=True)
            q1 = q + self.dt * dh_dp
        return q1, p1

    def forward(self, ctx: AuxContext) -> dict[str, torch.Tensor]:
        valid = valid_start(ctx)
        x = ctx.z[:, :-1][valid]  # (M, D)
        if x.shape[0] == 0:
            return {"hamiltonian": zero_loss(ctx.z)}
        target = ctx.h[:, 1:][valid].detach()
        q, p = x.chunk(2, dim=-1)
        q1, p1 = self.step(q, p)
        return {"hamiltonian": self.weight * (torch.cat([q1, p1], -1) - target).abs().mean()}


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
