"""Readers for the official annotation formats, each giving one normalized clip index.

Every reader returns a pandas DataFrame with the columns of INDEX_COLUMNS:

    path        absolute path of the video (or image) file
    label       integer class id, 0-based
    label_name  human-readable class name
    start, end  segment inside the file, end exclusive; NaN = the whole file
    split       "train" | "val" | "test" (official names normalized)
    time_unit   unit of start/end: "frame" (0-based frame index) or "sec"

so loaders and few-shot code never care which dataset a clip came from. Segment units per
dataset: UCF-101, SSv2, Kinetics and ImageNet-100 use whole files (NaN); Diving-48 V2 gives
start_frame/end_frame (frames); EPIC-KITCHENS-100 uses its start/stop timestamps (seconds)
by default, because they do not depend on the video's frame rate, or 0-based frames
converted from its 1-based start_frame/stop_frame with `segment_unit="frame"`.

Readers check the annotation files strictly and raise DatasetFormatError naming the file,
the line, what was expected and where the dataset is obtained: a wrong file found at
paper-scale start-up costs minutes, one found mid-training costs a run.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

INDEX_COLUMNS = ["path", "label", "label_name", "start", "end", "split", "time_unit"]
SPLITS = ("train", "val", "test")
VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".avi", ".mov", ".MP4")
IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png")

SOURCES = {
    "ucf101": "UCF-101 and ucfTrainTestlist come from the UCF Center for Research in Computer Vision, "
    "https://www.crcv.ucf.edu/data/UCF101.php",
    "ssv2": "Something-Something V2 (videos and labels/*.json) comes from Qualcomm AI Research (formerly 20BN), "
    "https://www.qualcomm.com/developer/software/something-something-v-2-dataset",
    "diving48": "Diving48 V2 (rgb videos, Diving48_vocab.json, Diving48_V2_{train,test}.json) comes from SVCL, UC San Diego, "
    "http://www.svcl.ucsd.edu/projects/resound/dataset.html",
    "imagenet100": "ImageNet-100 is the 100-synset list imagenet100.txt of CMC (github.com/HobbitLong/CMC) "
    "applied to ILSVRC-2012 train/val from https://image-net.org",
    "epic100": "EPIC-KITCHENS-100 videos come from https://epic-kitchens.github.io (data.bris.ac.uk), annotations from "
    "github.com/epic-kitchens/epic-kitchens-100-annotations",
    "kinetics400": "Kinetics-400 videos and {train,val,test}.csv come from the CVDF mirror, "
    "github.com/cvdfoundation/kinetics-dataset (k400_downloader.sh)",
    "kinetics100": "Kinetics-100 few-shot splits (CMN, Zhu & Yang ECCV 2018) come from "
    "github.com/xianyongqin/few-shot-video-classification data/kinetics100/data_splits/meta_{train,val,test}.txt",
    "epic100_fewshot": "the EPIC-100 few-shot verb split follows HyRSM (github.com/alibaba-mmai-research/HyRSM, "
    "configs/projects/hyrsm/epic_kitchens); write one with jepa.data.real.indexes.write_epic_verb_split",
}

# The 100 ILSVRC synsets of CMC's imagenet100.txt, in file order (sha256 of the file with one
# id per line: 79f3f155...1397). Used when the dataset root has no class-list file.
IMAGENET100_SYNSETS = tuple(
    """n02869837 n01749939 n02488291 n02107142 n13037406 n02091831 n04517823 n04589890 n03062245 n01773797
n01735189 n07831146 n07753275 n03085013 n04485082 n02105505 n01983481 n02788148 n03530642 n04435653
n02086910 n02859443 n13040303 n03594734 n02085620 n02099849 n01558993 n04493381 n02109047 n04111531
n02877765 n04429376 n02009229 n01978455 n02106550 n01820546 n01692333 n07714571 n02974003 n02114855
n03785016 n03764736 n03775546 n02087046 n07836838 n04099969 n04592741 n03891251 n02701002 n03379051
n02259212 n07715103 n03947888 n04026417 n02326432 n03637318 n01980166 n02113799 n02086240 n03903868
n02483362 n04127249 n02089973 n03017168 n02093428 n02804414 n02396427 n04418357 n02172182 n01729322
n02113978 n03787032 n02089867 n02119022 n03777754 n04238763 n02231487 n03032252 n02138441 n02104029
n03837869 n03494278 n04136333 n03794056 n03492542 n02018207 n04067472 n03930630 n03584829 n02123045
n04229816 n02100583 n03642806 n04336792 n03259280 n02116738 n02108089 n03424325 n01855672 n02090622""".split()
)

# HyRSM's EPIC-100 few-shot verb split (EPIC verb class ids; train ∪ validation narrations of
# verbs 0-79, re-partitioned by verb), decoded from its train/test_few_shot.txt lists.
HYRSM_EPIC_TRAIN_VERBS = (
    0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 26, 28, 32, 33, 34, 35, 38,
    39, 41, 43, 46, 48, 50, 51, 52, 53, 54, 56, 57, 59, 61, 63, 64, 65, 66, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77,
    78, 79,
)  # fmt: skip
HYRSM_EPIC_TEST_VERBS = (2, 24, 25, 27, 29, 30, 31, 36, 37, 40, 42, 44, 45, 47, 49, 55, 58, 60, 62, 67)


class DatasetFormatError(ValueError):
    """An annotation file or dataset root is missing or not in the official format."""

    def __init__(
        self,
        path: str | Path,
        problem: str,
        expected: str | None = None,
        line: int | None = None,
        dataset: str | None = None,
    ) -> None:
        self.path, self.problem, self.expected, self.line, self.dataset = str(path), problem, expected, line, dataset
        where = f"{path}, line {line}" if line is not None else str(path)
        message = f"{where}: {problem}"
        if expected:
            message += f"; expected {expected}"
        if dataset in SOURCES:
            message += f". ({SOURCES[dataset]})"
        super().__init__(message)


# ----------------------------------------------------------------------------- helpers


def _require_root(root: str | Path, dataset: str) -> Path:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetFormatError(root, "dataset root not found", "a directory holding the dataset", dataset=dataset)
    return root.resolve()


def _locate(root: Path, candidates: Sequence[str], dataset: str, what: str) -> Path:
    """The first of root/candidate that exists: official archives unpack to slightly different layouts."""
    for candidate in candidates:
        if (root / candidate).exists():
            return root / candidate
    raise DatasetFormatError(root / candidates[0], f"{what} not found", f"one of {list(candidates)} under {root}",
                             dataset=dataset)


def _first_dir(root: Path, candidates: Sequence[str]) -> Path:
    return next((root / c for c in candidates if (root / c).is_dir()), root)


def _read_text(path: Path, dataset: str | None = None) -> str:
    """The file's text: UTF-8, a leading byte-order mark dropped (spreadsheet exports add one); other bytes
    are a DatasetFormatError naming the line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise DatasetFormatError(path, f"byte 0x{data[error.start]:02x} at column {column} is not UTF-8",
                                 "UTF-8 text (re-save the file as UTF-8)", line, dataset) from None


def _text_lines(path: Path, dataset: str | None = None) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of non-blank lines."""
    for number, text in enumerate(_read_text(path, dataset).splitlines(), start=1):
        if text.strip():
            yield number, text.strip()


def _json_load(path: Path, dataset: str, expected: str) -> Any:
    try:
        return json.loads(_read_text(path, dataset))
    except json.JSONDecodeError as error:
        raise DatasetFormatError(path, f"malformed JSON ({error.msg}, column {error.colno})", expected,
                                 line=error.lineno, dataset=dataset) from error


def _json_records(path: Path, dataset: str, expected: str) -> Iterator[tuple[int, dict]]:
    """(line number, record) for a JSON file holding a list of objects.

    The line numbers let an error say where a bad record sits in a 170k-record file.
    """
    records = _json_load(path, dataset, f"a JSON list of {expected}")
    if not isinstance(records, list):
        raise DatasetFormatError(path, f"top level is a JSON {type(records).__name__}", f"a JSON list of {expected}",
                                 line=1, dataset=dataset)
    text = _read_text(path, dataset)
    decoder = json.JSONDecoder()
    position, line, counted_to = text.index("[") + 1, 1, 0
    for record in records:
        while text[position] in " \t\r\n,":
            position += 1
        line += text.count("\n", counted_to, position)
        counted_to = position
        _, position = decoder.raw_decode(text, position)
        if not isinstance(record, dict):
            raise DatasetFormatError(path, f"record is {record!r}", expected, line=line, dataset=dataset)
        yield line, record


def _field(record: Mapping, key: str, kind: type, path: Path, line: int, dataset: str, expected: str) -> Any:
    if key not in record:
        raise DatasetFormatError(path, f"missing key {key!r} in {dict(record)!r}", expected, line=line, dataset=dataset)
    if kind is int:  # int(1.7) == 1 and int(True) == 1: neither is a label or a frame number
        return _as_int(record[key], path, line, dataset, expected, key=key)
    try:
        return kind(record[key])
    except (TypeError, ValueError) as error:
        raise DatasetFormatError(path, f"{key}={record[key]!r} is not {kind.__name__}", expected, line=line,
                                 dataset=dataset) from error


def _csv_records(path: Path, required: Sequence[str], dataset: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a headed CSV, checking the header and the field count of each row."""
    with io.StringIO(_read_text(path, dataset), newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise DatasetFormatError(path, "file is empty", f"a header with {list(required)}", line=1, dataset=dataset)
        header = [name.strip() for name in header]
        missing = [name for name in required if name not in header]
        if missing:
            raise DatasetFormatError(path, f"header {header} lacks columns {missing}", f"columns {list(required)}",
                                     line=1, dataset=dataset)
        for row in reader:
            if not row or not "".join(row).strip():
                continue
            if len(row) < len(header):
                raise DatasetFormatError(path, f"row has {len(row)} fields: {row}", f"{len(header)} fields {header}",
                                         line=reader.line_num, dataset=dataset)
            yield reader.line_num, dict(zip(header, (value.strip() for value in row)))


def _as_int(value: Any, path: Path, line: int, dataset: str, what: str, key: str | None = None) -> int:
    """An integer written as one (JSON 3, CSV "3"): 1.7, "1.7", true and "true" are errors, not 1."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    shown = f"{key}={value!r}" if key else repr(value)
    raise DatasetFormatError(path, f"{shown} is not an integer", what, line=line, dataset=dataset)


def _as_whole(value: str, path: Path, line: int, dataset: str, what: str) -> int:
    """Whole seconds written as "12" or "12.0"; "12.7" is an error, not 12."""
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not number.is_integer():
        raise DatasetFormatError(path, f"{value!r} is not an integer", what, line=line, dataset=dataset)
    return int(number)


def parse_timestamp(text: str) -> float:
    """EPIC's "HH:MM:SS.ff" (or "MM:SS.ff", or plain seconds) in seconds."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(re.fullmatch(r"\d+(\.\d+)?", p) for p in parts):
        raise ValueError(f"timestamp {text!r} is not HH:MM:SS.ff")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def _split_filter(splits: str | Iterable[str] | None) -> set[str] | None:
    if splits is None:
        return None
    names = [splits] if isinstance(splits, str) else list(splits)
    names = [n.strip() for name in names for n in name.split(",") if n.strip()]
    wanted = {normalize_split(n) for n in names}
    return wanted or None


def normalize_split(name: str) -> str:
    """Official split names ("validation", "validate", "testing", ...) to train / val / test."""
    key = name.strip().lower()
    aliases = {"training": "train", "validation": "val", "validate": "val", "valid": "val", "testing": "test"}
    key = aliases.get(key, key)
    if key not in SPLITS:
        raise ValueError(f"unknown split {name!r}; expected one of {SPLITS} (or validation/validate)")
    return key


def _frame(rows: list[dict], dataset: str, extra: Sequence[str] = (), root: Path | None = None,
           source: Path | None = None) -> pd.DataFrame:
    """The index of `rows`. With `root`: rows whose path leaves root or repeat a clip are errors naming the
    annotation file and line (rows carry them as `_where`), and rows whose file is missing are dropped and
    counted in df.attrs["missing_videos"] (all missing: the root is wrong, an error)."""
    missing = 0
    if root is not None:
        rows = _checked(rows, dataset, root)
        present = _present(rows)
        missing = len(rows) - len(present)
        if rows and not present:
            raise DatasetFormatError(root, f"none of the {len(rows)} clips listed in {source or 'the annotations'} "
                                     "has its video file", "the videos under the dataset root", dataset=dataset)
        if missing:
            log.warning("%s: %d of %d listed clips have no video file under %s", dataset, missing, len(rows), root)
        rows = present
    for row in rows:
        row.pop("_where", None)
    df = pd.DataFrame(rows, columns=INDEX_COLUMNS + list(extra))
    if root is not None:
        df.attrs["missing_videos"] = missing
    df["label"] = df["label"].astype(np.int64)
    df["start"] = df["start"].astype(float)
    df["end"] = df["end"].astype(float)
    df.attrs["dataset"] = dataset
    return df


def _checked(rows: list[dict], dataset: str, root: Path) -> list[dict]:
    """Refuse a row whose path leaves `root` (`..`, an absolute name) and a clip listed twice."""
    base = os.path.normpath(str(root))
    seen: dict[tuple, tuple] = {}
    for row in rows:
        file, line = row.get("_where", (root, None))
        path = os.path.normpath(row["path"])
        if os.path.commonpath([path, base]) != base:
            raise DatasetFormatError(file, f"path {row['path']!r} leaves the dataset root {root}",
                                     "names inside the dataset root (no '..', no absolute paths)", line, dataset)
        row["path"] = path
        key = (path, *(None if v != v else v for v in (row["start"], row["end"])), row.get("narration_id"))
        if key in seen:
            first_file, first_line, first = seen[key]
            where = f"line {first_line}" + ("" if first_file == file else f" of {first_file}")
            problem = f"clip {Path(path).name} is listed twice (first on {where})"
            if (first["label"], first["split"]) != (row["label"], row["split"]):
                problem += (f", as {first['label_name']!r} ({first['split']}) there and {row['label_name']!r} "
                            f"({row['split']}) here")
            raise DatasetFormatError(file, problem, "each clip once", line, dataset)
        seen[key] = (file, line, row)
    return rows


def _present(rows: list[dict]) -> list[dict]:
    """Rows whose file exists; one listing per folder instead of a stat call per row."""
    listings: dict[str, set[str]] = {}
    kept = []
    for row in rows:
        folder, name = os.path.split(row["path"])
        if folder not in listings:
            try:
                listings[folder] = set(os.listdir(folder))
            except OSError:
                listings[folder] = set()
        if name in listings[folder]:
            kept.append(row)
    return kept


def _row(path: Path | str, label: int, label_name: str, split: str, start: float = math.nan, end: float = math.nan,
         time_unit: str = "frame", **extra: Any) -> dict:
    return dict(path=str(path), label=label, label_name=label_name, start=start, end=end, split=split,
                time_unit=time_unit, **extra)


def _index_files(root: Path, extensions: Sequence[str]) -> dict[str, Path]:
    """file stem -> path for every matching file under root (one walk instead of 300k stat calls)."""
    suffixes = tuple(e.lower() for e in extensions)
    found: dict[str, Path] = {}
    for directory, _, files in os.walk(root):
        for name in files:
            if name.lower().endswith(suffixes):
                found.setdefault(Path(name).stem, Path(directory) / name)
    return found


# ----------------------------------------------------------------------------- UCF-101


def read_ucf101(root: str | Path, splits: str | Iterable[str] | None = None, fold: int = 1) -> pd.DataFrame:
    """UCF-101 official split `fold` (1-3): train = trainlist0N.txt, test = testlist0N.txt.

    Layout: root/ucfTrainTestlist/{classInd.txt,trainlist01.txt,testlist01.txt} and videos
    root/UCF-101/<Class>/v_<Class>_gXX_cYY.avi (or directly root/<Class>/...). Labels are
    classInd's 1-based ids minus one. Whole videos (start/end NaN).
    """
    dataset = "ucf101"
    root = _require_root(root, dataset)
    if fold not in (1, 2, 3):
        raise ValueError(f"UCF-101 fold must be 1, 2 or 3, got {fold}")
    lists = _first_dir(root, ["ucfTrainTestlist", "annotations"])
    class_file = _locate(lists, ["classInd.txt"], dataset, "class list")
    names: dict[int, str] = {}
    for line, text in _text_lines(class_file, dataset):
        parts = text.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise DatasetFormatError(class_file, f"got {text!r}", "'<1-based id> <ClassName>'", line, dataset)
        if int(parts[0]) in names or parts[1] in names.values():
            raise DatasetFormatError(class_file, f"class id or name of {text!r} is listed twice", "each class once",
                                     line, dataset)
        names[int(parts[0])] = parts[1]
    ids = {name: number for number, name in names.items()}
    videos = _first_dir(root, ["UCF-101", "videos"])
    wanted = _split_filter(splits) or {"train", "test"}
    rows = []
    for split, stem in (("train", "trainlist"), ("test", "testlist")):
        if split not in wanted:
            continue
        list_file = _locate(lists, [f"{stem}0{fold}.txt"], dataset, f"{split} list of fold {fold}")
        for line, text in _text_lines(list_file, dataset):
            parts = text.split()
            relative = parts[0]
            class_name = relative.split("/")[0]
            if len(parts) > 2 or "/" not in relative or class_name not in ids:
                raise DatasetFormatError(list_file, f"got {text!r}",
                                         "'<ClassName>/v_<ClassName>_gXX_cYY.avi [<id>]' with a class of classInd.txt",
                                         line, dataset)
            number = ids[class_name]
            if len(parts) == 2 and _as_int(parts[1], list_file, line, dataset, "a class id") != number:
                raise DatasetFormatError(list_file, f"class id {parts[1]} disagrees with folder {class_name} "
                                         f"(id {number} in classInd.txt)", "matching ids", line, dataset)
            rows.append(_row(videos / relative, number - 1, class_name, split, _where=(list_file, line)))
    return _frame(rows, dataset, root=root, source=lists)


# ----------------------------------------------------------------------------- SSv2


def read_ssv2(root: str | Path, splits: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Something-Something V2: labels/labels.json + labels/{train,validation}.json, videos {id}.webm.

    Videos live in root/20bn-something-something-v2/ (or root/videos/, or root). The label
    is labels.json's index of the record's template with its brackets removed. Whole videos.
    The test split has no public labels and is not indexed.
    """
    dataset = "ssv2"
    root = _require_root(root, dataset)
    labels_dir = _first_dir(root, ["labels", "annotations"])
    labels_file = _locate(labels_dir, ["labels.json", "something-something-v2-labels.json"], dataset, "labels.json")
    label_map = _json_load(labels_file, dataset, '{"<template without brackets>": "<index>", ...}')
    if not isinstance(label_map, dict):
        raise DatasetFormatError(labels_file, f"top level is a JSON {type(label_map).__name__}",
                                 '{"<template without brackets>": "<index>", ...}', line=1, dataset=dataset)
    templates = {}
    for template, index in label_map.items():
        try:
            templates[template] = _as_int(index, labels_file, None, dataset, "string indices like \"0\"")
        except DatasetFormatError as error:
            raise DatasetFormatError(labels_file, f"index {index!r} of {template!r} is not an integer",
                                     "string indices like \"0\"", dataset=dataset) from error
    repeated = sorted({i for i in templates.values() if list(templates.values()).count(i) > 1})
    if repeated:
        raise DatasetFormatError(labels_file, f"indices {repeated[:5]} are given to more than one template",
                                 "each index once", dataset=dataset)
    videos = _first_dir(root, ["20bn-something-something-v2", "videos"])
    wanted = _split_filter(splits) or {"train", "val"}
    if "test" in wanted:
        raise ValueError("SSv2 test labels are not public; index the train and val splits")
    expected = '{"id": "78687", "template": "Holding [something] next to [something]", ...}'
    rows = []
    for split, names in (("train", ["train.json", "something-something-v2-train.json"]),
                         ("val", ["validation.json", "something-something-v2-validation.json"])):
        if split not in wanted:
            continue
        records_file = _locate(labels_dir, names, dataset, f"{split} annotations")
        for line, record in _json_records(records_file, dataset, expected):
            video_id = _field(record, "id", str, records_file, line, dataset, expected)
            template = _field(record, "template", str, records_file, line, dataset, expected)
            name = template.replace("[", "").replace("]", "")
            if name not in templates:
                raise DatasetFormatError(records_file, f"template {template!r} is not in {labels_file.name}",
                                         "a template listed in labels.json", line, dataset)
            rows.append(_row(videos / f"{video_id}.webm", templates[name], name, split, _where=(records_file, line)))
    return _frame(rows, dataset, root=root, source=labels_dir)


# ----------------------------------------------------------------------------- Diving-48


def read_diving48(root: str | Path, splits: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Diving48 V2: Diving48_vocab.json + Diving48_V2_{train,test}.json, videos rgb/<vid_name>.mp4.

    Segments are the records' start_frame/end_frame (0-based frames, end exclusive),
    clipped to the video by the loader. Class names join the vocab's 4-tuple
    (takeoff, somersault, twist, flight) with spaces.
    """
    dataset = "diving48"
    root = _require_root(root, dataset)
    annotations = _first_dir(root, ["annotations", "labels"])
    vocab_file = _locate(annotations, ["Diving48_vocab.json"], dataset, "class vocabulary")
    vocab = _json_load(vocab_file, dataset, 'a list of [takeoff, somersault, twist, flight] lists')
    if not isinstance(vocab, list) or not all(isinstance(v, list) for v in vocab):
        raise DatasetFormatError(vocab_file, "not a list of lists", 'a list of ["Back", "15som", "05Twis", "FREE"]',
                                 line=1, dataset=dataset)
    names = [" ".join(str(part) for part in entry) for entry in vocab]
    videos = _first_dir(root, ["rgb", "videos"])
    wanted = _split_filter(splits) or {"train", "test"}
    expected = '{"vid_name": "-mmq0PT-u8k_00155", "label": 0, "start_frame": 0, "end_frame": 48}'
    rows = []
    for split in ("train", "test"):
        if split not in wanted:
            continue
        records_file = _locate(annotations, [f"Diving48_V2_{split}.json"], dataset, f"{split} annotations")
        for line, record in _json_records(records_file, dataset, expected):
            name = _field(record, "vid_name", str, records_file, line, dataset, expected)
            label = _field(record, "label", int, records_file, line, dataset, expected)
            start = _field(record, "start_frame", int, records_file, line, dataset, expected)
            end = _field(record, "end_frame", int, records_file, line, dataset, expected)
            if not 0 <= label < len(names) or not 0 <= start < end:
                raise DatasetFormatError(records_file, f"label {label}, frames [{start}, {end})",
                                         f"0 <= label < {len(names)} and 0 <= start_frame < end_frame", line, dataset)
            rows.append(_row(videos / f"{name}.mp4", label, names[label], split, float(start), float(end),
                             _where=(records_file, line)))
    return _frame(rows, dataset, root=root, source=annotations)


# ----------------------------------------------------------------------------- ImageNet-100


def read_imagenet100(
    root: str | Path, splits: str | Iterable[str] | None = None, class_list: str | Path | None = None
) -> pd.DataFrame:
    """ImageNet-100 images from root/{train,val}/<wnid>/*.JPEG, classes from a synset list.

    The list is `class_list`, else root/imagenet100.txt, else CMC's built-in list; labels
    follow its order. Images become clips of one repeated frame in the loader.
    """
    dataset = "imagenet100"
    root = _require_root(root, dataset)
    list_file = Path(class_list) if class_list else next(
        (root / n for n in ("imagenet100.txt", "ImageNet100.txt", "classes.txt") if (root / n).is_file()), None)
    if list_file is not None:
        if not list_file.is_file():
            raise DatasetFormatError(list_file, "class list not found", "one WordNet id (n01234567) per line",
                                     dataset=dataset)
        synsets = []
        for line, text in _text_lines(list_file, dataset):
            wnid = text.split()[0]
            if not re.fullmatch(r"n\d{8}", wnid) or wnid in synsets:
                raise DatasetFormatError(list_file, f"got {text!r}", "one distinct WordNet id (n01234567) per line",
                                         line, dataset)
            synsets.append(wnid)
    else:
        synsets = list(IMAGENET100_SYNSETS)
    wanted = _split_filter(splits) or {"train", "val"}
    rows = []
    for split in ("train", "val"):
        if split not in wanted:
            continue
        split_dir = root / split
        for label, wnid in enumerate(synsets):
            folder = split_dir / wnid
            if not folder.is_dir():
                raise DatasetFormatError(folder, f"synset folder of {wnid} not found",
                                         f"{split}/<wnid>/*.JPEG for every class of the list", dataset=dataset)
            for image in sorted(folder.iterdir()):
                if image.suffix.lower() in IMAGE_EXTENSIONS:
                    rows.append(_row(image, label, wnid, split))
    return _frame(rows, dataset)


# ----------------------------------------------------------------------------- EPIC-KITCHENS-100

EPIC_COLUMNS = ("narration_id", "participant_id", "video_id", "start_timestamp", "stop_timestamp",
                "start_frame", "stop_frame", "verb", "verb_class")


def read_epic_verb_classes(root: str | Path) -> dict[int, str]:
    """verb class id -> key from EPIC_100_verb_classes.csv (id,key,instances,category)."""
    dataset = "epic100"
    root = _require_root(root, dataset)
    annotations = _first_dir(root, ["annotations", "epic-kitchens-100-annotations"])
    path = _locate(annotations, ["EPIC_100_verb_classes.csv"], dataset, "verb classes")
    verbs: dict[int, str] = {}
    for line, row in _csv_records(path, ["id", "key"], dataset):
        verb = _as_int(row["id"], path, line, dataset, "an integer id")
        if verb in verbs:
            raise DatasetFormatError(path, f"verb id {verb} is listed twice", "each verb class once", line, dataset)
        verbs[verb] = row["key"]
    return verbs


def read_epic100(
    root: str | Path, splits: str | Iterable[str] | None = None, segment_unit: str = "sec"
) -> pd.DataFrame:
    """EPIC-KITCHENS-100 action segments labelled by verb class (the few-shot RQ1 target).

    Annotations: root/annotations/EPIC_100_{train,validation}.csv and EPIC_100_verb_classes.csv
    (or directly under root). Videos: root/<participant>/videos/<video_id>.MP4. Segments are
    start/stop timestamps in seconds (default) or, with segment_unit="frame", the 1-based
    inclusive start_frame/stop_frame turned into 0-based [start_frame-1, stop_frame).
    Extra columns: narration_id, participant_id.
    """
    dataset = "epic100"
    if segment_unit not in ("sec", "frame"):
        raise ValueError(f"segment_unit must be 'sec' or 'frame', got {segment_unit!r}")
    root = _require_root(root, dataset)
    verbs = read_epic_verb_classes(root)
    annotations = _first_dir(root, ["annotations", "epic-kitchens-100-annotations"])
    wanted = _split_filter(splits) or {"train", "val"}
    if "test" in wanted:
        raise ValueError("EPIC-100 test labels are not public; index the train and val splits")
    rows = []
    for split, name in (("train", "EPIC_100_train.csv"), ("val", "EPIC_100_validation.csv")):
        if split not in wanted:
            continue
        path = _locate(annotations, [name], dataset, f"{split} annotations")
        for line, record in _csv_records(path, EPIC_COLUMNS, dataset):
            verb = _as_int(record["verb_class"], path, line, dataset, "an integer verb_class")
            if verb not in verbs:
                raise DatasetFormatError(path, f"verb_class {verb} is not in EPIC_100_verb_classes.csv",
                                         "a listed verb class id", line, dataset)
            try:
                if segment_unit == "sec":
                    start, end = parse_timestamp(record["start_timestamp"]), parse_timestamp(record["stop_timestamp"])
                else:
                    start = float(_as_int(record["start_frame"], path, line, dataset, "an integer start_frame") - 1)
                    end = float(_as_int(record["stop_frame"], path, line, dataset, "an integer stop_frame"))
            except DatasetFormatError:
                raise
            except ValueError as error:
                raise DatasetFormatError(path, str(error), "HH:MM:SS.ff timestamps and integer frames", line,
                                         dataset) from error
            if end <= start:
                raise DatasetFormatError(path, f"segment [{start}, {end}) is empty", "stop after start", line, dataset)
            video = root / record["participant_id"] / "videos" / f"{record['video_id']}.MP4"
            rows.append(_row(video, verb, verbs[verb], split, start, end, segment_unit, _where=(path, line),
                             narration_id=record["narration_id"], participant_id=record["participant_id"]))
    return _frame(rows, dataset, extra=("narration_id", "participant_id"), root=root, source=annotations)


def make_epic_verb_split(
    verb_counts: Mapping[int, int], n_train: int = 60, n_test: int = 20, seed: int = 0
) -> dict[int, str]:
    """A deterministic few-shot verb split: verb id -> "train" | "test".

    Keeps the n_train + n_test most frequent verbs (ties broken by id, as HyRSM kept EPIC's
    80 most frequent), then a permutation seeded by `seed` sends n_test of them to test.
    """
    ranked = sorted(verb_counts, key=lambda verb: (-int(verb_counts[verb]), int(verb)))
    if len(ranked) < n_train + n_test:
        raise ValueError(f"need {n_train + n_test} verbs with counts, got {len(ranked)}")
    kept = np.array(sorted(ranked[: n_train + n_test]))
    order = np.random.default_rng(seed).permutation(len(kept))
    test = set(kept[order[:n_test]].tolist())
    return {int(verb): ("test" if verb in test else "train") for verb in kept}


def hyrsm_epic_verb_split() -> dict[int, str]:
    """HyRSM's published 60/20 split (the standard EPIC-100 few-shot protocol)."""
    split = {verb: "train" for verb in HYRSM_EPIC_TRAIN_VERBS}
    split.update({verb: "test" for verb in HYRSM_EPIC_TEST_VERBS})
    return split


def write_epic_verb_split(path: str | Path, split: Mapping[int, str]) -> Path:
    """Write a verb split as CSV `verb_class,split` (one verb a line, sorted by id)."""
    path = Path(path)
    lines = ["verb_class,split"] + [f"{verb},{split[verb]}" for verb in sorted(split)]
    from jepa.io import write_text

    write_text(path, "\n".join(lines) + "\n")
    return path


def read_epic_verb_split(path: str | Path) -> dict[int, str]:
    """Read a `verb_class,split` CSV written by write_epic_verb_split."""
    dataset = "epic100_fewshot"
    path = Path(path)
    if not path.is_file():
        raise DatasetFormatError(path, "verb split file not found", "a CSV with header verb_class,split",
                                 dataset=dataset)
    split: dict[int, str] = {}
    for line, row in _csv_records(path, ["verb_class", "split"], dataset):
        verb = _as_int(row["verb_class"], path, line, dataset, "an integer verb_class")
        if verb in split or row["split"] not in SPLITS:
            raise DatasetFormatError(path, f"got verb_class={row['verb_class']!r}, split={row['split']!r}",
                                     f"each verb once, split in {SPLITS}", line, dataset)
        split[verb] = row["split"]
    return split


def read_epic100_fewshot(
    root: str | Path, split_file: str | Path | None = None, segment_unit: str = "sec",
    splits: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """EPIC-100 train ∪ validation segments of the split's verbs; `split` = the verb's few-shot side.

    Without split_file this is HyRSM's 60 train / 20 test verb split. The official
    train/val boundary is ignored, as in HyRSM.
    """
    verb_split = read_epic_verb_split(split_file) if split_file else hyrsm_epic_verb_split()
    df = read_epic100(root, segment_unit=segment_unit)
    df = df[df["label"].isin(list(verb_split))].copy()
    df["split"] = df["label"].map(verb_split)
    wanted = _split_filter(splits)
    if wanted:
        df = df[df["split"].isin(wanted)]
    df.attrs["dataset"] = "epic100_fewshot"
    return df.reset_index(drop=True)


# ----------------------------------------------------------------------------- Kinetics

KINETICS_NAME = re.compile(r"^(?P<youtube_id>[A-Za-z0-9_-]{11})_(?P<start>\d{6})_(?P<end>\d{6})$")


def kinetics_clip_name(youtube_id: str, time_start: int, time_end: int) -> str:
    """The CVDF file stem of a Kinetics clip, e.g. -VtLx-mcPds_000012_000022."""
    return f"{youtube_id}_{int(time_start):06d}_{int(time_end):06d}"


def _attach_videos(rows: list[dict], stems: Sequence[str], root: Path, dataset: str, source: Path) -> list[dict]:
    """Resolve Kinetics stems to files found anywhere under root; drop (and count) the missing ones.

    About 2-4% of Kinetics clips vanished from YouTube, so missing files are expected;
    finding none at all means the root is wrong, which is an error.
    """
    files = _index_files(root, VIDEO_EXTENSIONS)
    kept = []
    for row, stem in zip(rows, stems):
        path = files.get(stem)
        if path is not None:
            row["path"] = str(path)
            kept.append(row)
    if rows and not kept:
        raise DatasetFormatError(root, f"none of the {len(rows)} clips listed in {source} was found",
                                 "video files named <youtube_id>_<start:06d>_<end:06d>.mp4 under root, "
                                 "flat or in <split>/<label>/ folders", dataset=dataset)
    if len(kept) < len(rows):
        log.warning("%s: %d of %d listed clips have no video file under %s", dataset, len(rows) - len(kept),
                    len(rows), root)
    return _checked(kept, dataset, root)


def read_kinetics400(root: str | Path, splits: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Kinetics-400 from the CVDF CSVs (label,youtube_id,time_start,time_end,split[,is_cc]).

    CSVs: root/annotations/{train,val,test}.csv (or directly under root). Videos are found by
    name anywhere under root. Labels are ids in the sorted list of all class names. Clips
    are already trimmed to [time_start, time_end], so whole files are used. Rows without a
    video file are dropped; their number is in df.attrs["missing_videos"].
    """
    dataset = "kinetics400"
    root = _require_root(root, dataset)
    annotations = _first_dir(root, ["annotations", "kinetics400"])
    files = {split: next((annotations / n for n in names if (annotations / n).is_file()), None)
             for split, names in (("train", ["train.csv"]), ("val", ["val.csv", "validate.csv"]),
                                  ("test", ["test.csv"]))}
    if not any(files.values()):
        raise DatasetFormatError(annotations / "train.csv", "no annotation CSV found",
                                 "train.csv / val.csv / test.csv with header label,youtube_id,time_start,time_end,split",
                                 dataset=dataset)
    wanted = _split_filter(splits) or set(SPLITS)
    records: list[tuple[str, dict]] = []
    for split, path in files.items():
        if path is None:
            continue
        for line, row in _csv_records(path, ["youtube_id", "time_start", "time_end"], dataset):
            start = _as_whole(row["time_start"], path, line, dataset, "integer seconds time_start")
            end = _as_whole(row["time_end"], path, line, dataset, "integer seconds time_end")
            try:
                row_split = normalize_split(row.get("split") or split)
            except ValueError as error:
                raise DatasetFormatError(path, str(error), "split train/val/test", line, dataset) from error
            records.append((kinetics_clip_name(row["youtube_id"], start, end),
                            dict(label_name=row.get("label", ""), split=row_split, _where=(path, line))))
    classes = sorted({r["label_name"] for _, r in records if r["label_name"]})
    label_of = {name: number for number, name in enumerate(classes)}
    rows, stems = [], []
    for stem, record in records:
        if record["split"] in wanted:
            rows.append(_row("", label_of.get(record["label_name"], -1), record["label_name"], record["split"],
                             _where=record["_where"]))
            stems.append(stem)
    kept = _attach_videos(rows, stems, root, dataset, annotations)
    df = _frame(kept, dataset)
    df.attrs["missing_videos"] = len(rows) - len(kept)
    return df


def read_kinetics100_split(split_dir: str | Path) -> pd.DataFrame:
    """The CMN Kinetics-100 lists: columns label_name, clip (file stem), split.

    Accepts meta_{train,val,test}.txt (xianyongqin), {train,val,test}.list (CMN) or
    {train,val,test}.txt; lines are `class name/<youtube_id>_<start:06d>_<end:06d>`.
    Classes must not repeat across splits: that disjointness is what few-shot tests.
    """
    dataset = "kinetics100"
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        raise DatasetFormatError(split_dir, "split folder not found", "a folder with meta_{train,val,test}.txt",
                                 dataset=dataset)
    rows = []
    class_split: dict[str, str] = {}
    first_seen: dict[str, tuple[Path, int]] = {}
    for split in SPLITS:
        path = _locate(split_dir, [f"meta_{split}.txt", f"{split}.list", f"{split}.txt"], dataset, f"{split} list")
        for line, text in _text_lines(path, dataset):
            class_name, _, stem = text.rpartition("/")
            if not class_name or not KINETICS_NAME.match(stem):
                raise DatasetFormatError(path, f"got {text!r}",
                                         "'class name/<youtube_id>_<start:06d>_<end:06d>'", line, dataset)
            if stem in first_seen:
                first = first_seen[stem]
                where = f"line {first[1]}" + ("" if first[0] == path else f" of {first[0]}")
                raise DatasetFormatError(path, f"clip {stem} is listed twice (first on {where})", "each clip once",
                                         line, dataset)
            first_seen[stem] = (path, line)
            if class_split.setdefault(class_name, split) != split:
                raise DatasetFormatError(path, f"class {class_name!r} is also in the {class_split[class_name]} list",
                                         "disjoint classes across splits", line, dataset)
            rows.append(dict(label_name=class_name, clip=stem, split=split))
    return pd.DataFrame(rows, columns=["label_name", "clip", "split"])


def read_kinetics100(
    root: str | Path, split_dir: str | Path | None = None, splits: str | Iterable[str] | None = None
) -> pd.DataFrame:
    """Kinetics-100 few-shot clips: the split lists resolved to Kinetics-400 files under root.

    split_dir defaults to root/kinetics100. Labels number the 100 classes in list order
    (train, then val, then test). Missing files are dropped and counted in
    df.attrs["missing_videos"] (about 0.5% are gone from YouTube).
    """
    dataset = "kinetics100"
    root = _require_root(root, dataset)
    lists = read_kinetics100_split(split_dir or root / "kinetics100")
    wanted = _split_filter(splits)
    if wanted:
        lists = lists[lists["split"].isin(wanted)]
    label_of = {name: number for number, name in enumerate(dict.fromkeys(lists["label_name"]))}
    rows = [_row("", label_of[r.label_name], r.label_name, r.split) for r in lists.itertuples()]
    kept = _attach_videos(rows, list(lists["clip"]), root, dataset, Path(split_dir or root / "kinetics100"))
    df = _frame(kept, dataset)
    df.attrs["missing_videos"] = len(rows) - len(kept)
    return df


# ----------------------------------------------------------------------------- registry

READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "ucf101": read_ucf101,
    "ssv2": read_ssv2,
    "diving48": read_diving48,
    "imagenet100": read_imagenet100,
    "epic100": read_epic100,
    "epic100_fewshot": read_epic100_fewshot,
    "kinetics400": read_kinetics400,
    "kinetics100": read_kinetics100,
}


def read_index(dataset: str, root: str | Path, **options: Any) -> pd.DataFrame:
    """Dispatch to the reader of `dataset` (a key of READERS); options are reader-specific."""
    if dataset not in READERS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(READERS)}")
    return READERS[dataset](root, **{k: v for k, v in options.items() if v is not None})
