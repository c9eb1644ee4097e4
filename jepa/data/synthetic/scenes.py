"""Generators of named catalogue classes: action clips, two-body (hand-object, relation) clips, stills.

Each generator takes per-clip class indices and returns (videos uint8, latents float32)
for a whole batch at once; kinematics are closed-form functions of normalised clip time
u in [0, 1], so clips of any length show the complete action.
"""

from __future__ import annotations

import numpy as np

from jepa.data.synthetic import catalogue as cat
from jepa.data.synthetic.render import F32, ObjectTracks, add_grey_noise, background, draw, to_uint8

_PALETTE = np.array(list(cat.PALETTE.values()), dtype=F32)
_SKIN = np.array(cat.SKIN_TONES, dtype=F32)
_SHAPE_ID = {s: i for i, s in enumerate(cat.SHAPES)}
_TEXTURE_ID = {t: i for i, t in enumerate(cat.TEXTURES)}


def clip_time(frames: int) -> np.ndarray:
    return (np.arange(frames, dtype=F32) / F32(max(frames - 1, 1)))[None, :]


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (F32(3.0) - F32(2.0) * x)


def random_colors(n: int, rng: np.random.Generator, jitter: float = 25.0) -> np.ndarray:
    """Palette colours with per-clip jitter (colour is a nuisance unless a class says otherwise)."""
    base = _PALETTE[rng.integers(0, len(_PALETTE), n)]
    return np.clip(base + rng.uniform(-jitter, jitter, (n, 3)).astype(F32), 0, 255)


def _look(n: int, rng: np.random.Generator, shape: np.ndarray, texture: np.ndarray):
    color = random_colors(n, rng)
    color2 = np.where(rng.random((n, 1)) < 0.5, color * F32(0.35), random_colors(n, rng))
    return dict(shape=shape.astype(np.int64), texture=texture.astype(np.int64), color=color, color2=color2)


# --------------------------------------------------------------------------- single-object actions
_PRIMITIVE_ID = {p: i for i, p in enumerate(cat.ACTION_PRIMITIVES)}
# Shapes whose orientation is visible (a disc or ring cannot be seen to spin).
_ACTION_SHAPES = np.array([_SHAPE_ID[s] for s in ("square", "triangle", "cross", "bar", "diamond")])


def bright_colors(n: int, rng: np.random.Generator) -> np.ndarray:
    """Random hues of high luminance (150-255 scaled per channel by 0.6-1.0): actors are always brighter than
    their scene (`ACTION_SCENE_LEVEL`). With random contrast polarity, whether a patch brightens or darkens
    as an object moves says nothing about the direction until polarity is known, an interaction a small
    ViT failed to learn even with labels in a pretraining-sized budget; a fixed polarity keeps the
    direction of motion readable while the hue, shape, texture and scene stay nuisances."""
    return np.clip(rng.uniform(150, 255, (n, 1)) * rng.uniform(0.6, 1.0, (n, 3)), 0, 255).astype(F32)


ACTION_SCENE_LEVEL = (10.0, 100.0)


def _primitive_steps(prim: np.ndarray, steps: int, size: int, rng: np.random.Generator):
    """Per-step increments (dx, dy, dlog radius, dangle) and per-step opacity, each (N, steps), of one
    movement per clip (ids into ACTION_PRIMITIVES); heading, sense and speed are random per clip."""
    n = len(prim)
    s = np.arange(steps, dtype=F32)[None]
    heading = rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32)
    hx, hy = np.cos(heading), np.sin(heading)
    sense = np.where(rng.random((n, 1)) < 0.5, F32(-1.0), F32(1.0))
    v = F32(0.09 * size) * rng.uniform(0.85, 1.15, (n, 1)).astype(F32)
    alternate = np.where(s % 2 == 0, F32(1.0), F32(-1.0))
    on = lambda name: (prim == _PRIMITIVE_ID[name])[:, None]  # noqa: E731
    turn = heading + sense * s * F32(np.pi / 2)                                   # circle: a quarter turn a step
    zig = heading + alternate                                                      # zigzag: +-57 degrees about heading
    out_back = np.where(s < steps / 2, F32(1.2), F32(-1.2)) * v                    # bounce: out, then back
    shake = alternate * F32(0.08 * size)                                           # shake: across the heading
    dx = (np.where(on("slide"), v * hx, 0) + np.where(on("circle"), v * np.cos(turn), 0)
          + np.where(on("zigzag"), v * np.cos(zig), 0) + np.where(on("shake"), -shake * hy, 0)
          + np.where(on("bounce"), out_back * hx, 0))
    dy = (np.where(on("slide"), v * hy, 0) + np.where(on("circle"), v * np.sin(turn), 0)
          + np.where(on("zigzag"), v * np.sin(zig), 0) + np.where(on("shake"), shake * hx, 0)
          + np.where(on("bounce"), out_back * hy, 0))
    dlog_r = np.where(on("grow"), F32(0.16), 0) + np.where(on("shrink"), F32(-0.16), 0)
    dangle = np.where(on("spin"), F32(0.7) * sense, 0)
    opacity = np.where(on("blink"), np.where(s % 2 == 0, F32(0.15), F32(1.0)), F32(1.0))
    return [np.broadcast_to(a, (n, steps)).astype(F32) for a in (dx, dy, dlog_r, dangle, opacity)]


def action_tracks(first: np.ndarray, second: np.ndarray, frames: int, size: int,
                  rng: np.random.Generator) -> ObjectTracks:
    """One object doing movement `first` over the first half of the clip's frame steps, then `second`
    (continuing from where the first left it); start pose and look random."""
    n = len(first)
    steps = frames - 1
    half = steps - steps // 2
    parts = [_primitive_steps(first, half, size, rng), _primitive_steps(second, steps - half, size, rng)]
    dx, dy, dlog_r, dangle, opacity = (np.concatenate([a, b], axis=1) for a, b in zip(*parts))
    start = lambda a: np.concatenate([np.zeros((n, 1), F32), np.cumsum(a, axis=1)], axis=1)  # noqa: E731
    x = rng.uniform(0, size, (n, 1)).astype(F32) + start(dx)
    y = rng.uniform(0, size, (n, 1)).astype(F32) + start(dy)
    radius = rng.uniform(0.15, 0.21, (n, 1)).astype(F32) * size * np.exp(start(dlog_r))
    angle = rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32) + start(dangle)
    color = bright_colors(n, rng)
    return ObjectTracks(x=x, y=y, radius=radius, angle=angle, shape=rng.choice(_ACTION_SHAPES, n),
                        texture=rng.integers(0, len(cat.TEXTURES), n), color=color, color2=color * F32(0.4),
                        opacity=np.concatenate([np.ones((n, 1), F32), opacity], axis=1))


def render_actions(class_names: list[str], frames: int, size: int, rng: np.random.Generator):
    """Kinetics/UCF-like clips: one object performing its class's motion programme over a random dark scene."""
    n = len(class_names)
    first = np.array([_PRIMITIVE_ID[cat.KINETICS_CLASSES[c]["first"]] for c in class_names])
    second = np.array([_PRIMITIVE_ID[cat.KINETICS_CLASSES[c]["second"]] for c in class_names])
    obj = action_tracks(first, second, frames, size, rng)
    canvas = np.repeat(background(n, size, rng, level=ACTION_SCENE_LEVEL), frames, axis=1)
    draw(canvas, obj)
    add_grey_noise(canvas, rng, 4.0)
    return to_uint8(canvas), obj.latent()


# --------------------------------------------------------------------------- hand verbs (EPIC-like)
_HAND_STYLE_ID = {k: i for i, k in enumerate(cat.HAND_STYLES)}
_HAND_RESPONSE_ID = {k: i for i, k in enumerate(cat.HAND_RESPONSES)}
_HAND_OBJECT_SHAPES = np.array([_SHAPE_ID[s] for s in ("square", "triangle", "cross", "diamond")])
HAND_SCENE_LEVEL = (10.0, 90.0)


def hand_verb_tracks(style: np.ndarray, response: np.ndarray, frames: int, size: int, rng: np.random.Generator):
    """(object, hand) tracks: the hand approaches the object from a random direction until 40 % of the clip,
    then acts in its style (reach: holds; tap: taps twice; sweep: comes in from the side and slides across)
    while the object responds over the rest of the clip (take: leaves with the hand; push: slides away;
    pull: follows the retreating hand; turn: rotates 2.5 rad; shake; squeeze/inflate: shrinks/grows;
    switch-off: dims; flip: squashes through edge-on; lift: grows as it nears the camera; hold: stays)."""
    n = len(style)
    u = clip_time(frames)
    contact = F32(0.4)
    w = np.clip((u - contact) / (1 - contact), 0, 1)                    # progress of the interaction
    heading = rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32)            # from the object towards the hand
    hx, hy = np.cos(heading), np.sin(heading)
    cx, cy = rng.uniform(0, size, (2, n, 1)).astype(F32)
    r_obj = rng.uniform(0.17, 0.22, (n, 1)).astype(F32) * size
    r_hand = F32(0.26 * size)
    d_far, d_contact = F32(0.5 * size), r_obj + F32(0.45) * r_hand
    style_is = lambda k: (style == _HAND_STYLE_ID[k])[:, None]          # noqa: E731
    resp_is = lambda k: (response == _HAND_RESPONSE_ID[k])[:, None]     # noqa: E731
    dist = np.where(u < contact, d_far + (d_contact - d_far) * np.clip(u / contact, 0, 1), d_contact)
    dist = np.where(style_is("tap") & (u >= contact),
                    d_contact + F32(0.25 * size) * np.abs(np.sin(F32(4 * np.pi) * w)), dist)
    lateral = np.where(style_is("sweep"), F32(0.35 * size) * np.where(u < contact, 1 - u / contact, -F32(0.8) * w),
                       F32(0.0))
    retreat = (d_far - d_contact) * w
    dist = dist + np.where(resp_is("take"), retreat, 0) + np.where(resp_is("pull"), F32(0.85) * retreat, 0)
    shift = (np.where(resp_is("take"), retreat, 0) - np.where(resp_is("push"), F32(0.35 * size) * w, 0)
             + np.where(resp_is("pull"), F32(0.3 * size) * w, 0))
    jiggle = np.where(resp_is("shake"), F32(0.09 * size) * np.sin(F32(6 * np.pi) * w), 0)
    ox, oy = cx + shift * hx - jiggle * hy, cy + shift * hy + jiggle * hx
    turn = np.where(resp_is("turn-cw"), F32(2.5), np.where(resp_is("turn-ccw"), F32(-2.5), F32(0.0)))
    angle = rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32) + turn * w
    scale = np.where(resp_is("squeeze"), 1 - F32(0.5) * w, np.where(resp_is("inflate"), 1 + F32(0.8) * w, F32(1.0)))
    radius = r_obj * scale * (1 + np.where(resp_is("lift"), F32(0.5) * w, 0))
    gain = np.where(resp_is("switch-off"), 1 - F32(0.6) * w, F32(1.0))
    squash = np.where(resp_is("flip"), np.abs(np.cos(F32(np.pi) * w)) + F32(0.08), F32(1.0))
    color = bright_colors(n, rng)
    b = lambda a: np.broadcast_to(a, (n, frames)).astype(F32)           # noqa: E731
    obj = ObjectTracks(x=b(ox), y=b(oy), radius=b(radius), angle=b(angle), squash=b(squash), gain=b(gain),
                       shape=rng.choice(_HAND_OBJECT_SHAPES, n), texture=rng.integers(0, len(cat.TEXTURES), n),
                       color=color, color2=color * F32(0.4))
    skin = _SKIN[rng.integers(0, len(_SKIN), n)]
    hand = ObjectTracks(x=b(cx + dist * hx - lateral * hy), y=b(cy + dist * hy + lateral * hx),
                        radius=np.full((n, frames), r_hand, F32), angle=b(heading + F32(np.pi)),
                        shape=np.full(n, _SHAPE_ID["bar"]), texture=np.zeros(n, np.int64), color=skin, color2=skin)
    return obj, hand


def render_hand_verbs(class_names: list[str], frames: int, size: int, rng: np.random.Generator):
    """EPIC-like clips: a hand acting on an object (`hand_verb_tracks`) over a random dark scene."""
    n = len(class_names)
    style = np.array([_HAND_STYLE_ID[cat.EPIC_VERBS[c]["style"]] for c in class_names])
    response = np.array([_HAND_RESPONSE_ID[cat.EPIC_VERBS[c]["response"]] for c in class_names])
    obj, hand = hand_verb_tracks(style, response, frames, size, rng)
    canvas = np.repeat(background(n, size, rng, level=HAND_SCENE_LEVEL, saturation=0.3), frames, axis=1)
    draw(canvas, obj)
    draw(canvas, hand)
    add_grey_noise(canvas, rng, 4.0)
    return to_uint8(canvas), np.concatenate([obj.latent(), hand.latent()], axis=-1)


# --------------------------------------------------------------------------- two-body clips
# What a relation (catalogue.RELATIONS) can ask for; `reverse: yes` plays the clip backwards.
_ACTORS = ("object", "none")
_RESPONSES = ("none", "push", "inflate", "appear")
_AFTER = ("stay", "cover", "pass")


def _code(specs: list[dict], key: str, table: tuple[str, ...]) -> np.ndarray:
    bad = sorted({s[key] for s in specs} - set(table))
    if bad:
        raise ValueError(f"two-body relation {key} {bad}: expected one of {table}")
    return np.array([table.index(s[key]) for s in specs])[:, None]


def two_body_tracks(specs: list[dict], frames: int, size: int, rng: np.random.Generator):
    """An actor (an object or nothing) approaches a target object and the target responds.

    Returns (target, actor) ObjectTracks. Phases: approach until contact u_c, interaction
    until u_r; the actor then stays, covers the target, or (`pass`) moves through it at constant speed.
    """
    n = len(specs)
    resp, after = _code(specs, "response", _RESPONSES), _code(specs, "after", _AFTER)
    no_actor = _code(specs, "actor", _ACTORS) == 1
    reverse = np.array([s.get("reverse") == "yes" for s in specs])

    u = clip_time(frames)
    uc = rng.uniform(0.3, 0.4, (n, 1)).astype(F32)
    ur = uc + rng.uniform(0.25, 0.3, (n, 1)).astype(F32)
    w_in = smoothstep((u - uc) / (ur - uc))                  # progress of the interaction
    w_out = smoothstep((u - ur) / (1 - ur))                  # progress after it

    heading = rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32)
    dx, dy = np.cos(heading), np.sin(heading)               # from target towards the actor's start
    r_t = rng.uniform(0.12, 0.18, (n, 1)).astype(F32) * size
    r_a = rng.uniform(0.1, 0.14, (n, 1)).astype(F32) * size
    d_far = F32(0.5 * size)
    d_contact = F32(0.9) * (r_t + r_a)
    d_approach = d_far + (d_contact - d_far) * smoothstep(u / uc)
    dist = np.where(u < uc, d_approach, d_contact)
    dist = np.where(after == 1, np.where(u < uc, d_approach, d_contact * (1 - w_in)), dist)
    dist = np.where(after == 2, d_far * (1 - 2 * u), dist)
    cx, cy = rng.uniform(0, size, (2, n, 1)).astype(F32)
    ax, ay = cx + dist * dx, cy + dist * dy

    # target response: pushed away from the actor, inflating, or appearing
    shift = -np.where(resp == 1, F32(0.25 * size) * w_in, F32(0.0))
    t_radius = r_t * np.where(resp == 2, 1 + F32(0.7) * w_in, F32(1.0))
    t_opacity = np.where(resp == 3, w_in, F32(1.0))
    shape_t = rng.choice([0, 1, 2, 4, 5], n)
    target = ObjectTracks(x=cx + shift * dx, y=cy + shift * dy, radius=t_radius,
                          angle=np.broadcast_to(rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32), (n, frames)),
                          opacity=np.broadcast_to(t_opacity, (n, frames)),
                          **_look(n, rng, shape_t, rng.integers(0, len(cat.TEXTURES), n)))

    a_radius = np.where(after == 1, np.maximum(r_a, F32(1.3) * r_t), r_a)
    look = _look(n, rng, rng.choice([0, 1, 3, 4], n), rng.integers(0, len(cat.TEXTURES), n))
    actor = ObjectTracks(x=ax, y=ay, radius=np.broadcast_to(a_radius, (n, frames)),
                         angle=np.broadcast_to(rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32), (n, frames)),
                         opacity=np.broadcast_to(np.where(no_actor, F32(0.0), F32(1.0)), (n, frames)), **look)
    if reverse.any():
        target, actor = _reverse_obj(target, reverse), _reverse_obj(actor, reverse)
    return target, actor


def _reverse_obj(obj: ObjectTracks, rows: np.ndarray) -> ObjectTracks:
    return obj.reversed_in_time().select(rows, obj)


def render_two_body(class_names: list[str], frames: int, size: int, rng: np.random.Generator):
    """SSv2-like relations between two objects (pretraining) on a table-like scene."""
    n = len(class_names)
    specs = [cat.ALL_CLASSES[c] for c in class_names]
    target, actor = two_body_tracks(specs, frames, size, rng)
    canvas = np.repeat(background(n, size, rng, level=(40.0, 200.0), saturation=0.3), frames, axis=1)
    draw(canvas, target)
    draw(canvas, actor)
    add_grey_noise(canvas, rng, 4.0)
    return to_uint8(canvas), np.concatenate([target.latent(), actor.latent()], axis=-1)


# --------------------------------------------------------------------------- stills
def render_stills(class_names: list[str], frames: int, size: int, rng: np.random.Generator):
    """ImageNet-like stills: one object (shape x texture x colour) on a random scene, repeated over frames."""
    n = len(class_names)
    specs = [cat.IMAGE_CLASSES[c] for c in class_names]
    shape = np.array([_SHAPE_ID[s["shape"]] for s in specs])
    texture = np.array([_TEXTURE_ID[s["texture"]] for s in specs])
    color = np.array([cat.PALETTE[s["color"]] for s in specs], dtype=F32)
    color = np.clip(color + rng.uniform(-25, 25, (n, 3)).astype(F32), 0, 255)
    radius = rng.uniform(0.18, 0.34, (n, 1)).astype(F32) * size
    x, y = (rng.uniform(0, 1, (2, n, 1)).astype(F32) * (size - 2 * radius) + radius)
    obj = ObjectTracks(x=x, y=y, radius=radius, angle=rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32),
                       shape=shape, texture=texture, color=color,
                       color2=np.where(rng.random((n, 1)) < 0.5, color * F32(0.35), random_colors(n, rng)))
    canvas = background(n, size, rng, saturation=0.2)
    draw(canvas, obj)
    add_grey_noise(canvas, rng, 4.0)
    still = to_uint8(canvas)
    latent = np.broadcast_to(obj.latent(), (n, frames, 6))
    return np.repeat(still, frames, axis=1), np.ascontiguousarray(latent)
