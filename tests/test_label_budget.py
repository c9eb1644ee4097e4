"""Label budgets: a share is computed only against a ceiling trained on as many labelled clips as the probes."""

import importlib.util
import sys

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def label_budget(repo_root):
    sys.path.insert(0, str(repo_root / "benchmarks"))  # label_budget imports its sibling `analogues`
    try:
        spec = importlib.util.spec_from_file_location("label_budget", repo_root / "benchmarks" / "label_budget.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(repo_root / "benchmarks"))


def _ceilings():
    rows = []
    for seed, acc in enumerate((0.80, 0.90, 0.85)):  # z, 1000 steps, 3,000 clips: mean 85
        rows.append(dict(set="motion", data="aa", n_train=3000, seed=seed, val_acc=acc, steps=1000, lr=1e-3,
                         head_only_steps=0, encoder_lr_scale=1.0, standardize=True, embed_dim=np.nan))
    for seed in (0, 1):  # higher, but on fewer seeds: not chosen
        rows.append(dict(set="motion", data="aa", n_train=3000, seed=seed, val_acc=0.99, steps=2000, lr=1e-3,
                         head_only_steps=600, encoder_lr_scale=0.1, standardize=True, embed_dim=np.nan))
    for seed, acc in enumerate((0.60, 0.62, 0.58)):  # the probes' own budget
        rows.append(dict(set="motion", data="aa", n_train=600, seed=seed, val_acc=acc, steps=1000, lr=1e-3,
                         head_only_steps=0, encoder_lr_scale=1.0, standardize=True, embed_dim=np.nan))
    rows.append(dict(set="motion", data="bb", n_train=600, seed=0, val_acc=0.99, steps=1000, lr=1e-3,  # other clips
                     head_only_steps=0, encoder_lr_scale=1.0, standardize=True, embed_dim=np.nan))
    rows.append(dict(set="motion", data="aa", n_train=600, seed=0, val_acc=0.99, steps=1000, lr=1e-3,  # wider encoder
                     head_only_steps=0, encoder_lr_scale=1.0, standardize=True, embed_dim=144))
    return pd.DataFrame(rows)


def test_the_ceiling_is_the_one_trained_on_as_many_clips_of_the_same_generator(label_budget):
    c = _ceilings()
    at_3000 = label_budget.matched_ceiling(c, "motion", "aa", 3000, 96)
    assert at_3000.ceiling_pp == pytest.approx(85.0) and at_3000.ceiling_seeds == 3
    assert at_3000.ceiling_recipe == "z, 1000 steps"
    assert at_3000.ceiling_ci95 == pytest.approx(4.303 * 5.0 / np.sqrt(3), rel=1e-3)  # Student t, 2 dof
    at_600 = label_budget.matched_ceiling(c, "motion", "aa", 600, 96)
    assert at_600.ceiling_pp == pytest.approx(60.0) and at_600.ceiling_seeds == 3
    assert label_budget.matched_ceiling(c, "motion", "aa", 1000, 96) is None  # no ceiling on 1,000 clips
    assert label_budget.matched_ceiling(c, "temporal", "aa", 600, 96) is None


def test_shares_need_both_floors_and_a_usable_matched_ceiling(label_budget, tmp_path, monkeypatch):
    rows = []
    for n, pixels, rnd, base in ((600, 0.25, (0.34, 0.35, 0.36), (0.30, 0.32, 0.34)),
                                 (3000, 0.57, (0.64, 0.65, 0.66), (0.75, 0.775, 0.80))):
        rows.append(dict(set="motion", n_train=n, encoder="pixels", seed=0, data="aa", acc=pixels, n_val=400))
        for s in range(3):
            rows.append(dict(set="motion", n_train=n, encoder="random_init", seed=s, data="aa", acc=rnd[s], n_val=400))
            for regime in ("single", "mixed"):
                rows.append(dict(set="motion", n_train=n, encoder=f"baseline_{regime}", seed=s, data="aa",
                                 acc=base[s], n_val=400))
    rows.append(dict(set="appearance", n_train=600, encoder="random_init", seed=0, data="cc", acc=0.15, n_val=400))
    monkeypatch.setattr(label_budget, "OUT", tmp_path / "label_budget.csv")
    monkeypatch.setattr(label_budget.analogues, "OUT", tmp_path / "ceilings.csv")
    pd.DataFrame(rows).to_csv(label_budget.OUT, index=False)
    _ceilings().to_csv(label_budget.analogues.OUT, index=False)
    df = label_budget.summary().set_index(["analogue", "n_train"])

    low = df.loc[("motion", 600)]  # ceiling 60, higher floor 35 (random init): headroom 25, usable
    assert low.headroom_pp == pytest.approx(25.0) and bool(low.usable)
    assert low.share_single_pct == pytest.approx(100 * (32.0 - 35.0) / 25.0)  # below the floor: negative
    assert not low.beats_random_init_single
    high = df.loc[("motion", 3000)]  # ceiling 85, higher floor 65: headroom 20, usable at the margin
    assert high.headroom_pp == pytest.approx(20.0) and bool(high.usable)
    assert high.share_mixed_pct == pytest.approx(100 * (77.5 - 65.0) / 20.0)
    assert high.beats_random_init_mixed  # 77.5 +- 6.2 lies wholly above 65 +- 2.5
    no_pixels = df.loc[("appearance", 600)]  # one floor and no ceiling: nothing to share
    assert np.isnan(no_pixels.get("headroom_pp", np.nan)) and np.isnan(no_pixels.get("share_single_pct", np.nan))


def test_instrument_status_judges_each_analogue_at_the_pipelines_budget(label_budget, tmp_path, monkeypatch):
    """Usable only where a ceiling on the probes' own clips clears the floors; usable at another budget is said so;
    usable at none is retired, with the gap at each budget; the claims report names what is not usable."""
    import analogues

    from jepa import paths, report

    def row(task, n, ceil, floor, usable, probe_n, generator="committed"):
        return dict(analogue=task, benchmark=f"{task}_bench", generator=generator, n_train=n, probe_n_train=probe_n,
                    ceiling_pp=ceil, pixels_pp=floor, random_init_pp=floor - 5, headroom_pp=ceil - floor, usable=usable)

    df = pd.DataFrame([
        row("appearance", 600, 33.0, 18.0, False, 3000), row("appearance", 3000, 43.0, 20.0, True, 3000),
        row("motion", 600, 60.0, 31.0, True, 600), row("motion", 3000, 94.0, 64.0, True, 600),
        row("motion", 3000, 99.0, 40.0, True, np.nan, generator="candidate"),
        row("temporal", 600, 77.0, 73.0, False, 3000), row("temporal", 3000, 96.0, 94.0, False, 3000)])
    status = analogues.instrument_status(df)
    assert status[0] == "" and status[1] == "usable"          # the 600-clip row is not the pipeline's budget
    assert status[2] == "usable" and status[3] == "" and status[4] == ""
    df.loc[2, "usable"] = False                                # motion usable at 3,000 clips only
    assert analogues.instrument_status(df)[2].startswith("not usable at this budget, usable at 3000 clips")
    assert status[6].startswith("retired: no ceiling clears the higher floor by 20 pp")
    assert "600 clips: ceiling 77.0 vs higher floor 73.0 (+4.0 pp)" in status[6]
    assert status[5] == ""                                     # the retired status sits on the budget's own row

    table = tmp_path / "analogues.csv"
    df.assign(instrument=status).to_csv(table, index=False)
    monkeypatch.setattr(paths, "analogues_table", lambda: table)
    notes = report.instrument_notes()
    assert len(notes) == 1 and notes[0].startswith("The temporal analogue (for temporal_bench, 3,000 labelled clips)")
