"""Unlabelled pretraining sources, the two regimes, and the few-shot sets.

Sources draw only catalogue classes outside `HELD_OUT_CLASSES` (few-shot val/test), which
`Source.__post_init__` asserts, so the few-shot evaluation measures transfer to classes that
pretraining never generated (docs/method.md, "Few-shot protocol", RQ2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from jepa.data.synthetic import catalogue as cat
from jepa.data.synthetic.evalsets import ClipSet, TEMPORAL_CLASSES, _temporal, task_rng
from jepa.data.synthetic.scenes import render_actions, render_hand_verbs, render_stills, render_two_body

Renderer = Callable[[list[str], int, int, np.random.Generator], tuple[np.ndarray, np.ndarray]]


@dataclass
class Source:
    """One infinite pretraining stream: uniform over its classes, each drawn by its renderer."""

    name: str
    class_names: list[str]
    is_image: bool
    frames: int = 8
    size: int = 32
    renderers: dict[str, Renderer] = field(default_factory=dict, repr=False)  # class name prefix group -> renderer

    def __post_init__(self) -> None:
        leaked = find_contamination(self.class_names, cat.HELD_OUT_CLASSES)
        if leaked:
            raise ValueError(f"source {self.name} would generate held-out few-shot classes: {sorted(leaked)}")

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(uint8 (n, T, H, W, 3), int64 class ids into self.class_names)."""
        ids = rng.integers(0, len(self.class_names), n).astype(np.int64)
        videos = np.empty((n, self.frames, self.size, self.size, 3), np.uint8)
        names = np.array(self.class_names, dtype=object)[ids]
        groups = np.array([_group(c) for c in names])
        for group, render in self.renderers.items():
            rows = np.nonzero(groups == group)[0]
            if len(rows):
                videos[rows] = render(list(names[rows]), self.frames, self.size, rng)[0]
        return videos, ids


def _group(class_name: str) -> str:
    if class_name in cat.KINETICS_CLASSES:
        return "action"
    if class_name in cat.IMAGE_CLASSES:
        return "still"
    if class_name in _TEMPORAL_SOURCE_CLASSES:
        return "temporal"
    if class_name in cat.EPIC_VERBS:
        return "hand"
    return "two_body"


# The temporal analogue's dynamics are part of the SSv2-like stream, as SSv2 train is part of
# the paper's mixed pretraining while SSv2 val is evaluated.
_TEMPORAL_SOURCE_CLASSES = [f"relation:{c}" for c in TEMPORAL_CLASSES]


def _render_temporal(names: list[str], frames: int, size: int, rng: np.random.Generator):
    labels = np.array([_TEMPORAL_SOURCE_CLASSES.index(c) for c in names])
    clips = _temporal(len(names), rng, frames, size, labels=labels)
    return clips.videos, clips.latents


_RENDERERS: dict[str, Renderer] = {"action": render_actions, "hand": render_hand_verbs, "two_body": render_two_body,
                                   "still": render_stills, "temporal": _render_temporal}


def _allowed(names: Iterable[str]) -> list[str]:
    return [c for c in names if c not in cat.HELD_OUT_CLASSES]


SOURCE_CLASSES: dict[str, list[str]] = {
    # UCF-like: single-object actions (the Kinetics-like catalogue minus few-shot val/test).
    "ucf_like": _allowed(cat.KINETICS_CLASSES),
    # SSv2-like: hand-object verbs (EPIC-like train verbs), two-object relations, and the
    # temporal analogue's comets moving head-first / tail-first.
    "ssv2_like": _allowed(cat.EPIC_VERBS) + list(cat.RELATION_CLASSES) + _TEMPORAL_SOURCE_CLASSES,
    # Image-like stills (ImageNet analogue): shape x texture x colour.
    "image_like": list(cat.IMAGE_CLASSES),
}

REGIME_SOURCES: dict[str, dict[str, float]] = {
    "single": {"ucf_like": 1.0},
    "mixed": {"ucf_like": 0.2, "ssv2_like": 0.6, "image_like": 0.2},
}


def make_source(name: str, frames: int = 8, size: int = 32) -> Source:
    """One of "ucf_like" | "ssv2_like" | "image_like"."""
    if name not in SOURCE_CLASSES:
        raise KeyError(f"unknown source {name!r}; expected one of {tuple(SOURCE_CLASSES)}")
    names = SOURCE_CLASSES[name]
    groups = {_group(c) for c in names}
    return Source(name=name, class_names=list(names), is_image=name == "image_like", frames=frames, size=size,
                  renderers={g: _RENDERERS[g] for g in sorted(groups)})


_SOURCE_CACHE: dict[tuple[str, int, int], Source] = {}


def _cached_source(name: str, frames: int, size: int) -> Source:
    key = (name, frames, size)
    if key not in _SOURCE_CACHE:
        _SOURCE_CACHE[key] = make_source(name, frames, size)
    return _SOURCE_CACHE[key]


def sample_regime(regime: str, n: int, rng: np.random.Generator, frames: int = 8, size: int = 32,
                  weights: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the regime's mixture: (uint8 (n, T, H, W, 3), bool is_image (n,)), in random order.

    Source counts are multinomial with the regime's weights (or `weights`, which must name
    sources of this module)."""
    w = dict(weights if weights is not None else REGIME_SOURCES[regime])
    if regime not in REGIME_SOURCES:
        raise KeyError(f"unknown regime {regime!r}; expected one of {tuple(REGIME_SOURCES)}")
    names = [k for k, v in w.items() if v > 0]
    p = np.array([w[k] for k in names], dtype=np.float64)
    counts = rng.multinomial(n, p / p.sum())
    videos, is_image = [], []
    for name, k in zip(names, counts):
        if k:
            src = _cached_source(name, frames, size)
            videos.append(src.sample(int(k), rng)[0])
            is_image.append(np.full(k, src.is_image))
    order = rng.permutation(n)
    return np.concatenate(videos)[order], np.concatenate(is_image)[order]


def pretraining_class_names(regime: str, weights: dict[str, float] | None = None) -> set[str]:
    """Every catalogue class that the regime's sources can generate."""
    w = weights if weights is not None else REGIME_SOURCES[regime]
    return {c for name, v in w.items() if v > 0 for c in SOURCE_CLASSES[name]}


def find_contamination(pretraining: Iterable[str], held_out: Iterable[str]) -> set[str]:
    """Classes present in both lists (empty when the few-shot split is clean)."""
    return set(pretraining) & set(held_out)


def assert_no_contamination(regime: str, weights: dict[str, float] | None = None) -> None:
    """Raise if any few-shot test class could be generated by the regime's pretraining sources."""
    tests = {c for kind in cat.FEWSHOT_SPLITS.values() for c in kind["test"]}
    leaked = find_contamination(pretraining_class_names(regime, weights), tests)
    if leaked:
        raise AssertionError(f"few-shot test classes in {regime} pretraining: {sorted(leaked)}")


def make_fewshot_set(kind: str, split: str, n_per_class: int, seed: int, frames: int = 8,
                     size: int = 32) -> ClipSet:
    """n_per_class clips of every class of a few-shot split; labels index FEWSHOT_SPLITS[kind][split]."""
    classes = cat.FEWSHOT_SPLITS[kind][split]
    labels = np.repeat(np.arange(len(classes), dtype=np.int64), n_per_class)
    names = [classes[k] for k in labels]
    rng = task_rng(f"fewshot:{kind}:{split}", seed)
    render = render_actions if kind == "kinetics_like" else render_hand_verbs
    videos, latents = render(names, frames, size, rng)
    return ClipSet(videos, labels, list(classes), f"{kind}:{split}", latents)
