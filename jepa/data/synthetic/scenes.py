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
_MOTION_NAMES = list(cat.MOTION_PROGRAMS)
_FAMILY_NAMES = list(cat.OBJECT_FAMILIES)


def action_tracks(motion_ids: np.ndarray, family_ids: np.ndarray, frames: int, size: int,
                  rng: np.random.Generator) -> ObjectTracks:
    """Kinematics of the Kinetics/UCF-like action programmes (one parametric model, per-clip coefficients)."""
    n = len(motion_ids)
    idx = cat.MOTION_FIELD_INDEX
    coef = cat.MOTION_TABLE[motion_ids] * rng.uniform(0.8, 1.2, (n, cat.MOTION_TABLE.shape[1])).astype(F32)
    col = lambda name: coef[:, idx[name], None]  # noqa: E731
    progress_kind = cat.MOTION_TABLE[motion_ids, idx["progress"]].astype(np.int64)
    u = clip_time(frames)
    two_pi = F32(2 * np.pi)
    progress = np.stack([np.broadcast_to(u, (1, frames)), u * u, 1 - (1 - u) ** 2,
                         u - np.sin(2 * two_pi * u) / (2 * two_pi)])[:, 0]          # (4, T)
    along = (progress[progress_kind] - F32(0.5)) * col("travel") * size
    along = along + col("shake") * size * np.sin(two_pi * 3.5 * u)
    lateral = (col("zigzag") * np.arcsin(np.sin(two_pi * 2 * u)) * F32(2 / np.pi)
               + col("wave") * np.sin(two_pi * u) - col("bounce") * np.abs(np.sin(two_pi * u))) * size
    heading = rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32)
    dx, dy = np.cos(heading), np.sin(heading)
    phase = rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32)
    orbit = phase + two_pi * col("turns") * u
    cx, cy = rng.uniform(0, size, (2, n, 1)).astype(F32)
    x = cx + along * dx - lateral * dy + col("circle") * size * np.cos(orbit)
    y = cy + along * dy + lateral * dx + col("circle") * size * np.sin(orbit)
    r0 = rng.uniform(0.1, 0.2, (n, 1)).astype(F32) * size
    radius = r0 * np.exp(col("grow") * (u - F32(0.5))) * (1 + col("pulse") * np.sin(two_pi * 2 * u))
    angle = rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32) + col("spin") * u
    fade = cat.MOTION_TABLE[motion_ids, idx["fade"], None]
    ramp = smoothstep((u - F32(0.2)) / F32(0.4))
    opacity = np.where(fade > 0, ramp, np.where(fade < 0, 1 - ramp, F32(1.0)))
    fam = np.array([cat.OBJECT_FAMILIES[_FAMILY_NAMES[f]] for f in family_ids]).reshape(n, 2)
    shape = np.array([_SHAPE_ID[s] for s in fam[:, 0]])
    texture = np.array([_TEXTURE_ID[t] for t in fam[:, 1]])
    return ObjectTracks(x=x, y=y, radius=radius, angle=np.broadcast_to(angle, (n, frames)), opacity=opacity,
                        **_look(n, rng, shape, texture))


def render_actions(class_names: list[str], frames: int, size: int, rng: np.random.Generator):
    """Kinetics/UCF-like clips: one object acting over a random scene."""
    n = len(class_names)
    motion_ids = np.array([_MOTION_NAMES.index(cat.KINETICS_CLASSES[c]["motion"]) for c in class_names])
    family_ids = np.array([_FAMILY_NAMES.index(cat.KINETICS_CLASSES[c]["family"]) for c in class_names])
    obj = action_tracks(motion_ids, family_ids, frames, size, rng)
    canvas = np.repeat(background(n, size, rng), frames, axis=1)
    draw(canvas, obj)
    add_grey_noise(canvas, rng, 4.0)
    return to_uint8(canvas), obj.latent()


# --------------------------------------------------------------------------- two-body clips
_RESPONSES = ("none", "take", "put", "push", "pull", "turn-cw", "turn-ccw", "shake", "squeeze", "inflate",
              "switch-on", "switch-off", "flip", "appear")
_STYLES = ("reach", "stir", "rub")
_AFTER = ("retreat", "stay", "cover", "pass")
_ACTORS = ("hand", "object", "none")
# Responses defined as the exact time reversal of another.
_REVERSED_RESPONSE = {"put": "take", "switch-off": "switch-on"}


def _reverse_rows(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return np.where(rows[:, None], a[:, ::-1], a)


def two_body_tracks(specs: list[dict], frames: int, size: int, rng: np.random.Generator):
    """An actor (hand, object or nothing) approaches a target object and the target responds.

    Returns (target, actor) ObjectTracks. Phases: approach until contact u_c, interaction
    until u_r, then the actor retreats, stays, covers the target or passes through.
    """
    n = len(specs)
    response = [_REVERSED_RESPONSE.get(s["response"], s["response"]) for s in specs]
    reverse = np.array([s.get("reverse") == "yes" or s["response"] in _REVERSED_RESPONSE for s in specs])
    code = lambda values, table: np.array([table.index(v) for v in values])[:, None]  # noqa: E731
    resp = code(response, _RESPONSES)
    style = code([s["style"] for s in specs], _STYLES)
    after = code([s["after"] for s in specs], _AFTER)
    actor_kind = code([s["actor"] for s in specs], _ACTORS)[:, 0]

    u = clip_time(frames)
    two_pi = F32(2 * np.pi)
    uc = rng.uniform(0.3, 0.4, (n, 1)).astype(F32)
    ur = uc + rng.uniform(0.25, 0.3, (n, 1)).astype(F32)
    w_in = smoothstep((u - uc) / (ur - uc))                  # progress of the interaction
    w_out = smoothstep((u - ur) / (1 - ur))                  # progress of the retreat
    during = ((u >= uc) & (u <= ur)).astype(F32)
    cycle = two_pi * 2 * (u - uc) / (ur - uc)

    heading = rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32)
    dx, dy = np.cos(heading), np.sin(heading)               # from target towards the actor's start
    r_t = rng.uniform(0.12, 0.18, (n, 1)).astype(F32) * size
    is_hand = (actor_kind == 0)[:, None]
    r_a = np.where(is_hand, F32(0.24 * size), rng.uniform(0.1, 0.14, (n, 1)).astype(F32) * size)
    d_far = F32(0.5 * size)
    d_contact = np.where(is_hand, r_t + F32(0.8) * r_a, F32(0.9) * (r_t + r_a))
    d_approach = d_far + (d_contact - d_far) * smoothstep(u / uc)
    dist = np.where(u < uc, d_approach, d_contact)
    dist = np.where((after == 0) & (u > ur), d_contact + (d_far - d_contact) * w_out, dist)
    dist = np.where(after == 2, np.where(u < uc, d_approach, d_contact * (1 - w_in)), dist)
    dist = np.where(after == 3, d_far * (1 - 2 * u), dist)
    wiggle_a = np.where(style == 1, F32(0.08 * size) * np.cos(cycle), F32(0.0)) * during
    wiggle_b = (np.where(style == 1, F32(0.08 * size) * np.sin(cycle), F32(0.0))
                + np.where(style == 2, F32(0.1 * size) * np.sin(cycle), F32(0.0))) * during
    cx, cy = rng.uniform(0, size, (2, n, 1)).astype(F32)
    ax = cx + dist * dx + wiggle_a * dx - wiggle_b * dy
    ay = cy + dist * dy + wiggle_a * dy + wiggle_b * dx

    # target response
    follow = (d_far - d_contact) * w_out
    shift = (np.where(resp == 1, follow, F32(0.0)) + np.where(resp == 4, F32(0.5) * follow, F32(0.0))
             - np.where(resp == 3, F32(0.25 * size) * w_in, F32(0.0)))
    jiggle = np.where(resp == 7, F32(0.06 * size) * np.sin(1.5 * cycle), F32(0.0)) * during
    tx = cx + shift * dx - jiggle * dy
    ty = cy + shift * dy + jiggle * dx
    t_angle = (rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32)
               + np.where(resp == 5, F32(1.6), np.where(resp == 6, F32(-1.6), F32(0.0))) * w_in)
    t_radius = r_t * np.where(resp == 8, 1 - F32(0.45) * w_in, np.where(resp == 9, 1 + F32(0.7) * w_in, F32(1.0)))
    t_gain = np.where(resp == 10, F32(0.45) + F32(0.7) * w_in, F32(1.0))
    t_squash = np.where(resp == 12, np.abs(np.cos(np.pi * w_in)) + F32(0.08), F32(1.0))
    t_opacity = np.where(resp == 13, w_in, F32(1.0))
    shape_t = rng.choice([0, 1, 2, 4, 5], n)
    target = ObjectTracks(x=tx, y=ty, radius=t_radius, angle=t_angle, squash=t_squash, opacity=t_opacity,
                          gain=t_gain, **_look(n, rng, shape_t, rng.integers(0, len(cat.TEXTURES), n)))

    # actor look: a skin-toned bar pointing at the target, an object, or nothing
    a_shape = np.where(is_hand[:, 0], _SHAPE_ID["bar"], rng.choice([0, 1, 3, 4], n))
    look = _look(n, rng, a_shape, np.where(is_hand[:, 0], 0, rng.integers(0, len(cat.TEXTURES), n)))
    skin = _SKIN[rng.integers(0, len(_SKIN), n)]
    look["color"] = np.where(is_hand, skin, look["color"])
    a_angle = np.where(is_hand, heading + F32(np.pi), rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32))
    a_radius = np.where(after == 2, np.maximum(r_a, F32(1.3) * r_t), r_a)
    actor = ObjectTracks(x=ax, y=ay, radius=np.broadcast_to(a_radius, (n, frames)),
                         angle=np.broadcast_to(a_angle, (n, frames)),
                         opacity=np.broadcast_to(np.where(actor_kind[:, None] == 2, F32(0.0), F32(1.0)), (n, frames)),
                         **look)
    if reverse.any():
        target, actor = _reverse_obj(target, reverse), _reverse_obj(actor, reverse)
    return target, actor


def _reverse_obj(obj: ObjectTracks, rows: np.ndarray) -> ObjectTracks:
    return obj.reversed_in_time().select(rows, obj)


def render_two_body(class_names: list[str], frames: int, size: int, rng: np.random.Generator):
    """EPIC-like hand-object verbs and SSv2-like relations on a table-like scene."""
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
