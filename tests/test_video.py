"""Decoding backends on real encoded files, frame samplers and segment restriction."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from PIL import Image

from jepa.data.real.video import (
    VideoDecodeError,
    fps_indices,
    frame_counter_clip,
    read_clip,
    read_frame_counter,
    segment_frames,
    stride_indices,
    uniform_indices,
    video_info,
    write_video,
)

av = pytest.importorskip("av")


def _has_encoder(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
        return True
    except Exception:
        return False


VP9 = pytest.param(
    "webm", marks=pytest.mark.skipif(not _has_encoder("libvpx-vp9"), reason="this PyAV build has no libvpx-vp9 encoder")
)
def _importable(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


BACKEND_PARAMS = [
    "pyav",
    pytest.param("decord", marks=pytest.mark.skipif(not _importable("decord"), reason="decord is not installed")),
]


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return frame_counter_clip(24, height=48, width=64)


@pytest.fixture(scope="module")
def videos(tmp_path_factory, clip) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("videos")
    paths = {"mp4": str(write_video(folder / "counter.mp4", clip, fps=24, options={"g": "8"}))}
    if _has_encoder("libvpx-vp9"):
        paths["webm"] = str(write_video(folder / "counter.webm", clip, fps=24, options={"g": "8"}))
    return paths


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
@pytest.mark.parametrize("ext", ["mp4", VP9])
def test_metadata(videos, backend, ext):
    info = video_info(videos[ext], backend)
    assert (info.num_frames, info.fps, info.height, info.width) == (24, 24.0, 48, 64)
    assert info.duration_s == pytest.approx(1.0)


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
@pytest.mark.parametrize("ext", ["mp4", VP9])
def test_frames_are_the_requested_ones(videos, clip, backend, ext):
    indices = [23, 0, 5, 5, 17, 12, 1]
    frames = read_clip(videos[ext], indices, backend)
    assert frames.shape == (7, 48, 64, 3) and frames.dtype == np.uint8
    assert read_frame_counter(frames).tolist() == indices
    # lossy coding, but close to the source frames (moving red square included)
    assert np.abs(frames.astype(int) - clip[indices]).mean() < 4.0
    red_pixels = (frames[..., 0] > 160) & (frames[..., 1] < 90)
    assert red_pixels[:, 12:24].sum(axis=(1, 2)).min() > 80  # the 12x12 square is there in every frame


@pytest.mark.parametrize("ext", ["mp4", VP9])
def test_backends_agree(videos, ext):
    pytest.importorskip("decord")
    indices = np.arange(0, 24, 3)
    pyav = read_clip(videos[ext], indices, "pyav").astype(int)
    decord = read_clip(videos[ext], indices, "decord").astype(int)
    assert np.abs(pyav - decord).max() <= 8
    assert np.abs(pyav - decord).mean() < 1.0


def test_seeking_over_long_gaps(tmp_path):
    """Frames far apart are reached by seeking, and seeking never shifts frame identity."""
    path = write_video(tmp_path / "long.mp4", frame_counter_clip(250), fps=25, options={"g": "10"})
    indices = [249, 0, 130, 131, 200, 7]
    assert read_frame_counter(read_clip(path, indices, "pyav")).tolist() == indices
    if _importable("decord"):
        assert read_frame_counter(read_clip(path, indices, "decord")).tolist() == indices


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_frame_beyond_end_is_an_error(videos, backend):
    with pytest.raises(VideoDecodeError, match="counter.mp4") as error:
        read_clip(videos["mp4"], [3, 24], backend)
    assert "24" in str(error.value)


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_corrupt_truncated_and_missing_files(tmp_path, clip, backend):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(0).bytes(4096))
    for target in (lambda: video_info(corrupt, backend), lambda: read_clip(corrupt, [0], backend)):
        with pytest.raises(VideoDecodeError, match="corrupt.mp4"):
            target()

    # an MP4 with its index first (as downloaded from the web) cut in half: header intact, data gone
    whole = write_video(tmp_path / "whole.mp4", frame_counter_clip(48), options={"g": "8"},
                        container_options={"movflags": "+faststart"})
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(VideoDecodeError, match="truncated.mp4"):
        video_info(truncated, backend)
        read_clip(truncated, [0, 47], backend)

    with pytest.raises(VideoDecodeError, match="file not found"):
        read_clip(tmp_path / "absent.mp4", [0], backend)


def test_truncated_streamable_file_keeps_its_readable_part(tmp_path):
    """A cut Matroska/WebM stream reports the frames it still has; later ones are an error."""
    whole = write_video(tmp_path / "whole.mkv", frame_counter_clip(48), options={"g": "8"})
    truncated = tmp_path / "cut.mkv"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    frames_left = video_info(truncated).num_frames
    assert 0 < frames_left < 48
    assert read_frame_counter(read_clip(truncated, [0, frames_left - 1])).tolist() == [0, frames_left - 1]
    with pytest.raises(VideoDecodeError, match="cut.mkv.*not found"):
        read_clip(truncated, [47])


@pytest.mark.parametrize("suffix", [".png", ".JPEG"])
def test_image_is_a_clip_of_repeated_frames(tmp_path, suffix):
    image = np.zeros((20, 30, 3), dtype=np.uint8)
    image[:, :15] = (200, 40, 10)
    path = tmp_path / f"n01234567_1{suffix}"
    Image.fromarray(image).save(path, format="PNG" if suffix == ".png" else "JPEG", quality=95)
    frames = read_clip(path, [0, 5, 9, 2])
    assert frames.shape == (4, 20, 30, 3)
    assert (frames == frames[0]).all()
    error = np.abs(frames[0].astype(int) - image)
    if suffix == ".png":
        assert error.max() == 0
    else:  # JPEG rings at the colour edge, the flat areas survive
        assert error.mean() < 3 and error[:, :10].max() <= 6
    info = video_info(path)
    assert (info.num_frames, info.height, info.width) == (1, 20, 30)


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown video backend 'opencv'"):
        read_clip("x.mp4", [0], backend="opencv")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- sampling


def test_stride_sampling_centred_and_random():
    assert stride_indices(0, 24, 8, 2).tolist() == [4, 6, 8, 10, 12, 14, 16, 18]  # centred: 9 frames spare, 4 before
    starts = {int(stride_indices(0, 24, 8, 2, np.random.default_rng(seed))[0]) for seed in range(200)}
    assert starts == set(range(0, 10))  # every legal start 0..9, none beyond
    again = stride_indices(0, 24, 8, 2, np.random.default_rng(7))
    assert again.tolist() == stride_indices(0, 24, 8, 2, np.random.default_rng(7)).tolist()


def test_short_segment_repeats_last_frame():
    assert stride_indices(10, 15, 6, 2).tolist() == [10, 12, 14, 14, 14, 14]


def test_fps_sampling():
    # 30 fps video, 15 fps clip: every other frame; 25 fps to 16 fps: steps of 1.5625 rounded
    assert fps_indices(0, 8, 4, 30, 15).tolist() == [0, 2, 4, 6]
    assert fps_indices(0, 100, 5, 25, 16).tolist() == [46, 48, 49, 51, 52]  # centred: 93 spare, 46 before
    assert fps_indices(0, 1000, 16, 60, 16).tolist()[-1] - fps_indices(0, 1000, 16, 60, 16).tolist()[0] == 56


def test_uniform_sampling_over_the_whole_video():
    assert uniform_indices(0, 160, 16).tolist() == list(range(5, 160, 10))
    assert uniform_indices(10, 14, 8).tolist() == [10, 10, 11, 11, 12, 12, 13, 13]


def test_segment_restriction():
    assert segment_frames(100, 25.0) == (0, 100)
    assert segment_frames(100, 25.0, float("nan"), float("nan")) == (0, 100)
    assert segment_frames(100, 25.0, 10, 30, "frame") == (10, 30)
    assert segment_frames(100, 25.0, 1.0, 2.5, "sec") == (25, 63)  # frames shown in [1.0 s, 2.5 s)
    assert segment_frames(100, 25.0, 90, 400, "frame") == (90, 100)  # clipped to the video
    with pytest.raises(ValueError, match="outside the video"):
        segment_frames(100, 25.0, 5.0, 6.0, "sec")


def test_segment_clip_decodes_only_inside_the_segment(videos):
    first, stop = segment_frames(24, 24.0, 0.25, 0.5, "sec")
    frames = read_clip(videos["mp4"], uniform_indices(first, stop, 4))
    assert read_frame_counter(frames).tolist() == [6, 8, 9, 11]  # centres of 4 parts of frames 6..11
