"""The clip Dataset on real encoded files (bad-file handling included) and weighted mixing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from jepa.data.real.indexes import read_ucf101
from jepa.data.mixing import WeightedMixSampler, mix_datasets
from jepa.data.real.video import frame_counter_clip, write_video
from jepa.data.real.video_dataset import IMAGENET_MEAN, IMAGENET_STD, TooManyBadFilesError, VideoClipDataset


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    clip = frame_counter_clip(24, height=48, width=64)
    paths = {f"good{i}": write_video(folder / f"good{i}.mp4", clip, fps=24) for i in range(4)}
    corrupt = folder / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(1).bytes(3000))
    whole = write_video(folder / "whole.mp4", clip, container_options={"movflags": "+faststart"})
    truncated = folder / "truncated.mp4"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    image = folder / "n01234567_1.png"
    Image.fromarray(np.full((40, 60, 3), (255, 0, 0), np.uint8)).save(image)
    return {**paths, "corrupt": corrupt, "truncated": truncated, "missing": folder / "missing.mp4", "image": image}


def _index(paths: list[Path], **columns) -> pd.DataFrame:
    data = dict(path=[str(p) for p in paths], label=list(range(len(paths))), label_name="x", start=np.nan,
                end=np.nan, split="train", time_unit="frame")
    data.update(columns)
    return pd.DataFrame(data)


def _unnormalize(clip: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1, 1)
    return clip * std + mean


def test_eval_clip_shape_values_and_frames(files):
    dataset = VideoClipDataset(_index([files["good0"]]), num_frames=4, sampling="uniform", crop_size=32,
                               short_side=48, train=False)
    clip, label = dataset[0]
    assert clip.shape == (3, 4, 32, 32) and clip.dtype == torch.float32 and label == 0
    assert dataset.frame_indices(0).tolist() == [3, 9, 15, 21]  # centres of 4 quarters of 24 frames
    pixels = _unnormalize(clip)
    assert pixels.min() > -0.05 and pixels.max() < 1.05
    # resized 48x64 -> 48x64 (short side 48), centre crop 32: columns 16..47 of the source
    source = torch.from_numpy(frame_counter_clip(24)[[3, 9, 15, 21], 8:40, 16:48]).permute(3, 0, 1, 2) / 255
    assert (pixels - source).abs().mean() < 0.03


def test_segment_restriction_in_seconds_and_frames(files):
    index = _index([files["good0"], files["good1"]], start=[0.5, 4], end=[0.75, 8], time_unit=["sec", "frame"])
    dataset = VideoClipDataset(index, num_frames=4, sampling="stride", stride=1, crop_size=32, train=True)
    assert dataset.frame_indices(0).tolist() == [13, 14, 15, 16]  # [0.5 s, 0.75 s) at 24 fps = frames 12..17, centred
    for seed in range(5):
        indices = dataset.frame_indices(1, np.random.default_rng(seed))
        assert indices.min() >= 4 and indices.max() <= 7 and np.diff(indices).tolist() == [1, 1, 1]


def test_training_augmentation_is_reproducible_per_epoch(files):
    index = _index([files["good0"]] * 2)
    dataset = VideoClipDataset(index, num_frames=8, stride=2, crop_size=24, train=True, seed=5)
    first, again = dataset[0][0], dataset[0][0]
    assert torch.equal(first, again)
    dataset.set_epoch(1)
    assert not torch.equal(first, dataset[0][0])  # new crop / start / flip each epoch


def test_image_enters_as_repeated_frames(files):
    dataset = VideoClipDataset(_index([files["image"]]), num_frames=6, crop_size=16, train=True)
    clip, _ = dataset[0]
    assert clip.shape == (3, 6, 16, 16)
    assert torch.allclose(clip, clip[:, :1].expand_as(clip))
    assert torch.allclose(_unnormalize(clip)[:, 0].mean(dim=(1, 2)), torch.tensor([1.0, 0.0, 0.0]), atol=0.02)


def test_bad_files_are_replaced_counted_and_listed(files):
    paths = [files["good0"], files["corrupt"], files["good1"], files["truncated"], files["good2"], files["missing"],
             files["good3"], files["good0"], files["good1"], files["good2"]]
    dataset = VideoClipDataset(_index(paths), num_frames=4, crop_size=16, train=False, max_bad_fraction=0.3)
    labels = [dataset[i][1] for i in range(len(dataset))]
    assert sorted(dataset.bad_files) == sorted(str(files[k]) for k in ("corrupt", "truncated", "missing"))
    assert dataset.num_bad == 3 and dataset.num_replacements >= 3
    assert "file not found" in dataset.bad_reasons[str(files["missing"])]
    good_labels = {0, 2, 4, 6, 7, 8, 9}
    assert [labels[i] for i in (0, 2, 4, 6)] == [0, 2, 4, 6]  # good items keep their own clip
    assert all(labels[i] in good_labels for i in (1, 3, 5))  # bad items come back as some good clip

    replay = VideoClipDataset(_index(paths), num_frames=4, crop_size=16, train=False, max_bad_fraction=0.3)
    assert [replay[i][1] for i in range(len(replay))] == labels  # replacements are deterministic


def test_bad_files_seen_by_loader_workers_are_shared(files, tmp_path):
    paths = [files["good0"], files["corrupt"], files["good1"], files["missing"]] * 2
    dataset = VideoClipDataset(_index(paths), num_frames=4, crop_size=16, train=False, max_bad_fraction=0.5,
                               bad_log=tmp_path / "bad.tsv")
    loader = DataLoader(dataset, batch_size=2, num_workers=2)
    labels = torch.cat([batch[1] for batch in loader]).tolist()
    assert len(labels) == 8 and set(labels) <= {0, 2, 4, 6}  # every bad item replaced by a good clip
    assert dataset._bad_reasons == {}  # the main process decoded nothing itself ...
    assert sorted(dataset.bad_files) == sorted([str(files["corrupt"]), str(files["missing"])])  # ... yet sees both


def test_too_many_bad_files_raise_with_the_list(files):
    paths = [files["good0"], files["corrupt"], files["missing"], files["good1"], files["good2"], files["good3"]]
    dataset = VideoClipDataset(_index(paths), num_frames=4, crop_size=16, train=False, max_bad_fraction=0.2)
    dataset[1]  # one bad file is tolerated (0.2 * 6 -> 1 allowed)
    with pytest.raises(TooManyBadFilesError, match=r"2 of 6 clips are unreadable") as error:
        dataset[2]
    assert str(files["corrupt"]) in str(error.value) and str(files["missing"]) in str(error.value)


def test_loader_batches_from_a_real_index(files, tmp_path):
    root = tmp_path / "ucf"
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("1 Good\n2 Other\n")
    (lists / "trainlist01.txt").write_text("Good/a.mp4 1\nGood/b.mp4 1\nOther/c.mp4 2\nOther/d.mp4 2\n")
    (lists / "testlist01.txt").write_text("Good/e.mp4\n")
    for name, source in zip("abcde", ["good0", "good1", "good2", "good3", "good0"]):
        target = root / "UCF-101" / ("Good" if name in "abe" else "Other") / f"{name}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[source].read_bytes())
    index = read_ucf101(root, splits="train")
    loader = DataLoader(VideoClipDataset(index, num_frames=8, stride=2, crop_size=32), batch_size=4)
    clips, labels = next(iter(loader))
    assert clips.shape == (4, 3, 8, 32, 32) and labels.tolist() == [0, 0, 1, 1]


# ----------------------------------------------------------------------------- mixing


def test_mixing_follows_weights_and_covers_sources():
    sampler = WeightedMixSampler([50, 200, 100], [0.2, 0.6, 0.2], num_samples=6000, seed=0)
    stream = np.array(list(sampler))
    source = np.digitize(stream, [50, 250])
    shares = np.bincount(source, minlength=3) / len(stream)
    assert np.allclose(shares, [0.2, 0.6, 0.2], atol=0.02)
    assert stream.min() >= 0 and stream.max() < 350
    # within a source, draws go through a permutation before repeating
    first_small = stream[source == 0][:50]
    assert len(set(first_small.tolist())) == 50


def test_mixing_ranks_are_disjoint_and_deterministic():
    def ranks(epoch: int) -> list[list[int]]:
        samplers = [WeightedMixSampler([1000, 3000], [0.5, 0.5], num_samples=400, seed=7, rank=r, world_size=4)
                    for r in range(4)]
        for sampler in samplers:
            sampler.set_epoch(epoch)
        return [list(sampler) for sampler in samplers]

    epoch0 = ranks(0)
    assert all(len(stream) == 400 for stream in epoch0)
    flat = [i for stream in epoch0 for i in stream]
    assert len(set(flat)) == len(flat)  # 1,600 draws from 4,000 clips: no clip on two ranks
    assert epoch0 == ranks(0)
    assert epoch0 != ranks(1)


def test_mix_datasets_indexes_the_concatenation(files):
    videos = VideoClipDataset(_index([files["good0"], files["good1"]]), num_frames=4, crop_size=16)
    images = VideoClipDataset(_index([files["image"]], label=[9]), num_frames=4, crop_size=16)
    mixed, sampler = mix_datasets([videos, images], [0.0, 1.0], num_samples=3)
    assert len(mixed) == 3 and list(sampler) == [2, 2, 2]
    assert mixed[2][1] == 9
    with pytest.raises(ValueError, match="sources \\[1\\] are empty"):
        WeightedMixSampler([10, 0], [0.5, 0.5])
