"""The official-format fixture: every reader indexes it, its corrupt files are real files that do not decode."""

from __future__ import annotations

import subprocess
import sys

import pytest

from jepa.data.real.fixtures import build
from jepa.data.real.indexes import read_index
from jepa.data.real.video import VideoDecodeError, read_clip


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("fixture")
    return root, build(root, overwrite=True)


@pytest.mark.parametrize("dataset, folder, options", [
    ("ucf101", "ucf101", {}), ("ssv2", "ssv2", {}), ("imagenet100", "imagenet100", {}),
    ("diving48", "diving48", {}), ("epic100", "epic100", {}),
    ("kinetics100", "kinetics400", {"split_dir": "kinetics100"}),
])
def test_every_reader_indexes_its_fixture(fixture, dataset, folder, options):
    root, written = fixture
    info = written[dataset]
    options = {k: root / v for k, v in options.items()}
    df = read_index(dataset, root / folder, **options)
    listed = dict(info["splits"])
    if dataset == "kinetics100":
        listed["test"] -= len(info["missing"])  # the missing clip is dropped and counted by the reader
        assert df.attrs["missing_videos"] == 1
    assert df["split"].value_counts().to_dict() == {k: v for k, v in listed.items() if v}
    assert df["label"].nunique() == info["classes"]
    assert set(info["corrupt"]) <= set(df["path"])
    for path in info["corrupt"]:
        with pytest.raises(VideoDecodeError):
            read_clip(path, [0])
    good = df.loc[~df["path"].isin(info["corrupt"]), "path"].iloc[0]
    assert read_clip(good, [0]).shape[-1] == 3


def test_fewshot_sets_support_5_way_5_shot_5_query(fixture):
    root, _ = fixture
    for df in (read_index("epic100_fewshot", root / "epic100", splits="test"),
               read_index("kinetics100", root / "kinetics400", split_dir=root / "kinetics100", splits="test")):
        assert (df["label"].value_counts() >= 10).sum() == 5


def test_cli_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "mine.txt").write_text("someone's data")
    done = subprocess.run([sys.executable, "-m", "jepa.data", "fixture", "--out", str(tmp_path)], capture_output=True,
                          text=True)
    assert done.returncode == 2 and "is not empty" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]
