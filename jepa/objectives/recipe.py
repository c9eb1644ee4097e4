"""Profile-level regularisers: registered like any objective, added by a profile to every variant.

They belong to a profile's recipe (the CPU profile needs one to learn at all), not to a variant,
so a variant comparison sees them on both sides.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from jepa.objectives.common import variance_covariance
from jepa.objectives.registry import AuxContext, register


@register("vc")
def vc(ctx: AuxContext, std_weight: float = 1.0, cov_weight: float = 1.0) -> dict[str, torch.Tensor]:
    """VICReg's variance hinge + covariance penalty on the layer-normed final context tokens of the pair,
    pooled over the batch's visible tokens (see `variance_covariance`)."""
    z = ctx.z_tokens
    return variance_covariance(F.layer_norm(z, z.shape[-1:]).flatten(0, 1), std_weight, cov_weight)
