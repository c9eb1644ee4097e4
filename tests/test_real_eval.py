"""Paper-scale probe sets and few-shot sets built from tiny fake official layouts."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from jepa import rq
from jepa.data import eval_data
from jepa.data.real.indexes import write_epic_verb_split
from jepa.data.real.stream import RealDataMissing
from jepa.data.real.video import frame_counter_clip, write_video

EPIC_HEADER = ("narration_id,participant_id,video_id,narration_timestamp,start_timestamp,stop_timestamp,"
               "start_frame,stop_frame,narration,verb,verb_class,noun,noun_class,all_nouns,all_noun_classes\n")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _video(path: Path, shift: int, frames: int = 24) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_video(path, np.roll(frame_counter_clip(frames, 48, 64), shift, axis=2), fps=24)


@pytest.fixture()
def project(tmp_path, monkeypatch) -> Path:
    """A project root (dvc.yaml) holding data/raw/, so caches land under tmp_path/data/generated/."""
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _profile(raw: Path, eval_train: int = 3, eval_val: int = 2) -> SimpleNamespace:
    from jepa.config import DataCfg

    return SimpleNamespace(data=DataCfg(source="real", root=str(raw), eval_train=eval_train, eval_val=eval_val,
                                        synthetic_motion_clips=20),
                           model=SimpleNamespace(frames=8, img_size=32))


def _eval_layout(raw: Path) -> None:
    _write(raw / "ucf101" / "README", "only has to exist for the eval build")
    imagenet = raw / "imagenet100"
    _write(imagenet / "imagenet100.txt", "n02869837\nn01749939\n")
    for split, count in (("train", 2), ("val", 1)):
        for label, wnid in enumerate(("n02869837", "n01749939")):
            for i in range(count):
                (imagenet / split / wnid).mkdir(parents=True, exist_ok=True)
                Image.fromarray(np.full((40, 60, 3), 60 * label + 20 * i, np.uint8)).save(
                    imagenet / split / wnid / f"{wnid}_{i}.JPEG", "JPEG")
    diving = raw / "diving48"
    _write(diving / "Diving48_vocab.json", json.dumps([["Back", "15som", "05Twis", "FREE"],
                                                      ["Forward", "25som", "NoTwis", "PIKE"]]))
    _write(diving / "Diving48_V2_train.json", json.dumps(
        [{"vid_name": f"train{i:02d}", "label": i % 2, "start_frame": 2, "end_frame": 20} for i in range(4)]))
    _write(diving / "Diving48_V2_test.json", json.dumps(
        [{"vid_name": "test00", "label": 0, "start_frame": 0, "end_frame": 24},
         {"vid_name": "broken", "label": 1, "start_frame": 0, "end_frame": 24}]))
    for i in range(4):
        _video(diving / "rgb" / f"train{i:02d}.mp4", 4 * i)
    _video(diving / "rgb" / "test00.mp4", 1)
    (diving / "rgb" / "broken.mp4").write_bytes(b"\x00" * 500)  # corrupt: skipped and counted
    ssv2 = raw / "ssv2"
    _write(ssv2 / "labels" / "labels.json", json.dumps({"Holding something next to something": "0",
                                                        "Spreading something onto something": "1"}))
    _write(ssv2 / "labels" / "train.json", json.dumps(
        [{"id": str(10 + i), "template": "Holding [something] next to [something]" if i % 2 == 0
          else "Spreading [something] onto [something]"} for i in range(3)]))
    _write(ssv2 / "labels" / "validation.json", json.dumps(
        [{"id": "20", "template": "Spreading [something] onto [something]"}]))
    for video_id in ("10", "11", "12", "20"):
        _video(ssv2 / "20bn-something-something-v2" / f"{video_id}.webm", int(video_id), frames=12)


def test_real_eval_build_writes_loadable_sets(project):
    raw = project / "data" / "raw"
    _eval_layout(raw)
    out = project / "data" / "generated" / "eval"
    manifest = eval_data.build(_profile(raw), out, seed=0)

    appearance_train, appearance_val = eval_data.load(out, "appearance")
    assert appearance_train.videos.shape == (3, 8, 32, 32, 3) and appearance_train.videos.dtype == np.uint8
    assert appearance_val.videos.shape[0] == 2 and appearance_train.class_names == ["n02869837", "n01749939"]
    assert (appearance_train.videos[:, 0] == appearance_train.videos[:, 7]).all()  # images are repeated frames
    motion_train, motion_val = eval_data.load(out, "motion")
    assert len(motion_train) == 3 and motion_train.latents.shape == (3, 8, 0)
    assert motion_val.labels.tolist() == [0]  # broken.mp4 skipped
    assert manifest["motion"]["bad_files_skipped"] == 1 and manifest["motion"]["bad_files"][0].endswith("broken.mp4")
    assert motion_train.class_names == ["Back 15som 05Twis FREE", "Forward 25som NoTwis PIKE"]
    temporal_train, temporal_val = eval_data.load(out, "temporal")
    assert temporal_train.labels.tolist() == [0, 1, 0] and temporal_val.labels.tolist() == [1]
    assert temporal_train.videos.std() > 0
    synthetic_train, synthetic_val = eval_data.load(out, "synthetic_motion")
    assert (len(synthetic_train), len(synthetic_val)) == (16, 4)
    assert json.loads((out / "manifest.json").read_text())["appearance"] == {
        "train": 3, "val": 2, "classes": 2, "dataset": "imagenet100", "bad_files_skipped": 0, "bad_files": []}
    caches = sorted(p.name for p in (project / "data" / "generated" / "frame_cache").iterdir())
    assert "diving48-test-f8-s32-uniform-n2-seed0" in caches and len(caches) == 6

    again = eval_data.build(_profile(raw), out, seed=0)  # caches are reused, the result is the same
    assert again == manifest
    assert np.array_equal(eval_data.load(out, "motion")[0].videos, motion_train.videos)


def test_real_eval_build_names_missing_datasets(project):
    with pytest.raises(RealDataMissing, match=r"missing: diving48, imagenet100, ssv2, ucf101"):
        eval_data.build(_profile(project / "data" / "raw"), project / "out")


# ----------------------------------------------------------------------------- few-shot


def _kinetics_layout(raw: Path) -> None:
    lists = raw / "kinetics100"
    _write(lists / "meta_train.txt", "air drumming/aaaaaaaaaaa_000000_000010\n")
    _write(lists / "meta_val.txt", "busking/bbbbbbbbbbb_000030_000040\n")
    test = [f"{name}/{name[0] * 11}_{i:06d}_{i + 10:06d}" for name in ("singing", "yodelling") for i in range(3)]
    _write(lists / "meta_test.txt", "\n".join(test) + "\n")
    for i, line in enumerate(test):
        _video(raw / "kinetics400" / "test" / f"{line.split('/')[1]}.mp4", i)


def _epic_layout(raw: Path) -> None:
    annotations = raw / "epic100" / "annotations"
    _write(annotations / "EPIC_100_verb_classes.csv",
           'id,key,instances,category\n0,take,"[\'take\']",retrieve\n1,put,"[\'put\']",leave\n'
           '2,wash,"[\'wash\']",clean\n')
    _write(annotations / "EPIC_100_train.csv", EPIC_HEADER
           + "P01_11_0,P01,P01_11,00:00:00.10,00:00:00.00,00:00:00.80,1,20,take plate,take,0,plate,2,['plate'],[2]\n"
           + "P01_11_1,P01,P01_11,00:00:01.00,00:00:00.90,00:00:01.90,22,46,wash cup,wash,2,cup,13,['cup'],[13]\n"
           + "P01_11_2,P01,P01_11,00:00:00.50,00:00:00.40,00:00:01.20,10,29,put cup,put,1,cup,13,['cup'],[13]\n")
    _write(annotations / "EPIC_100_validation.csv", EPIC_HEADER
           + "P01_11_3,P01,P01_11,00:00:00.10,00:00:00.20,00:00:01.00,5,24,wash pan,wash,2,pan,5,['pan'],[5]\n")
    _video(raw / "epic100" / "P01" / "videos" / "P01_11.MP4", 0, frames=48)
    write_epic_verb_split(raw / "epic100" / "fewshot_verb_split.csv", {0: "train", 1: "test", 2: "test"})


def test_kinetics100_test_classes_at_paper_scale(project):
    raw = project / "data" / "raw"
    _kinetics_layout(raw)
    clips = rq.fewshot_clips("kinetics_like", _profile(raw), n_per_class=2)
    assert clips.task == "kinetics100_test"
    assert clips.videos.shape == (4, 8, 32, 32, 3)
    assert clips.labels.tolist() == [0, 0, 1, 1]  # the reader numbers the test classes in list order
    assert clips.class_names == ["singing", "yodelling"]
    assert rq.fewshot_clips("kinetics_like", _profile(raw), n_per_class=5).labels.tolist() == [0, 0, 0, 1, 1, 1]


def test_epic100_unseen_verbs_at_paper_scale(project):
    raw = project / "data" / "raw"
    _epic_layout(raw)
    clips = rq.fewshot_clips("epic_like", _profile(raw), n_per_class=20)
    assert clips.task == "epic100_unseen_verbs"
    assert sorted(clips.labels.tolist()) == [1, 2, 2]  # test verbs only; take (train verb) is excluded
    assert clips.videos.shape == (3, 8, 32, 32, 3)
    # segments differ, so the clips do: 'wash cup' (0.9-1.9 s) and 'wash pan' (0.2-1.0 s)
    wash = clips.videos[clips.labels == 2].astype(int)
    assert np.abs(wash[0] - wash[1]).mean() > 1


def test_fewshot_without_the_data_says_what_is_missing(project):
    with pytest.raises(RealDataMissing, match=r"(?s)missing: kinetics400, kinetics100.*cvdfoundation"):
        rq.fewshot_clips("kinetics_like", _profile(project / "data" / "raw"))
