"""The paper profile's data: official datasets under data/raw/<dataset>/, mixed by regime weights.

Without the data, the pipeline stops at once with what is missing, the layout
expected and where each dataset is obtained, instead of starting to train.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import torch
from torch.utils.data import DataLoader, Dataset

from jepa.data.real.indexes import SOURCES, read_index

if TYPE_CHECKING:
    from jepa.data.real.frame_cache import ClipSpec

# Pretraining sources of each regime (docs/method.md, "The recipe") and how the synthetic weight keys map onto them.
REGIME_DATASETS = {"single": ("ucf101",), "mixed": ("ucf101", "ssv2", "imagenet100")}
SYNTHETIC_TO_REAL = {"ucf_like": "ucf101", "ssv2_like": "ssv2", "image_like": "imagenet100"}
EVAL_DATASETS = ("diving48", "ssv2", "imagenet100")
LAYOUT = {
    "ucf101": "data/raw/ucf101/{UCF-101/<class>/*.avi, ucfTrainTestlist/classInd.txt, trainlist01.txt, testlist01.txt}",
    "ssv2": "data/raw/ssv2/{videos/<id>.webm, labels/labels.json, labels/train.json, labels/validation.json}",
    "imagenet100": "data/raw/imagenet100/{train/<synset>/*.JPEG, val/<synset>/*.JPEG}",
    "diving48": "data/raw/diving48/{rgb/<vid_name>.mp4, Diving48_vocab.json, Diving48_V2_train.json, Diving48_V2_test.json}",
}


class RealDataMissing(FileNotFoundError):
    """The paper profile was asked for but data/raw/ lacks a dataset."""


def check_raw_data(root: str | Path, datasets) -> None:
    root = Path(root)
    missing = [d for d in datasets if not (root / d).is_dir() or not any((root / d).iterdir())]
    if missing:
        lines = [f"profile 'paper' needs the real datasets under {root}/, missing: {', '.join(missing)}."]
        for d in missing:
            lines.append(f"  {d}: expected {LAYOUT.get(d, f'{root}/{d}/')}; obtain from: {SOURCES.get(d, '?')}")
        lines.append("Use `profile: tiny` in params.yaml for the embedded synthetic default.")
        raise RealDataMissing("\n".join(lines))


class _Tagged(Dataset):
    """Adds the is-image flag the temporal objectives need (images enter as repeated frames)."""

    def __init__(self, dataset: Dataset, is_image: bool):
        self.dataset, self.is_image = dataset, is_image

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i):
        clip, _ = self.dataset[i]
        return clip, self.is_image


@dataclass
class StreamStats:
    """What the loader did: clips served and the bad files it skipped (for a run's summary.json)."""

    source: str                                    # "cache" (pre-decoded) or "decode" (live) or "mixed"
    clips_served: int = 0
    bad_files: dict[str, str] = field(default_factory=dict)  # path -> reason

    @property
    def bad_files_skipped(self) -> int:
        return len(self.bad_files)

    def as_dict(self) -> dict:
        return {"source": self.source, "clips_served": self.clips_served,
                "bad_files_skipped": self.bad_files_skipped, "bad_files": sorted(self.bad_files)}


def clip_spec(cfg) -> "ClipSpec":
    """The regime's training clip: 16 fps clips for single, frame stride 2 for mixed (docs/method.md, "The recipe")."""
    from jepa.data.real.frame_cache import ClipSpec

    p = cfg.profile
    if cfg.regime == "single":
        return ClipSpec(p.model.frames, p.model.img_size, "fps", target_fps=16)
    return ClipSpec(p.model.frames, p.model.img_size, "stride", stride=2)


class RealStream:
    """Infinite (clip, is_image) batches from the regime's datasets, weighted and split across ranks.

    Each dataset is read from its frame cache (jepa.paths.frame_cache_dir) when one with the
    regime's clip spec exists, else decoded live. `stats` reports clips served and bad files
    skipped (at cache build time or by the live loader's workers).
    """

    def __init__(self, cfg, start_step: int = 0, rank: int = 0, world_size: int = 1, num_workers: int = 8,
                 cache_root: str | Path | None = None) -> None:
        from jepa import paths
        from jepa.data.real.frame_cache import CachedClipDataset, FrameCache, cache_key
        from jepa.data.mixing import mix_datasets
        from jepa.data.real.video_dataset import VideoClipDataset

        p = cfg.profile
        names = REGIME_DATASETS[cfg.regime]
        check_raw_data(p.data.root, names)
        weights = {SYNTHETIC_TO_REAL[k]: v for k, v in p.data.mixed_weights.items()}
        spec = clip_spec(cfg)
        self._bad_log_dir = Path(tempfile.mkdtemp(prefix="jepa-bad-files-"))
        self.datasets, sources = [], []
        for name in names:
            key = cache_key(name, "train", spec)
            folder = Path(cache_root) / key if cache_root is not None else paths.frame_cache_dir(key)
            cache = FrameCache.matching(folder, spec)
            if cache is not None:
                ds = CachedClipDataset(cache, train=True, seed=cfg.seed)
                sources.append("cache")
            else:
                index = read_index(name, Path(p.data.root) / name, splits="train")
                sampling = dict(sampling=spec.sampling, target_fps=spec.target_fps, stride=spec.stride)
                ds = VideoClipDataset(index, num_frames=spec.frames, crop_size=spec.size, train=True, seed=cfg.seed,
                                      bad_log=self._bad_log_dir / f"{name}.tsv", **sampling)
                sources.append("decode")
            self.datasets.append(ds)
        self.source = sources[0] if len(set(sources)) == 1 else "mixed"
        concat, self.sampler = mix_datasets([_Tagged(d, is_image=n == "imagenet100") for d, n in zip(self.datasets, names)],
                                            [weights[n] if len(names) > 1 else 1.0 for n in names],
                                            seed=cfg.seed, rank=rank, world_size=world_size)
        per_rank = p.train.batch_size // world_size
        self.loader = DataLoader(concat, batch_size=per_rank, sampler=self.sampler, num_workers=num_workers,
                                 drop_last=True, pin_memory=torch.cuda.is_available(),
                                 persistent_workers=num_workers > 0)
        self.clips_served = 0
        self._batches = self._generate(start_step)

    def _generate(self, start_step: int) -> Iterator:
        steps_per_epoch = len(self.loader)
        if steps_per_epoch == 0:
            raise ValueError(f"{len(self.sampler)} clips per rank are fewer than one batch of "
                             f"{self.loader.batch_size}; lower train.batch_size or add data")
        epoch, skip = divmod(start_step, steps_per_epoch)
        while True:
            self.sampler.set_epoch(epoch)
            for d in self.datasets:
                d.set_epoch(epoch)
            for i, (clip, is_image) in enumerate(self.loader):
                if i >= skip:
                    yield clip, is_image
            epoch, skip = epoch + 1, 0

    def __iter__(self) -> "RealStream":
        return self

    def __next__(self):
        clip, is_image = next(self._batches)
        self.clips_served += len(clip)
        return clip, is_image

    @property
    def stats(self) -> StreamStats:
        bad: dict[str, str] = {}
        for d in self.datasets:
            bad.update(d.bad_reasons)
        return StreamStats(self.source, self.clips_served, bad)


def real_stream(cfg, start_step: int = 0, rank: int = 0, world_size: int = 1, num_workers: int = 8) -> RealStream:
    """The paper profile's training stream (an iterator with `.stats`; see RealStream)."""
    return RealStream(cfg, start_step, rank, world_size, num_workers)
