"""The objective registry and the context every objective reads."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn

from jepa.config import ConfigError


@dataclass
class AuxContext:
    """What one training step exposes to auxiliary objectives.

    Token features live on the full grid, shaped (B, T', S, Da) with S = H'*W'
    spatial positions; `z_valid` says where the context encoder actually saw
    the token (elsewhere z is zero). "Valid pairs" for temporal losses are
    positions valid at both t and t+1.
    """

    z: torch.Tensor          # (B, T', S, Da) context-encoder features (hierarchical or final), zero where masked
    z_valid: torch.Tensor    # (B, T', S) bool
    h: torch.Tensor          # (B, T', S, Da) target features; detached unless the variant turns EMA off
    pred: torch.Tensor       # (B, Nt, D) predictor outputs at target tokens
    target: torch.Tensor     # (B, Nt, D) layer-normed target tokens at those positions
    tgt_idx: torch.Tensor    # (B, Nt) flat token indices of the targets
    clip: torch.Tensor       # (B, C, T, H, W) the normalized input clip
    is_image: torch.Tensor   # (B,) bool: clip is one image repeated (temporal terms skip these)
    progress: float          # training progress in [0, 1] (annealed coefficients)
    tubelet: int
    patch: int

    @property
    def pred_err(self) -> torch.Tensor:
        """Per-target-token L1 error of the JEPA prediction, (B, Nt)."""
        return (self.pred - self.target).abs().mean(dim=-1)

    @property
    def video(self) -> torch.Tensor:
        """(B,) bool: samples that are real videos (temporal terms apply)."""
        return ~self.is_image


class Objective(nn.Module):
    """Base class for objectives that own parameters (heads); `forward(ctx) -> {name: loss}`."""

    def __init__(self, dim: int, **kwargs: Any):
        super().__init__()
        self.dim = dim

    def forward(self, ctx: AuxContext) -> dict[str, torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError


class _FunctionObjective(Objective):
    def __init__(self, fn: Callable[..., dict[str, torch.Tensor]], dim: int, **kwargs: Any):
        super().__init__(dim)
        self.fn, self.kwargs = fn, kwargs

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


def _accepted_kwargs(factory: Callable[..., Objective]) -> set[str] | None:
    target = getattr(factory, "signature_of", None) or factory.__init__
    params = inspect.signature(target).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return None
    return {n for n in params if n not in ("self", "ctx", "dim", "model")}


def _wants_model(factory: Callable[..., Objective]) -> bool:
    target = getattr(factory, "signature_of", None) or factory.__init__
    return "model" in inspect.signature(target).parameters


def term_arguments(key: str) -> dict[str, Any]:
    """Keyword arguments of a registered objective and their defaults (config validation reads them);
    an unknown key or argument is a ValueError naming the registered ones."""
    import jepa.objectives  # noqa: F401  (registers every objective)

    if key not in OBJECTIVES:
        raise ValueError(f"terms.{key}: unknown objective; registered: {sorted(OBJECTIVES)}")
    target = getattr(OBJECTIVES[key], "signature_of", None) or OBJECTIVES[key].__init__
    return {n: p.default for n, p in inspect.signature(target).parameters.items()
            if n not in ("self", "ctx", "dim", "model") and p.kind is not p.VAR_KEYWORD}


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
        accepted = _accepted_kwargs(OBJECTIVES[key])
        if accepted is not None:
            unknown = set(kwargs) - accepted
            if unknown:
                raise ConfigError(f"{where}.{key}: unknown argument(s) {sorted(unknown)}; accepted: {sorted(accepted)}")
        extra = {"model": model} if _wants_model(OBJECTIVES[key]) else {}
        try:
            out[key] = OBJECTIVES[key](dim=dim, **kwargs, **extra)
        except (ValueError, TypeError) as err:
            raise ConfigError(f"{where}.{key}: {err}") from None
    return out
