"""Video decoding behind one small interface, plus frame-index sampling.

Two backends read the same files: PyAV (the portable default; its wheels bundle FFmpeg on
every platform) and decord (what V-JEPA uses; Linux x86_64 only, unmaintained since 2022,
kept for parity checks). Both return uint8 RGB arrays shaped T x H x W x C, so the rest of
the code never sees a backend. Images (jpg/png/JPEG) are clips of one repeated frame,
which is how the paper feeds ImageNet-100 to a video encoder.

Frame indices are 0-based positions in presentation order. A video's frame i is the frame
shown at time i / fps (constant frame rate assumed, as in all datasets used here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

Backend = Literal["pyav", "decord"]
BACKENDS: tuple[str, ...] = ("pyav", "decord")
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})

# Decoding forward is cheaper than seeking only over short gaps; beyond this many frames
# the PyAV reader seeks to the keyframe before the next wanted frame instead.
_SEEK_GAP_FRAMES = 120


class VideoDecodeError(RuntimeError):
    """A file could not be decoded (missing, corrupt, truncated, or frames out of range)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class VideoInfo:
    """What samplers need to know about a file. Images have num_frames=1 and fps=0."""

    num_frames: int
    fps: float
    height: int
    width: int

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps if self.fps > 0 else 0.0


def is_image(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


# ----------------------------------------------------------------------------- metadata


def video_info(path: str | Path, backend: Backend = "pyav") -> VideoInfo:
    """Frame count, frame rate and size of a video (or image) file."""
    path = Path(path)
    _check_backend(backend)
    if not path.is_file():
        raise VideoDecodeError(path, "file not found")
    try:
        if is_image(path):
            height, width, _ = _read_image(path).shape
            return VideoInfo(num_frames=1, fps=0.0, height=height, width=width)
        if backend == "decord":
            return _info_decord(path)
        return _info_pyav(path)
    except VideoDecodeError:
        raise
    except Exception as error:  # decoders raise many unrelated types for bad files
        raise VideoDecodeError(path, f"cannot read metadata ({type(error).__name__}: {error})") from error


def _info_pyav(path: Path) -> VideoInfo:
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise VideoDecodeError(path, "no video stream")
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        if fps <= 0:
            raise VideoDecodeError(path, "unknown frame rate")
        num_frames = stream.frames
        if num_frames <= 0:
            # WebM (SSv2) has no frame count in its header: count packets, which demuxes
            # without decoding and is exact for constant-rate video.
            num_frames = sum(1 for packet in container.demux(stream) if packet.size > 0)
        return VideoInfo(num_frames, fps, stream.codec_context.height, stream.codec_context.width)


def _info_decord(path: Path) -> VideoInfo:
    reader = _decord_reader(path)
    height, width, _ = reader[0].shape
    info = VideoInfo(len(reader), float(reader.get_avg_fps()), height, width)
    reader.seek(0)
    return info


# ----------------------------------------------------------------------------- decoding


def read_clip(path: str | Path, indices: Sequence[int] | np.ndarray, backend: Backend = "pyav") -> np.ndarray:
    """Decode the frames at `indices` (any order, repeats allowed) as uint8 T x H x W x 3 RGB.

    An image path returns len(indices) copies of the image. Raises VideoDecodeError when
    the file is missing or unreadable or a requested frame does not exist.
    """
    path = Path(path)
    _check_backend(backend)
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    if len(indices) == 0:
        raise ValueError("read_clip needs at least one frame index")
    if not path.is_file():
        raise VideoDecodeError(path, "file not found")
    if is_image(path):
        image = _read_image(path)
        return np.repeat(image[None], len(indices), axis=0)
    if indices.min() < 0:
        raise VideoDecodeError(path, f"negative frame index {int(indices.min())}")
    try:
        if backend == "decord":
            return _read_decord(path, indices)
        return _read_pyav(path, indices)
    except VideoDecodeError:
        raise
    except Exception as error:
        raise VideoDecodeError(path, f"decoding failed ({type(error).__name__}: {error})") from error


def _read_image(path: Path) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except Exception as error:
        raise VideoDecodeError(path, f"cannot read image ({type(error).__name__}: {error})") from error


def _read_pyav(path: Path, indices: np.ndarray) -> np.ndarray:
    """Seek to the keyframe before each run of wanted frames and decode forward.

    Frame identity comes from the presentation timestamp, not from a decode counter, so
    seeking never shifts which frame is returned.
    """
    import av

    wanted = sorted(set(indices.tolist()))
    decoded: dict[int, np.ndarray] = {}
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise VideoDecodeError(path, "no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        if fps <= 0:
            raise VideoDecodeError(path, "unknown frame rate")
        time_base = stream.time_base or Fraction(1, 1)
        start_pts = stream.start_time or 0

        def seek_to(frame_index: int) -> None:
            target = start_pts + int(frame_index / fps / time_base)
            container.seek(target, stream=stream, backward=True, any_frame=False)

        position = 0  # next entry of `wanted` to find
        linear = False  # set after a seek overshoots: decode from the start without seeking
        while position < len(wanted):
            if not linear and wanted[position] > 0:
                seek_to(wanted[position])
            restart = False
            previous = -1
            for frame in container.decode(stream):
                if frame.pts is None:
                    current = previous + 1
                else:
                    current = round(float((frame.pts - start_pts) * time_base) * fps)
                previous = current
                if current > wanted[position]:
                    if linear:
                        break  # the frame does not exist in the stream
                    linear, restart = True, True
                    container.seek(start_pts, stream=stream, backward=True, any_frame=False)
                    break
                if current == wanted[position]:
                    decoded[current] = frame.to_ndarray(format="rgb24")
                    position += 1
                    if position == len(wanted):
                        break
                    if not linear and wanted[position] - current > _SEEK_GAP_FRAMES:
                        restart = True
                        break
            if not restart:
                break
    missing = [i for i in wanted if i not in decoded]
    if missing:
        raise VideoDecodeError(path, f"frames {missing[:8]} not found (stream ends early or is truncated)")
    return np.stack([decoded[i] for i in indices.tolist()])


def _decord_reader(path: Path):
    try:
        import decord
    except ImportError as error:  # only Linux x86_64 / Windows wheels exist
        raise RuntimeError("backend='decord' needs the decord package (pip install decord)") from error
    return decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=1)


def _read_decord(path: Path, indices: np.ndarray) -> np.ndarray:
    reader = _decord_reader(path)
    if indices.max() >= len(reader):
        raise VideoDecodeError(path, f"frame {int(indices.max())} requested but the video has {len(reader)} frames")
    frames = reader.get_batch(indices.tolist()).asnumpy()
    reader.seek(0)  # releases decord's internal buffers (a known decord leak, github.com/dmlc/decord/issues/197)
    return frames


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown video backend {backend!r}; expected one of {BACKENDS}")


# ----------------------------------------------------------------------------- sampling


def segment_frames(
    num_frames: int,
    fps: float,
    start: float | None = None,
    end: float | None = None,
    unit: Literal["frame", "sec"] = "frame",
) -> tuple[int, int]:
    """Half-open frame range [first, stop) of an annotated segment, clipped to the video.

    start/end are 0-based frames (end exclusive) or seconds; None or NaN means the video's
    own start or end. A segment that lies wholly outside the video is an annotation/video
    mismatch and raises ValueError rather than silently training on the wrong frames.
    """
    if unit not in ("frame", "sec"):
        raise ValueError(f"segment unit must be 'frame' or 'sec', got {unit!r}")
    if num_frames <= 0:
        raise ValueError("video has no frames")
    scale = fps if unit == "sec" else 1.0
    if unit == "sec" and fps <= 0:
        raise ValueError("a segment in seconds needs the video's fps")
    first = 0 if _missing(start) else int(math.floor(float(start) * scale + 1e-6))
    stop = num_frames if _missing(end) else int(math.ceil(float(end) * scale - 1e-6))
    if first >= num_frames or stop <= 0:
        raise ValueError(f"segment [{start}, {end}) {unit} lies outside the video's {num_frames} frames")
    first, stop = max(first, 0), min(stop, num_frames)
    return first, max(stop, first + 1)


def stride_indices(
    first: int, stop: int, num: int, stride: float, rng: np.random.Generator | None = None
) -> np.ndarray:
    """`num` frames `stride` apart inside [first, stop): random start if rng is given, else centred.

    A fractional stride is allowed (this is how fps-based sampling works). Segments shorter
    than the clip repeat their last frame, as V-JEPA's loader does.
    """
    if num <= 0 or stride <= 0:
        raise ValueError(f"need num > 0 and stride > 0, got num={num}, stride={stride}")
    relative = np.round(np.arange(num) * float(stride)).astype(np.int64)
    free = (stop - first) - (int(relative[-1]) + 1)
    if free <= 0:
        offset = 0
    elif rng is not None:
        offset = int(rng.integers(0, free + 1))
    else:
        offset = free // 2
    return np.minimum(first + offset + relative, stop - 1)


def fps_indices(
    first: int,
    stop: int,
    num: int,
    video_fps: float,
    target_fps: float,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """`num` frames at `target_fps` (the paper's single regime: 16 fps), whatever the file's rate."""
    if video_fps <= 0 or target_fps <= 0:
        raise ValueError(f"need positive frame rates, got video {video_fps}, target {target_fps}")
    return stride_indices(first, stop, num, video_fps / target_fps, rng)


def uniform_indices(first: int, stop: int, num: int) -> np.ndarray:
    """`num` frames spread over [first, stop): the centre of each of `num` equal parts.

    This is the evaluation protocol ("16 frames uniformly over the video"); it is
    deterministic and repeats frames when the segment is shorter than the clip.
    """
    if num <= 0 or stop <= first:
        raise ValueError(f"need num > 0 and a non-empty segment, got num={num}, [{first}, {stop})")
    length = stop - first
    return first + np.floor((np.arange(num) + 0.5) * length / num).astype(np.int64)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# ----------------------------------------------------------------------------- writing


def write_video(
    path: str | Path,
    frames: np.ndarray,
    fps: int = 24,
    codec: str | None = None,
    options: dict | None = None,
    container_options: dict | None = None,
) -> Path:
    """Encode uint8 T x H x W x 3 RGB frames (tests, benchmarks, synthetic data).

    The codec follows the extension: H.264 for .mp4/.mkv/.avi, VP9 for .webm (SSv2's format).
    `options` go to the encoder (e.g. {"g": "8"}), `container_options` to the muxer
    (e.g. {"movflags": "+faststart"} puts the MP4 index first, as web downloads have it).
    """
    import av

    path = Path(path)
    codec = codec or ("libvpx-vp9" if path.suffix.lower() == ".webm" else "libx264")
    frames = np.asarray(frames, dtype=np.uint8)
    _, height, width, _ = frames.shape
    with av.open(str(path), "w", options=dict(container_options or {})) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if options:
            stream.options = dict(options)
        for array in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def frame_counter_clip(num_frames: int, height: int = 48, width: int = 64) -> np.ndarray:
    """A clip whose frames say which frame they are, so decoders can be checked for identity.

    The top 8 rows hold the frame index as 8 black/white bits of width//8 pixels each
    (survives lossy coding); a red square below moves 2 pixels per frame.
    """
    if width < 64 or height < 32 or num_frames > 256:
        raise ValueError("frame_counter_clip needs width >= 64, height >= 32 and at most 256 frames")
    clip = np.zeros((num_frames, height, width, 3), dtype=np.uint8)
    bit_width = width // 8
    side = height // 4
    for i in range(num_frames):
        for bit in range(8):
            if (i >> bit) & 1:
                clip[i, :8, bit * bit_width : (bit + 1) * bit_width] = 255
        x = (2 * i) % (width - side)
        clip[i, 12 : 12 + side, x : x + side] = (255, 0, 0)
    return clip


def read_frame_counter(frames: np.ndarray) -> np.ndarray:
    """Indices written by frame_counter_clip, read back from decoded frames."""
    frames = np.asarray(frames)
    bit_width = frames.shape[2] // 8
    centre = bit_width // 2
    bits = frames[:, 2:6, [b * bit_width + centre for b in range(8)]].mean(axis=(1, 3)) > 127
    return (bits * (1 << np.arange(8))).sum(axis=1).astype(np.int64)
