"""Tiny datasets in each official layout, made on the fly: a dry run of the real-data path without the data.

`python -m jepa.data fixture --out data/fixture` writes, under one root, the layouts the readers of
jepa.data.real.indexes document (and docs/real_data.md describes), with real encoded videos (PyAV:
Xvid .avi for UCF-101, VP9 .webm for SSv2, H.264 .mp4 / .MP4 elsewhere) and JPEG images:

    ucf101/       UCF-101/<Class>/v_<Class>_gXX_cYY.avi, ucfTrainTestlist/{classInd,trainlist0N,testlist0N}.txt
    ssv2/         20bn-something-something-v2/<id>.webm, labels/{labels,train,validation}.json
    imagenet100/  imagenet100.txt, {train,val}/<wnid>/*.JPEG
    diving48/     rgb/<vid_name>.mp4, Diving48_vocab.json, Diving48_V2_{train,test}.json
    epic100/      annotations/EPIC_100_{train,validation,verb_classes}.csv, <P>/videos/<video_id>.MP4
    kinetics400/  annotations/{train,val,test}.csv, train/<youtube_id>_<start>_<end>.mp4
    kinetics100/  meta_{train,val,test}.txt (the CMN few-shot class split)

A few classes each, and in each dataset one file that is listed but corrupt (the loaders must skip
and count it), plus one Kinetics clip listed but never downloaded. Clips carry their class in how
a square moves, so probes have something to find. The sizes suit the `paper_mini` profile: enough
Kinetics-100 test classes and EPIC-100 unseen verbs (5 of each, 10 clips apiece) for 5-way 5-shot
episodes with 5 queries.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from jepa.data.real.indexes import HYRSM_EPIC_TEST_VERBS, HYRSM_EPIC_TRAIN_VERBS, kinetics_clip_name
from jepa.data.real.video import write_video

HEIGHT, WIDTH, FRAMES, FPS = 48, 64, 24, 24
EPIC_HEADER = ["narration_id", "participant_id", "video_id", "narration_timestamp", "start_timestamp",
               "stop_timestamp", "start_frame", "stop_frame", "narration", "verb", "verb_class", "noun",
               "noun_class", "all_nouns", "all_noun_classes"]
CORRUPT = b"\x1aE\xdf\xa3 this is not a video " * 40  # an EBML-like header, then garbage


@dataclass
class Written:
    """What one dataset's fixture holds: listed clips per official split, and the corrupt / missing ones."""

    splits: dict[str, int] = field(default_factory=dict)     # official split -> listed clips (bad included)
    classes: int = 0
    corrupt: list[str] = field(default_factory=list)          # listed files that exist but do not decode
    missing: list[str] = field(default_factory=list)          # listed clips without a file

    def as_dict(self) -> dict:
        return {"splits": self.splits, "classes": self.classes, "corrupt": self.corrupt, "missing": self.missing}


def clip(label: int, sample: int, frames: int = FRAMES, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """uint8 T x H x W x 3: a square moving in the class's direction over a per-sample background."""
    rng = np.random.default_rng([label, sample])
    video = np.empty((frames, height, width, 3), np.uint8)
    video[:] = rng.integers(30, 120, size=3, dtype=np.uint8)
    side = height // 3
    angle = 2 * np.pi * label / 7
    dx, dy = 2 * np.cos(angle), 2 * np.sin(angle)
    x0, y0 = rng.integers(0, width - side), rng.integers(0, height - side)
    colour = np.array([255, 60 + 25 * (label % 8), 40], np.uint8)
    for t in range(frames):
        x = int(x0 + dx * t) % (width - side)
        y = int(y0 + dy * t) % (height - side)
        video[t, y:y + side, x:x + side] = colour
    return video


def _video(path: Path, label: int, sample: int, frames: int = FRAMES, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_video(path, clip(label, sample, frames), fps=FPS, **kw)


def _corrupt(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(CORRUPT)
    return str(path.resolve())


def _text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# ----------------------------------------------------------------------------- datasets


def ucf101(root: Path, classes=("ApplyEyeMakeup", "Archery", "YoYo"), train: int = 2, test: int = 1) -> Written:
    """Official split 1 (folds 2 and 3 list the same clips), one corrupt training video."""
    lists, videos = root / "ucfTrainTestlist", root / "UCF-101"
    _text(lists / "classInd.txt", "".join(f"{i + 1} {name}\n" for i, name in enumerate(classes)))
    out = Written(classes=len(classes))
    entries = {"train": [], "test": []}
    for label, name in enumerate(classes):
        for split, count, group in (("train", train, 8), ("test", test, 1)):
            for i in range(count):
                relative = f"{name}/v_{name}_g{group + i:02d}_c01.avi"
                _video(videos / relative, label, 10 * i + (split == "test"), codec="mpeg4")
                entries[split].append(f"{relative} {label + 1}" if split == "train" else relative)
    bad = f"{classes[-1]}/v_{classes[-1]}_g25_c01.avi"
    out.corrupt.append(_corrupt(videos / bad))
    entries["train"].append(f"{bad} {len(classes)}")
    for fold in (1, 2, 3):
        for split, stem in (("train", "trainlist"), ("test", "testlist")):
            _text(lists / f"{stem}0{fold}.txt", "\n".join(entries[split]) + "\n")
    out.splits = {split: len(rows) for split, rows in entries.items()}
    return out


SSV2_TEMPLATES = ("Pushing [something] from left to right", "Pushing [something] from right to left",
                  "Moving [something] up")


def ssv2(root: Path, train: int = 2, val: int = 1) -> Written:
    labels = {t.replace("[", "").replace("]", ""): str(i) for i, t in enumerate(SSV2_TEMPLATES)}
    _text(root / "labels" / "labels.json", json.dumps(labels, indent=1))
    out = Written(classes=len(SSV2_TEMPLATES))
    records: dict[str, list] = {"train": [], "validation": []}
    video_id = 1000
    for label, template in enumerate(SSV2_TEMPLATES):
        for split, count in (("train", train), ("validation", val)):
            for i in range(count):
                video_id += 1
                _video(root / "20bn-something-something-v2" / f"{video_id}.webm", label, video_id, frames=12)
                records[split].append({"id": str(video_id), "label": template.replace("[something]", "a cup"),
                                       "template": template, "placeholders": ["a cup"]})
    out.corrupt.append(_corrupt(root / "20bn-something-something-v2" / "9999.webm"))
    records["train"].append({"id": "9999", "label": "moving a pen up", "template": SSV2_TEMPLATES[2],
                             "placeholders": ["a pen"]})
    for split, rows in records.items():
        _text(root / "labels" / f"{split}.json", json.dumps(rows, indent=4))
    out.splits = {"train": len(records["train"]), "val": len(records["validation"])}
    return out


IMAGENET_SYNSETS = ("n02869837", "n01749939", "n02488291")


def imagenet100(root: Path, train: int = 2, val: int = 1) -> Written:
    """A class list of three of CMC's synsets (the real list has 100), one corrupt training JPEG."""
    _text(root / "imagenet100.txt", "\n".join(IMAGENET_SYNSETS) + "\n")
    out = Written(classes=len(IMAGENET_SYNSETS))
    counts = {"train": 0, "val": 0}
    for label, wnid in enumerate(IMAGENET_SYNSETS):
        for split, count in (("train", train), ("val", val)):
            for i in range(count):
                folder = root / split / wnid
                folder.mkdir(parents=True, exist_ok=True)
                name = f"{wnid}_{i + 1}.JPEG" if split == "train" else f"ILSVRC2012_val_{label * 10 + i + 1:08d}.JPEG"
                Image.fromarray(clip(label, 100 + i + 10 * (split == "val"), frames=1)[0]).save(folder / name, "JPEG")
                counts[split] += 1
    out.corrupt.append(_corrupt(root / "train" / IMAGENET_SYNSETS[0] / f"{IMAGENET_SYNSETS[0]}_99.JPEG"))
    counts["train"] += 1
    out.splits = counts
    return out


DIVING_VOCAB = (["Back", "15som", "05Twis", "FREE"], ["Forward", "25som", "NoTwis", "PIKE"],
                ["Inward", "15som", "NoTwis", "TUCK"])


def diving48(root: Path, train: int = 2, test: int = 1) -> Written:
    """Diving48 V2 records with start/end frames inside each video, one corrupt test video."""
    _text(root / "Diving48_vocab.json", json.dumps([list(v) for v in DIVING_VOCAB]))
    out = Written(classes=len(DIVING_VOCAB))
    records: dict[str, list] = {"train": [], "test": []}
    for label in range(len(DIVING_VOCAB)):
        for split, count in (("train", train), ("test", test)):
            for i in range(count):
                name = f"{split}{label}{i}_{label:05d}"
                _video(root / "rgb" / f"{name}.mp4", label, 200 + 10 * i + (split == "test"))
                records[split].append({"vid_name": name, "label": label, "start_frame": 2, "end_frame": FRAMES - 2})
    out.corrupt.append(_corrupt(root / "rgb" / "broken_00001.mp4"))
    records["test"].append({"vid_name": "broken_00001", "label": 0, "start_frame": 0, "end_frame": FRAMES})
    for split, rows in records.items():
        _text(root / f"Diving48_V2_{split}.json", json.dumps(rows, indent=1))
    out.splits = {split: len(rows) for split, rows in records.items()}
    return out


def epic100(root: Path, test_verbs: int = 5, per_test_verb: int = 10, train_verbs: int = 3,
            per_train_verb: int = 2, fps: int = 30) -> Written:
    """Segments of HyRSM's unseen (test) and seen (train) verbs cut from one long video per participant.

    The verb ids are EPIC's own (so HyRSM's default split applies); one extra segment points into a
    corrupt video of a second participant.
    """
    test_ids, train_ids = HYRSM_EPIC_TEST_VERBS[:test_verbs], HYRSM_EPIC_TRAIN_VERBS[:train_verbs]
    verbs = sorted(test_ids + train_ids)
    annotations = root / "annotations"
    _csv(annotations / "EPIC_100_verb_classes.csv", ["id", "key", "instances", "category"],
         [[v, f"verb{v}", f"['verb{v}']", "fixture"] for v in range(max(verbs) + 1)])
    segments = [(v, i) for v in test_ids for i in range(per_test_verb)] + \
               [(v, i) for v in train_ids for i in range(per_train_verb)]
    seconds = 0.6
    total = int(np.ceil(len(segments) * seconds * fps)) + fps
    frames = np.concatenate([clip(verb, i, frames=int(seconds * fps)) for verb, i in segments]
                            + [clip(0, 999, frames=total - int(seconds * fps) * len(segments))])
    video = root / "P01" / "videos" / "P01_01.MP4"
    video.parent.mkdir(parents=True, exist_ok=True)
    write_video(video, frames, fps=fps)
    out = Written(classes=len(verbs))
    out.corrupt.append(_corrupt(root / "P02" / "videos" / "P02_01.MP4"))

    def stamp(t: float) -> str:
        return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{t % 60:05.2f}"

    rows = {"train": [], "validation": []}
    for n, (verb, i) in enumerate(segments):
        start, stop = n * seconds + 0.05, (n + 1) * seconds - 0.05
        split = "validation" if i % 4 == 3 else "train"
        rows[split].append([f"P01_01_{n}", "P01", "P01_01", stamp(start), stamp(start), stamp(stop),
                            int(start * fps) + 1, int(stop * fps), f"verb{verb} thing", f"verb{verb}", verb,
                            "thing", 0, "['thing']", "[0]"])
    rows["train"].append(["P02_01_0", "P02", "P02_01", stamp(1.0), stamp(1.0), stamp(2.0), 31, 60,
                          f"verb{test_ids[0]} thing", f"verb{test_ids[0]}", test_ids[0], "thing", 0, "['thing']",
                          "[0]"])
    for split, body in rows.items():
        _csv(annotations / f"EPIC_100_{split}.csv", EPIC_HEADER, body)
    out.splits = {"train": len(rows["train"]), "val": len(rows["validation"])}
    return out


KINETICS_CLASSES = {"train": ("air drumming", "archery"), "val": ("busking",),
                    "test": ("blasting sand", "busking cars", "cutting watermelon", "dancing ballet", "ice climbing")}


def kinetics(root: Path, per_test_class: int = 10, per_other_class: int = 2) -> Written:
    """Kinetics-400 (CVDF CSVs and clip files) under root/kinetics400 and the CMN split lists under root/kinetics100.

    One test clip is corrupt and one is listed but has no file (gone from YouTube).
    """
    k400, k100 = root / "kinetics400", root / "kinetics100"
    out = Written(classes=sum(len(c) for c in KINETICS_CLASSES.values()))
    lists: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    csv_rows: list[list] = []
    label = 0
    for split, names in KINETICS_CLASSES.items():
        for name in names:
            count = per_test_class if split == "test" else per_other_class
            for i in range(count):
                youtube_id = f"{label:02d}{i:02d}".ljust(11, "x")
                stem = kinetics_clip_name(youtube_id, 10 * i, 10 * i + 10)
                _video(k400 / "train" / f"{stem}.mp4", label, 300 + i)
                lists[split].append(f"{name}/{stem}")
                csv_rows.append([name, youtube_id, 10 * i, 10 * i + 10, "train", 0])
            label += 1
    bad = kinetics_clip_name("corruptclip", 0, 10)
    out.corrupt.append(_corrupt(k400 / "train" / f"{bad}.mp4"))
    gone = kinetics_clip_name("vanishedclp", 0, 10)
    out.missing.append(gone)
    first_test = KINETICS_CLASSES["test"][0]
    lists["test"] += [f"{first_test}/{bad}", f"{first_test}/{gone}"]
    csv_rows += [[first_test, "corruptclip", 0, 10, "train", 0], [first_test, "vanishedclp", 0, 10, "train", 0]]
    header = ["label", "youtube_id", "time_start", "time_end", "split", "is_cc"]
    _csv(k400 / "annotations" / "train.csv", header, csv_rows)
    _csv(k400 / "annotations" / "val.csv", header, [])
    _csv(k400 / "annotations" / "test.csv", header, [])
    for split, lines in lists.items():
        _text(k100 / f"meta_{split}.txt", "\n".join(lines) + "\n")
    out.splits = {split: len(lines) for split, lines in lists.items()}
    return out


BUILDERS = {"ucf101": ucf101, "ssv2": ssv2, "imagenet100": imagenet100, "diving48": diving48, "epic100": epic100,
            "kinetics": kinetics}


def build(out: str | Path, overwrite: bool = False) -> dict[str, dict]:
    """Write every dataset's fixture under `out`; returns {dataset: Written.as_dict()} (also out/fixture.json).

    Refuses a non-empty `out` unless `overwrite`: the folder may hold someone's real datasets.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"{out} is not empty; choose another --out (or pass --overwrite to write into it)")
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, builder in BUILDERS.items():
        folder = out if name == "kinetics" else out / name
        written["kinetics100" if name == "kinetics" else name] = builder(folder).as_dict()
    (out / "fixture.json").write_text(json.dumps(written, indent=1) + "\n", encoding="utf-8")
    return written
