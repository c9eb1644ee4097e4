"""Hostile and careless input: files that try to run code, data that must not be lost, configs and
indexes written wrong. Each case ends in a one-line error naming the file (and key or line) and what
to do, and nothing the user owns is deleted."""

import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from jepa.config import ConfigError, load_params, load_run, profile_cfg
from jepa.evaluate import EncoderFileError, load_encoder
from jepa.io import atomic_write, write_json, write_text
from jepa.train import CheckpointError, config_hash, pretrain
from tests.helpers import random_stream

REPO = Path(__file__).resolve().parents[1]


class _Exploit:
    """Unpickling this runs `open(marker, 'w')`: what a crafted checkpoint would do with a shell command."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _crafted(path: Path, marker: Path) -> Path:
    torch.save({"model": _Exploit(marker), "step": 1}, path)  # a real torch zip whose pickle calls open()
    return path


def _smoke(variant="baseline", regime="single", seed=0):
    return load_run(regime, variant, seed, profile="smoke")


# ----------------------------------------------------------------------------- checkpoints


def _one_line(err) -> str:
    msg = str(err.value)
    assert "\n" not in msg, msg
    return msg


def test_crafted_last_pt_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    (tmp_path / "run").mkdir()
    _crafted(tmp_path / "run" / "last.pt", marker)
    cfg = _smoke()
    with pytest.raises(CheckpointError) as err:
        pretrain(cfg, tmp_path / "run", stream_fn=random_stream(cfg), progress=False)
    assert str(tmp_path / "run" / "last.pt") in _one_line(err) and "delete it" in str(err.value)
    assert not marker.exists()


def test_crafted_last_pt_through_the_cli_is_one_line_exit_2(tmp_path):
    root = tmp_path / "proj"
    (root / "run").mkdir(parents=True)
    (root / "dvc.yaml").write_text("stages: {}\n")
    (root / "params.yaml").write_text((REPO / "params.yaml").read_text())
    marker = tmp_path / "pwned"
    with open(root / "run" / "last.pt", "wb") as f:  # a plain pickle, not a torch zip, too
        pickle.dump(_Exploit(marker), f)
    env = os.environ | {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "jepa.cli", "pretrain", "--regime", "single", "--variant", "baseline",
                          "--profile", "smoke", "--out", str(root / "run"), "--live", str(root / "live")],
                         cwd=root, env=env, capture_output=True, text=True)
    assert out.returncode == 2, out.stderr[-2000:]
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert str(root / "run" / "last.pt") in out.stderr
    assert not marker.exists() and not (root / "run" / "encoder.pt").exists()


def test_crafted_encoder_pt_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = _crafted(tmp_path / "encoder.pt", marker)
    with pytest.raises(EncoderFileError) as err:
        load_encoder(path)
    assert str(path) in _one_line(err) and not marker.exists()


@pytest.mark.parametrize("damage", ["empty", "truncated", "text"])
def test_damaged_checkpoint_names_the_file_and_the_fix(tmp_path, damage):
    cfg = _smoke()
    pretrain(cfg, tmp_path / "run", stream_fn=random_stream(cfg), progress=False, stop_after=3)
    ckpt = tmp_path / "run" / "last.pt"
    data = ckpt.read_bytes()
    ckpt.write_bytes({"empty": b"", "truncated": data[: len(data) // 2], "text": b"hello\n"}[damage])
    with pytest.raises(CheckpointError) as err:
        pretrain(cfg, tmp_path / "run", stream_fn=random_stream(cfg), progress=False)
    assert str(ckpt) in _one_line(err) and "delete it" in str(err.value)
    with pytest.raises(EncoderFileError) as err:  # the probe side says the same of a damaged encoder.pt
        load_encoder(ckpt)
    assert str(ckpt) in _one_line(err)


@pytest.mark.parametrize("other", [dict(variant="mgm"), dict(seed=1), dict(regime="mixed")])
def test_checkpoint_of_another_run_is_refused(tmp_path, other):
    theirs = _smoke(**other)
    pretrain(theirs, tmp_path / "run", stream_fn=random_stream(theirs), progress=False, stop_after=3)
    ours = _smoke()
    with pytest.raises(CheckpointError, match=rf"{theirs.run_id}.*not of this run {ours.run_id}") as err:
        pretrain(ours, tmp_path / "run", stream_fn=random_stream(ours), progress=False)
    assert str(tmp_path / "run" / "last.pt") in _one_line(err)


def test_checkpoint_of_another_configuration_is_refused(tmp_path):
    cfg = _smoke()
    pretrain(cfg, tmp_path / "run", stream_fn=random_stream(cfg), progress=False, stop_after=3)
    train = cfg.profile.train.model_copy(update={"lr": 2e-3})
    edited = cfg.model_copy(update={"profile": cfg.profile.model_copy(update={"train": train})})
    assert config_hash(edited) != config_hash(cfg)
    with pytest.raises(CheckpointError, match=rf"config {config_hash(cfg)}\), not of this run .* \(config "
                                              rf"{config_hash(edited)}\)"):
        pretrain(edited, tmp_path / "run", stream_fn=random_stream(edited), progress=False)


def test_checkpoints_hold_plain_types_only(tmp_path):
    cfg = _smoke("fwm_hw_ld", regime="mixed")
    pretrain(cfg, tmp_path / "run", stream_fn=random_stream(cfg), progress=False)
    state = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    assert state["run_id"] == cfg.run_id and state["config_hash"] == config_hash(cfg)
    assert [row["step"] for row in state["history"]] == [2, 4, 6]
    assert load_encoder(tmp_path / "run" / "encoder.pt").cfg == cfg.profile.model


def test_resumed_run_logs_each_step_once(tmp_path):
    cfg = _smoke()  # log every 2 steps, checkpoint every 3
    live = tmp_path / "live"
    pretrain(cfg, tmp_path / "ref", tmp_path / "ref_live", stream_fn=random_stream(cfg), progress=False)
    # killed at step 5: step 4 is in the live log, the last checkpoint is step 3's
    pretrain(cfg, tmp_path / "run", live, stream_fn=random_stream(cfg), progress=False, stop_after=5)
    pretrain(cfg, tmp_path / "at3", stream_fn=random_stream(cfg), progress=False, stop_after=3)
    (tmp_path / "at3" / "last.pt").replace(tmp_path / "run" / "last.pt")
    pretrain(cfg, tmp_path / "run", live, stream_fn=random_stream(cfg), progress=False)
    curve = pd.read_csv(live / "plots" / "metrics" / "train" / "loss.tsv", sep="\t")
    ref = pd.read_csv(tmp_path / "ref_live" / "plots" / "metrics" / "train" / "loss.tsv", sep="\t")
    assert list(curve.step) == [2, 4, 6]
    assert list(curve.loss) == list(ref.loss)


# ----------------------------------------------------------------------------- atomic writes


def test_atomic_writes_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "report.md", "hi\n")
        atomic_write(tmp_path / "fig.png", lambda p: Path(p).write_bytes(b"png"))
        atomic_write(tmp_path / "re.csv", lambda p: (Path(p).unlink(), Path(p).write_text("a\n")))  # recreated
    finally:
        os.umask(old)
    for name in ("report.md", "fig.png", "re.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name


def test_temp_file_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".claims.png.{dead.pid}-0123abcd.tmp"
    stale.write_bytes(b"")  # what SIGKILL during savefig leaves
    other = tmp_path / f".claims.png.{os.getppid()}-0123abcd.tmp"  # a live writer's: kept
    other.write_bytes(b"")
    mine = tmp_path / ".claims.png.notes.tmp"  # not ours by name: kept
    mine.write_bytes(b"x")
    atomic_write(tmp_path / "claims.png", lambda p: Path(p).write_bytes(b"png"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["claims.png", other.name, mine.name])


def test_write_json_still_replaces_in_one_step(tmp_path):
    write_json(tmp_path / "m.json", {"a": 1})
    write_json(tmp_path / "m.json", {"a": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


# ----------------------------------------------------------------------------- params.yaml


def _params_text(tmp_path, text: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def _setting(where: tuple, value):
    """A params edit for `_mutated` that sets the key at path `where` to `value`."""
    def mutate(raw):
        node = raw
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = value

    return mutate


def _mutated(tmp_path, mutate) -> Path:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    mutate(raw)
    return _params_text(tmp_path, yaml.safe_dump(raw))


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    text = (REPO / "params.yaml").read_text().replace("profile: tiny", "profile: [tiny", 1)
    path = _params_text(tmp_path, text)
    line = text.splitlines().index("profile: [tiny") + 1
    with pytest.raises(ConfigError) as err:
        load_params(path)
    assert str(err.value).startswith(f"{path}:") and "YAML syntax error" in _one_line(err)
    assert f"started on line {line}" in str(err.value)


@pytest.mark.parametrize("text,kind", [("- a\n- b\n", "list"), ("just a string\n", "str"), ("3\n", "int")])
def test_top_level_must_be_a_mapping(tmp_path, text, kind):
    path = _params_text(tmp_path, text)
    for load in (load_params, lambda p: profile_cfg(None, p)):
        with pytest.raises(ConfigError, match=rf"{path}: expected a mapping .* got a {kind}"):
            load(path)


def test_duplicate_key_is_refused_with_key_and_lines(tmp_path):
    text = (REPO / "params.yaml").read_text()
    text = text.replace("  baseline:\n    description: V-JEPA loss only.\n",
                        "  baseline:\n    description: V-JEPA loss only.\n    ema: false\n    ema: true\n", 1)
    path = _params_text(tmp_path, text)
    lines = text.splitlines()
    first = lines.index("    ema: false") + 1
    with pytest.raises(ConfigError) as err:
        load_params(path)
    assert f"{path}:{first + 1}: key 'ema' appears twice" in _one_line(err) and f"line {first}" in str(err.value)


def test_non_utf8_params_names_the_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_bytes((REPO / "params.yaml").read_bytes().replace(b"V-JEPA loss only.", b"V-JEPA \xff loss"))
    with pytest.raises(ConfigError, match=rf"{path}: not UTF-8"):
        load_params(path)


@pytest.mark.parametrize("where,value,expected", [
    (("profiles", "smoke", "train", "steps"), True, "valid integer"),
    (("profiles", "smoke", "train", "steps"), 6.0, "valid integer"),
    (("profiles", "smoke", "train", "lr"), True, "boolean"),
    (("profiles", "smoke", "train", "lr"), float("inf"), "finite"),
    (("profiles", "smoke", "probe", "seeds"), [0, True], "valid integer"),
    (("profiles", "smoke", "data", "mixed_weights"), {"ucf_like": False}, "boolean"),
    (("run", "seeds"), [True], "valid integer"),
])
def test_booleans_and_non_finite_values_are_not_numbers(tmp_path, where, value, expected):
    with pytest.raises(ConfigError, match=expected) as err:
        load_params(_mutated(tmp_path, _setting(where, value)))
    assert ".".join(where[1:] if where[0] == "profiles" else where) in str(err.value)


@pytest.mark.parametrize("term,key,value,expected", [
    ("fwm", "slow_weight", -0.05, "non-negative number"),
    ("fwm", "xcov_weight", True, "non-negative number"),
    ("fwm", "split", float("nan"), "non-negative number"),
    ("hw", "temperature", -1.0, "non-negative number"),
    ("ld", "hidden", 25.5, "whole number"),
    ("ld", "hard_weighted", 1, "true or false"),
    ("ld", "input", 3, "a string"),
    ("ld", "hiden", 256, "unknown argument 'hiden'"),
])
def test_every_term_argument_is_checked_against_its_objective(tmp_path, term, key, value, expected):
    def mutate(raw):
        raw["variants"]["probe_me"] = {"regimes": ["mixed"], "terms": {term: {key: value}}}

    with pytest.raises(ConfigError, match=expected) as err:
        load_params(_mutated(tmp_path, mutate))
    assert "variants.probe_me" in str(err.value) and f"terms.{term}" in str(err.value)


def test_unknown_objective_fails_at_load_not_in_training(tmp_path):
    path = _mutated(tmp_path, lambda raw: raw["variants"]["baseline"].update(terms={"dleta": {"weight": 0.5}}))
    with pytest.raises(ConfigError, match=r"variants.baseline.*terms.dleta: unknown objective; registered: .*'delta'"):
        load_run("single", "baseline", 0, "smoke", path)


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "a\\b", ".hidden", "sp ace"])
def test_variant_key_must_be_a_plain_name(tmp_path, name):
    def mutate(raw):
        raw["variants"][name] = {"description": "x"}

    with pytest.raises(ConfigError, match="is not a plain name"):
        load_params(_mutated(tmp_path, mutate))


def test_stages_that_read_only_the_profile_survive_an_error_in_a_variant(tmp_path):
    """The data, probe and few-shot stages read the profile only: a bad variant fails its own stage."""
    path = _mutated(tmp_path, lambda raw: raw["variants"]["fwm"]["terms"]["fwm"].update(slow_weight=-1))
    with pytest.raises(ConfigError):
        load_params(path)
    name, prof = profile_cfg("smoke", path)
    assert name == "smoke" and prof.train.steps == 6
    bad = _mutated(tmp_path, lambda raw: raw["profiles"]["smoke"]["train"].update(steps=True))
    with pytest.raises(ConfigError, match="profiles.smoke.train.steps"):
        profile_cfg("smoke", bad)


# ----------------------------------------------------------------------------- dataset indexes


def _ucf(tmp_path, train: str, test: str = "", videos=("YoYo/v_YoYo_g01_c01.avi", "YoYo/v_YoYo_g02_c01.avi",
                                                         "Archery/v_Archery_g01_c01.avi")) -> Path:
    root = tmp_path / "ucf"
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("1 Archery\n2 YoYo\n")
    (lists / "trainlist01.txt").write_text(train)
    (lists / "testlist01.txt").write_text(test)
    for name in videos:
        (root / "UCF-101" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "UCF-101" / name).write_bytes(b"")
    return root


def _index_error(read, *args, **kwargs) -> str:
    from jepa.data.real.indexes import DatasetFormatError

    with pytest.raises(DatasetFormatError) as err:
        read(*args, **kwargs)
    assert "\n" not in str(err.value)
    return str(err.value)


def test_duplicate_rows_are_errors_naming_both_lines(tmp_path):
    from jepa.data.real.indexes import read_ucf101

    root = _ucf(tmp_path, "YoYo/v_YoYo_g01_c01.avi 2\nArchery/v_Archery_g01_c01.avi 1\nYoYo/v_YoYo_g01_c01.avi 2\n")
    msg = _index_error(read_ucf101, root)
    assert "trainlist01.txt, line 3: clip v_YoYo_g01_c01.avi is listed twice (first on line 1)" in msg
    # the same clip in train and test: a leak between the splits
    root = _ucf(tmp_path / "b", "YoYo/v_YoYo_g01_c01.avi 2\n", "YoYo/v_YoYo_g01_c01.avi\n")
    msg = _index_error(read_ucf101, root)
    assert "testlist01.txt, line 1" in msg and "trainlist01.txt" in msg and "(train) there" in msg
    (root / "ucfTrainTestlist" / "classInd.txt").write_text("1 Archery\n2 YoYo\n3 YoYo\n")
    assert "classInd.txt, line 3" in _index_error(read_ucf101, root)


@pytest.mark.parametrize("field,value", [("label", 1.7), ("label", True), ("start_frame", 2.5),
                                         ("end_frame", "48.0"), ("start_frame", False)])
def test_non_integer_labels_and_frames_are_not_truncated(tmp_path, field, value):
    import json

    from jepa.data.real.indexes import read_diving48

    root = tmp_path / "d48"
    root.mkdir()
    (root / "Diving48_vocab.json").write_text(json.dumps([["a", "b", "c", "d"], ["e", "f", "g", "h"]]))
    record = {"vid_name": "clip", "label": 1, "start_frame": 0, "end_frame": 48}
    (root / "Diving48_V2_train.json").write_text(json.dumps([record, {**record, field: value}]))
    (root / "Diving48_V2_test.json").write_text("[]")
    (root / "clip.mp4").write_bytes(b"")
    msg = _index_error(read_diving48, root, splits="train")
    assert f"Diving48_V2_train.json, line 1: {field}={value!r} is not an integer" in msg


def test_epic_and_kinetics_numbers_are_not_truncated(tmp_path):
    from jepa.data.real.indexes import read_kinetics400

    root = tmp_path / "k400"
    (root / "annotations").mkdir(parents=True)
    (root / "annotations" / "train.csv").write_text("label,youtube_id,time_start,time_end,split\n"
                                                    "a,aaaaaaaaaaa,0.0,10,train\nb,bbbbbbbbbbb,12.7,22,train\n")
    (root / "aaaaaaaaaaa_000000_000010.mp4").write_bytes(b"")
    assert "train.csv, line 3: '12.7' is not an integer" in _index_error(read_kinetics400, root)


@pytest.mark.parametrize("listed", ["YoYo/../../../../etc/passwd", "YoYo/../../../outside.avi"])
def test_paths_that_leave_the_dataset_root_are_refused(tmp_path, listed):
    from jepa.data.real.indexes import read_ucf101

    root = _ucf(tmp_path, f"YoYo/v_YoYo_g01_c01.avi 2\n{listed}\n")
    msg = _index_error(read_ucf101, root)
    assert "trainlist01.txt, line 2" in msg and "leaves the dataset root" in msg


def test_ssv2_ids_that_leave_the_root_are_refused(tmp_path):
    import json

    from jepa.data.real.indexes import read_ssv2

    root = tmp_path / "ssv2"
    (root / "labels").mkdir(parents=True)
    (root / "labels" / "labels.json").write_text(json.dumps({"Holding something": "0"}))
    (root / "labels" / "train.json").write_text(json.dumps([{"id": "../../../../tmp/x", "template": "Holding [something]"}]))
    (root / "labels" / "validation.json").write_text("[]")
    assert "train.json, line 1: path" in _index_error(read_ssv2, root)


def test_missing_videos_are_dropped_and_counted_and_all_missing_is_an_error(tmp_path):
    from jepa.data.real.indexes import read_ucf101

    root = _ucf(tmp_path, "YoYo/v_YoYo_g01_c01.avi 2\nYoYo/v_YoYo_g09_c01.avi 2\n")
    df = read_ucf101(root, splits="train")
    assert len(df) == 1 and df.attrs["missing_videos"] == 1
    root = _ucf(tmp_path / "b", "YoYo/v_YoYo_g01_c01.avi 2\n", videos=())
    assert "none of the 1 clips listed" in _index_error(read_ucf101, root, splits="train")


def test_utf8_bom_is_accepted_and_other_bytes_name_file_and_line(tmp_path):
    from jepa.data.real.indexes import read_epic_verb_split, read_ucf101

    root = _ucf(tmp_path, "YoYo/v_YoYo_g01_c01.avi 2\n")
    (root / "ucfTrainTestlist" / "classInd.txt").write_bytes("\ufeff1 Archery\n2 YoYo\n".encode("utf-8"))
    assert read_ucf101(root, splits="train").label.tolist() == [1]
    split = tmp_path / "verbs.csv"
    split.write_bytes("\ufeffverb_class,split\n0,train\n".encode("utf-8"))  # Excel's "CSV UTF-8"
    assert read_epic_verb_split(split) == {0: "train"}
    (root / "ucfTrainTestlist" / "trainlist01.txt").write_bytes(b"YoYo/v_YoYo_g01_c01.avi 2\nYoYo/v_\xe9t\xe9.avi 2\n")
    msg = _index_error(read_ucf101, root, splits="train")
    assert "trainlist01.txt, line 2: byte 0xe9 at column 8 is not UTF-8" in msg
    split.write_bytes(b"verb_class,split\n0,tr\xffain\n")
    assert "verbs.csv, line 2: byte 0xff" in _index_error(read_epic_verb_split, split)


# ----------------------------------------------------------------------------- notebooks


def test_notebook_failure_is_one_line_for_user_mistakes_and_a_traceback_for_bugs():
    from jepa.notebook_run import failure_message

    tb = "\x1b[0;31mTraceback\x1b[0m (most recent call last):\n  File x.py, line 3\nConfigError: params.yaml"
    message = "params.yaml: invalid configuration\n  variants.fwm.terms: must be non-negative"
    assert failure_message("ConfigError", message, tb) == f"error: {message}"
    crash = failure_message("ZeroDivisionError", "division by zero", tb)  # a bug keeps its traceback
    assert crash.startswith("Traceback (most recent call last):") and "File x.py, line 3" in crash


@pytest.mark.parametrize("text,value", [("3", 3), ("-2", -2), ("0.5", 0.5), ("1e-3", 1e-3), ("True", True),
                                        ("False", False), ("None", None), ("mixed", "mixed"), ("fwm_hw_ld", "fwm_hw_ld")])
def test_notebook_parameters_are_typed_as_papermill_types_them(text, value):
    from papermill.cli import _resolve_type

    from jepa.notebook_run import typed

    assert typed(text) == value and type(typed(text)) is type(value) and _resolve_type(text) == value


def test_run_notebook_names_a_missing_notebook_in_one_line(tmp_path):
    out = subprocess.run([str(REPO / "scripts" / "run-notebook"), str(tmp_path / "nope.py"), str(tmp_path / "o.ipynb")],
                         capture_output=True, text=True,
                         env=os.environ | {"PYTHONPATH": str(REPO), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert (out.returncode, out.stderr) == (2, f"error: {tmp_path / 'nope.py'}: no such notebook\n")


@pytest.mark.slow
def test_pretrain_notebook_reports_a_bad_checkpoint_in_one_line(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "dvc.yaml").write_text("stages: {}\n")
    (root / "params.yaml").write_text((REPO / "params.yaml").read_text().replace("profile: tiny", "profile: smoke", 1))
    cfg = _smoke()
    ckpt = root / "checkpoints" / cfg.run_id / config_hash(cfg) / "last.pt"
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"")
    env = os.environ | {"PYTHONPATH": str(REPO), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    out = subprocess.run([str(REPO / "scripts" / "run-notebook"), str(REPO / "notebooks" / "02_pretrain.py"),
                          str(root / "out.ipynb")], cwd=root, env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert f"error: {ckpt}: empty file" in out.stderr and "Traceback" not in out.stderr, out.stderr[-3000:]


# ----------------------------------------------------------------------------- reports for any valid run list


def test_floor_seeds_come_from_dvc_yaml_and_must_cover_every_run_seed(tmp_path, monkeypatch):
    from jepa import report

    params = load_params()
    monkeypatch.chdir(REPO)  # the repository's own: more floor seeds than run seeds, every run seed among them
    seeds = report.floor_seeds(params)
    assert len(seeds) > len(params.run.seeds) and set(params.run.seeds) <= set(seeds)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    assert report.floor_seeds(params) == params.run.seeds
    (tmp_path / "dvc.yaml").write_text("vars:\n  - floor_seeds: [0, 1, 5]\nstages: {}\n")
    with pytest.raises(ConfigError, match=r"dvc.yaml: vars.floor_seeds must include every seed of run.seeds; "
                                          r"missing \[2\]$"):
        report.floor_seeds(params)
    (tmp_path / "dvc.yaml").write_text("vars:\n  - floor_seeds: 3\nstages: {}\n")
    with pytest.raises(ConfigError, match="vars.floor_seeds must be a list of integers, got 3"):
        report.floor_seeds(params)


def test_one_variant_per_regime_still_writes_every_declared_report(tmp_path, monkeypatch):
    """run = the baseline alone in each regime (no variant to compare with it): no claim can be evaluated and
    no loss curve exists here, yet every output the claims stage declares is written."""
    import shutil

    from jepa import report

    shutil.copytree(REPO / "reports" / "metrics", tmp_path / "reports" / "metrics")
    (tmp_path / "data").mkdir()
    shutil.copy2(REPO / "data" / "paper_results.csv", tmp_path / "data")
    shutil.copy2(REPO / "params.yaml", tmp_path)
    for rq in report.RESEARCH_QUESTIONS:
        shutil.copy2(REPO / "reports" / f"{rq}.csv", tmp_path / "reports")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.chdir(tmp_path)
    params = load_params(overrides={"run": {"single": ["baseline"], "mixed": ["baseline"], "seeds": [0]}})
    report.build(params, "tiny")
    stage = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]["claims"]
    declared = [next(iter(o)) if isinstance(o, dict) else o for o in stage["outs"] + stage["metrics"]]
    missing = [o for o in declared if not o.startswith("reports/runs/") and not (tmp_path / o).exists()]
    assert missing == []
    assert "not run" in (tmp_path / "reports" / "claims.md").read_text()


def test_calibration_trial_key_must_be_a_plain_name(tmp_path):
    path = _mutated(tmp_path, lambda raw: raw["calibration"]["trials"].update({"../../x": {"note": "x"}}))
    with pytest.raises(ConfigError, match=r"trials: key '\.\./\.\./x' is not a plain name"):
        load_params(path)


@pytest.mark.parametrize("where,value,expected", [
    (("run", "seeds"), [0, 0], r"seeds: \[0\] listed more than once"),
    (("run", "single"), ["baseline", "baseline"], r"single: \['baseline'\] listed more than once"),
    (("run", "seeds"), [-1], "greater than or equal to 0"),
    (("profiles", "smoke", "data", "mixed_weights"), {"ucf_like": -1.0, "ssv2_like": 2.0}, "greater than or equal"),
    (("profiles", "smoke", "data", "mixed_weights"), {"ucf_like": 0.0}, "positive sum"),
    (("profiles", "smoke", "train", "ema"), [0.998, 1.5], r"ema momenta must lie in \[0, 1\]"),
    (("profiles", "smoke", "train", "betas"), [0.9, 1.0], r"betas must lie in \[0, 1\)"),
])
def test_lists_weights_and_momenta_are_range_checked(tmp_path, where, value, expected):
    with pytest.raises(ConfigError, match=expected):
        load_params(_mutated(tmp_path, _setting(where, value)))


def _data_cli(*args):
    env = os.environ | {"PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "jepa.data", *args], capture_output=True, text=True, env=env)


def test_index_cli_never_overwrites_a_file_that_is_not_an_index(tmp_path):
    root = _ucf(tmp_path, "YoYo/v_YoYo_g01_c01.avi 2\n")
    mine = tmp_path / "notes.csv"
    mine.write_text("name,grade\nada,1\n")
    for out in (mine, tmp_path):
        done = _data_cli("index", "--dataset", "ucf101", "--root", str(root), "--out", str(out), "--split", "train")
        assert done.returncode == 2 and "Traceback" not in done.stderr and str(out) in done.stderr, done.stderr
    assert mine.read_text() == "name,grade\nada,1\n"
    index = tmp_path / "ucf.csv"
    for _ in range(2):  # an earlier index is replaced
        assert _data_cli("index", "--dataset", "ucf101", "--root", str(root), "--out", str(index)).returncode == 0


def test_cache_cli_names_an_index_without_its_columns(tmp_path):
    bad = tmp_path / "index.csv"
    bad.write_text("file,class\na.mp4,0\n")
    done = _data_cli("cache", "--index", str(bad), "--out", str(tmp_path / "c"), "--frames", "4", "--size", "16")
    assert done.returncode == 2 and "columns ['path', 'label'] missing" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "c").exists()


@pytest.mark.parametrize("step", [-1, 7, 2.5, True])
def test_checkpoint_step_outside_the_run_is_refused(tmp_path, step):
    cfg = _smoke()  # 6 steps
    pretrain(cfg, tmp_path / "run", stream_fn=random_stream(cfg), progress=False, stop_after=3)
    state = torch.load(tmp_path / "run" / "last.pt", weights_only=True)
    torch.save({**state, "step": step}, tmp_path / "run" / "last.pt")
    with pytest.raises(CheckpointError, match=r"step .* is not a step of this run \(0\.\.6\)"):
        pretrain(cfg, tmp_path / "run", stream_fn=random_stream(cfg), progress=False)


def test_last_pt_that_is_a_folder_is_one_line(tmp_path):
    cfg = _smoke()
    (tmp_path / "run" / "last.pt").mkdir(parents=True)
    with pytest.raises(CheckpointError) as err:
        pretrain(cfg, tmp_path / "run", stream_fn=random_stream(cfg), progress=False)
    assert str(tmp_path / "run" / "last.pt") in _one_line(err)


def test_pretrain_out_that_is_a_file_is_one_line(tmp_path):
    mine = tmp_path / "notes.txt"
    mine.write_text("keep")
    env = os.environ | {"PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-m", "jepa.cli", "pretrain", "--regime", "single", "--variant", "baseline",
                          "--profile", "smoke", "--out", str(mine)], cwd=REPO, env=env, capture_output=True, text=True)
    assert out.returncode == 2 and f"--out {mine}: exists and is not a folder" in out.stderr
    assert "Traceback" not in out.stderr and mine.read_text() == "keep"


@pytest.mark.parametrize("args, expected", [
    (["fewshot-floor", "--floor", "pixels", "--seed", "0"], "--seed: expected one for the random_init floor and none for the pixel floor"),
    (["fewshot-floor", "--floor", "random_init"], "--seed: expected one for the random_init floor and none for the pixel floor"),
    (["fewshot", "--regime", "mixed", "--variant", "baseline", "--seed", "7", "--profile", "smoke"],
     "runs/mixed/baseline/s7/encoder.pt"),
])
def test_fewshot_cli_mistakes_are_one_line_exit_2(tmp_path, capsys, monkeypatch, args, expected):
    from jepa.cli import main

    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "params.yaml").write_text((REPO / "params.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expected in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "reports").exists()  # nothing written
