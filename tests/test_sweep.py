"""Which committed sweep runs a report may use: only those locked on today's params and code."""

import copy

from jepa import sweep


def _entry(kind: str, variant: str, code_md5: str = "aaa", coef: float = 1.0) -> dict:
    params = {"profile": "tiny", "profiles.tiny.train": {"steps": 1000, "lr": 0.002}}
    if kind == "pretrain":
        params[f"variants.{variant}"] = {"terms": {"ld": coef}}
    return {"cmd": "x", "deps": [{"path": "jepa/train.py", "md5": code_md5},
                                 {"path": f"runs/mixed/{variant}/s0", "md5": f"{variant}.dir"}],
            "params": {"params.yaml": params}}


def _lock(**overrides) -> dict:
    lock = {f"{k}_mixed@{v}-0": _entry(k, v) for k in sweep.STAGE_KINDS for v in ("baseline", "ld")}
    lock.update(overrides)
    return lock


RAW = {"profile": "tiny", "profiles": {"tiny": {"train": {"steps": 1000, "lr": 0.002}}},
       "variants": {"baseline": {"terms": {"ld": 1.0}}, "ld": {"terms": {"ld": 1.0}}}}


def test_a_run_locked_on_todays_params_and_code_is_current():
    # per-run dependencies (the run's own checkpoint) differ from the baseline's and do not count
    assert sweep.why_stale(_lock(), RAW, "mixed", "ld", 0) is None


def test_a_changed_coefficient_makes_the_run_stale_naming_the_key():
    raw = copy.deepcopy(RAW)
    raw["variants"]["ld"]["terms"]["ld"] = 2.0
    why = sweep.why_stale(_lock(), raw, "mixed", "ld", 0)
    assert why == "pretrain_mixed@ld-0: params.yaml key variants.ld differs from the value it was trained with"


def test_a_changed_profile_key_makes_the_run_stale():
    raw = copy.deepcopy(RAW)
    raw["profiles"]["tiny"]["train"]["lr"] = 0.001
    assert "profiles.tiny.train differs" in sweep.why_stale(_lock(), raw, "mixed", "ld", 0)


def test_code_changed_since_the_run_was_locked_makes_it_stale():
    # the baseline was just re-locked on new code (md5 bbb); the sweep run still carries the old hash
    lock = _lock(**{f"probe_mixed@baseline-0": _entry("probe", "baseline", code_md5="bbb")})
    assert sweep.why_stale(lock, RAW, "mixed", "ld", 0) == (
        "probe_mixed@ld-0: dependency jepa/train.py changed since the run was locked")


def test_a_run_without_its_lock_entries_is_not_used():
    lock = _lock()
    del lock["fewshot_mixed@ld-0"]
    assert sweep.why_stale(lock, RAW, "mixed", "ld", 0) == "dvc.lock has no entry fewshot_mixed@ld-0"


def test_every_variant_rewrites_only_the_run_lists(repo_root):
    import pytest
    import yaml
    from jepa.config import load_params
    from jepa.errors import ConfigError

    params = load_params(repo_root / "params.yaml")
    text = (repo_root / "params.yaml").read_text()
    rewritten = sweep.with_every_variant(text, params)
    before, after = yaml.safe_load(text), yaml.safe_load(rewritten)
    from ruamel.yaml import YAML
    assert YAML(typ="safe").load(rewritten) == after          # and DVC's YAML 1.2 parser reads it the same
    assert after["run"]["single"] == [k for k, v in params.variants.items() if "single" in v.regimes]
    assert "kinematic_as_released" in after["run"]["single"] and "ltc" not in after["run"]["single"]
    assert after["run"]["seeds"] == before["run"]["seeds"]
    after["run"], before["run"] = None, None
    assert after == before                                   # nothing else moved
    # block-style lists (as yaml.safe_dump writes them) work too
    assert yaml.safe_load(sweep.with_every_variant(yaml.safe_dump(yaml.safe_load(text)), params))["run"]["mixed"][-1] \
        == [k for k, v in params.variants.items() if "mixed" in v.regimes][-1]
    with pytest.raises(ConfigError, match="expected a `run:` mapping"):
        sweep.with_every_variant("profile: tiny\n", params)


def test_collect_reads_the_lock_of_every_per_run_pipeline(repo_root, tmp_path, monkeypatch):
    """A run's three stages are locked in three pipelines' dvc.lock files; the run counts only while all three
    hold its entries."""
    import yaml

    from jepa import paths
    from jepa.config import load_params

    params = load_params(repo_root / "params.yaml")
    assert "ld" not in params.run.mixed and "mixed" in params.variants["ld"].regimes
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    metrics = paths.probe_metrics("mixed", "ld", 0)
    metrics.parent.mkdir(parents=True)
    metrics.write_text("{}")
    lock = _lock()
    for kind in sweep.STAGE_KINDS:
        path = paths.run_pipeline(kind, "mixed").with_name("dvc.lock")
        path.parent.mkdir(parents=True)
        entries = {name: entry for name, entry in lock.items() if name.startswith(f"{kind}_mixed@")}
        path.write_text(yaml.safe_dump({"schema": "2.0", "stages": entries}))
    assert len(paths.dvc_locks()) == 3
    runset = sweep.collect(params, RAW)
    assert runset.runs["mixed"]["ld"] == [0] and runset.source[("mixed", "ld")] == sweep.SWEEP
    paths.run_pipeline("fewshot", "mixed").with_name("dvc.lock").unlink()
    runset = sweep.collect(params, RAW)
    assert "ld" not in runset.runs["mixed"]
    assert runset.stale[("mixed", "ld", 0)] == "dvc.lock has no entry fewshot_mixed@ld-0"
