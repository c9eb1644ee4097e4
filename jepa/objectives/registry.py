"""The objective registry and the context every objective reads."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from typing import Any, Callable

import torch
from torch import nn

from jepa.errors import ConfigError


@dataclass
class AuxContext:
    """What one training step exposes to auxiliary objectives, for one mask pair.

    A step builds one context per mask pair (mask generator); `apply_objectives` averages each
    objective's terms over them, or hands the whole list to an objective with `joint_pairs = True`.

    Token features live on the full grid, shaped (B, T', S, Da) with S = H'*W'
    spatial positions; `z_valid` says where the context encoder actually saw
    the token (elsewhere z is zero). "Valid pairs" for temporal losses are
    positions valid at both t and t+1.
    """

    z: torch.Tensor          # (B, T', S, Da) context-encoder features (hierarchical or final), zero where masked
    z_valid: torch.Tensor    # (B, T', S) bool
    h: torch.Tensor          # (B, T', S, Da) target features; detached unless the variant turns EMA off
    pred: torch.Tensor       # (B, Nt, Dt) predictor outputs at target tokens (Dt = ModelCfg.target_dim)
    target: torch.Tensor     # (B, Nt, Dt) layer-normed target tokens (each level on its own) at those positions
    tgt_idx: torch.Tensor    # (B, Nt) flat token indices of the targets
    clip: torch.Tensor       # (B, C, T, H, W) the normalized input clip
    is_image: torch.Tensor   # (B,) bool: clip is one image repeated over the clip's frames
    progress: float          # training progress in [0, 1] (annealed coefficients)
    tubelet: int
    patch: int
    skip_images: bool = False  # treat image clips as unseen (an objective's `skip_images` switch sets it)
    z_tokens: torch.Tensor | None = None  # (B, Nc, D) the context encoder's final-level tokens of this mask pair

    @property
    def pred_err(self) -> torch.Tensor:
        """Per-target-token L1 error of the JEPA prediction, (B, Nt)."""
        return (self.pred - self.target).abs().mean(dim=-1)

    @property
    def video(self) -> torch.Tensor:
        """(B,) bool: samples the temporal terms read.

        All of them by default: the released loader feeds an image as its frame repeated over the
        clip, and every auxiliary term sees it (its "fewer than 2 time tokens" skips never fire).
        With `skip_images` only real videos.
        """
        return ~self.is_image if self.skip_images else torch.ones_like(self.is_image)


class Objective(nn.Module):
    """Base class for objectives that own parameters (heads); `forward(ctx) -> {name: loss}`.

    `joint_pairs = True` marks an objective that pools the tokens of every mask pair into one term:
    the training loop calls it once with the list of contexts (one per mask pair); every other
    objective is called once per pair and its terms are averaged over the pairs.
    `skip_images` (set from the generic `skip_images` argument of every objective): image clips
    count as unseen, so the objective reads real videos only.
    """

    joint_pairs: bool = False
    skip_images: bool = False

    def __init__(self, dim: int, **kwargs: Any):
        super().__init__()
        self.dim = dim

    def __call__(self, ctx, *args: Any, **kwargs: Any):
        if self.skip_images:
            ctx = [replace(c, skip_images=True) for c in ctx] if isinstance(ctx, list) else \
                replace(ctx, skip_images=True)
        return super().__call__(ctx, *args, **kwargs)

    def forward(self, ctx: AuxContext) -> dict[str, torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError


class _FunctionObjective(Objective):
    def __init__(self, fn: Callable[..., dict[str, torch.Tensor]], dim: int, **kwargs: Any):
        super().__init__(dim)
        self.fn, self.kwargs = fn, kwargs
        self.joint_pairs = getattr(fn, "joint_pairs", False)

    def forward(self, ctx: AuxContext) -> dict[str, torch.Tensor]:
        return self.fn(ctx, **self.kwargs)

    def extra_repr(self) -> str:
        return f"{self.fn.__name__}({self.kwargs})"


OBJECTIVES: dict[str, Callable[..., Objective]] = {}


def register(name: str):
    """Register a function `fn(ctx, **kw) -> dict` or an `Objective` subclass under `name`."""

    def deco(obj):
        if name in OBJECTIVES:
            raise KeyError(f"objective {name!r} registered twice")
        if inspect.isclass(obj) and issubclass(obj, Objective):
            OBJECTIVES[name] = obj
            obj.key = name
        else:
            def factory(dim: int, **kw: Any) -> Objective:
                return _FunctionObjective(obj, dim, **kw)
            factory.signature_of = obj  # type: ignore[attr-defined]
            OBJECTIVES[name] = factory
        return obj

    return deco


# Arguments every objective accepts on top of its own (handled by `Objective.__call__`).
GENERIC_ARGUMENTS: dict[str, Any] = {"skip_images": False}


def _parameters(factory: Callable[..., Objective]):
    """The constructor (or registered function) parameters of a registry entry."""
    return inspect.signature(getattr(factory, "signature_of", None) or factory.__init__).parameters


def _own_arguments(factory: Callable[..., Objective]) -> dict[str, Any]:
    """The objective's own keyword arguments and their defaults (not ctx, dim, model or **kwargs)."""
    return {n: p.default for n, p in _parameters(factory).items()
            if n not in ("self", "ctx", "dim", "model") and p.kind is not p.VAR_KEYWORD}


def _accepted_kwargs(factory: Callable[..., Objective]) -> set[str] | None:
    if any(p.kind is p.VAR_KEYWORD for p in _parameters(factory).values()):
        return None
    return set(_own_arguments(factory))


def _wants_model(factory: Callable[..., Objective]) -> bool:
    return "model" in _parameters(factory)


def term_arguments(key: str) -> dict[str, Any]:
    """Keyword arguments of a registered objective and their defaults (config validation reads them);
    an unknown key or argument is a ValueError naming the registered ones."""
    import jepa.objectives  # noqa: F401  (registers every objective)

    if key not in OBJECTIVES:
        raise ValueError(f"terms.{key}: unknown objective; registered: {sorted(OBJECTIVES)}")
    return _own_arguments(OBJECTIVES[key]) | GENERIC_ARGUMENTS


def build_objectives(terms: dict[str, dict[str, Any]], dim: int, where: str = "terms",
                     model: Any = None) -> nn.ModuleDict:
    """Instantiate a variant's objectives; unknown keys or arguments fail with their params.yaml path.

    `model` (the profile's ModelCfg) is handed to objectives whose constructor takes a `model`
    argument (heads sized by the token grid or the tubelet, e.g. the pixel decoder).
    """
    out = nn.ModuleDict()
    for key, kwargs in terms.items():
        if key not in OBJECTIVES:
            raise ConfigError(f"{where}.{key}: unknown objective; registered: {sorted(OBJECTIVES)}")
        kwargs = dict(kwargs)
        skip_images = kwargs.pop("skip_images", GENERIC_ARGUMENTS["skip_images"])
        if not isinstance(skip_images, bool):
            raise ConfigError(f"{where}.{key}.skip_images: expected true or false, got {skip_images!r}")
        accepted = _accepted_kwargs(OBJECTIVES[key])
        if accepted is not None:
            unknown = set(kwargs) - accepted
            if unknown:
                raise ConfigError(f"{where}.{key}: unknown argument(s) {sorted(unknown)}; "
                                  f"accepted: {sorted(accepted | {'skip_images'})}")
        extra = {"model": model} if _wants_model(OBJECTIVES[key]) else {}
        try:
            out[key] = OBJECTIVES[key](dim=dim, **kwargs, **extra)
        except (ValueError, TypeError) as err:
            raise ConfigError(f"{where}.{key}: {err}") from None
        out[key].skip_images = skip_images
    return out


def apply_objectives(objectives: nn.ModuleDict, ctxs: list[AuxContext]) -> dict[str, torch.Tensor]:
    """Every objective's terms for one step with one AuxContext per mask pair.

    An objective with `joint_pairs = True` (one that pools the pairs itself, e.g. over all their
    context tokens) is called once with the list; any other is called once per pair and each term
    it returns is averaged over the pairs that returned it, as the released code averages its
    auxiliary terms over the mask generators.
    """
    terms: dict[str, torch.Tensor] = {}
    for objective in objectives.values():
        if getattr(objective, "joint_pairs", False):
            terms.update(objective(ctxs))
            continue
        per_pair: dict[str, list[torch.Tensor]] = {}
        for ctx in ctxs:
            for name, value in objective(ctx).items():
                per_pair.setdefault(name, []).append(value)
        terms.update({name: sum(values) / len(values) for name, values in per_pair.items()})
    return terms
