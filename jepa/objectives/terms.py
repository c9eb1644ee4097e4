"""Parameter-free auxiliary terms (docs/method.md, "Variants"): mixed regime, plus RQ1's InfoNCE.

Notation as in docs/method.md: z = context features on the full grid (zero where unseen),
h = target features, sg = stop-gradient. Every term returns already-weighted losses.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from jepa.objectives.common import (hard_weights, masked_mean, split_channels, step_positions, valid_pairs,
                                    visible, zero_loss)
from jepa.objectives.registry import AuxContext, register


@register("delta")
def delta(ctx: AuxContext, weight: float = 0.5) -> dict[str, torch.Tensor]:
    """+ w |(z[t+1]-z[t]) - sg(h[t+1]-h[t])| on valid pairs (mean over pairs and channels)."""
    dz = ctx.z[:, 1:] - ctx.z[:, :-1]
    dh = (ctx.h[:, 1:] - ctx.h[:, :-1]).detach()
    return {"delta": weight * masked_mean((dz - dh).abs().mean(-1), valid_pairs(ctx))}


@register("hw")
def hw(ctx: AuxContext, weight: float = 0.3, temperature: float = 1.0) -> dict[str, torch.Tensor]:
    """Hard-region weighting: + w mean_k(w_k err_k), w = K softmax(sg(err)/T) over each sample's predicted tokens."""
    err = ctx.pred_err
    w = hard_weights(err, torch.ones_like(err, dtype=torch.bool), temperature)
    return {"hw": weight * (w * err).mean()}


@register("fwm")
def fwm(ctx: AuxContext, slow_weight: float = 0.05, xcov_weight: float = 0.01,
        split: float = 0.5) -> dict[str, torch.Tensor]:
    """Factorized world model: slow appearance half + decorrelation of appearance and dynamics halves.

    + slow_weight |Z_app[t+1] - Z_app[t]| on valid pairs
    + xcov_weight mean(C^2), C = cross-covariance (over visible tokens) of centred Z_app and Z_dyn,
    computed in fp32 under autocast as released (and returned in fp32). Image clips enter both parts unless `skip_images`.
    """
    app, dyn = split_channels(ctx.z, split)
    slow = masked_mean((app[:, 1:] - app[:, :-1]).abs().mean(-1), valid_pairs(ctx))
    m = visible(ctx, videos_only=True)
    a, d = app[m], dyn[m]  # (M, Da), (M, Dd)
    if a.shape[0] < 2:
        xcov = zero_loss(ctx.z)
    else:
        a = (a - a.mean(0)).float()
        d = (d - d.mean(0)).float()
        with torch.autocast(a.device.type, enabled=False):
            xcov = (a.T @ d / (a.shape[0] - 1)).pow(2).mean()
    return {"fwm_slow": slow_weight * slow, "fwm_xcov": xcov_weight * xcov}


@register("spectral")
def spectral(ctx: AuxContext, weight: float = 1.0, w_min: float = 0.1, w_max: float = 1.0,
             norm: str = "backward", positions: str = "always") -> dict[str, torch.Tensor]:
    """+ w |w_f (F z - F sg(h))|: rFFT over time, frequency weights linear w_min..w_max; mean over
    frequencies, channels and the selected spatial positions of the video clips.

    As released: norm `backward` (torch's unnormalised forward transform) on the positions the
    context encoder saw at every time step (positions `always`). Switches: norm `ortho` (the
    coefficient effectively x 1/sqrt(T')); positions `any`: every position seen at least once,
    with the unseen times zero in z and masked the same way in h (F z - F h = F (z - h)).
    """
    t = ctx.z.shape[1]
    if t < 4:
        raise ValueError(f"spectral needs at least 4 time tokens to have a frequency band, the grid has {t} "
                         f"(frames / tubelet); use a profile with more frames or drop the spectral term")
    if positions not in ("always", "any"):
        raise ValueError(f"positions must be 'always' or 'any', got {positions!r}")
    if norm not in ("backward", "ortho"):
        raise ValueError(f"norm must be 'backward' (unnormalised) or 'ortho', got {norm!r}")
    m = visible(ctx, videos_only=True)
    where = m.all(dim=1) if positions == "always" else m.any(dim=1)  # (B, S)
    diff = (ctx.z - ctx.h.detach()) * m.unsqueeze(-1).to(ctx.z.dtype)
    spec = torch.fft.rfft(diff.float(), dim=1, norm=norm)  # (B, F, S, D) complex
    wf = torch.linspace(w_min, w_max, spec.shape[1], device=spec.device)
    err = (spec * wf.view(1, -1, 1, 1)).abs().mean(dim=(1, 3))  # (B, S)
    return {"spectral": weight * masked_mean(err, where)}


@register("ltc")
def ltc(ctx: AuxContext, weight: float = 0.5, margin: float = 0.5, positions: str = "pairs") -> dict[str, torch.Tensor]:
    """Latent temporal contrastive: + w mean max(0, margin - cos(z[t], h[t]) + cos(z[t], h[t+1])) over
    positions seen at t and t+1 (positions `pairs`, as released) or at t (`start`)."""
    zt = ctx.z[:, :-1]
    h = ctx.h.detach()
    pos = F.cosine_similarity(zt, h[:, :-1], dim=-1)
    neg = F.cosine_similarity(zt, h[:, 1:], dim=-1)
    return {"ltc": weight * masked_mean(F.relu(margin - pos + neg), step_positions(ctx, positions))}


@register("infonce")
def infonce(ctx: AuxContext, weight: float = 1.0, temperature: float = 0.1) -> dict[str, torch.Tensor]:
    """Temporal InfoNCE over the visible tokens of the batch's video clips.

    Query z[t] at a position; positive key sg(h[t]) at the same position; negatives: h at every
    other visible position (other times, other places, other clips). Cosine logits / temperature.
    """
    m = visible(ctx, videos_only=True)
    q = F.normalize(ctx.z[m], dim=-1)
    k = F.normalize(ctx.h.detach()[m], dim=-1)
    if q.shape[0] < 2:
        return {"infonce": zero_loss(ctx.z)}
    logits = q @ k.T / temperature
    return {"infonce": weight * F.cross_entropy(logits, torch.arange(q.shape[0], device=q.device))}
