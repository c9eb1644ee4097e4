"""params.yaml -> validated, typed run configuration.

One file holds every hyperparameter (DVC tracks it key by key). A run is the
combination of a *profile* (sizes and recipe: smoke | tiny | paper ...), a
*regime* (single | mixed pretraining data), a *variant* (auxiliary objectives,
mask guidance, EMA switch) and a *seed*. Validation happens before any compute
so that a typo fails in a second with the key path, not after an hour.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AllowInfNan, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, ValidationError, field_validator, model_validator

from jepa import paths
from jepa.errors import ConfigError
from jepa.paths import project_root

BENCHMARKS = ("appearance", "motion", "temporal", "synthetic_motion")
# Synthetic analogue -> the paper benchmark it stands for (docs/method.md, "Synthetic analogues").
PAPER_BENCHMARK = {
    "appearance": "imagenet100",
    "motion": "diving48",
    "temporal": "ssv2",
    "synthetic_motion": "synthetic_motion",
}


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {value}")
    return value


# YAML reads `true` as a boolean and pydantic would take it for 1: numbers are numbers here.
Int = StrictInt
Float = Annotated[float, BeforeValidator(_not_bool), AllowInfNan(False)]
# A variant key names folders (runs/REGIME/VARIANT/sSEED) and DVC stages: no path separators, no `..`.
VARIANT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def hierarchy_levels(depth: int, n: int = 4) -> list[int]:
    """Every depth/n-th block: 2, 5, 8, 11 for depth 12 (the released ViT-B levels), 0-3 for depth 4."""
    return sorted({max(0, round(depth * (k + 1) / n) - 1) for k in range(n)})


class ModelCfg(Strict):
    img_size: Int = Field(gt=0)
    frames: Int = Field(gt=0)
    patch: Int = Field(gt=0)
    tubelet: Int = Field(gt=0)
    embed_dim: Int = Field(gt=0)
    depth: Int = Field(gt=0)
    heads: Int = Field(gt=0)
    mlp_ratio: Float = Field(4.0, gt=0)
    pred_dim: Int = Field(gt=0)
    pred_depth: Int = Field(gt=0)
    pred_heads: Int = Field(gt=0)
    pos_embed: Literal["sincos", "learned", "rope"] = "sincos"
    grad_checkpointing: bool = False
    # Hierarchical levels: the encoder blocks whose outputs (each through its own learnable LayerNorm)
    # form the hierarchical features; None = every depth/4-th block (2, 5, 8, 11 for depth 12, as the
    # released code). The last level must be the final block (its norm is the encoder's output norm).
    levels: list[Int] | None = None
    # What the predictor predicts: "all" levels concatenated (the released V-JEPA 2.1 target, L x D
    # wide, each level layer-normed on its own) or the "final" level only (an ablation).
    predict_levels: Literal["all", "final"] = "all"
    # Weight init: "released" = truncated normal 0.02 for linear and tubelet-conv weights, then each
    # block's attention and MLP output weights divided by sqrt(2 x layer) (V-JEPA's `_rescale_blocks`);
    # "plain" = the former init (linear weights only, PyTorch's default conv init, no rescaling).
    init: Literal["released", "plain"] = "released"

    @model_validator(mode="after")
    def _shapes(self) -> "ModelCfg":
        if self.img_size % self.patch:
            raise ValueError(f"img_size {self.img_size} is not a multiple of patch {self.patch}")
        if self.frames % self.tubelet:
            raise ValueError(f"frames {self.frames} is not a multiple of tubelet {self.tubelet}")
        for dim, heads, name in ((self.embed_dim, self.heads, "embed_dim/heads"),
                                 (self.pred_dim, self.pred_heads, "pred_dim/pred_heads")):
            if dim % heads:
                raise ValueError(f"{name}: {dim} is not divisible by {heads}")
            if self.pos_embed == "rope" and dim // heads < 6:
                raise ValueError(f"{name}: rope needs a head dim of at least 6 (3 axes x pairs), got {dim // heads}")
        if self.levels is not None:
            lv = self.levels
            if not lv or lv != sorted(set(lv)) or lv[0] < 0 or lv[-1] != self.depth - 1:
                raise ValueError(f"levels must be increasing block indices ending with the final block "
                                 f"{self.depth - 1}, got {lv}")
        return self

    @property
    def hierarchy(self) -> list[int]:
        """Block indices of the hierarchical levels (explicit `levels`, else every depth/4-th block)."""
        return list(self.levels) if self.levels is not None else hierarchy_levels(self.depth)

    @property
    def target_dim(self) -> int:
        """Width of the prediction target (and of the predictor's output): L x D or D."""
        return self.embed_dim * (len(self.hierarchy) if self.predict_levels == "all" else 1)

    @property
    def grid(self) -> tuple[int, int, int]:
        return (self.frames // self.tubelet, self.img_size // self.patch, self.img_size // self.patch)

    @property
    def num_tokens(self) -> int:
        t, h, w = self.grid
        return t * h * w


class BlockSpec(Strict):
    """One V-JEPA multiblock mask generator: `num_blocks` boxes of the given scales."""

    num_blocks: Int = Field(gt=0)
    spatial_scale: tuple[Float, Float]
    temporal_scale: tuple[Float, Float] = (1.0, 1.0)
    aspect_ratio: tuple[Float, Float] = (0.75, 1.5)
    # uniform in aspect_ratio as released; log_uniform treats tall and wide boxes symmetrically
    aspect_sampling: Literal["uniform", "log_uniform"] = "uniform"

    @model_validator(mode="after")
    def _ranges(self) -> "BlockSpec":
        for name in ("spatial_scale", "temporal_scale"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi <= 1:
                raise ValueError(f"{name} must satisfy 0 < min <= max <= 1, got ({lo}, {hi})")
        lo, hi = self.aspect_ratio
        if not 0 < lo <= hi:
            raise ValueError(f"aspect_ratio must satisfy 0 < min <= max, got ({lo}, {hi})")
        return self


class MaskCfg(Strict):
    kind: Literal["multiblock", "random"]
    blocks: list[BlockSpec] = []
    ratio: tuple[Float, Float] = (0.75, 0.9)

    @model_validator(mode="after")
    def _valid(self) -> "MaskCfg":
        if self.kind == "multiblock" and not self.blocks:
            raise ValueError("multiblock masks need at least one entry in blocks")
        lo, hi = self.ratio
        if not 0 < lo <= hi < 1:
            raise ValueError(f"ratio must satisfy 0 < min <= max < 1, got ({lo}, {hi})")
        return self


class TrainCfg(Strict):
    steps: Int = Field(gt=0)
    batch_size: Int = Field(gt=0)
    lr: Float = Field(gt=0)
    start_lr: Float = Field(ge=0)
    final_lr: Float = Field(ge=0)
    warmup_steps: Int = Field(ge=0)
    schedule: Literal["cosine", "flat"] = "cosine"
    weight_decay: Float = Field(ge=0)
    betas: tuple[Float, Float] = (0.9, 0.999)
    ema: tuple[Float, Float] = (0.998, 1.0)
    grad_clip: Float = Field(0.0, ge=0)
    amp: Literal["off", "bf16", "fp16"] = "off"
    checkpoint_every: Int = Field(gt=0)
    log_every: Int = Field(gt=0)
    threads: Int = Field(0, ge=0)
    collapse_std: Float = Field(0.01, ge=0)
    # Recipe-level variance-covariance regulariser (VICReg form) on the context tokens, added to EVERY
    # variant of the profile (not a paper objective): hinge on each channel's std across the batch's
    # visible tokens + squared off-diagonal covariance. 0 = off (the paper's recipe).
    vc_std: Float = Field(0.0, ge=0)
    vc_cov: Float = Field(0.0, ge=0)
    # Context loss (V-JEPA 2.1 `predict_all`): the predictor also reconstructs the context tokens' targets,
    # each token's L1 error weighted by 1/sqrt(distance to the nearest masked token) when
    # `context_distance`; its weight ramps linearly from 0 to `context_weight` between the two fractions
    # of training in `context_ramp` (released: 0 -> 0.5 over iterations 15k-30k of 30k). 0 = off.
    context_weight: Float = Field(0.5, ge=0)
    context_ramp: tuple[Float, Float] = (0.5, 1.0)
    context_distance: bool = True

    @model_validator(mode="after")
    def _unit_ranges(self) -> "TrainCfg":
        if not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must lie in [0, 1), got {self.betas}")
        if not all(0 <= m <= 1 for m in self.ema):
            raise ValueError(f"ema momenta must lie in [0, 1], got {self.ema}")
        lo, hi = self.context_ramp
        if not 0 <= lo < hi <= 1:
            raise ValueError(f"context_ramp must satisfy 0 <= start < end <= 1 (fractions of training), got ({lo}, {hi})")
        return self


class DataCfg(Strict):
    source: Literal["synthetic", "real"] = "synthetic"
    root: str = "data/raw"
    # Labelled training clips of the frozen probes, per split cap on real data: one number for every analogue, or
    # {analogue: clips} for appearance, motion and temporal (synthetic motion has its own split below). A probe's
    # score is set against a supervised ceiling trained on the same clips (docs/method.md, "Label budgets").
    eval_train: Int | dict[str, Annotated[Int, Field(gt=0)]]
    eval_val: Int = Field(gt=0)
    synthetic_motion_clips: Int = Field(200, gt=0)
    # Training clips of the synthetic-motion task; the rest of synthetic_motion_clips is its validation
    # set. None = the paper's 80 / 20 split (160 / 40 of 200). A larger validation set with the paper's
    # 160 training clips keeps the task as hard as specified while shrinking the probe's sampling error.
    synthetic_motion_train: Int | None = Field(None, gt=0)
    mixed_weights: dict[str, Annotated[Float, Field(ge=0)]] = {"ucf_like": 0.2, "ssv2_like": 0.6, "image_like": 0.2}

    @model_validator(mode="after")
    def _some_weight(self) -> "DataCfg":
        if self.mixed_weights and not sum(self.mixed_weights.values()) > 0:
            raise ValueError(f"mixed_weights must have a positive sum, got {self.mixed_weights}")
        if self.synthetic_motion_train is not None and self.synthetic_motion_train >= self.synthetic_motion_clips:
            raise ValueError(f"synthetic_motion_train ({self.synthetic_motion_train}) must be below "
                             f"synthetic_motion_clips ({self.synthetic_motion_clips}): the rest is the validation set")
        return self

    @field_validator("eval_train")
    @classmethod
    def _every_analogue(cls, v):
        if isinstance(v, dict):
            expected = [t for t in BENCHMARKS if t != "synthetic_motion"]
            if sorted(v) != sorted(expected):
                raise ValueError(f"eval_train by analogue needs exactly {expected} (synthetic motion: "
                                 f"synthetic_motion_train), got {sorted(v)}")
        elif v <= 0:
            raise ValueError(f"eval_train must be positive, got {v}")
        return v

    def train_clips(self, task: str) -> int:
        """Training clips of `task`'s probe (a cap per split on real data)."""
        if task == "synthetic_motion":
            return self.synthetic_motion_split
        return self.eval_train[task] if isinstance(self.eval_train, dict) else self.eval_train

    @property
    def synthetic_motion_split(self) -> int:
        """Number of training clips of the synthetic-motion task (the first ones; labels cycle, so it is balanced)."""
        if self.synthetic_motion_train is not None:
            return self.synthetic_motion_train
        return int(round(0.8 * self.synthetic_motion_clips))


class ProbeCfg(Strict):
    epochs: Int = Field(gt=0)
    batch_size: Int = Field(gt=0)
    lr: Float = Field(gt=0)
    weight_decay: Float = Field(ge=0)
    heads: Int = Field(gt=0)
    seeds: list[Int]
    # analogue -> probe kind (docs/method.md, "Evaluation protocol")
    protocol: dict[str, Literal["linear", "attentive"]] = {
        "appearance": "linear",
        "motion": "attentive",
        "temporal": "attentive",
        "synthetic_motion": "attentive",
    }


class ProfileCfg(Strict):
    description: str = ""
    model: ModelCfg
    mask: MaskCfg
    train: TrainCfg
    data: DataCfg
    probe: ProbeCfg


class GuidanceCfg(Strict):
    """Motion-guided masking (MGM): mask positions drawn with prob ~ motion**strength."""

    strength: Float = Field(gt=0)
    random_frac: Float = Field(0.1, ge=0, le=1)


class VariantCfg(Strict):
    description: str = ""
    regimes: list[Literal["single", "mixed"]] = ["single", "mixed"]
    terms: dict[str, dict[str, Any]] = {}
    guidance: GuidanceCfg | None = None
    # true: the released future masks (first half minus boxes -> full complement); "halves": first half -> second half
    future: bool | Literal["halves"] = False
    ema: bool = True
    # which encoder encoder.pt holds when EMA is off: "trained" (the online encoder), or "init": what the
    # released code evaluates there, its target encoder, a copy made at init and never updated
    export: Literal["trained", "init"] = "trained"
    aux_features: Literal["hierarchical", "final"] = "hierarchical"
    # Student features for auxiliary terms: the outputs of the encoder's learnable per-level LayerNorms
    # ("affine", the released code: the gains can shrink to satisfy a penalty) or those outputs
    # re-normalised without affine ("plain": the penalty cannot act through the gains' scale).
    aux_norm: Literal["affine", "plain"] = "affine"

    @model_validator(mode="after")
    def _export(self) -> "VariantCfg":
        if self.export == "init" and self.ema:
            raise ValueError("export: init (the never-updated init copy) only applies with ema: false; "
                             "with EMA the exported target is the EMA encoder")
        return self

    @model_validator(mode="after")
    def _coefficients(self) -> "VariantCfg":
        """Every term names a registered objective and passes it arguments of the kind its defaults have;
        every numeric argument (weights, temperatures, margins, splits, sizes) is a finite number >= 0."""
        from jepa.objectives.registry import term_arguments  # lazy: importing the objectives builds the registry

        for term, kw in self.terms.items():
            defaults = term_arguments(term)
            for key, value in kw.items():
                if key not in defaults:
                    raise ValueError(f"terms.{term}: unknown argument {key!r}; accepted: {sorted(defaults)}")
                default = defaults[key]
                if isinstance(default, bool):
                    if not isinstance(value, bool):
                        raise ValueError(f"terms.{term}.{key} must be true or false, got {value!r}")
                elif isinstance(default, (int, float)):
                    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                            or value < 0:
                        raise ValueError(f"terms.{term}.{key} must be a non-negative number, got {value!r}")
                    if isinstance(default, int) and not isinstance(value, int):
                        raise ValueError(f"terms.{term}.{key} must be a whole number, got {value!r}")
                elif isinstance(default, str) and not isinstance(value, str):
                    raise ValueError(f"terms.{term}.{key} must be a string, got {value!r}")
        return self


class RunList(Strict):
    single: list[str]
    mixed: list[str]
    seeds: list[Annotated[Int, Field(ge=0)]]

    @model_validator(mode="after")
    def _once(self) -> "RunList":
        for key in ("single", "mixed", "seeds"):
            values = getattr(self, key)
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise ValueError(f"{key}: {repeated} listed more than once (each names one DVC stage)")
        return self


class TrialCfg(Strict):
    """One calibration trial: dotted overrides of the base profile (``train.steps: 2500``)."""

    note: str = ""
    overrides: dict[str, Any] = {}


class CalibrationCfg(Strict):
    """The calibration study (docs/method.md): screen every trial on `screen_seeds`, finalists on `final_seeds`."""

    base: str = "tiny"
    # Applied to the base profile before any trial: the study's starting point (the recipe as it was
    # before the study), so adopting a trial into the base profile does not move the study itself.
    base_overrides: dict[str, Any] = {}
    # The trial whose overrides the base profile carries now (tests check that they agree).
    adopted: str | None = None
    regime: Literal["single", "mixed"] = "single"
    screen_seeds: list[Int] = [0]
    final_seeds: list[Int] = [0, 1, 2]
    trials: dict[str, TrialCfg] = {}
    finalists: list[str] = []

    @model_validator(mode="after")
    def _known(self) -> "CalibrationCfg":
        for name in self.trials:
            if not VARIANT_NAME.match(name) or ".." in name:
                raise ValueError(f"trials: key {name!r} is not a plain name (letters, digits, _ . -; no path "
                                 "separators or '..'): it names the trial's run folder and result file")
        unknown = [f for f in self.finalists + [self.adopted] * bool(self.adopted) if f not in self.trials]
        if unknown:
            raise ValueError(f"finalists/adopted {unknown} are not trials; known: {sorted(self.trials)}")
        return self


class Params(Strict):
    profile: str
    run: RunList
    profiles: dict[str, ProfileCfg]
    variants: dict[str, VariantCfg]
    calibration: CalibrationCfg = CalibrationCfg()

    @model_validator(mode="after")
    def _references(self) -> "Params":
        for name in self.variants:
            if not VARIANT_NAME.match(name) or ".." in name:
                raise ValueError(f"variants: key {name!r} is not a plain name (letters, digits, _ . -; no path "
                                 "separators or '..'): it names the run folder and the DVC stage")
        if self.profile not in self.profiles:
            raise ValueError(f"profile: unknown profile {self.profile!r}; known: {sorted(self.profiles)}")
        for regime in ("single", "mixed"):
            for name in getattr(self.run, regime):
                if name not in self.variants:
                    raise ValueError(f"run.{regime}: unknown variant {name!r}; known: {sorted(self.variants)}")
                if regime not in self.variants[name].regimes:
                    raise ValueError(f"run.{regime}: variant {name!r} is not defined for regime {regime!r}")
        return self


class RunConfig(Strict):
    """Everything one pretraining run needs, resolved from params.yaml."""

    profile_name: str
    regime: Literal["single", "mixed"]
    variant_name: str
    seed: Int
    profile: ProfileCfg
    variant: VariantCfg

    @property
    def run_id(self) -> str:
        return paths.run_id(self.regime, self.variant_name, self.seed)


def _format_error(err: ValidationError, source: Path, prefix: str = "") -> str:
    lines = [f"{source}: invalid configuration"]
    for e in err.errors():
        path = prefix + ".".join(str(p) for p in e["loc"])
        lines.append(f"  {path or '<root>'}: {e['msg']} (got {e.get('input')!r:.80})")
    return "\n".join(lines)


def _merged(base: dict, overrides: dict) -> dict:
    """`base` with `overrides` laid over it, section by section (lists and scalars replace)."""
    out = dict(base)
    for key, value in overrides.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def resolve_profiles(profiles: dict[str, Any], source: str | Path = "params.yaml") -> dict[str, Any]:
    """Expand `base: NAME` profiles into full ones: the base profile with the profile's own keys laid over it.

    A derived profile (e.g. paper_mini = paper at CPU sizes) thus follows every later change of its
    base's recipe; only the keys it names differ. Bases may chain; a missing base or a cycle is an error.
    """
    resolved: dict[str, Any] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> Any:
        if name in resolved:
            return resolved[name]
        raw = profiles[name]
        if not isinstance(raw, dict) or "base" not in raw:
            resolved[name] = raw
            return raw
        base = raw["base"]
        if base not in profiles:
            raise ConfigError(f"{source}: profiles.{name}.base: unknown profile {base!r}; known: {sorted(profiles)}")
        if base in chain:
            raise ConfigError(f"{source}: profiles.{name}.base: cycle {' -> '.join(chain + (name, base))}")
        parent = resolve(base, chain + (name,))
        own = {k: v for k, v in raw.items() if k != "base"}
        resolved[name] = _merged(parent, own) if isinstance(parent, dict) else own
        return resolved[name]

    for name in profiles:
        resolve(name, ())
    return resolved


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key written twice (plain YAML keeps the last one silently)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(f"{self.name}:{line}: key {key!r} appears twice in one mapping (first on line "
                                  f"{seen[key]}); keep one")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> dict:
    """A YAML mapping from `path`; syntax errors, duplicate keys and a non-mapping top level are ConfigErrors
    naming the file (and line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8") from None
    loader = _UniqueKeyLoader(text)
    loader.name = str(path)
    try:
        raw = loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        context = (f" ({err.context} started on line {err.context_mark.line + 1})"
                   if err.context and err.context_mark and err.problem_mark else "")
        raise ConfigError(f"{where}: YAML syntax error: {err.problem or err.context}{context}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: YAML error: {str(err).splitlines()[0]}") from None
    finally:
        loader.dispose()
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys (profile, run, profiles, variants, ...) at the top "
                          f"level, got a {type(raw).__name__}")
    return raw


def load_params(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Params:
    """Read and validate params.yaml (the project root's by default); `overrides` replaces top-level keys."""
    path = Path(path) if path else project_root() / "params.yaml"
    if not path.exists():
        raise ConfigError(f"{path}: params file not found")
    raw = read_yaml(path)
    raw.update(overrides or {})
    if isinstance(raw.get("profiles"), dict):
        raw["profiles"] = resolve_profiles(raw["profiles"], path)
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_error(err, path)) from None


def load_run(regime: str, variant: str, seed: Int, profile: str | None = None,
             path: str | Path | None = None) -> RunConfig:
    """Resolve one (profile, regime, variant, seed) run; unknown names fail with the list of known ones."""
    params = load_params(path)
    name = profile or params.profile
    if name not in params.profiles:
        raise ConfigError(f"params.yaml: unknown profile {name!r}; known: {sorted(params.profiles)}")
    if variant not in params.variants:
        raise ConfigError(f"params.yaml: unknown variant {variant!r}; known: {sorted(params.variants)}")
    if regime not in params.variants[variant].regimes:
        raise ConfigError(f"params.yaml: variant {variant!r} is not defined for regime {regime!r} "
                          f"(variants.{variant}.regimes = {params.variants[variant].regimes})")
    return RunConfig(profile_name=name, regime=regime, variant_name=variant, seed=int(seed),
                     profile=params.profiles[name], variant=params.variants[variant])


def profile_cfg(profile: str | None = None, path: str | Path | None = None) -> tuple[str, ProfileCfg]:
    """Validate only `profile` and that profile's section: the stages that call this (data, probes, few-shot)
    do not read the variants, so an error in one fails the stage that reads it instead of these (DVC deletes
    a stage's outputs before running it, so a stage failing on a key it does not read loses its data)."""
    path = Path(path) if path else project_root() / "params.yaml"
    if not path.exists():
        raise ConfigError(f"{path}: params file not found")
    raw = read_yaml(path)
    name = profile or raw.get("profile")
    profiles = raw.get("profiles")
    if not isinstance(name, str) or not isinstance(profiles, dict) or name not in profiles:
        known = sorted(profiles) if isinstance(profiles, dict) else []
        raise ConfigError(f"{path}: profile: unknown profile {name!r}; known: {known}")
    try:
        return name, ProfileCfg.model_validate(resolve_profiles(profiles, path)[name])
    except ValidationError as err:
        raise ConfigError(_format_error(err, path, prefix=f"profiles.{name}.")) from None
