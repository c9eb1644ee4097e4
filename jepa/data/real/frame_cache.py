"""Pre-decoded frame cache: decode each indexed clip once, train and probe from memory-mapped uint8.

Real video decodes at 20-80 clips/s on 2 cores while the tiny profile consumes ~300 clips/s
(reports/benchmarks/decode.csv), so the loader cannot stay ahead by decoding live. The cache stores, per index row,
the model's clip (frames sampled exactly as VideoClipDataset samples them with train=False,
short side resized to `size` and centre-cropped, uint8 T x S x S x 3) in .npy shards that
every DataLoader worker memory-maps. Training augmentation (random-resized crop, flip) is
still applied per item; the temporal position is the centred one (no temporal jitter).

Layout of a cache folder (written into a temporary sibling, then renamed into place, so a
crashed build never leaves a half cache that looks complete):

    manifest.json   spec (frames, size, sampling, ...), counts, bad files with reasons
    index.csv       the kept index rows plus `shard` and `offset`
    shard_00000.npy uint8 (n, T, S, S, 3)

Corrupt, truncated and missing files are skipped and counted at build time; more than
`max_bad_fraction` of the index bad stops the build with TooManyBadFilesError listing them,
the same tolerance and error as the live loader (jepa.data.real.video_dataset).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator, Literal

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

from jepa.data.real.video import VideoDecodeError, is_image, read_clip
from jepa.data.real.video_dataset import (TooManyBadFilesError, VideoClipDataset, augment, bad_files_allowed, bad_listing,
                                     clip_transform)
from jepa.io import clean_stale_temps

CACHE_VERSION = 1
MANIFEST, INDEX = "manifest.json", "index.csv"


@dataclass(frozen=True)
class ClipSpec:
    """What one cached clip is: the sampling of VideoClipDataset and the model's input size."""

    frames: int
    size: int
    sampling: Literal["stride", "fps", "uniform"] = "uniform"
    stride: float = 2.0
    target_fps: float | None = None

    @property
    def tag(self) -> str:
        """Folder-name fragment; two specs with the same tag give the same frames."""
        how = {"stride": f"stride{self.stride:g}", "fps": f"fps{self.target_fps or 0:g}", "uniform": "uniform"}
        return f"f{self.frames}-s{self.size}-{how[self.sampling]}"


def cache_key(dataset: str, split: str, spec: ClipSpec) -> str:
    """Name of a cache folder under data/generated/frame_cache/ (see jepa.paths.frame_cache_dir)."""
    return f"{dataset}-{split}-{spec.tag}"


@dataclass
class BuildResult:
    out: Path
    total: int
    cached: int
    bad_files: dict[str, str]  # path -> reason

    @property
    def num_bad(self) -> int:
        return len(self.bad_files)


# ----------------------------------------------------------------------------- building


def _resize_crop(frames: np.ndarray, size: int) -> np.ndarray:
    """uint8 T x H x W x 3 -> uint8 T x size x size x 3, with the ops of the live eval transform."""
    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)
    video = v2.functional.center_crop(v2.functional.resize(video, [size], antialias=True), [size, size])
    return video.permute(0, 2, 3, 1).contiguous().numpy()


class _Decoder:
    """Decodes row i of an index to the cached uint8 clip (picklable for worker processes)."""

    def __init__(self, index: pd.DataFrame, spec: ClipSpec, backend: str, root: str | Path | None) -> None:
        self.spec, self.backend = spec, backend
        self.dataset = VideoClipDataset(index, num_frames=spec.frames, sampling=spec.sampling, stride=spec.stride,
                                        target_fps=spec.target_fps, crop_size=spec.size, train=False,
                                        backend=backend, root=root)  # type: ignore[arg-type]

    def __call__(self, item: int) -> tuple[int, np.ndarray | None, str | None]:
        path = self.dataset.paths[item]
        try:
            if is_image(path):
                indices = np.zeros(self.spec.frames, dtype=np.int64)
            else:
                indices = self.dataset.frame_indices(item)
            return item, _resize_crop(read_clip(path, indices, self.backend), self.spec.size), None  # type: ignore[arg-type]
        except (VideoDecodeError, ValueError) as error:
            return item, None, " ".join(str(error).split())


_WORKER_DECODER: _Decoder | None = None


def _init_worker(decoder: _Decoder) -> None:
    global _WORKER_DECODER
    _WORKER_DECODER = decoder
    torch.set_num_threads(1)


def _decode_in_worker(item: int):
    assert _WORKER_DECODER is not None
    return _WORKER_DECODER(item)


def _decoded(decoder: _Decoder, n: int, workers: int) -> Iterator[tuple[int, np.ndarray | None, str | None]]:
    if workers <= 1:
        yield from map(decoder, range(n))
        return
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(workers, _init_worker, (decoder,)) as pool:
        yield from pool.imap(_decode_in_worker, range(n), chunksize=4)


def build_cache(
    index: pd.DataFrame,
    out: str | Path,
    spec: ClipSpec,
    max_bad_fraction: float = 0.01,
    shard_size: int = 256,
    backend: str = "pyav",
    workers: int = 1,
    root: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildResult:
    """Decode every row of `index` once into a cache folder at `out` (replaced atomically).

    Raises TooManyBadFilesError (listing the files) as soon as more than
    max(1, floor(max_bad_fraction * len(index))) rows fail, like VideoClipDataset does.
    """
    if len(index) == 0:
        raise ValueError("empty index: nothing to cache")
    if shard_size <= 0:
        raise ValueError(f"shard_size must be positive, got {shard_size}")
    out = Path(out)
    _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    decoder = _Decoder(index, spec, backend, root)
    allowed = bad_files_allowed(len(index), max_bad_fraction)
    clean_stale_temps(out)  # a folder left by a killed build
    work = out.parent / f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    work.mkdir()
    try:
        bad: dict[str, str] = {}
        kept, buffer, shards = [], [], []

        def flush() -> None:
            if buffer:
                name = f"shard_{len(shards):05d}.npy"
                np.save(work / name, np.stack(buffer))
                shards.append({"file": name, "rows": len(buffer)})
                buffer.clear()

        for done, (item, clip, reason) in enumerate(_decoded(decoder, len(index), workers), start=1):
            if clip is None:
                bad[decoder.dataset.paths[item]] = str(reason)
                if len(bad) > allowed:
                    raise TooManyBadFilesError(
                        f"building {out}: {len(bad)} of {len(index)} clips are unreadable, above max_bad_fraction="
                        f"{max_bad_fraction} ({allowed} allowed); " + bad_listing(bad))
            else:
                kept.append((item, len(shards), len(buffer)))
                buffer.append(clip)
                if len(buffer) == shard_size:
                    flush()
            if progress is not None:
                progress(done, len(index))
        flush()
        if not kept:
            raise TooManyBadFilesError(f"building {out}: none of the {len(index)} clips could be read, so no cache "
                                       "was written; " + bad_listing(bad))
        rows = index.iloc[[item for item, _, _ in kept]].reset_index(drop=True).copy()
        rows["path"] = [decoder.dataset.paths[item] for item, _, _ in kept]
        rows["shard"] = [shard for _, shard, _ in kept]
        rows["offset"] = [offset for _, _, offset in kept]
        rows.to_csv(work / INDEX, index=False)
        manifest = {"version": CACHE_VERSION, "spec": asdict(spec), "backend": backend, "total": len(index),
                    "cached": len(kept), "bad": len(bad), "bad_files": bad, "shards": shards}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        _swap_into_place(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BuildResult(out, len(index), len(kept), bad)


def _check_replaceable(out: Path) -> None:
    """`out` may be absent or an earlier cache (it holds a manifest); anything else belongs to the user."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise FileExistsError(f"{out}: exists and is not a frame cache folder; pass another --out or remove it")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise FileExistsError(f"{out}: folder exists and is not a frame cache (no {MANIFEST}); pass another --out "
                              "or empty it")


def _swap_into_place(work: Path, out: Path) -> None:
    """Rename the finished folder over `out`; an old cache is moved aside first, then deleted."""
    _check_replaceable(out)
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(work, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------- reading


class FrameCache:
    """Read side of a cache folder: rows, labels and uint8 clips from memory-mapped shards."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        manifest_path = self.folder / MANIFEST
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{manifest_path}: no frame cache here; build one with "
                                    f"`python -m jepa.data cache --index FILE.csv --out {self.folder}`")
        self.manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if self.manifest.get("version") != CACHE_VERSION:
            raise ValueError(f"{manifest_path}: cache version {self.manifest.get('version')!r}, expected "
                             f"{CACHE_VERSION}; rebuild the cache")
        self.spec = ClipSpec(**self.manifest["spec"])
        self.index = pd.read_csv(self.folder / INDEX)
        self.labels = self.index["label"].to_numpy(dtype=np.int64)
        self._shards: list[np.ndarray] | None = None  # opened lazily: each worker maps its own

    @staticmethod
    def exists(folder: str | Path) -> bool:
        return (Path(folder) / MANIFEST).is_file()

    @classmethod
    def matching(cls, folder: str | Path, spec: ClipSpec) -> "FrameCache | None":
        """The cache at `folder` if one exists with this clip spec, else None (then it must be (re)built)."""
        if not cls.exists(folder):
            return None
        cache = cls(folder)
        return cache if cache.spec == spec else None

    @property
    def bad_files(self) -> dict[str, str]:
        return dict(self.manifest["bad_files"])

    def __len__(self) -> int:
        return len(self.index)

    def clip(self, item: int) -> np.ndarray:
        """uint8 T x S x S x 3 of row `item` (a view into the memory map: copy before writing)."""
        if self._shards is None:
            self._shards = [np.load(self.folder / s["file"], mmap_mode="r") for s in self.manifest["shards"]]
        return self._shards[int(self.index["shard"].iat[item])][int(self.index["offset"].iat[item])]

    def clips(self, items: np.ndarray | list[int] | None = None) -> np.ndarray:
        """Several clips stacked into one in-memory array (N, T, S, S, 3)."""
        items = range(len(self)) if items is None else items
        return np.stack([np.asarray(self.clip(int(i))) for i in items]) if len(items) else np.zeros(
            (0, self.spec.frames, self.spec.size, self.spec.size, 3), np.uint8)


class CachedClipDataset(Dataset):
    """Clips from a frame cache as float C x T x H x W plus label, like VideoClipDataset.

    Evaluation clips equal the live decoder's (same frames, same resize and crop); training
    clips get the same per-(seed, epoch, item) random-resized crop and flip.
    """

    def __init__(self, folder: str | Path | FrameCache, train: bool = True, seed: int = 0,
                 scale: tuple[float, float] = (0.3, 1.0), ratio: tuple[float, float] = (0.75, 1.35),
                 flip: bool = True) -> None:
        self.cache = folder if isinstance(folder, FrameCache) else FrameCache(folder)
        self.train, self.seed, self.epoch = train, seed, 0
        self.transform = clip_transform(self.cache.spec.size, None, train, scale, ratio, flip)

    def __len__(self) -> int:
        return len(self.cache)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    @property
    def bad_reasons(self) -> dict[str, str]:
        """Files skipped when the cache was built (the live loader's attribute of the same name)."""
        return self.cache.bad_files

    def __getitem__(self, item: int) -> tuple[torch.Tensor, int]:
        frames = torch.from_numpy(np.array(self.cache.clip(item)))
        return augment(self.transform, frames, self.seed, self.epoch, item), int(self.cache.labels[item])
