"""Can video decoding keep up with training? (benchmark, not a test)

Encodes a real H.264 clip (default 128 frames, 224x224), measures the decode rate of each
backend (whole-video sequential reads and training-style 16-frame stride-2 clips), then
the clip loader's rate for the tiny profile (8 frames, 32x32 after resize, batch 32,
DataLoader workers) and compares it with the rate a training step consumes clips
(default 32 clips per 0.106 s step, ~300 clips/s, the tiny profile on 2 threads).
It then builds a frame cache (jepa.data.real.frame_cache) of the same clips and measures the
cache build rate (each clip decoded once) and the rate of the cached loader (memory-mapped
uint8 + training augmentation), which must be >= --ahead (3) x consumption for the loader to stay ahead of training.

    python benchmarks/decode.py [--step-seconds 0.106] [--workers 2] [--out reports/benchmarks/decode.csv]
    python benchmarks/decode.py --cache-only   # only the frame-cache rows (skips the slow live decoding)

Writes one CSV row per measurement and prints a short table.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from jepa.data.real.frame_cache import CachedClipDataset, ClipSpec, build_cache
from jepa.data.real.video import frame_counter_clip, read_clip, stride_indices, write_video
from jepa.data.real.video_dataset import VideoClipDataset


def make_clip(path: Path, frames: int, size: int, gop: int | None = None) -> Path:
    """A frame-counter clip with per-frame grain, so the encoder cannot skip everything.

    gop=None keeps x264's default keyframe interval (250, longer than this clip), so a
    random clip is decoded from the first frame; a short GOP shows what re-encoding buys.
    """
    clip = frame_counter_clip(frames, height=size, width=size).astype(np.int16)
    grain = np.random.default_rng(0).integers(0, 24, size=clip.shape[:3] + (1,), dtype=np.int16)
    options = {"g": str(gop)} if gop else None
    return write_video(path, np.clip(clip + grain, 0, 255).astype(np.uint8), fps=25, options=options)


def timed(function, repeats: int) -> float:
    """Best-of-`repeats` wall time of function(), after one warm-up call."""
    function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def decode_rates(path: Path, frames: int, backend: str, repeats: int, gop: str) -> list[dict]:
    whole = timed(lambda: read_clip(path, np.arange(frames), backend), repeats)
    rng = np.random.default_rng(0)
    clips = 20

    def training_clips() -> None:
        for _ in range(clips):
            read_clip(path, stride_indices(0, frames, 16, 2, rng), backend)

    sampled = timed(training_clips, repeats)
    return [
        dict(measure="decode_sequential", backend=backend, gop=gop, value=frames / whole, unit="frames/s",
             note=f"all {frames} frames in one call"),
        dict(measure="decode_clip_16x2", backend=backend, gop=gop, value=clips * 16 / sampled, unit="frames/s",
             note="16 frames, stride 2, random start (seek + decode)"),
    ]


def loader_rate(path: Path, backend: str, workers: int, batch: int, batches: int) -> float:
    index = pd.DataFrame(dict(path=[str(path)] * batch * (batches + 1), label=0))
    dataset = VideoClipDataset(index, num_frames=8, sampling="stride", stride=2, crop_size=32, short_side=32,
                               train=True, backend=backend)
    loader = DataLoader(dataset, batch_size=batch, num_workers=workers, persistent_workers=False)
    iterator = iter(loader)
    next(iterator)  # worker start-up is not part of the steady rate
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batch * batches / (time.perf_counter() - start)


def cache_rates(path: Path, folder: Path, workers: int, batch: int, batches: int, clips: int, needed: float,
                ahead: float) -> list[dict]:
    """Build a cache of `clips` 8x32x32 clips of `path` once, then time the cached training loader."""
    index = pd.DataFrame(dict(path=[str(path)] * clips, label=0))
    start = time.perf_counter()
    build_cache(index, folder / "cache", ClipSpec(8, 32, "stride", stride=2))
    build = clips / (time.perf_counter() - start)
    dataset = CachedClipDataset(folder / "cache", train=True)
    sampler = torch.utils.data.RandomSampler(dataset, replacement=True, num_samples=batch * (batches + 1))
    loader = DataLoader(dataset, batch_size=batch, sampler=sampler, num_workers=workers, persistent_workers=False)
    iterator = iter(loader)
    next(iterator)  # worker start-up is not part of the steady rate
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    rate = batch * batches / (time.perf_counter() - start)
    verdict = "meets" if rate >= ahead * needed else "MISSES"
    return [
        dict(measure="cache_build_clips", backend="pyav", gop="-", value=build, unit="clips/s",
             note=f"{clips} clips decoded once to 8x32x32 uint8 (one process)"),
        dict(measure="cache_loader_clips", backend="cache", gop="-", value=rate, unit="clips/s",
             note=f"batch {batch}, {workers} workers, train augmentation; x{rate / needed:.2f} of the "
                  f"{needed:.0f} clips/s training needs, {verdict} the {ahead:g}x target ({ahead * needed:.0f})"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=128)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--step-seconds", type=float, default=0.106, help="training step time the loader must beat")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers (the machine has 2 cores)")
    parser.add_argument("--batches", type=int, default=6, help="timed loader batches")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--short-gop", type=int, default=16, help="keyframe interval of the re-encoded variant")
    parser.add_argument("--cache-clips", type=int, default=64, help="clips in the benchmark frame cache")
    parser.add_argument("--cache-batches", type=int, default=30, help="timed batches of the cached loader")
    parser.add_argument("--ahead", type=float, default=3.0, help="how far ahead of training the loader must be")
    parser.add_argument("--cache-only", action="store_true", help="only the frame-cache measurements")
    parser.add_argument("--out", default="reports/benchmarks/decode.csv")
    args = parser.parse_args()
    torch.set_num_threads(1)

    backends = ["pyav"] + (["decord"] if importlib.util.find_spec("decord") else [])
    needed = args.batch / args.step_seconds
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as folder:
        for gop in () if args.cache_only else (None, args.short_gop):
            label = str(gop) if gop else "250"
            path = make_clip(Path(folder) / f"bench_gop{label}.mp4", args.frames, args.size, gop)
            for backend in backends:
                rows += decode_rates(path, args.frames, backend, args.repeats, label)
            for backend in backends:
                rate = loader_rate(path, backend, args.workers, args.batch, args.batches)
                rows.append(dict(measure="loader_clips", backend=backend, gop=label, value=rate, unit="clips/s",
                                 note=f"8x32x32 clips from {args.size}px, batch {args.batch}, {args.workers} "
                                      f"workers; x{rate / needed:.2f} of the {needed:.0f} clips/s training needs"))
        path = make_clip(Path(folder) / "bench_cache.mp4", args.frames, args.size)
        rows += cache_rates(path, Path(folder), args.workers, args.batch, args.cache_batches, args.cache_clips,
                            needed, args.ahead)
    rows.append(dict(measure="training_consumption", backend="-", gop="-", value=needed, unit="clips/s",
                     note=f"{args.batch} clips per {args.step_seconds} s step"))
    environment = f"{platform.machine()}, {os.cpu_count()} cpus, torch {torch.__version__}"
    for row in rows:
        row["environment"] = environment

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.cache_only and out.is_file():  # keep the live-decoding rows measured before, replace the cache rows
        with open(out, newline="") as handle:
            kept = [row for row in csv.DictReader(handle) if not row["measure"].startswith(("cache_", "training_"))]
        rows = [{**row, "value": float(row["value"])} for row in kept] + rows
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["measure", "backend", "gop", "value", "unit", "note",
                                                    "environment"])
        writer.writeheader()
        writer.writerows({**row, "value": f"{row['value']:.1f}"} for row in rows)
    print(f"{'measure':<22}{'backend':<8}{'gop':>4}{'value':>10}  unit       note")
    for row in rows:
        print(f"{row['measure']:<22}{row['backend']:<8}{row['gop']:>4}{row['value']:>10.1f}  {row['unit']:<10} "
              f"{row['note']}")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
