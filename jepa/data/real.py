"""The paper profile's data: official datasets under data/raw/<dataset>/, mixed by regime weights.

Without the data, the pipeline stops at once with what is missing, the layout
expected and where each dataset is obtained, instead of starting to train.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import torch
from torch.utils.data import DataLoader, Dataset

from jepa.data.indexes import SOURCES, read_index

# Pretraining sources of each regime (DESIGN section 3) and how the synthetic weight keys map onto them.
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


def real_stream(cfg, start_step: int = 0, rank: int = 0, world_size: int = 1) -> Iterator:
    """Infinite (clip, is_image) batches from the regime's datasets, weighted and split across ranks."""
    from jepa.data.mixing import mix_datasets
    from jepa.data.video_dataset import VideoClipDataset

    p = cfg.profile
    names = REGIME_DATASETS[cfg.regime]
    check_raw_data(p.data.root, names)
    weights = {SYNTHETIC_TO_REAL[k]: v for k, v in p.data.mixed_weights.items()}
    datasets = []
    for name in names:
        index = read_index(name, Path(p.data.root) / name, splits="train")
        # single regime: 16 fps clips; mixed: frame stride 2 (DESIGN section 3)
        sampling = dict(sampling="fps", target_fps=16) if cfg.regime == "single" else dict(sampling="stride", stride=2)
        ds = VideoClipDataset(index, num_frames=p.model.frames, crop_size=p.model.img_size, train=True,
                              seed=cfg.seed, **sampling)
        datasets.append(_Tagged(ds, is_image=name == "imagenet100"))
    concat, sampler = mix_datasets(datasets, [weights[n] if len(names) > 1 else 1.0 for n in names],
                                   seed=cfg.seed, rank=rank, world_size=world_size)
    per_rank = p.train.batch_size // world_size
    loader = DataLoader(concat, batch_size=per_rank, sampler=sampler, num_workers=8, drop_last=True,
                        pin_memory=torch.cuda.is_available(), persistent_workers=True)
    steps_per_epoch = len(loader)
    epoch, skip = divmod(start_step, steps_per_epoch)
    while True:
        sampler.set_epoch(epoch)
        for i, (clip, is_image) in enumerate(loader):
            if i >= skip:
                yield clip, is_image
        epoch, skip = epoch + 1, 0
