"""The real pipeline, end to end, on the smoke profile: DVC + papermill + every notebook.

Runs in a throw-away copy of the repository so the developer's workspace and
DVC cache are untouched. Slow-ish (a couple of minutes on 2 cores): it is the
test that proves `dvc repro` works from a clean state.
"""

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers import copy_repository, run_shell as _sh

REPO = Path(__file__).resolve().parents[1]


def _stages(out) -> set[str]:
    """The stages a DVC run ran, by name: a per-run stage's address `data/pipelines/KIND_REGIME/dvc.yaml:NAME`
    is checked to be its own pipeline's and shortened to NAME."""
    names = set()
    for address in re.findall(r"Running stage '([^']+)'", out.stdout + out.stderr):
        pipeline, _, name = address.rpartition(":")
        assert pipeline in ("", f"data/pipelines/{name.split('@')[0]}/dvc.yaml"), address
        names.add(name)
    return names


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    def smoke(params):
        params["profile"] = "smoke"
        params["run"] = {"single": ["baseline", "mgm"], "mixed": ["baseline"], "seeds": [0]}

    ws = copy_repository(tmp_path_factory.mktemp("ws"), smoke)
    _sh("dvc repro", ws)  # the first, cold run: every stage
    return ws


@pytest.mark.slow
def test_dvc_repro_smoke_end_to_end(workspace):
    ws = workspace
    for f in ["reports/claims.csv", "reports/claims.md", "reports/floors.csv", "reports/figures/claims.png",
              "reports/figures/floors.png", "reports/figures/data_examples.png", "reports/runs/05_claims.ipynb",
              "runs/single/mgm/s0/encoder.pt", "reports/metrics/probe/mixed-baseline-s0.json",
              "reports/rq1.md", "reports/rq2.md", "reports/figures/rq2.png", "reports/REPORT.md",
              "reports/training.csv"]:
        assert (ws / f).exists(), f
    assert "not run: mixed/ltc" in (ws / "reports/rq1.md").read_text()  # absent variants are named, not guessed
    assert "mixed - single (baseline)" in (ws / "reports/rq2.md").read_text()
    claims = (ws / "reports/claims.csv").read_text()
    assert claims.count("mgm_single_") == 3 and "smoke" in claims
    # a second repro is a no-op
    out = _sh("dvc repro", ws).stdout
    assert "Running stage" not in out
    # `dvc metrics show` lists every run's probe accuracies
    metrics = _sh("dvc metrics show --json", ws).stdout
    assert "single-mgm-s0.json" in metrics and "synthetic_motion" in metrics


@pytest.mark.slow
def test_a_clone_adds_one_variant_without_retraining_the_others(workspace, tmp_path):
    """Adding one variant in a fresh clone trains and scores only that variant.

    A clone holds the small per-run results (metrics, few-shot scores, executed notebooks, data manifests)
    but no checkpoints, clip banks, evaluation sets or DVC cache. `dvc repro --allow-missing` must then run
    the new variant's own stages and the report stages, and leave every other run alone: the rq stages read
    the committed few-shot scores instead of loading encoders, the probes regenerate the evaluation sets,
    pretraining renders its clips without a bank.
    """
    first = workspace
    _sh("git add -A && git commit -qm results", first)
    tracked = set(_sh("git ls-files", first).stdout.split())
    for f in ("reports/fewshot/mixed/baseline-s0.json", "reports/fewshot/floors/random_init-s0.json",
              "reports/fewshot/floors/pixels.json", "reports/runs/probe-mixed-baseline-s0.ipynb",
              "reports/runs/pretrain-single-mgm-s0.ipynb", "data/manifests/eval.json",
              "data/manifests/clips-mixed-s0.json"):
        assert f in tracked, f
    assert not [f for f in tracked if f.startswith(("runs/", "data/generated/", ".dvc/cache"))]

    _sh(f"git clone -q {first} second", tmp_path)
    ws = tmp_path / "second"
    assert not (ws / "runs").exists() and not (ws / "data/generated").exists() and not (ws / ".dvc/cache").exists()
    # the report's links to executed notebooks resolve in the clone: one pretraining and one probe notebook
    # per run (3 runs), one per floor (2) and the two few-shot notebooks
    links = re.findall(r"\]\((runs/[^)]+\.ipynb)\)", (ws / "reports/REPORT.md").read_text())
    assert len(set(links)) == 10 and all((ws / "reports" / link).exists() for link in links), links
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

    # back to the default's `run`: ltc's committed run (its results and dvc.lock entries) still counts, and
    # the claims say where each row's runs come from
    params["run"]["mixed"].remove("ltc")
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert _stages(_sh("dvc repro --allow-missing", ws)) <= {"rq@rq1", "rq@rq2", "claims"}
    claims = pd.read_csv(ws / "reports/claims.csv").set_index("claim_id")
    assert claims.loc["in100_loss_ltc", "n_seeds"] == 1
    assert claims.loc["in100_loss_ltc", "runs_from"] == "committed sweep + dvc repro"
    assert claims.loc["mgm_single_d48", "runs_from"] == "dvc repro"
    # once ltc's block changes, its committed run no longer matches the recipe: left out, and said so
    params["variants"]["ltc"]["terms"]["ltc"]["weight"] = 0.25
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert _stages(_sh("dvc repro --allow-missing", ws)) == {"claims"}
    claims = pd.read_csv(ws / "reports/claims.csv").set_index("claim_id")
    assert claims.loc["in100_loss_ltc", "verdict"] == "not run (ltc)"
    assert ("mixed/ltc/s0: pretrain_mixed@ltc-0: params.yaml key variants.ltc differs"
            in (ws / "reports/REPORT.md").read_text())


def test_paper_profile_without_data_fails_fast_naming_what_is_missing(tmp_path):
    from jepa.data import eval_data
    from jepa.config import load_params
    from jepa.data.real.stream import RealDataMissing

    prof = load_params().profiles["paper"]
    prof = prof.model_copy(update={"data": prof.data.model_copy(update={"root": str(tmp_path / "raw")})})
    with pytest.raises(RealDataMissing) as err:
        eval_data.build(prof, tmp_path / "eval")
    msg = str(err.value)
    for d in ("ucf101", "ssv2", "imagenet100", "diving48"):
        assert f"  {d}: expected" in msg
    assert "classInd.txt" in msg and "crcv.ucf.edu" in msg


@pytest.mark.slow
def test_queued_experiment_for_one_variant(workspace):
    """`dvc exp run --queue -S ...` runs a one-coefficient change in an isolated copy, rerunning only that
    variant's stages, and `exp show` lists it."""
    ws = workspace
    _sh("git add -A && (git diff --cached --quiet || git commit -qm 'after repro')", ws)
    _sh("dvc exp run --queue -S variants.mgm.guidance.strength=2.5 -n mgm-s25", ws)
    out = _sh("dvc exp run --run-all", ws)
    stages = _stages(out)
    # Report stages downstream may rerun too: claims when the mgm probe metrics changed, and rq@rq2,
    # which reads every single-regime encoder's few-shot scores; the experiment's isolated copy renders its
    # clip banks again (they are neither cached nor in git). No other variant, regime or seed is touched.
    assert {s for s in stages - {"claims", "rq@rq2"} if not s.startswith("clips@")} == {"pretrain_single@mgm-0", "probe_single@mgm-0",
                                              "fewshot_single@mgm-0"}, stages
    table = _sh("dvc exp show --csv", ws).stdout
    assert "mgm-s25" in table and "2.5" in table


@pytest.mark.slow
def test_calibration_study_is_its_own_pipeline_and_caches_trials(workspace):
    ws = workspace
    assert not (ws / "reports/calibration/summary.csv").exists()  # the default `dvc repro` leaves it alone
    params = yaml.safe_load((ws / "params.yaml").read_text())
    params["calibration"] = {"base": "smoke", "regime": "single", "screen_seeds": [0], "final_seeds": [0, 1],
                             "trials": {"reference": {}, "short": {"overrides": {"train.steps": 4}}},
                             "finalists": ["reference"]}
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    shutil.copy2(REPO / "reports/analogues.csv", ws / "reports/analogues.csv")  # dependencies, as in a clone
    (ws / "reports/calibration").mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "reports/calibration/regenerated.csv", ws / "reports/calibration/regenerated.csv")
    _sh("dvc repro benchmarks/calibration/dvc.yaml", ws)
    runs = pd.read_csv(ws / "reports/calibration/runs.csv")
    assert sorted(zip(runs.trial, runs.seed)) == [("reference", 0), ("reference", 1), ("short", 0)]
    assert set(runs.steps) == {4, 6}
    summary = pd.read_csv(ws / "reports/calibration/summary.csv")
    assert len(summary) == 2 * 4 and summary.set_index("trial").seeds.to_dict() == {"reference": 2, "short": 1}
    assert (ws / "reports/calibration/calibration.png").exists()
    md = (ws / "reports/calibration/calibration.md").read_text()
    assert "No trial" in md  # 2 seeds can never qualify
    assert "Set aside" not in md  # regenerated.csv names no trial of this study
    # one more final seed trains only that run; the finished ones come from the cache
    params["calibration"]["final_seeds"] = [0, 1, 2]
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    before = {p.name: p.stat().st_mtime_ns for p in (ws / "reports/calibration/trials").iterdir()}
    _sh("dvc repro benchmarks/calibration/dvc.yaml", ws)
    after = {p.name: p.stat().st_mtime_ns for p in (ws / "reports/calibration/trials").iterdir()}
    assert len(after) == 4 and all(after[k] == v for k, v in before.items())


@pytest.mark.slow
def test_executed_notebooks_are_stripped_for_git(workspace, tmp_path):
    """reports/runs/ is in git: run-notebook leaves no run timing or progress bars, and keeps the figures."""
    import json

    from jepa import notebook_strip

    path = workspace / "reports/runs/pretrain-single-baseline-s0.ipynb"
    nb = json.loads(path.read_text())
    assert nb["metadata"]["papermill"] == {"parameters": {"regime": "single", "seed": 0, "variant": "baseline"}}
    assert not any({"execution", "papermill"} & set(c["metadata"]) for c in nb["cells"])
    outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
    texts = "".join(o.get("text", "") for o in outputs)
    assert "V-JEPA loss only. | smoke profile" in texts  # stdout stays
    assert "single-baseline-s0:" not in texts and "it/s" not in texts  # the tqdm bar's redraws are gone
    assert [o["output_type"] for o in outputs if "image/png" in o.get("data", {})] == ["display_data"]  # the curve
    # stripping again changes nothing (the committed bytes are what strip writes)
    again = Path(shutil.copy(path, tmp_path / "again.ipynb"))
    notebook_strip.strip_file(again)
    assert again.read_text() == path.read_text()
    # what a kernel with ipywidgets adds, as the tqdm widget writes it, goes too; the figure stays
    figure = next(o for o in outputs if "image/png" in o.get("data", {}))
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "state": {"8f1c": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_a1"]}}},
        "version_major": 2, "version_minor": 0}}
    code = next(c for c in nb["cells"] if c["cell_type"] == "code" and c["outputs"])
    code["outputs"][:0] = [
        {"output_type": "display_data", "metadata": {},
         "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "8f1c", "version_major": 2,
                                                               "version_minor": 0},
                  "text/plain": "single-baseline-s0:   0%|          | 0/6 [00:00<?, ?it/s]"}},
        {"output_type": "stream", "name": "stderr",
         "text": ["\r", "single-baseline-s0:  50%|█████     | 3/6 [00:01<00:01,  2.12it/s, loss=0.8556]"]},
        {"output_type": "stream", "name": "stderr", "text": ["\n", "UserWarning: kept\n"]}]
    code["metadata"]["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00Z"}
    stripped = notebook_strip.strip(nb)
    assert "widgets" not in stripped["metadata"] and "execution" not in code["metadata"]
    kept = [o for c in stripped["cells"] for o in c.get("outputs", [])]
    assert not any(notebook_strip.WIDGET_VIEW in o.get("data", {}) for o in kept)
    assert "UserWarning: kept\n" in "".join(o.get("text", "") for o in kept) and "3/6" not in json.dumps(kept)
    assert figure in kept
    # the report notebooks show their figures too (PNG previews at a modest resolution)
    claims = json.loads((workspace / "reports/runs/05_claims.ipynb").read_text())
    pngs = [o for c in claims["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) == 5
