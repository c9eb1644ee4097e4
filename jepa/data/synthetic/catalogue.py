"""The one global catalogue of named generative classes (plain data).

Every clip any source or few-shot set draws comes from a named class here, so the
pipeline can prove that few-shot TEST classes never appear in pretraining
(`pretraining_class_names` vs `FEWSHOT_SPLITS[...]["test"]`).

- Kinetics-like actions (100): a motion programme x an object family. Test classes are
  new combinations of familiar ingredients, as Kinetics-100 test classes are new actions
  made of familiar scenes, bodies and objects.
- EPIC-like verbs (36): a hand (a skin-toned bar) acts on an object; verb = the object's
  response x the hand's style.
- SSv2-like relations (10): two objects in a temporal relation (approach, cover, ...).
- Image-like stills: shape x texture x colour.
"""

from __future__ import annotations

import numpy as np

SHAPES = ("disc", "square", "triangle", "cross", "diamond", "ring", "bar")
TEXTURES = ("solid", "stripes", "checker", "rings")

# Saturated hues, far apart, so colour classes are unambiguous after per-clip jitter.
PALETTE = {
    "red": (215, 45, 40), "green": (45, 185, 65), "blue": (45, 80, 220), "yellow": (230, 210, 45),
    "magenta": (205, 55, 195), "cyan": (50, 205, 215), "orange": (240, 135, 35), "white": (235, 235, 235),
}
SKIN_TONES = ((224, 172, 140), (198, 134, 98), (141, 85, 56), (240, 200, 170))

# Motion programmes: coefficients of one parametric kinematic model (see sources._action_tracks).
# Lengths are fractions of the frame size per clip; angles in radians per clip.
# progress: 0 constant speed, 1 accelerate, 2 decelerate, 3 stop-and-go.
_MOTION_FIELDS = ("travel", "progress", "zigzag", "wave", "bounce", "circle", "turns", "shake", "spin",
                  "grow", "pulse", "fade")
MOTION_PROGRAMS: dict[str, dict[str, float]] = {
    "slide": dict(travel=0.45),
    "dash": dict(travel=0.85),
    "accelerate": dict(travel=0.6, progress=1),
    "decelerate": dict(travel=0.6, progress=2),
    "stop-go": dict(travel=0.6, progress=3),
    "zigzag": dict(travel=0.35, zigzag=0.12),
    "wave": dict(travel=0.35, wave=0.14),
    "bounce": dict(travel=0.35, bounce=0.25),
    "circle-cw": dict(circle=0.22, turns=0.8),
    "circle-ccw": dict(circle=0.22, turns=-0.8),
    "spin-cw": dict(spin=2.4),
    "spin-ccw": dict(spin=-2.4),
    "roll": dict(travel=0.5, spin=3.0),
    "grow": dict(grow=1.1),
    "shrink": dict(grow=-1.1),
    "pulse": dict(pulse=0.35),
    "appear": dict(fade=1),
    "vanish": dict(fade=-1),
    "shake": dict(shake=0.06),
    "spiral": dict(circle=0.2, turns=1.0, grow=-0.8, spin=1.5),
}
MOTION_TABLE = np.array([[MOTION_PROGRAMS[m].get(f, 0.0) for f in _MOTION_FIELDS] for m in MOTION_PROGRAMS],
                        dtype=np.float32)
MOTION_FIELD_INDEX = {f: i for i, f in enumerate(_MOTION_FIELDS)}

# Object families of the action clips (colour is free, so it is a nuisance within a class).
OBJECT_FAMILIES: dict[str, tuple[str, str]] = {
    "striped-disc": ("disc", "stripes"), "plain-square": ("square", "solid"),
    "checked-triangle": ("triangle", "checker"), "plain-cross": ("cross", "solid"),
    "ringed-diamond": ("diamond", "rings"),
}

KINETICS_CLASSES: dict[str, dict[str, str]] = {
    f"{motion}:{family}": {"motion": motion, "family": family}
    for motion in MOTION_PROGRAMS for family in OBJECT_FAMILIES}

# EPIC-like verbs: the object's response to a hand x the hand's style.
HAND_RESPONSES = ("take", "put", "push", "pull", "turn-cw", "turn-ccw", "shake", "squeeze", "inflate",
                  "switch-on", "switch-off", "flip")
HAND_STYLES = ("reach", "stir", "rub")
EPIC_VERBS: dict[str, dict[str, str]] = {
    f"{response}:{style}": {"actor": "hand", "response": response, "style": style, "after": "retreat"}
    for response in HAND_RESPONSES for style in HAND_STYLES}

# SSv2-like relations between two objects (pretraining only; the temporal evaluation
# analogue is built separately so it can be made shortcut-free).
RELATIONS: dict[str, dict[str, str]] = {
    "approach": {"actor": "object", "response": "none", "style": "reach", "after": "stay"},
    "recede": {"actor": "object", "response": "none", "style": "reach", "after": "stay", "reverse": "yes"},
    "cover": {"actor": "object", "response": "none", "style": "reach", "after": "cover"},
    "uncover": {"actor": "object", "response": "none", "style": "reach", "after": "cover", "reverse": "yes"},
    "appear": {"actor": "none", "response": "appear", "style": "reach", "after": "stay"},
    "disappear": {"actor": "none", "response": "appear", "style": "reach", "after": "stay", "reverse": "yes"},
    "grow": {"actor": "none", "response": "inflate", "style": "reach", "after": "stay"},
    "shrink": {"actor": "none", "response": "inflate", "style": "reach", "after": "stay", "reverse": "yes"},
    "collide": {"actor": "object", "response": "push", "style": "reach", "after": "stay"},
    "pass-by": {"actor": "object", "response": "none", "style": "reach", "after": "pass"},
}
RELATION_CLASSES = {f"relation:{k}": v for k, v in RELATIONS.items()}

IMAGE_CLASSES: dict[str, dict[str, str]] = {
    f"still:{shape}:{texture}:{color}": {"shape": shape, "texture": texture, "color": color}
    for shape in SHAPES[:6] for texture in TEXTURES for color in PALETTE}


def _split(names: list[str], sizes: dict[str, int], seed: int) -> dict[str, list[str]]:
    """Fixed class split: a permutation from a constant seed (never from a run's seed)."""
    order = np.random.default_rng(seed).permutation(len(names))
    out, start = {}, 0
    for split, k in sizes.items():
        out[split] = sorted(names[i] for i in order[start:start + k])
        start += k
    assert start == len(names)
    return out


FEWSHOT_SPLITS: dict[str, dict[str, list[str]]] = {
    "epic_like": _split(list(EPIC_VERBS), {"train": 24, "test": 12}, seed=2605_17165),
    "kinetics_like": _split(list(KINETICS_CLASSES), {"train": 64, "val": 12, "test": 24}, seed=2605_17166),
}

# Classes a pretraining source may never draw: every few-shot class outside "train"
# (val is kept out too, so model selection on val is also free of leakage).
HELD_OUT_CLASSES: frozenset[str] = frozenset(
    name for kind in FEWSHOT_SPLITS.values() for split, names in kind.items() if split != "train"
    for name in names)

ALL_CLASSES: dict[str, dict[str, str]] = {**KINETICS_CLASSES, **EPIC_VERBS, **RELATION_CLASSES, **IMAGE_CLASSES}
assert len(ALL_CLASSES) == len(KINETICS_CLASSES) + len(EPIC_VERBS) + len(RELATION_CLASSES) + len(IMAGE_CLASSES)
