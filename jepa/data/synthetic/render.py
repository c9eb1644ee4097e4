"""Vectorised rendering of simple objects on a torus canvas (numpy only).

Every clip is a background plus a few objects whose pose is given per frame. Rendering
is vectorised over (clip, frame, row, column); the only Python loops run over object
slots and over the handful of shape and texture kinds.

The canvas is a torus: an object that leaves one edge re-enters at the opposite edge.
With positions drawn uniformly on the torus, every pixel and every frame has the same
distribution, whatever the class: this is what keeps the per-frame position shortcuts
(a toward/away task leaked its label through pixel position: docs/method.md,
"Synthetic analogues") out of the evaluation analogues.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jepa.data.synthetic.catalogue import SHAPES, TEXTURES

F32 = np.float32


@dataclass
class ObjectTracks:
    """One object slot for a batch of clips: per-frame pose, per-clip look.

    Positions and radii are in pixels of the canvas being drawn; angles in radians.
    """

    x: np.ndarray          # (N, T) centre column
    y: np.ndarray          # (N, T) centre row
    radius: np.ndarray     # (N, T) outer radius
    angle: np.ndarray      # (N, T) orientation
    shape: np.ndarray      # (N,) index into SHAPES
    texture: np.ndarray    # (N,) index into TEXTURES
    color: np.ndarray      # (N, 3) main colour, 0-255
    color2: np.ndarray     # (N, 3) texture colour, 0-255
    squash: np.ndarray | None = None    # (N, T) width / height (flip, hand elongation); 1 if None
    opacity: np.ndarray | None = None   # (N, T) 0..1 (appear, disappear); 1 if None
    gain: np.ndarray | None = None      # (N, T) colour multiplier (switch on/off); 1 if None

    def latent(self) -> np.ndarray:
        """(N, T, 6) per-frame pose: x, y, radius, angle, opacity, gain."""
        ones = np.ones_like(self.x)
        cols = [self.x, self.y, self.radius, self.angle,
                ones if self.opacity is None else self.opacity, ones if self.gain is None else self.gain]
        return np.stack(cols, axis=-1).astype(F32)

    def reversed_in_time(self) -> "ObjectTracks":
        """The same object played backwards (exact time reversal of every per-frame quantity)."""
        flip = lambda a: None if a is None else np.ascontiguousarray(a[:, ::-1])  # noqa: E731
        return ObjectTracks(flip(self.x), flip(self.y), flip(self.radius), flip(self.angle), self.shape,
                            self.texture, self.color, self.color2, flip(self.squash), flip(self.opacity),
                            flip(self.gain))

    def select(self, mask: np.ndarray, other: "ObjectTracks") -> "ObjectTracks":
        """Per clip: this object where mask is True, else `other`."""
        def pick(a, b, fill):
            if a is None and b is None:
                return None
            a = np.full_like(self.x, fill) if a is None else a
            b = np.full_like(self.x, fill) if b is None else b
            m = mask.reshape((-1,) + (1,) * (a.ndim - 1))
            return np.where(m, a, b)
        return ObjectTracks(*(pick(getattr(self, f), getattr(other, f), 1.0) for f in
                              ("x", "y", "radius", "angle", "shape", "texture", "color", "color2", "squash",
                               "opacity", "gain")))


# --- shape fields: f(u, v) <= 1 inside, roughly distance / radius so edges can be anti-aliased ----------

def _disc(u, v):
    return np.sqrt(u * u + v * v)


def _square(u, v):
    return np.maximum(np.abs(u), np.abs(v)) * F32(1 / 0.75)


_TRI_N = np.array([[0.0, -1.0], [0.866, 0.5], [-0.866, 0.5]], dtype=F32)


def _triangle(u, v):  # equilateral, circumradius 1: rotation by less than 60 degrees is visible
    return np.maximum(np.maximum(u * _TRI_N[0, 0] + v * _TRI_N[0, 1], u * _TRI_N[1, 0] + v * _TRI_N[1, 1]),
                      u * _TRI_N[2, 0] + v * _TRI_N[2, 1]) * F32(2.0)


def _cross(u, v):
    au, av = np.abs(u), np.abs(v)
    return np.minimum(np.maximum(au, av * F32(1 / 0.33)), np.maximum(au * F32(1 / 0.33), av))


def _diamond(u, v):
    return np.abs(u) + np.abs(v)


def _ring(u, v):
    return np.abs(np.sqrt(u * u + v * v) - F32(0.68)) * F32(1 / 0.32)


def _bar(u, v):  # elongated along u: the "hand/arm" of the EPIC-like clips
    return np.maximum(np.abs(u), np.abs(v) * F32(1 / 0.42))


SHAPE_FIELDS = {"disc": _disc, "square": _square, "triangle": _triangle, "cross": _cross,
                "diamond": _diamond, "ring": _ring, "bar": _bar}
assert tuple(SHAPE_FIELDS) == SHAPES


def _texture(kind: str, u, v):
    """0/1 pattern in object coordinates, so it moves and turns with the object."""
    if kind == "solid":
        return None
    if kind == "stripes":
        return (np.sin(u * F32(7.0)) > 0).astype(F32)
    if kind == "checker":
        return (np.sin(u * F32(5.5)) * np.sin(v * F32(5.5)) > 0).astype(F32)
    if kind == "rings":
        return (np.sin(np.sqrt(u * u + v * v) * F32(9.0)) > 0).astype(F32)
    raise KeyError(kind)


def draw(canvas: np.ndarray, obj: ObjectTracks) -> None:
    """Alpha-composite one object slot onto canvas (N, T, H, W, 3) float32, in place."""
    n, t, h, w, _ = canvas.shape
    gx = np.arange(w, dtype=F32) + F32(0.5)
    gy = np.arange(h, dtype=F32) + F32(0.5)
    dx = (gx - obj.x[..., None].astype(F32) + F32(w / 2)) % F32(w) - F32(w / 2)   # (N, T, W) torus offsets
    dy = (gy - obj.y[..., None].astype(F32) + F32(h / 2)) % F32(h) - F32(h / 2)   # (N, T, H)
    cos = np.cos(obj.angle).astype(F32)[..., None, None]
    sin = np.sin(obj.angle).astype(F32)[..., None, None]
    radius = np.maximum(obj.radius.astype(F32), F32(0.5))[..., None, None]
    squash = F32(1.0) if obj.squash is None else np.maximum(obj.squash.astype(F32), F32(0.05))[..., None, None]
    dxw, dyh = dx[:, :, None, :], dy[:, :, :, None]
    u = (dxw * cos + dyh * sin) / (radius * squash)
    v = (dyh * cos - dxw * sin) / radius
    field = np.empty((n, t, h, w), dtype=F32)
    for shape_id in np.unique(obj.shape):
        rows = np.nonzero(obj.shape == shape_id)[0]
        field[rows] = SHAPE_FIELDS[SHAPES[shape_id]](u[rows], v[rows])
    # (1 - f) * radius is about the signed distance to the edge in pixels: a 1-pixel soft edge.
    alpha = np.clip((F32(1.0) - field) * radius * np.minimum(squash, F32(1.0)) + F32(0.5), 0.0, 1.0)
    if obj.opacity is not None:
        alpha *= obj.opacity.astype(F32)[..., None, None]
    color = np.broadcast_to(obj.color.astype(F32)[:, None, None, None, :], (n, t, h, w, 3))
    pattern = np.zeros((n, t, h, w), dtype=F32)
    textured = False
    for tex_id in np.unique(obj.texture):
        rows = np.nonzero(obj.texture == tex_id)[0]
        p = _texture(TEXTURES[tex_id], u[rows], v[rows])
        if p is not None:
            pattern[rows] = p
            textured = True
    if textured:
        c1 = obj.color.astype(F32)[:, None, None, None, :]
        c2 = obj.color2.astype(F32)[:, None, None, None, :]
        color = c1 + pattern[..., None] * (c2 - c1)
    if obj.gain is not None:
        color = color * obj.gain.astype(F32)[..., None, None, None]
    canvas += alpha[..., None] * (color - canvas)


def background(n: int, size: int, rng: np.random.Generator, level=(20.0, 220.0), saturation: float = 0.25,
               gradient: float = 40.0, pattern: float = 15.0) -> np.ndarray:
    """Static random backgrounds (N, 1, H, W, 3) float32: a tinted base level, a linear gradient
    in a random direction and a faint low-frequency pattern (the nuisance 'scenes')."""
    base = rng.uniform(*level, size=(n, 1)).astype(F32)
    tint = rng.uniform(-1.0, 1.0, size=(n, 3)).astype(F32) * F32(saturation) * base
    color = np.clip(base + tint, 0, 255)
    g = np.arange(size, dtype=F32) / F32(size) - F32(0.5)
    theta = rng.uniform(0, 2 * np.pi, size=n).astype(F32)
    amp = rng.uniform(-gradient, gradient, size=n).astype(F32)
    ramp = (np.cos(theta)[:, None, None] * g[None, None, :] + np.sin(theta)[:, None, None] * g[None, :, None])
    field = ramp * amp[:, None, None]
    if pattern > 0:
        fx, fy = rng.integers(1, 4, size=(2, n)).astype(F32) * F32(2 * np.pi)
        ph = rng.uniform(0, 2 * np.pi, size=(2, n)).astype(F32)
        field = field + F32(pattern) * rng.uniform(0, 1, size=n).astype(F32)[:, None, None] * (
            np.sin(fx[:, None, None] * g[None, None, :] + ph[0][:, None, None])
            * np.sin(fy[:, None, None] * g[None, :, None] + ph[1][:, None, None]))
    return (color[:, None, None, :] + field[..., None])[:, None].astype(F32)


def add_grey_noise(canvas: np.ndarray, rng: np.random.Generator, std: float) -> None:
    """Per-frame grey sensor noise (same value on the three channels), in place."""
    if std > 0:
        n, t, h, w, _ = canvas.shape
        canvas += rng.standard_normal((n, t, h, w, 1), dtype=F32) * F32(std)


def to_uint8(canvas: np.ndarray) -> np.ndarray:
    return np.clip(canvas + F32(0.5), 0, 255).astype(np.uint8)


def area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) weights of exact area averaging (box filter) from n_in to n_out pixels."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    lo, hi = edges[:-1, None], edges[1:, None]
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0.0, None)
    return (overlap / (hi - lo)).astype(F32)


def area_resize(frames: np.ndarray, size: int) -> np.ndarray:
    """Area-average (N, T, H, W, C) float frames to (N, T, size, size, C)."""
    h, w = frames.shape[2:4]
    if (h, w) == (size, size):
        return frames
    ah, aw = area_matrix(h, size), area_matrix(w, size)
    x = np.tensordot(frames, ah, axes=([2], [1]))     # (N, T, W, C, size): rows averaged
    x = np.tensordot(x, aw, axes=([2], [1]))          # (N, T, C, size, size): columns averaged
    return np.ascontiguousarray(np.moveaxis(x, 2, -1))
