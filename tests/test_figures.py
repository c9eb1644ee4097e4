"""Per-variant paper-vs-reproduced figures: the tables behind them, their files, and the report wiring."""

import math
import shutil

import numpy as np
import pandas as pd
import pytest

from jepa import paths, claims as C
from jepa import figures, report, stats
from jepa.config import PAPER_BENCHMARK, load_params

LOCK_SHA = "cb4c768c4b63fc20b154157c1985323973f5d1a5fc45a134beec628e0d803b97"
RUNS = {"single": ["baseline", "mgm"], "mixed": ["baseline", "mgm", "infonce"]}


def _metrics(seeds=(0, 1, 2), runs=RUNS) -> pd.DataFrame:
    """Probe accuracies shaped like load_probe_metrics: mgm = baseline + 2 + seed/2 pp on every benchmark."""
    rows = []
    for regime, variants in runs.items():
        for variant in variants:
            for seed in seeds:
                for k, (analogue, bench) in enumerate(PAPER_BENCHMARK.items()):
                    acc = 20.0 + 10 * k + seed + (2.0 + seed / 2 if variant == "mgm" else 0.0)
                    rows.append({"regime": regime, "variant": variant, "seed": seed, "analogue": analogue,
                                 "benchmark": bench, "acc_pp": acc})
    return pd.DataFrame(rows)


def _floors(seeds=(0, 1, 2)) -> pd.DataFrame:
    return pd.DataFrame([{"floor": floor, "seed": s, "analogue": a, "benchmark": b, "acc_pp": base + s}
                         for floor, base in (("random_init", 30.0), ("pixels", 50.0)) for s in seeds
                         for a, b in PAPER_BENCHMARK.items()])


@pytest.fixture
def paper(repo_root) -> pd.DataFrame:
    return C.paper_table(repo_root / "data" / "paper_results.csv")


def _paper_top1(paper: pd.DataFrame, regime: str, variant: str, bench: str) -> float:
    return float(paper[(paper.regime == regime) & (paper.variant == variant) & (paper.benchmark == bench)].top1.iloc[0])


def test_tradeoff_points_carry_the_papers_deltas_and_no_ci_where_not_run(paper):
    points = C.tradeoff_points(C.variant_deltas(_metrics(), paper, "test"), "mixed").set_index("variant")
    fwm_hw_ld = points.loc["fwm_hw_ld"]
    # straight from the released table: variant minus the mixed baseline
    assert fwm_hw_ld.paper_x_pp == pytest.approx(_paper_top1(paper, "mixed", "fwm_hw_ld", "imagenet100")
                                                 - _paper_top1(paper, "mixed", "baseline", "imagenet100"))
    assert fwm_hw_ld.paper_y_pp == pytest.approx(_paper_top1(paper, "mixed", "fwm_hw_ld", "ssv2")
                                                 - _paper_top1(paper, "mixed", "baseline", "ssv2"))
    assert (fwm_hw_ld.paper_x_pp, fwm_hw_ld.paper_y_pp) == pytest.approx((5.92, 3.21))
    assert fwm_hw_ld.n_seeds == 0
    assert all(math.isnan(fwm_hw_ld[c]) for c in ("reproduced_x_pp", "reproduced_y_pp", "ci95_x_pp", "ci95_y_pp"))
    mgm = points.loc["mgm"]  # run: paired deltas 2.0, 2.5, 3.0 on both axes
    assert (mgm.reproduced_x_pp, mgm.reproduced_y_pp) == pytest.approx((2.5, 2.5))
    assert mgm.ci95_x_pp == pytest.approx(stats.mean_ci([2.0, 2.5, 3.0])[1], abs=1e-3) and mgm.n_seeds == 3
    assert "baseline" not in points.index and "baseline_seed239" not in points.index


def test_variant_deltas_keep_run_only_variants_and_the_papers_columns(paper):
    deltas = C.variant_deltas(_metrics(), paper, "test")
    infonce = deltas[(deltas.regime == "mixed") & (deltas.variant == "infonce")]
    assert len(infonce) == 3 and infonce.paper_value_pp.isna().all()  # beyond the paper: reproduced only
    assert infonce.n_seeds.eq(3).all() and infonce.reproduced_mean_pp.eq(0.0).all()
    # columns = benchmarks the paper reports for the regime: synthetic motion only in single
    assert set(deltas[deltas.regime == "mixed"].benchmark) == {"diving48", "imagenet100", "ssv2"}
    assert "synthetic_motion" in set(deltas[deltas.regime == "single"].benchmark)
    kin = deltas[(deltas.variant == "kinematic_0_1") & (deltas.benchmark == "synthetic_motion")].iloc[0]
    assert kin.paper_value_pp == pytest.approx(45.0) and kin.n_seeds == 0


def test_synthetic_motion_table_reports_the_papers_accuracies_not_deltas(paper):
    acc = C.benchmark_accuracy(_metrics(), paper, "single", "synthetic_motion").set_index("variant")
    assert list(acc.index[:1]) == ["baseline"]
    assert acc.loc["baseline"].paper_pp == pytest.approx(27.5)
    assert acc.loc["kinematic"].paper_pp == pytest.approx(67.5)
    assert acc.loc["kinematic_0_1"].paper_pp == pytest.approx(72.5)
    assert math.isnan(acc.loc["kinematic"].reproduced_mean_pp) and acc.loc["kinematic"].n_seeds == 0
    assert acc.loc["baseline"].reproduced_mean_pp == pytest.approx(51.0)  # 50 + mean seed
    assert acc.loc["baseline"].ci95_pp == pytest.approx(stats.mean_ci([50.0, 51.0, 52.0])[1])
    assert math.isnan(acc.loc["mgm"].paper_pp)  # run here, not in the paper's Table 4


def test_floor_summary_means_each_floor():
    f = C.floor_summary(_floors(), "synthetic_motion").set_index("floor")
    assert f.loc["random_init"].mean_pp == pytest.approx(31.0) and f.loc["pixels"].mean_pp == pytest.approx(51.0)
    assert f.loc["pixels"].n == 3 and np.isfinite(f.loc["pixels"].ci95_pp)


@pytest.mark.parametrize("seeds, runs", [((0, 1, 2), RUNS), ((0,), {"single": ["baseline", "mgm"],
                                                                      "mixed": ["baseline"]})])
def test_effect_figures_are_written_with_identical_bytes_twice(tmp_path, paper, seeds, runs):
    """Includes the smoke shape (one seed: no CIs; mixed baseline only: no reproduced point in the scatter)."""
    def draw(folder):
        figs = report._effect_figures(_metrics(seeds, runs), _floors(seeds), paper, "test")
        assert set(figs) == set(report.EFFECT_FIGURES)
        return [p for key, fig in figs.items() for p in figures.save(fig, folder / key)]

    first, second = draw(tmp_path / "a"), draw(tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    assert {p.suffix for p in first} == {".png", ".svg"} and len(first) == 6
    for a, b in zip(first, second):
        assert a.stat().st_size > 1000 and a.read_bytes() == b.read_bytes(), a.name


def test_claims_stage_writes_the_figures_and_lists_them_in_the_report(tmp_path, repo_root, monkeypatch):
    """report.build on the committed default-run metrics, in a scratch workspace (the repo's reports/ untouched)."""
    shutil.copytree(repo_root / "reports" / "metrics", tmp_path / "reports" / "metrics")
    (tmp_path / "data").mkdir()
    shutil.copy2(repo_root / "data" / "paper_results.csv", tmp_path / "data")
    shutil.copy2(repo_root / "params.yaml", tmp_path)
    (tmp_path / "requirements.lock").write_text("torch==2.14.1\n")
    for rq in report.RESEARCH_QUESTIONS:  # the rq stages' answers, which REPORT.md quotes
        shutil.copy2(repo_root / "reports" / f"{rq}.csv", tmp_path / "reports")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.chdir(tmp_path)
    params = load_params()  # the committed run lists, restricted to the runs whose metrics are committed
    done = {r: [v for v in getattr(params.run, r) if all(paths.probe_metrics(r, v, s).exists() for s in params.run.seeds)]
            for r in ("single", "mixed")}
    assert done["single"] and done["mixed"], "no committed default run"
    params = params.model_copy(update={"run": params.run.model_copy(update=done)})
    report.build(params, "tiny")
    text = (tmp_path / "reports" / "REPORT.md").read_text()
    first_contrast = pd.read_csv(repo_root / "reports" / "rq1.csv").contrast.iloc[0]
    assert "**RQ1** ([rq1.md](rq1.md)" in text and f"| {first_contrast} |" in text
    assert "[runs/04_fewshot-rq2.ipynb](runs/04_fewshot-rq2.ipynb)" in text
    # the exact environment: sha256 of b"torch==2.14.1\n", computed independently with sha256sum
    assert "`requirements.lock` sha256 `" + LOCK_SHA + "`" in text
    for key, caption in report.EFFECT_FIGURES.items():
        for ext in (".png", ".svg"):
            assert (tmp_path / "reports" / "figures" / f"{key}{ext}").stat().st_size > 1000
        assert f"![{key}](figures/{key}.png)\n\n*{caption}*" in text


def test_metrics_view_is_one_stage_kind_screen_wide(tmp_path, monkeypatch, capsys):
    """`jepa metrics KIND`: one row per metrics file, accuracies in % (the 40-column `dvc metrics show`, split)."""
    from jepa import cli
    from jepa.io import write_json

    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    monkeypatch.chdir(tmp_path)
    probe = {t: {"acc": a, "accs": [a], "n_train": 6, "n_val": 4, "probe": "linear"}
             for t, a in zip(("appearance", "motion", "temporal", "synthetic_motion"), (0.2, 0.3125, 0.5, 0.125))}
    write_json(tmp_path / "reports/metrics/probe/single-mgm-s1.json", probe)
    write_json(tmp_path / "reports/metrics/pretrain/single-mgm-s1.json",
               {"steps": 10, "seconds": 12.34, "ms_per_step": 1234.0, "final_loss": 0.51234, "final_target_std": 0.2,
                "collapsed": False, "profile": "smoke", "run_id": "single-mgm-s1"})
    table = report.metrics_table("probe")
    assert table.to_dict("records") == [{"run": "single-mgm-s1", "appearance": 20.0, "motion": 31.2,
                                         "temporal": 50.0, "synthetic_motion": 12.5}]
    assert list(report.metrics_table("pretrain").iloc[0]) == ["single-mgm-s1", 10, 12.3, 1234.0, 0.5123, 0.2, False]
    assert cli.main(["metrics", "probe", "--md"]) == 0
    assert "| single-mgm-s1 | 20.00 | 31.20 | 50.00 | 12.50 |" in capsys.readouterr().out
    assert cli.main(["metrics", "floors"]) == 1  # nothing there yet: one line naming the folder, no traceback
    assert "reports/metrics/floors: no metrics files yet" in capsys.readouterr().err
    with pytest.raises(ValueError, match="expected one of pretrain, probe, floors"):
        report.metrics_table("claims")


def test_claims_figure_without_evaluated_claims_says_so():
    fig = figures.claim_deltas(pd.DataFrame(columns=["verdict", "reproduced_mean_pp", "ci95_pp", "paper_value_pp"]))
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts and "no claim evaluated" in texts[0]
