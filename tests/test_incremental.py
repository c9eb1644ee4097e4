"""Adding one variant in a fresh clone trains and scores only that variant (smoke profile, DVC + git).

A clone holds the small per-run results (metrics, few-shot scores, executed notebooks, data manifests)
but no checkpoints, clip banks, evaluation sets or DVC cache. `dvc repro --allow-missing` must then run
the new variant's own stages and the report stages, and leave every other run alone: the rq stages read
the committed few-shot scores instead of loading encoders, the probes regenerate the evaluation sets,
pretraining renders its clips without a bank. Slow (two cold smoke runs' worth on 2 cores).
"""

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers import copy_repository, run_shell as _sh


def _stages(out) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", out.stdout + out.stderr))


@pytest.mark.slow
def test_a_clone_adds_one_variant_without_retraining_the_others(tmp_path):
    def smoke(params):
        params["profile"] = "smoke"
        params["run"] = {"single": ["baseline"], "mixed": ["baseline"], "seeds": [0]}

    origin = copy_repository(tmp_path / "origin", smoke)
    _sh(f"git clone -q {origin} first", tmp_path)
    first = tmp_path / "first"
    _sh("dvc repro", first)
    _sh("git add -A && git commit -qm results", first)
    tracked = set(_sh("git ls-files", first).stdout.split())
    for f in ("reports/fewshot/mixed/baseline-s0.json", "reports/fewshot/floors/random_init-s0.json",
              "reports/fewshot/floors/pixels.json", "reports/runs/probe-mixed-baseline-s0.ipynb",
              "reports/runs/pretrain-single-baseline-s0.ipynb", "data/manifests/eval.json",
              "data/manifests/clips-mixed-s0.json"):
        assert f in tracked, f
    assert not [f for f in tracked if f.startswith(("runs/", "data/generated/", ".dvc/cache"))]

    _sh(f"git clone -q {first} second", tmp_path)
    ws = tmp_path / "second"
    assert not (ws / "runs").exists() and not (ws / "data/generated").exists() and not (ws / ".dvc/cache").exists()
    # the report's links to executed notebooks resolve in the clone
    links = re.findall(r"\]\((runs/[^)]+\.ipynb)\)", (ws / "reports/REPORT.md").read_text())
    assert len(links) == 8 and all((ws / "reports" / link).exists() for link in links), links
    params = yaml.safe_load((ws / "params.yaml").read_text())
    params["run"]["mixed"].append("ltc")
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = _sh("dvc repro --allow-missing", ws)
    assert _stages(out) == {"pretrain_mixed@ltc-0", "probe_mixed@ltc-0", "fewshot_mixed@ltc-0",
                            "rq@rq1", "rq@rq2", "claims"}, out.stdout[-3000:]
    assert not (ws / "runs/mixed/baseline").exists()  # no other encoder was trained or loaded
    # rq1 now scores ltc; the baseline's and the floors' rows are the first clone's, read from git
    before = pd.read_csv(first / "reports/rq1_runs.csv").set_index(["regime", "variant", "shots"])
    after = pd.read_csv(ws / "reports/rq1_runs.csv").set_index(["regime", "variant", "shots"])
    assert set(after.index) - set(before.index) == {("mixed", "ltc", 1), ("mixed", "ltc", 5)}
    pd.testing.assert_frame_equal(after.loc[before.index], before)
    assert "not run: mixed/ltc" in (first / "reports/rq1.md").read_text()
    assert "mixed/ltc" not in (ws / "reports/rq1.md").read_text()
    # the regenerated evaluation sets are the recorded ones, so nothing else is left to run
    assert (ws / "data/generated/eval/motion_train.npz").exists()
    assert _stages(_sh("dvc repro --allow-missing", ws)) == set()
