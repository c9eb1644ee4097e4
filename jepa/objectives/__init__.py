"""Auxiliary objectives, registered under their canonical keys (docs/method.md, "Variants").

Each objective is one small function (or an `nn.Module` subclass when it owns
parameters such as a dynamics head) that reads a shared `AuxContext` and
returns named, already-weighted loss terms. A variant in params.yaml lists the
objectives it adds, with their keyword arguments:

    variants:
      delta: {terms: {delta: {weight: 0.5}}}

Adding an objective = one registered function + one params.yaml row.

Modules: `terms` (parameter-free mixed-regime terms and InfoNCE), `heads`
(objectives with heads: ld, ac, hamiltonian, pixel_recon), `kinematic` (kinematic
family, velgate), `sigreg` (SIGReg), `recipe` (profile-level regularisers such as `vc`, which a profile adds
to every variant); shared helpers in `common`.
"""

from jepa.objectives.registry import OBJECTIVES, AuxContext, Objective, apply_objectives, build_objectives, register

# Importing the modules registers their objectives (in this order: OBJECTIVES lists them so).
from jepa.objectives import heads as _heads  # noqa: F401,E402
from jepa.objectives import recipe as _recipe  # noqa: F401,E402
from jepa.objectives import kinematic as _kinematic  # noqa: F401,E402
from jepa.objectives import sigreg as _sigreg  # noqa: F401,E402
from jepa.objectives import terms as _terms  # noqa: F401,E402

__all__ = ["OBJECTIVES", "AuxContext", "Objective", "apply_objectives", "build_objectives", "register"]
