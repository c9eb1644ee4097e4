import json

import pytest

from jepa.io import atomic_write, read_json, write_json


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"acc": 0.5})

    def crash(path):
        path.write_text('{"acc": 0.')  # half-written
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, crash)
    assert json.loads(target.read_text()) == {"acc": 0.5}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_read_json_names_the_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.json.*dvc repro"):
        read_json(tmp_path / "nothere.json")
