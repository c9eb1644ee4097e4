"""Frame cache: built from real encoded videos, read back equal to the live decoder, bad files counted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from jepa.data.real.frame_cache import CachedClipDataset, ClipSpec, FrameCache, _resize_crop, build_cache, cache_key
from jepa.data.real.stream import RealStream, clip_spec
from jepa.data.real.video import frame_counter_clip, uniform_indices, write_video
from jepa.data.real.video_dataset import TooManyBadFilesError, VideoClipDataset

SPEC = ClipSpec(frames=8, size=32, sampling="uniform")


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return frame_counter_clip(24, height=48, width=64)


@pytest.fixture(scope="module")
def files(tmp_path_factory, clip) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    paths = {f"good{i}": write_video(folder / f"good{i}.mp4", np.roll(clip, 3 * i, axis=2), fps=24) for i in range(4)}
    corrupt = folder / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(1).bytes(3000))
    return {**paths, "corrupt": corrupt, "missing": folder / "missing.mp4"}


def _index(paths: list[Path]) -> pd.DataFrame:
    return pd.DataFrame(dict(path=[str(p) for p in paths], label=list(range(len(paths))), label_name="x",
                             start=np.nan, end=np.nan, split="train", time_unit="frame"))


def _goods(files) -> list[Path]:
    return [files[f"good{i}"] for i in range(4)]


def test_cache_equals_live_decoder_and_source_frames(files, clip, tmp_path):
    result = build_cache(_index(_goods(files)), tmp_path / "cache", SPEC, shard_size=3)
    assert (result.total, result.cached, result.num_bad) == (4, 4, 0)
    cache = FrameCache(tmp_path / "cache")
    assert [s["rows"] for s in cache.manifest["shards"]] == [3, 1]
    assert cache.clip(3).shape == (8, 32, 32, 3) and cache.clip(3).dtype == np.uint8
    assert cache.labels.tolist() == [0, 1, 2, 3]

    cached = CachedClipDataset(tmp_path / "cache", train=False)
    live = VideoClipDataset(_index(_goods(files)), num_frames=8, sampling="uniform", crop_size=32, train=False)
    for item in range(4):
        x, label = cached[item]
        assert x.shape == (3, 8, 32, 32) and x.dtype == torch.float32 and label == item
        assert torch.allclose(x, live.load(item), atol=1e-5)
    # the cached frames are the source's frames at the uniform positions (H.264 is lossy: small tolerance)
    expected = _resize_crop(np.roll(clip, 3 * 2, axis=2)[uniform_indices(0, 24, 8)], 32).astype(float)
    error = np.abs(cache.clip(2).astype(float) - expected).mean(axis=(1, 2, 3))
    assert error.max() < 6.0
    shifted = _resize_crop(np.roll(clip, 6, axis=2)[uniform_indices(0, 24, 8) - 1], 32).astype(float)
    assert (np.abs(cache.clip(2).astype(float) - shifted).mean(axis=(1, 2, 3)) > error).all()


def test_training_clips_are_augmented_reproducibly(files, tmp_path):
    build_cache(_index(_goods(files)), tmp_path / "cache", SPEC)
    data = CachedClipDataset(tmp_path / "cache", train=True, seed=3)
    first, _ = data[1]
    assert first.shape == (3, 8, 32, 32)
    assert torch.equal(first, data[1][0])
    data.set_epoch(1)
    assert not torch.equal(first, data[1][0])


def test_corrupt_and_missing_files_are_skipped_and_counted(files, tmp_path):
    index = _index(_goods(files) + [files["corrupt"], files["missing"]])
    result = build_cache(index, tmp_path / "cache", SPEC, max_bad_fraction=0.5)
    assert (result.total, result.cached, result.num_bad) == (6, 4, 2)
    assert set(result.bad_files) == {str(files["corrupt"]), str(files["missing"])}
    assert "file not found" in result.bad_files[str(files["missing"])]
    cache = FrameCache(tmp_path / "cache")
    assert cache.manifest["bad"] == 2 and cache.manifest["cached"] == 4
    assert cache.index["path"].tolist() == [str(p) for p in _goods(files)]
    assert CachedClipDataset(tmp_path / "cache").bad_reasons == result.bad_files


def test_too_many_bad_files_stop_the_build_with_the_list(files, tmp_path):
    index = _index(_goods(files) + [files["corrupt"], files["missing"]])
    with pytest.raises(TooManyBadFilesError, match=r"2 of 6 clips are unreadable.*max_bad_fraction=0.1") as error:
        build_cache(index, tmp_path / "cache", SPEC, max_bad_fraction=0.1)
    assert str(files["corrupt"]) in str(error.value) and str(files["missing"]) in str(error.value)
    assert list(tmp_path.iterdir()) == []  # no cache and no temporary folder left behind


def test_rebuild_replaces_the_old_cache(files, tmp_path):
    build_cache(_index(_goods(files)), tmp_path / "cache", SPEC)
    build_cache(_index(_goods(files)[:2]), tmp_path / "cache", ClipSpec(4, 16))
    cache = FrameCache(tmp_path / "cache")
    assert len(cache) == 2 and cache.clip(0).shape == (4, 16, 16, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_a_build_with_no_readable_file_fails_and_writes_nothing(files, tmp_path):
    with pytest.raises(TooManyBadFilesError, match=r"(?s)none of the 1 clips could be read.*corrupt\.mp4"):
        build_cache(_index([files["corrupt"]]), tmp_path / "cache", SPEC)  # 1 bad file is within max(1, ...)
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_not_a_cache_is_never_replaced(files, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    with pytest.raises(FileExistsError, match=rf"{folder}: folder exists and is not a frame cache"):
        build_cache(_index(_goods(files)[:1]), folder, SPEC)
    assert [p.name for p in folder.iterdir()] == ["thesis.tex"]
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    index_csv = tmp_path / "index.csv"
    _index(_goods(files)[:1]).to_csv(index_csv, index=False)
    done = subprocess.run([sys.executable, "-m", "jepa.data", "cache", "--index", str(index_csv), "--out", str(a_file),
                           "--frames", "8", "--size", "32"], capture_output=True, text=True)
    assert done.returncode == 2 and "is not a frame cache folder" in done.stderr and "Traceback" not in done.stderr
    assert a_file.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.csv", "mine", "notes.txt"]  # nothing moved aside


def test_folder_left_by_a_killed_build_is_removed_by_the_next(files, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".cache.{dead.pid}-0000abcd.tmp"
    left.mkdir()
    (left / "shard_00000.npy").write_bytes(b"half")
    build_cache(_index(_goods(files)[:1]), tmp_path / "cache", SPEC)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]


def test_cli_prints_counts_and_bad_files(files, tmp_path):
    index_csv = tmp_path / "index.csv"
    _index(_goods(files) + [files["missing"]]).to_csv(index_csv, index=False)
    args = [sys.executable, "-m", "jepa.data", "cache", "--index", str(index_csv), "--out", str(tmp_path / "c"),
            "--frames", "8", "--size", "32"]
    done = subprocess.run(args + ["--max-bad-fraction", "0.5"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "4 of 5 clips cached, 1 bad files skipped" in done.stdout
    assert f"bad: {files['missing']}: " in done.stdout
    assert json.loads((tmp_path / "c" / "manifest.json").read_text())["spec"]["frames"] == 8
    failed = subprocess.run(args + ["--max-bad-fraction", "0", "--out", str(tmp_path / "d")], capture_output=True,
                            text=True)
    assert failed.returncode == 0  # one bad file is always tolerated (max(1, ...)), as in the live loader
    (tmp_path / "e.csv").write_text("path,label\n" + f"{files['corrupt']},0\n{files['missing']},1" + "\n")
    failed = subprocess.run(args[:5] + [str(tmp_path / "e.csv"), "--out", str(tmp_path / "e"), "--frames", "8",
                                        "--size", "32"], capture_output=True, text=True)
    assert failed.returncode == 2 and "unreadable" in failed.stderr and "Traceback" not in failed.stderr


# ----------------------------------------------------------------------------- the training stream


def _ucf_root(tmp_path: Path, clip: np.ndarray) -> Path:
    root = tmp_path / "raw" / "ucf101"
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("1 Archery\n2 YoYo\n")
    names = ["Archery/v_Archery_g01_c01.avi", "Archery/v_Archery_g02_c01.avi", "YoYo/v_YoYo_g01_c01.avi",
             "YoYo/v_YoYo_g02_c01.avi", "YoYo/v_YoYo_g03_c01.avi"]
    (lists / "trainlist01.txt").write_text("\n".join(names) + "\n")
    (lists / "testlist01.txt").write_text(names[0] + "\n")
    for i, name in enumerate(names[:4]):
        (root / "UCF-101" / name).parent.mkdir(parents=True, exist_ok=True)
        write_video(root / "UCF-101" / name, np.roll(clip, 2 * i, axis=2), fps=24, codec="mpeg4")  # Xvid, as UCF-101
    (root / "UCF-101" / names[4]).write_bytes(b"not a video" * 100)  # the corrupt one
    return root


def _cfg(raw: Path) -> SimpleNamespace:
    profile = SimpleNamespace(data=SimpleNamespace(root=str(raw), mixed_weights={"ucf_like": 1.0}),
                              model=SimpleNamespace(frames=8, img_size=32), train=SimpleNamespace(batch_size=1))
    return SimpleNamespace(regime="single", seed=0, profile=profile)


@pytest.mark.parametrize("use_cache", [False, True])
def test_stream_stats_report_clips_and_bad_files(tmp_path, clip, use_cache):
    from jepa.data.real.indexes import read_ucf101

    root = _ucf_root(tmp_path, clip)
    cfg = _cfg(root.parent)
    cache_root = tmp_path / "caches"
    if use_cache:
        build_cache(read_ucf101(root, splits="train"), cache_root / cache_key("ucf101", "train", clip_spec(cfg)),
                    clip_spec(cfg), max_bad_fraction=0.5)
    stream = RealStream(cfg, num_workers=0, cache_root=cache_root)
    assert stream.stats.clips_served == 0
    batches = [next(stream) for _ in range(5)]  # one epoch: every row once
    assert all(x.shape == (1, 3, 8, 32, 32) and not bool(img) for x, img in batches)
    stats = stream.stats
    assert stats.source == ("cache" if use_cache else "decode")
    assert stats.clips_served == 5
    assert stats.bad_files_skipped == 1
    assert stats.as_dict()["bad_files"] == [str(root.resolve() / "UCF-101" / "YoYo" / "v_YoYo_g03_c01.avi")]
