"""Evaluation analogues of the paper's benchmarks (docs/method.md, "Synthetic analogues").

Each analogue isolates one capability and is built so the obvious shortcuts carry no
label information *by construction*, not just empirically:

- Positions (and orientations) are uniform on a torus canvas, so every pixel of every
  frame has the same distribution in every class: a linear readout of pixels, of
  per-frame brightness or of position is blind (its class-conditional mean is the same).
- "temporal" pairs each clip with its exact time reversal, with uniform positions and
  headings, so single frames (at any index) and the bag of frames have the same
  distribution in both classes; only the order of frames carries the label.

`latents` holds the generator's own per-frame variables (N, T, D); `oracle_features`
turns them into the features of the oracle probe used to show each task is solvable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zlib import crc32

import numpy as np

from jepa.data.synthetic import catalogue as cat
from jepa.data.synthetic.render import (F32, ObjectTracks, add_grey_noise, area_resize, background, draw,
                                        to_uint8)

EVAL_TASKS = ("appearance", "motion", "temporal", "synthetic_motion")


@dataclass
class ClipSet:
    """A labelled set of clips with the generator's latent variables."""

    videos: np.ndarray        # uint8 (N, T, H, W, 3)
    labels: np.ndarray        # int64 (N,)
    class_names: list[str]
    task: str
    latents: np.ndarray       # float32 (N, T, D): per-frame generator variables that determine the class

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx) -> "ClipSet":
        """The clips at `idx` (a slice or index array), with their labels and latents."""
        return ClipSet(videos=self.videos[idx], labels=self.labels[idx], class_names=self.class_names,
                       task=self.task, latents=self.latents[idx])

    def save(self, path) -> None:
        """Write an .npz atomically (jepa.io.atomic_write)."""
        from jepa.io import atomic_write

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, videos=self.videos, labels=self.labels, class_names=np.array(self.class_names),
                         task=np.array(self.task), latents=self.latents)

        atomic_write(path, write)

    @classmethod
    def load(cls, path) -> "ClipSet":
        with np.load(path, allow_pickle=False) as z:
            return cls(videos=z["videos"], labels=z["labels"].astype(np.int64),
                       class_names=[str(c) for c in z["class_names"]], task=str(z["task"]),
                       latents=z["latents"].astype(F32))


def oracle_features(latents: np.ndarray) -> np.ndarray:
    """Features of the oracle probe: the ordered per-frame latents plus the sign of each
    frame-to-frame change (a fixed nonlinearity: speeding up vs slowing down is invisible to
    any linear function of a stationary trajectory, but not to the signs of its changes)."""
    n = len(latents)
    change = np.sign(np.diff(latents, axis=1)) if latents.shape[1] > 1 else latents[:, :0]
    return np.concatenate([latents.reshape(n, -1), change.reshape(n, -1)], axis=1).astype(F32)


def task_rng(task: str, seed: int) -> np.random.Generator:
    return np.random.default_rng([seed, crc32(task.encode())])


def _balanced_labels(n: int, k: int) -> np.ndarray:
    return (np.arange(n) % k).astype(np.int64)


# --------------------------------------------------------------------------- appearance
APPEARANCE_SHAPES = ("disc", "square", "triangle", "cross")
APPEARANCE_TEXTURES = ("solid", "stripes")
APPEARANCE_COLORS = ("red", "green", "blue")


def _appearance(n: int, rng, frames: int, size: int) -> ClipSet:
    """ImageNet-100 analogue: a still (repeated over frames); class = shape x texture x colour.

    Nuisances: position, scale, orientation, background level/tint/gradient/pattern, colour
    jitter. Objects stay fully inside the frame; there is no motion at all.
    """
    combos = [(s, t, c) for s in APPEARANCE_SHAPES for t in APPEARANCE_TEXTURES for c in APPEARANCE_COLORS]
    labels = _balanced_labels(n, len(combos))
    shape = np.array([cat.SHAPES.index(combos[k][0]) for k in labels])
    texture = np.array([cat.TEXTURES.index(combos[k][1]) for k in labels])
    color = np.array([cat.PALETTE[combos[k][2]] for k in labels], dtype=F32)
    color = np.clip(color + rng.uniform(-30, 30, (n, 3)).astype(F32), 0, 255)
    radius = rng.uniform(0.2, 0.34, (n, 1)).astype(F32) * size
    x, y = rng.uniform(0, 1, (2, n, 1)).astype(F32) * (size - 2 * radius) + radius
    angle = rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32)
    obj = ObjectTracks(x=x, y=y, radius=radius, angle=angle, shape=shape, texture=texture, color=color,
                       color2=color * F32(0.3))
    canvas = background(n, size, rng, level=(25.0, 230.0), saturation=0.15)
    draw(canvas, obj)
    add_grey_noise(canvas, rng, 5.0)
    videos = np.repeat(to_uint8(canvas), frames, axis=1)
    onehot = lambda ids, k: np.eye(k, dtype=F32)[ids]  # noqa: E731
    per_clip = np.concatenate([
        onehot(shape_index(shape), len(APPEARANCE_SHAPES)), onehot(texture_index(texture), 2), color / 255,
        x / size, y / size, radius / size, np.cos(angle), np.sin(angle),
        canvas.mean(axis=(1, 2, 3)) / 255], axis=1).astype(F32)
    latents = np.repeat(per_clip[:, None], frames, axis=1)
    names = [f"{t}-{c}-{s}" for s, t, c in combos]
    return ClipSet(videos, labels, names, "appearance", latents)


def shape_index(shape_ids: np.ndarray) -> np.ndarray:
    return np.array([APPEARANCE_SHAPES.index(cat.SHAPES[i]) for i in shape_ids])


def texture_index(texture_ids: np.ndarray) -> np.ndarray:
    return np.array([APPEARANCE_TEXTURES.index(cat.TEXTURES[i]) for i in texture_ids])


# --------------------------------------------------------------------------- motion
MOTION_HEADINGS = {"E": (1.0, 0.0), "N": (0.0, -1.0), "W": (-1.0, 0.0), "S": (0.0, 1.0)}  # rows grow downwards
MOTION_CLASSES = [(h, turn, spin) for h in MOTION_HEADINGS for turn in ("left", "right") for spin in ("cw", "ccw")]


def _motion(n: int, rng, frames: int, size: int) -> ClipSet:
    """Diving-48 analogue: one identical-looking object (a striped white triangle);
    class = heading of the first half x turn (left/right) at mid-clip x spin sense (16 classes).

    Start position and orientation are uniform on the torus, so any single frame (and the
    per-pixel mean of the clip) is the same in every class: only motion tells them apart.
    """
    labels = _balanced_labels(n, len(MOTION_CLASSES))
    heading = np.array([MOTION_HEADINGS[MOTION_CLASSES[k][0]] for k in labels], dtype=F32)       # (N, 2)
    right = np.array([MOTION_CLASSES[k][1] == "right" for k in labels])
    spin = np.array([1.0 if MOTION_CLASSES[k][2] == "cw" else -1.0 for k in labels], dtype=F32)  # cw on screen
    # right turn on screen (y down): (x, y) -> (-y, x); left: (y, -x)
    second = np.where(right[:, None], np.stack([-heading[:, 1], heading[:, 0]], 1),
                      np.stack([heading[:, 1], -heading[:, 0]], 1))
    steps = frames - 1
    half = frames // 2
    speed = F32(0.045 * size) * rng.uniform(0.85, 1.15, (n, 1)).astype(F32)
    step_dir = np.where((np.arange(steps) < half)[None, :, None], heading[:, None],
                        second[:, None])                                                  # (N, steps, 2)
    disp = np.concatenate([np.zeros((n, 1, 2), F32), np.cumsum(step_dir * speed[..., None], axis=1)], axis=1)
    start = rng.uniform(0, size, (n, 1, 2)).astype(F32)
    pos = start + disp
    omega = F32(0.28) * rng.uniform(0.85, 1.15, (n, 1)).astype(F32) * spin[:, None]
    angle = rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32) + omega * np.arange(frames, dtype=F32)
    look = dict(shape=np.full(n, cat.SHAPES.index("triangle")), texture=np.full(n, cat.TEXTURES.index("stripes")),
                color=np.full((n, 3), 235, F32), color2=np.full((n, 3), 150, F32))
    obj = ObjectTracks(x=pos[..., 0], y=pos[..., 1], radius=np.full((n, frames), 0.2 * size, F32),
                       angle=angle, **look)
    canvas = np.repeat(background(n, size, rng, level=(10.0, 120.0), saturation=0.2, pattern=10.0), frames, axis=1)
    draw(canvas, obj)
    add_grey_noise(canvas, rng, 5.0)
    latents = np.stack([pos[..., 0] / size, pos[..., 1] / size, angle], axis=-1).astype(F32)
    names = [f"{h}-then-{turn}-spin-{s}" for h, turn, s in MOTION_CLASSES]
    return ClipSet(to_uint8(canvas), labels, names, "motion", latents)


# --------------------------------------------------------------------------- temporal
TEMPORAL_CLASSES = ["head-first", "tail-first"]


def _torus_distance(grid: np.ndarray, cx: np.ndarray, cy: np.ndarray, size: int) -> np.ndarray:
    """(N, T, H, W) distance from every pixel centre to the point (cx, cy) (N, T) on the wrapped canvas."""
    dx = (grid - cx[..., None] + size / 2) % size - size / 2
    dy = (grid - cy[..., None] + size / 2) % size - size / 2
    return np.sqrt(dx[:, :, None, :] ** 2 + dy[:, :, :, None] ** 2)


def _temporal(n: int, rng, frames: int, size: int, labels: np.ndarray | None = None, comets: int = 2) -> ClipSet:
    """SSv2 analogue, isolating the arrow of time: comets moving head-first vs the same clips played
    backwards (tail-first), 2 classes.

    A comet is a bright head (radius 2.6 px at 32 px) trailed by three fading, shrinking discs 2.4 px
    apart, moving straight at about 2 px/frame in a uniform random heading from a uniform random
    start on the wrapped canvas; two per clip, brighter than a dark-to-mid background.
    Why this design (docs/method.md, "Synthetic analogues", lists what failed before):
    - Class 1 clips are class-0 clips played backwards (the sensor noise is drawn after the
      reversal), so the bag of frames is identical in distribution: a frame-shuffled or
      single-frame model is at chance, exactly.
    - Positions and headings are uniform on the torus, so a frame at any FIXED index has the same
      distribution in both classes, and every pixel's class-conditional mean is equal: a linear
      probe on raw pixels of the whole clip is blind.
    - The cue is one comparison a tubelet can make: whether the head leads or trails the motion.
      Earlier designs whose cue was a change of speed inside a 3-5 frame sawtooth (a third-order
      statistic, partly inside one tubelet) were not learned by the tiny ViT even with labels.
    Binary because the order-blind floor is exact only then.
    """
    labels = _balanced_labels(n, 2) if labels is None else np.asarray(labels, np.int64)
    scale = F32(size / 32)
    canvas = np.repeat(background(n, size, rng, level=(20.0, 120.0), saturation=0.1, gradient=25.0), frames, axis=1)
    grid, t = np.arange(size, dtype=F32) + F32(0.5), np.arange(frames, dtype=F32)[None]
    head, gap, tail = F32(2.6) * scale, F32(2.4) * scale, (0.75, 0.5, 0.3)
    parts = [(1.0, head)] + [(opacity, head * F32(0.85 - 0.15 * i)) for i, opacity in enumerate(tail)]
    latents = []
    for _ in range(comets):
        heading = rng.uniform(0, 2 * np.pi, (n, 1)).astype(F32)
        hx, hy = np.cos(heading), np.sin(heading)
        travel = F32(2.0) * scale * rng.uniform(0.8, 1.2, (n, 1)).astype(F32) * t      # (N, T) along the heading
        x0, y0 = rng.uniform(0, size, (2, n, 1)).astype(F32)
        contrast = rng.uniform(70, 110, (n, 1)).astype(F32)
        for j, (opacity, radius) in enumerate(parts):
            cx, cy = x0 + (travel - gap * j) * hx, y0 + (travel - gap * j) * hy
            disc = np.clip(radius - _torus_distance(grid, cx, cy, size) + 0.5, 0, 1)
            canvas += (disc * (F32(opacity) * contrast)[..., None, None])[..., None]
        along = ((x0 * hx + y0 * hy + travel) % size) / size                              # position along the heading
        latents.append(np.stack([np.broadcast_to(hx, (n, frames)), np.broadcast_to(hy, (n, frames)), along,
                                 ((x0 + travel * hx) % size) / size, ((y0 + travel * hy) % size) / size], -1))
    backwards = labels == 1
    canvas = np.where(backwards[:, None, None, None, None], canvas[:, ::-1], canvas)
    add_grey_noise(canvas, rng, 6.0)
    latents = np.concatenate(latents, -1)
    latents = np.where(backwards[:, None, None], latents[:, ::-1], latents)
    return ClipSet(to_uint8(canvas), labels, list(TEMPORAL_CLASSES), "temporal", latents.astype(F32))


# --------------------------------------------------------------------------- synthetic motion (paper Table 4)
SYNTHETIC_MOTION_DIRECTIONS = {"N": (0, -4), "NE": (3, -3), "E": (4, 0), "SE": (3, 3),
                               "S": (0, 4), "SW": (-3, 3), "W": (-4, 0), "NW": (-3, -3)}
NATIVE_SIZE = 160
NATIVE_FRAMES = 32


def _synthetic_motion(n: int, rng, frames: int, size: int, chunk: int = 16) -> ClipSet:
    """The paper's Synthetic Motion Discrimination task (docs/method.md, "Evaluation protocol"), exactly:
    8 directions (pixels/frame at 160 px), label = i mod 8; a disc of random colour (each
    channel 120-255) and integer radius 10..40 (= min(h, w) / 4) on a dark background (each
    channel 0-80), plus per-frame grey noise (uniform integer 0-30 per pixel, the same on the
    three channels, added to the whole frame and clipped at 255).

    Rendered at the native 160 x 160; only the first `frames` of the 32-frame clip are
    rendered (the paper probes the first 8), then area-averaged down to `size`.
    Leaving the frame: the canvas WRAPS (torus) and the start position is uniform, so the
    disc is always fully present (possibly split across an edge) and its position in any
    single frame carries no information about the direction.
    """
    if frames > NATIVE_FRAMES or size > NATIVE_SIZE:
        raise ValueError(f"synthetic_motion is {NATIVE_FRAMES} frames at {NATIVE_SIZE} px; "
                         f"got frames={frames}, size={size}")
    labels = _balanced_labels(n, 8)
    velocity = np.array(list(SYNTHETIC_MOTION_DIRECTIONS.values()), dtype=F32)[labels]      # (N, 2)
    radius = rng.integers(10, NATIVE_SIZE // 4 + 1, n).astype(F32)
    disc = rng.integers(120, 256, (n, 3)).astype(np.int16)
    back = rng.integers(0, 81, (n, 3)).astype(np.int16)
    start = rng.uniform(0, NATIVE_SIZE, (n, 2)).astype(F32)
    t = np.arange(frames, dtype=F32)
    centre = start[:, None, :] + velocity[:, None, :] * t[None, :, None]                  # (N, T, 2), unwrapped
    grid = np.arange(NATIVE_SIZE, dtype=F32) + F32(0.5)
    half = F32(NATIVE_SIZE / 2)
    videos = np.empty((n, frames, size, size, 3), np.uint8)
    for lo in range(0, n, chunk):
        sl = slice(lo, min(lo + chunk, n))
        dx = (grid - centre[sl, :, 0, None] + half) % F32(NATIVE_SIZE) - half               # (c, T, W)
        dy = (grid - centre[sl, :, 1, None] + half) % F32(NATIVE_SIZE) - half               # (c, T, H)
        inside = (dx[:, :, None, :] ** 2 + dy[:, :, :, None] ** 2) <= (radius[sl, None, None, None] ** 2)
        frame = np.where(inside[..., None], disc[sl, None, None, None, :], back[sl, None, None, None, :])
        frame += rng.integers(0, 31, inside.shape + (1,), dtype=np.uint8)
        np.minimum(frame, 255, out=frame)
        if size == NATIVE_SIZE:
            videos[sl] = frame.astype(np.uint8)
        else:
            videos[sl] = to_uint8(area_resize(frame.astype(F32), size))
    latents = np.concatenate([centre, np.broadcast_to(radius[:, None, None], (n, frames, 1))], axis=-1)
    return ClipSet(videos, labels, list(SYNTHETIC_MOTION_DIRECTIONS), "synthetic_motion", latents.astype(F32))


_BUILDERS = {"appearance": _appearance, "motion": _motion, "temporal": _temporal,
             "synthetic_motion": _synthetic_motion}
assert tuple(_BUILDERS) == EVAL_TASKS


def make_eval_set(task: str, n: int, seed: int, frames: int = 8, size: int = 32) -> ClipSet:
    """n labelled clips of one analogue; labels are i mod n_classes (balanced), all from `seed`."""
    if task not in _BUILDERS:
        raise KeyError(f"unknown task {task!r}; expected one of {EVAL_TASKS}")
    return _BUILDERS[task](n, task_rng(task, seed), frames, size)
