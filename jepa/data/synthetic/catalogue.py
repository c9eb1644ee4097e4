"""The one global catalogue of named generative classes (plain data).

Every clip any source or few-shot set draws comes from a named class here, so the
pipeline can prove that few-shot TEST classes never appear in pretraining
(`pretraining_class_names` vs `FEWSHOT_SPLITS[...]["test"]`).

- Kinetics-like actions (100): a motion programme, one movement in the first half of the
  clip then one in the second, with the object's look random. Test classes are new
  sequences of familiar movements, as Kinetics-100 test classes are new actions made of
  familiar bodies and movements.
- EPIC-like verbs (36): a hand (a skin-toned bar) acts on an object; verb = the hand's
  style (reach, tap, sweep) x the object's response (take, push, turn, squeeze, ...).
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

# Kinetics-like actions: a motion programme = what the object does in the first half of the clip, then
# in the second (10 x 10 = 100 programmes); the object's shape, texture, hue and the scene are random, so
# classes differ in motion pattern only. A test class is a new sequence of familiar movements, as
# Kinetics-100 test classes are new actions made of familiar body movements.
ACTION_PRIMITIVES = ("still", "slide", "circle", "zigzag", "spin", "grow", "shrink", "shake", "blink", "bounce")

KINETICS_CLASSES: dict[str, dict[str, str]] = {
    f"{first}-then-{second}": {"first": first, "second": second}
    for first in ACTION_PRIMITIVES for second in ACTION_PRIMITIVES}

# EPIC-like verbs: how a hand comes in (style) x what the object then does (response), 12 x 3 = 36 verbs;
# an unseen verb is a new pairing of a familiar style and a familiar response.
HAND_RESPONSES = ("take", "push", "pull", "turn-cw", "turn-ccw", "shake", "squeeze", "inflate", "switch-off",
                  "flip", "lift", "hold")
HAND_STYLES = ("reach", "tap", "sweep")
EPIC_VERBS: dict[str, dict[str, str]] = {
    f"{response}:{style}": {"actor": "hand", "response": response, "style": style}
    for response in HAND_RESPONSES for style in HAND_STYLES}

# SSv2-like relations between two objects (pretraining only; the temporal evaluation
# analogue is built separately so it can be made shortcut-free).
RELATIONS: dict[str, dict[str, str]] = {
    "approach": {"actor": "object", "response": "none", "after": "stay"},
    "recede": {"actor": "object", "response": "none", "after": "stay", "reverse": "yes"},
    "cover": {"actor": "object", "response": "none", "after": "cover"},
    "uncover": {"actor": "object", "response": "none", "after": "cover", "reverse": "yes"},
    "appear": {"actor": "none", "response": "appear", "after": "stay"},
    "disappear": {"actor": "none", "response": "appear", "after": "stay", "reverse": "yes"},
    "grow": {"actor": "none", "response": "inflate", "after": "stay"},
    "shrink": {"actor": "none", "response": "inflate", "after": "stay", "reverse": "yes"},
    "collide": {"actor": "object", "response": "push", "after": "stay"},
    "pass-by": {"actor": "object", "response": "none", "after": "pass"},
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
