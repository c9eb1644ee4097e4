"""Index readers on small files in each official annotation format, and the index CLI."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from jepa.data.real.indexes import (
    HYRSM_EPIC_TEST_VERBS,
    INDEX_COLUMNS,
    DatasetFormatError,
    hyrsm_epic_verb_split,
    make_epic_verb_split,
    parse_timestamp,
    read_diving48,
    read_epic100,
    read_epic100_fewshot,
    read_epic_verb_split,
    read_imagenet100,
    read_kinetics100,
    read_kinetics400,
    read_ssv2,
    read_ucf101,
    write_epic_verb_split,
)

REPO = Path(__file__).resolve().parents[1]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _videos(folder: Path, *names: str) -> None:
    """Empty stand-ins for the video files an annotation lists (readers drop clips without a file)."""
    for name in names:
        _write(folder / name, "")


def _check_columns(df: pd.DataFrame) -> None:
    assert list(df.columns[: len(INDEX_COLUMNS)]) == INDEX_COLUMNS
    assert df["label"].dtype == np.int64


# ----------------------------------------------------------------------------- UCF-101


@pytest.fixture()
def ucf_root(tmp_path) -> Path:
    lists = tmp_path / "ucf" / "ucfTrainTestlist"
    _write(lists / "classInd.txt", "1 ApplyEyeMakeup\n2 Archery\n3 YoYo\n")
    _write(lists / "trainlist01.txt", "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n"
                                      "Archery/v_Archery_g08_c02.avi 2\nYoYo/v_YoYo_g09_c01.avi 3\n"
                                      "YoYo/v_YoYo_g10_c01.avi 3\n")
    _write(lists / "testlist01.txt", "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\nYoYo/v_YoYo_g01_c01.avi\n")
    _write(lists / "trainlist02.txt", "Archery/v_Archery_g01_c01.avi 2\n")
    _write(lists / "testlist02.txt", "Archery/v_Archery_g09_c01.avi\n")
    _videos(tmp_path / "ucf" / "UCF-101", "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi", "Archery/v_Archery_g08_c02.avi",
            "YoYo/v_YoYo_g09_c01.avi", "YoYo/v_YoYo_g10_c01.avi", "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi",
            "YoYo/v_YoYo_g01_c01.avi", "Archery/v_Archery_g01_c01.avi", "Archery/v_Archery_g09_c01.avi")
    return tmp_path / "ucf"


def test_ucf101(ucf_root):
    df = read_ucf101(ucf_root)
    _check_columns(df)
    assert df["split"].value_counts().to_dict() == {"train": 4, "test": 2}
    assert df["label"].tolist() == [0, 1, 2, 2, 0, 2]  # classInd ids minus one; test labels from the folder
    assert df["path"][0] == str(ucf_root.resolve() / "UCF-101/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi")
    assert df["start"].isna().all() and df["end"].isna().all()
    fold2 = read_ucf101(ucf_root, fold=2, splits="test")
    assert fold2["path"].str.endswith("v_Archery_g09_c01.avi").tolist() == [True]


def test_ucf101_errors(ucf_root, tmp_path):
    with pytest.raises(DatasetFormatError, match=r"nowhere.*dataset root not found.*crcv\.ucf\.edu"):
        read_ucf101(tmp_path / "nowhere")
    _write(ucf_root / "ucfTrainTestlist" / "testlist01.txt", "YoYo/v_YoYo_g01_c01.avi\nSkating/v_Skating_g01_c01.avi\n")
    with pytest.raises(DatasetFormatError, match=r"testlist01\.txt, line 2: got 'Skating/.*class of classInd"):
        read_ucf101(ucf_root)
    _write(ucf_root / "ucfTrainTestlist" / "trainlist01.txt", "YoYo/v_YoYo_g10_c01.avi 2\n")
    with pytest.raises(DatasetFormatError, match=r"trainlist01\.txt, line 1: class id 2 disagrees with folder YoYo"):
        read_ucf101(ucf_root, splits="train")


# ----------------------------------------------------------------------------- SSv2


def _ssv2_root(tmp_path: Path) -> Path:
    root = tmp_path / "ssv2"
    labels = {"Approaching something with your camera": "0", "Holding something next to something": "1",
              "Spreading something onto something": "2"}
    _write(root / "labels" / "labels.json", json.dumps(labels, indent=1))
    train = [{"id": "78687", "label": "holding potato next to vicks vaporub bottle",
              "template": "Holding [something] next to [something]", "placeholders": ["potato", "vicks"]},
             {"id": "42326", "label": "spreading margarine onto bread",
              "template": "Spreading [something] onto [something]", "placeholders": ["margarine", "bread"]}]
    _write(root / "labels" / "train.json", json.dumps(train, indent=4))
    validation = [{"id": "74225", "label": "approaching a cup with your camera",
                   "template": "Approaching [something] with your camera", "placeholders": ["a cup"]}]
    _write(root / "labels" / "validation.json", json.dumps(validation, indent=4))
    _videos(root / "20bn-something-something-v2", "78687.webm", "42326.webm", "74225.webm")
    return root


def test_ssv2(tmp_path):
    root = _ssv2_root(tmp_path)
    df = read_ssv2(root)
    _check_columns(df)
    assert df[["label", "split"]].values.tolist() == [[1, "train"], [2, "train"], [0, "val"]]
    assert df["label_name"][0] == "Holding something next to something"
    assert df["path"][2] == str(root.resolve() / "20bn-something-something-v2" / "74225.webm")
    assert len(read_ssv2(root, splits="validation")) == 1


def test_ssv2_format_errors_name_file_and_line(tmp_path):
    root = _ssv2_root(tmp_path)
    records = json.loads((root / "labels" / "train.json").read_text())
    del records[1]["template"]
    text = json.dumps(records, indent=4)
    _write(root / "labels" / "train.json", text)
    record_line = next(n for n, line in enumerate(text.splitlines(), 1) if '"42326"' in line) - 1  # its "{"
    assert record_line == 11
    with pytest.raises(DatasetFormatError, match=rf"train\.json, line {record_line}: missing key 'template'.*qualcomm"):
        read_ssv2(root)
    _write(root / "labels" / "train.json", '[\n  {"id": "1", "template": "Holding [something]"},\n  {"id": 2,, }\n]')
    with pytest.raises(DatasetFormatError, match=r"train\.json, line 3: malformed JSON") as error:
        read_ssv2(root)
    assert "a JSON list of" in str(error.value)
    _write(root / "labels" / "train.json", '[{"id": "1", "template": "Juggling [something]"}]')
    with pytest.raises(DatasetFormatError, match=r"line 1: template 'Juggling \[something\]' is not in labels.json"):
        read_ssv2(root)


# ----------------------------------------------------------------------------- Diving-48


def test_diving48(tmp_path):
    root = tmp_path / "d48"
    _write(root / "Diving48_vocab.json", json.dumps([["Back", "15som", "05Twis", "FREE"],
                                                     ["Forward", "25som", "NoTwis", "PIKE"]]))
    _write(root / "Diving48_V2_train.json", json.dumps([
        {"vid_name": "-mmq0PT-u8k_00155", "label": 1, "start_frame": 0, "end_frame": 48},
        {"vid_name": "-mmq0PT-u8k_00156", "label": 0, "start_frame": 12, "end_frame": 80}]))
    _write(root / "Diving48_V2_test.json", json.dumps([
        {"vid_name": "zzz_00001", "label": 0, "start_frame": 3, "end_frame": 40}]))
    _videos(root, "-mmq0PT-u8k_00155.mp4", "-mmq0PT-u8k_00156.mp4", "zzz_00001.mp4")
    df = read_diving48(root)
    _check_columns(df)
    assert df[["label", "start", "end", "split"]].values.tolist() == [[1, 0.0, 48.0, "train"],
                                                                      [0, 12.0, 80.0, "train"],
                                                                      [0, 3.0, 40.0, "test"]]
    assert (df["time_unit"] == "frame").all()
    assert df["label_name"][0] == "Forward 25som NoTwis PIKE"
    assert df["path"][2].endswith("rgb/zzz_00001.mp4") or df["path"][2].endswith("d48/zzz_00001.mp4")

    _write(root / "Diving48_V2_test.json", '[{"vid_name": "a", "label": 5, "start_frame": 0, "end_frame": 9}]')
    with pytest.raises(DatasetFormatError, match=r"Diving48_V2_test\.json, line 1: label 5.*0 <= label < 2.*svcl"):
        read_diving48(root)


# ----------------------------------------------------------------------------- ImageNet-100


def test_imagenet100(tmp_path):
    root = tmp_path / "in100"
    _write(root / "imagenet100.txt", "n02869837\nn01749939\n")
    for split, count in (("train", 3), ("val", 1)):
        for wnid in ("n02869837", "n01749939"):
            for i in range(count):
                folder = root / split / wnid
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(folder / f"{wnid}_{i}.JPEG", "JPEG")
    (root / "train" / "n02869837" / "notes.txt").write_text("not an image")
    df = read_imagenet100(root)
    _check_columns(df)
    assert df["split"].value_counts().to_dict() == {"train": 6, "val": 2}
    assert df.groupby("label_name")["label"].first().to_dict() == {"n02869837": 0, "n01749939": 1}
    assert not df["path"].str.endswith(".txt").any()

    _write(root / "imagenet100.txt", "n02869837\nbanana\n")
    with pytest.raises(DatasetFormatError, match=r"imagenet100\.txt, line 2: got 'banana'.*WordNet id"):
        read_imagenet100(root)
    _write(root / "imagenet100.txt", "n02869837\nn09999999\n")
    with pytest.raises(DatasetFormatError, match=r"n09999999.*synset folder of n09999999 not found"):
        read_imagenet100(root, splits="train")


# ----------------------------------------------------------------------------- EPIC-KITCHENS-100

EPIC_HEADER = ("narration_id,participant_id,video_id,narration_timestamp,start_timestamp,stop_timestamp,"
               "start_frame,stop_frame,narration,verb,verb_class,noun,noun_class,all_nouns,all_noun_classes\n")


def _epic_root(tmp_path: Path) -> Path:
    root = tmp_path / "epic"
    annotations = root / "annotations"
    _write(annotations / "EPIC_100_verb_classes.csv",
           'id,key,instances,category\n0,take,"[\'take\', \'grab\']",retrieve\n1,put,"[\'put\']",leave\n'
           '2,wash,"[\'wash\']",clean\n3,open,"[\'open\']",access\n')
    _write(annotations / "EPIC_100_train.csv", EPIC_HEADER
           + "P01_11_0,P01,P01_11,00:00:00.560,00:00:00.00,00:00:01.89,1,113,take plate,take,0,plate,2,['plate'],[2]\n"
           + "P01_11_1,P01,P01_11,00:00:02.000,00:00:01.50,00:01:03.25,90,3795,wash cup,wash,2,cup,13,['cup'],[13]\n"
           + "P02_101_0,P02,P02_101,00:00:05.000,00:00:04.00,00:00:05.00,201,250,put cup,put,1,cup,13,['cup'],[13]\n")
    _write(annotations / "EPIC_100_validation.csv", EPIC_HEADER
           + "P18_01_3,P18,P18_01,00:00:10.000,00:00:10.00,00:00:12.50,601,750,open door,open,3,door,8,['door'],[8]\n")
    _videos(root, "P01/videos/P01_11.MP4", "P02/videos/P02_101.MP4", "P18/videos/P18_01.MP4")
    return root


def test_epic100_seconds_and_frames(tmp_path):
    root = _epic_root(tmp_path)
    df = read_epic100(root)
    _check_columns(df)
    assert df["start"].tolist() == [0.0, 1.5, 4.0, 10.0]
    assert df["end"].tolist() == pytest.approx([1.89, 63.25, 5.0, 12.5])
    assert (df["time_unit"] == "sec").all()
    assert df[["label", "label_name", "split"]].values.tolist() == [[0, "take", "train"], [2, "wash", "train"],
                                                                   [1, "put", "train"], [3, "open", "val"]]
    assert df["path"][2] == str(root.resolve() / "P02" / "videos" / "P02_101.MP4")
    assert df["narration_id"].tolist() == ["P01_11_0", "P01_11_1", "P02_101_0", "P18_01_3"]
    frames = read_epic100(root, splits="train", segment_unit="frame")
    assert frames[["start", "end"]].values.tolist() == [[0, 113], [89, 3795], [200, 250]]  # 1-based inclusive -> [a-1, b)
    assert parse_timestamp("01:02:03.45") == pytest.approx(3723.45)


def test_epic100_format_errors(tmp_path):
    root = _epic_root(tmp_path)
    train = root / "annotations" / "EPIC_100_train.csv"
    lines = train.read_text().splitlines()
    _write(train, "\n".join(lines[:2] + ["P01_11_1,P01,P01_11,00:00:02.000,00:00:01.50"] + lines[3:]) + "\n")
    with pytest.raises(DatasetFormatError, match=r"EPIC_100_train\.csv, line 3: row has 5 fields.*epic-kitchens"):
        read_epic100(root)
    _write(train, "\n".join(lines[:3] + [lines[3].replace("00:00:04.00", "4 seconds")]) + "\n")
    with pytest.raises(DatasetFormatError, match=r"line 4: timestamp '4 seconds' is not HH:MM:SS.ff"):
        read_epic100(root)
    _write(train, lines[0].replace("verb_class", "verb_id") + "\n")
    with pytest.raises(DatasetFormatError, match=r"line 1: header .* lacks columns \['verb_class'\]"):
        read_epic100(root)


def test_epic_verb_split(tmp_path):
    counts = {verb: 1000 - 10 * verb for verb in range(97)}
    split = make_epic_verb_split(counts, n_train=60, n_test=20, seed=3)
    assert sorted(split) == list(range(80))  # the 80 most frequent verbs
    assert list(split.values()).count("test") == 20
    assert split == make_epic_verb_split(counts, 60, 20, seed=3)
    assert split != make_epic_verb_split(counts, 60, 20, seed=4)

    path = write_epic_verb_split(tmp_path / "verbs.csv", split)
    assert read_epic_verb_split(path) == split
    assert path.read_text().splitlines()[:2] == ["verb_class,split", f"0,{split[0]}"]
    assert sorted(v for v, s in hyrsm_epic_verb_split().items() if s == "test") == list(HYRSM_EPIC_TEST_VERBS)

    _write(tmp_path / "bad.csv", "verb_class,split\n0,train\n0,test\n")
    with pytest.raises(DatasetFormatError, match=r"bad\.csv, line 3: got verb_class='0'.*each verb once"):
        read_epic_verb_split(tmp_path / "bad.csv")


def test_epic100_fewshot_uses_train_and_val(tmp_path):
    root = _epic_root(tmp_path)
    split_file = write_epic_verb_split(tmp_path / "verbs.csv", {0: "train", 1: "train", 3: "test"})
    df = read_epic100_fewshot(root, split_file)
    assert df[["label", "split"]].values.tolist() == [[0, "train"], [1, "train"], [3, "test"]]  # wash (2) not in split
    hyrsm = read_epic100_fewshot(root)  # wash (2) is a HyRSM test verb, open (3) a train verb
    assert dict(zip(hyrsm["label_name"], hyrsm["split"])) == {"take": "train", "wash": "test", "put": "train",
                                                              "open": "train"}


# ----------------------------------------------------------------------------- Kinetics


def _kinetics_root(tmp_path: Path) -> Path:
    root = tmp_path / "k400"
    _write(root / "annotations" / "train.csv",
           "label,youtube_id,time_start,time_end,split,is_cc\n"
           '"air drumming",-VtLx-mcPds,12,22,train,0\n'
           '"air drumming",aaaaaaaaaaa,0,10,train,0\n'
           '"busking",bbbbbbbbbbb,30,40,train,0\n'
           '"busking",ccccccccccc,5,15,train,0\n')  # this one has no file
    _write(root / "annotations" / "val.csv",
           "label,youtube_id,time_start,time_end,split\n" '"air drumming",_dbcJuKJQNs,40,50,val\n')
    for relative in ("train/air drumming/-VtLx-mcPds_000012_000022.mp4", "train/air drumming/aaaaaaaaaaa_000000_000010.mp4",
                     "train/busking/bbbbbbbbbbb_000030_000040.mp4", "val/_dbcJuKJQNs_000040_000050.mp4"):
        _write(root / relative, "")
    return root


def test_kinetics400(tmp_path):
    root = _kinetics_root(tmp_path)
    df = read_kinetics400(root)
    _check_columns(df)
    assert df.attrs["missing_videos"] == 1
    assert df[["label_name", "label", "split"]].values.tolist() == [["air drumming", 0, "train"],
                                                                    ["air drumming", 0, "train"],
                                                                    ["busking", 1, "train"], ["air drumming", 0, "val"]]
    assert df["path"][3] == str(root.resolve() / "val" / "_dbcJuKJQNs_000040_000050.mp4")
    assert len(read_kinetics400(root, splits="val")) == 1

    _write(root / "annotations" / "val.csv", "label,youtube_id,time_start,time_end,split\n"
                                             '"air drumming",_dbcJuKJQNs,forty,50,val\n')
    with pytest.raises(DatasetFormatError, match=r"val\.csv, line 2: 'forty' is not an integer.*cvdfoundation"):
        read_kinetics400(root)


def test_kinetics100(tmp_path):
    root = _kinetics_root(tmp_path)
    lists = tmp_path / "k100"
    _write(lists / "meta_train.txt", "air drumming/-VtLx-mcPds_000012_000022\nair drumming/aaaaaaaaaaa_000000_000010\n")
    _write(lists / "meta_val.txt", "busking/bbbbbbbbbbb_000030_000040\n")
    _write(lists / "meta_test.txt", "busking stopped/ccccccccccc_000005_000015\nsinging/_dbcJuKJQNs_000040_000050\n")
    df = read_kinetics100(root, lists)
    assert df[["label_name", "label", "split"]].values.tolist() == [["air drumming", 0, "train"],
                                                                    ["air drumming", 0, "train"],
                                                                    ["busking", 1, "val"], ["singing", 3, "test"]]
    assert df.attrs["missing_videos"] == 1

    _write(lists / "meta_test.txt", "singing/_dbcJuKJQNs_000040_000050\nbusking/xxxxxxxxxxx_000001_000011\n")
    with pytest.raises(DatasetFormatError, match=r"meta_test\.txt, line 2: class 'busking' is also in the val list"):
        read_kinetics100(root, lists)
    _write(lists / "meta_test.txt", "singing/_dbcJuKJQNs.mp4\n")
    with pytest.raises(DatasetFormatError, match=r"meta_test\.txt, line 1: got 'singing/_dbcJuKJQNs.mp4'"):
        read_kinetics100(root, lists)


# ----------------------------------------------------------------------------- CLI


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jepa.data", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def test_cli_writes_index_and_prints_counts(ucf_root, tmp_path):
    out = tmp_path / "index" / "ucf101.csv"
    result = _cli("index", "--dataset", "ucf101", "--root", str(ucf_root), "--out", str(out), "--fold", "1")
    assert result.returncode == 0, result.stderr
    df = pd.read_csv(out)
    assert len(df) == 6 and list(df.columns) == INDEX_COLUMNS
    assert math.isnan(df["start"][0])
    assert "6 clips, 3 classes" in result.stdout
    assert re.search(r"train +4 clips +3 classes\n +test +2 clips +2 classes", result.stdout)
    assert "YoYo" in result.stdout.split("top 3 classes:")[1].splitlines()[1]  # largest class first
    assert [p.name for p in out.parent.iterdir()] == ["ucf101.csv"]  # no temporary file left behind


def test_cli_errors_exit_2_without_traceback(ucf_root, tmp_path):
    _write(ucf_root / "ucfTrainTestlist" / "classInd.txt", "1 ApplyEyeMakeup\nArchery 2\n")
    out = tmp_path / "ucf.csv"
    result = _cli("index", "--dataset", "ucf101", "--root", str(ucf_root), "--out", str(out))
    assert result.returncode == 2
    assert "classInd.txt, line 2: got 'Archery 2'" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()

    result = _cli("index", "--dataset", "ssv2", "--root", str(tmp_path / "missing"), "--out", str(out))
    assert result.returncode == 2 and "dataset root not found" in result.stderr and "Traceback" not in result.stderr
    result = _cli("index", "--dataset", "ssv2", "--root", str(ucf_root), "--out", str(out), "--fold", "2")
    assert result.returncode == 2 and "--fold does not apply to --dataset ssv2" in result.stderr
