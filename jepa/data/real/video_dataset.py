"""A torch Dataset of video clips over a clip index (jepa.data.real.indexes), robust to bad files.

Real datasets contain corrupt, truncated and missing videos (Kinetics loses clips to
YouTube, SSv2 has a few broken webm files). One bad file must not end an epoch of a
multi-GPU run, yet silently training on replacements would hide a broken dataset. So a
bad clip is replaced by another one drawn deterministically, recorded in `bad_files`, and
once more than `max_bad_fraction` of the index is bad the dataset raises an error that
lists them. DataLoader workers are separate processes, each with its own copy of the
dataset: give `bad_log` (a file path) and they all append to it, so the counts and the
tolerance check cover the whole loader; every bad file is also logged as a warning.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from jepa.data.clips import IMAGENET_MEAN, IMAGENET_STD
from jepa.data.real.video import (
    Backend,
    VideoDecodeError,
    VideoInfo,
    fps_indices,
    is_image,
    read_clip,
    segment_frames,
    stride_indices,
    uniform_indices,
    video_info,
)

log = logging.getLogger(__name__)

Sampling = Literal["stride", "fps", "uniform"]


class TooManyBadFilesError(RuntimeError):
    """More of the index failed to decode than the configured tolerance allows."""


def clip_transform(
    crop_size: int,
    short_side: int | None = None,
    train: bool = True,
    scale: tuple[float, float] = (0.3, 1.0),
    ratio: tuple[float, float] = (0.75, 1.35),
    flip: bool = True,
) -> v2.Transform:
    """Resize the short side, crop (random-resized when training, centred otherwise), flip,
    scale to [0, 1] and normalize with ImageNet statistics; the same crop for every frame."""
    steps: list[v2.Transform] = [v2.Resize(short_side or crop_size, antialias=True)]
    if train:
        steps.append(v2.RandomResizedCrop(crop_size, scale=scale, ratio=ratio, antialias=True))
        if flip:
            steps.append(v2.RandomHorizontalFlip())
    else:
        steps.append(v2.CenterCrop(crop_size))
    steps += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    return v2.Compose(steps)


def bad_files_allowed(total: int, max_bad_fraction: float) -> int:
    """How many unreadable clips a loader or cache build tolerates (always at least one)."""
    return max(1, math.floor(max_bad_fraction * total))


def bad_listing(reasons: dict[str, str], limit: int = 20) -> str:
    """The bad files and why, for an error message (the first `limit` of them)."""
    shown = [f"  {path}: {reason}" for path, reason in list(reasons.items())[:limit]]
    more = f"\n  ... and {len(reasons) - limit} more" if len(reasons) > limit else ""
    return "bad files:\n" + "\n".join(shown) + more


def augment(transform: v2.Transform, frames: torch.Tensor, seed: int, epoch: int, item: int) -> torch.Tensor:
    """uint8 T x H x W x C -> float C x T x H x W through `transform`, its randomness a function of
    (seed, epoch, item) only, so a clip is the same in any worker and after a resume."""
    video = tv_tensors.Video(frames.permute(0, 3, 1, 2))  # T x C x H x W for v2
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(np.random.default_rng([seed, epoch, item, 1]).integers(2**62)))
        video = transform(video)
    return video.as_subclass(torch.Tensor).permute(1, 0, 2, 3).contiguous()


class VideoClipDataset(Dataset):
    """Clips as float tensors C x T x H x W with an integer label.

    sampling: "stride" (`num_frames` frames `stride` apart; the paper's mixed regime uses 2),
    "fps" (frames at `target_fps`; the single regime uses 16) or "uniform" (spread over the
    whole segment; the evaluation protocol). Training draws a random clip position and
    augmentation; evaluation is centred and deterministic. Randomness is seeded by
    (seed, epoch, item), so a given epoch is reproducible whatever the worker layout.
    """

    def __init__(
        self,
        index: pd.DataFrame,
        num_frames: int = 16,
        sampling: Sampling = "stride",
        stride: float = 2,
        target_fps: float | None = None,
        crop_size: int = 224,
        short_side: int | None = None,
        train: bool = True,
        scale: tuple[float, float] = (0.3, 1.0),
        ratio: tuple[float, float] = (0.75, 1.35),
        flip: bool = True,
        backend: Backend = "pyav",
        seed: int = 0,
        max_bad_fraction: float = 0.01,
        max_replacements: int = 10,
        root: str | Path | None = None,
        bad_log: str | Path | None = None,
    ) -> None:
        missing = {"path", "label"} - set(index.columns)
        if missing:
            raise ValueError(f"index lacks columns {sorted(missing)}; build it with jepa.data.real.indexes")
        if sampling not in ("stride", "fps", "uniform"):
            raise ValueError(f"sampling must be 'stride', 'fps' or 'uniform', got {sampling!r}")
        if sampling == "fps" and not target_fps:
            raise ValueError("sampling='fps' needs target_fps")
        if len(index) == 0:
            raise ValueError("empty index")
        root = Path(root) if root is not None else None
        self.paths = [str(root / p) if root is not None and not Path(p).is_absolute() else str(p)
                      for p in index["path"]]
        self.labels = index["label"].to_numpy(dtype=np.int64)
        nan = np.full(len(index), np.nan)
        self.starts = index["start"].to_numpy(dtype=float) if "start" in index else nan
        self.ends = index["end"].to_numpy(dtype=float) if "end" in index else nan
        self.units = index["time_unit"].tolist() if "time_unit" in index else ["frame"] * len(index)
        self.num_frames, self.sampling, self.stride, self.target_fps = num_frames, sampling, stride, target_fps
        self.train, self.backend, self.seed = train, backend, seed
        self.max_bad_fraction, self.max_replacements = max_bad_fraction, max_replacements
        self.transform = clip_transform(crop_size, short_side, train, scale, ratio, flip)
        self.epoch = 0
        self._bad_reasons: dict[str, str] = {}
        self.bad_log = Path(bad_log) if bad_log is not None else None
        self.num_replacements = 0
        self._info_cache: dict[str, VideoInfo] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def set_epoch(self, epoch: int) -> None:
        """New random clip positions and augmentations each epoch (call it like DistributedSampler's)."""
        self.epoch = epoch

    @property
    def bad_reasons(self) -> dict[str, str]:
        """path -> decoding error of every bad clip seen (by all workers when bad_log is set)."""
        reasons = dict(self._bad_reasons)
        if self.bad_log is not None and self.bad_log.is_file():
            for line in self.bad_log.read_text(encoding="utf-8").splitlines():
                path, _, reason = line.partition("\t")
                reasons.setdefault(path, reason)
        return reasons

    @property
    def bad_files(self) -> list[str]:
        return list(self.bad_reasons)

    @property
    def num_bad(self) -> int:
        return len(self.bad_reasons)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, int]:
        candidate = item
        for attempt in range(self.max_replacements + 1):
            if attempt > 0:
                self.num_replacements += 1
                candidate = self._replacement(item, attempt)
            if self.paths[candidate] in self._bad_reasons:
                continue
            try:
                return self.load(candidate), int(self.labels[candidate])
            except (VideoDecodeError, ValueError) as error:
                self._record_bad(candidate, error)
        raise TooManyBadFilesError(f"item {item}: {self.max_replacements} replacement clips failed too; "
                                   + bad_listing(self.bad_reasons))

    def load(self, item: int) -> torch.Tensor:
        """Decode and transform one clip without any fallback (raises on a bad file)."""
        rng = np.random.default_rng([self.seed, self.epoch, item]) if self.train else None
        path = self.paths[item]
        if is_image(path):
            frames = read_clip(path, np.zeros(self.num_frames, dtype=np.int64), self.backend)
        else:
            frames = read_clip(path, self.frame_indices(item, rng), self.backend)
        return augment(self.transform, torch.from_numpy(frames), self.seed, self.epoch, item)

    def frame_indices(self, item: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """Which frames of the file make the clip of `item` (segment restriction included)."""
        path = self.paths[item]
        info = self._info_cache.get(path)
        if info is None:  # headers do not change; WebM needs a demux pass to count frames
            info = self._info_cache[path] = video_info(path, self.backend)
        first, stop = segment_frames(info.num_frames, info.fps, self.starts[item], self.ends[item], self.units[item])
        if self.sampling == "uniform":
            return uniform_indices(first, stop, self.num_frames)
        if self.sampling == "fps":
            return fps_indices(first, stop, self.num_frames, info.fps, float(self.target_fps), rng)
        return stride_indices(first, stop, self.num_frames, self.stride, rng)

    def _replacement(self, item: int, attempt: int) -> int:
        return int(np.random.default_rng([self.seed, self.epoch, item, attempt]).integers(len(self)))

    def _record_bad(self, item: int, error: Exception) -> None:
        path = self.paths[item]
        reason = " ".join(str(error).split())
        self._bad_reasons[path] = reason
        if self.bad_log is not None:
            with open(self.bad_log, "a", encoding="utf-8") as log_file:  # one short append per bad file
                log_file.write(f"{path}\t{reason}\n")
        log.warning("skipping bad clip %s: %s", path, error)
        allowed = bad_files_allowed(len(self), self.max_bad_fraction)
        if self.num_bad > allowed:
            raise TooManyBadFilesError(
                f"{self.num_bad} of {len(self)} clips are unreadable, above max_bad_fraction="
                f"{self.max_bad_fraction} ({allowed} allowed); " + bad_listing(self.bad_reasons))
