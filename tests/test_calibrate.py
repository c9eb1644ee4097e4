"""Calibration study logic: overrides, the separated-CI rule, the choice, the plan and the cache."""

import numpy as np
import pandas as pd
import pytest

from jepa import calibrate
from jepa.config import CalibrationCfg, ConfigError, load_params


@pytest.fixture(scope="module")
def tiny():
    return load_params().profiles["tiny"]


def test_overrides_replace_nested_keys_and_keep_the_rest(tiny):
    p = calibrate.apply_overrides(tiny, {"train.steps": 2500, "train.ema": [0.9995, 1.0], "model.pred_depth": 4})
    assert (p.train.steps, p.train.ema, p.model.pred_depth) == (2500, (0.9995, 1.0), 4)
    assert p.train.lr == tiny.train.lr and p.model.embed_dim == tiny.model.embed_dim


@pytest.mark.parametrize("overrides, message", [
    ({"train.stepz": 3}, "unknown key 'stepz'"),
    ({"trian.steps": 3}, "'trian' is not a section"),
    ({"model.img_size": 30}, "not a multiple of patch"),
    ({"mask.ratio": [0.9, 0.5]}, "0 < min <= max < 1"),
])
def test_bad_overrides_name_the_key(tiny, overrides, message):
    with pytest.raises(ConfigError, match=message):
        calibrate.apply_overrides(tiny, overrides)


def _rows(trial, pre, rnd, minutes=2.0, gflop=None):
    out = []
    for s, (p, r) in enumerate(zip(pre, rnd)):
        row = {"trial": trial, "seed": s, "train_seconds": 60 * minutes, "eval_seconds": 0.0, "ms_per_step": 100.0,
               "steps": 1000}
        if gflop is not None:
            row["step_gflop"] = gflop
        for task in ("appearance", "motion", "temporal", "synthetic_motion"):
            row |= {f"{task}_pretrained": p, f"{task}_random_init": r, f"{task}_pixels": 0.2}
        out.append(row)
    return out


def test_summary_separation_needs_non_overlapping_cis():
    rows = pd.DataFrame(_rows("clear", [0.50, 0.52, 0.51], [0.30, 0.31, 0.29])
                        + _rows("overlap", [0.40, 0.55, 0.30], [0.30, 0.33, 0.36]))
    s = calibrate.summarize(rows).set_index(["trial", "analogue"])
    assert s.loc[("clear", "motion"), "beats_random_init"]
    assert not s.loc[("overlap", "motion"), "beats_random_init"]
    assert s.loc[("clear", "motion"), "gain_pp"] == pytest.approx(100 * np.mean([0.20, 0.21, 0.22]))
    # 95% t-interval over 3 seeds: t(0.975, 2) * sd / sqrt(3)
    assert s.loc[("clear", "motion"), "pretrained_ci95"] == pytest.approx(4.303 * 1.0 / np.sqrt(3), rel=1e-3)


def test_one_seed_never_counts_as_separated():
    s = calibrate.summarize(pd.DataFrame(_rows("screen", [0.9], [0.1])))
    assert not s.beats_random_init.any() and s.pretrained_ci95.isna().all()


def test_choice_is_the_cheapest_trial_that_clears_three_analogues_on_three_seeds():
    rows = pd.DataFrame(_rows("slow", [0.5, 0.52, 0.51], [0.3, 0.31, 0.29], minutes=6)
                        + _rows("fast", [0.5, 0.52, 0.51], [0.3, 0.31, 0.29], minutes=2)
                        + _rows("fast_fails", [0.3, 0.31, 0.29], [0.3, 0.31, 0.29], minutes=1))
    assert calibrate.choose(calibrate.summarize(rows)) == "fast"
    assert calibrate.choose(calibrate.summarize(pd.DataFrame(_rows("x", [0.3] * 3, [0.3] * 3)))) is None


def test_plan_screens_every_trial_and_adds_finalist_seeds_once():
    cal = CalibrationCfg(trials={"a": {}, "b": {}}, finalists=["b"], screen_seeds=[0], final_seeds=[0, 1, 2])
    assert calibrate.planned(cal) == [("a", 0), ("b", 0), ("b", 1), ("b", 2)]
    with pytest.raises(ValueError, match="finalists"):
        CalibrationCfg(trials={"a": {}}, finalists=["zzz"])


def test_run_trial_returns_the_cached_row_without_training(tmp_path, tiny):
    key = calibrate.trial_key(tiny, "single", 0)
    cached = tmp_path / f"reference-s0-{key}.json"
    cached.write_text('{"trial": "reference", "seed": 0, "cached": true}')
    row = calibrate.run_trial("reference", {}, 0, tiny, tmp_path, tmp_path / "work")
    assert row["cached"] and not (tmp_path / "work").exists()


def test_adopted_trial_is_what_the_base_profile_carries():
    """tiny == (tiny with the study's base_overrides) + the adopted trial's overrides, but for the probes' label
    budget, which the study pins to the clips its trials were probed on."""
    params = load_params()
    cal = params.calibration
    assert cal.adopted is not None
    adopted = calibrate.apply_overrides(calibrate.study_base(params), cal.trials[cal.adopted].overrides)
    recipe = {"data": {"eval_train"}}
    assert adopted.model_dump(exclude=recipe) == params.profiles[cal.base].model_dump(exclude=recipe)
    assert adopted.data.eval_train == cal.base_overrides["data.eval_train"]


def test_committed_trial_rows_are_the_planned_ones_under_their_current_keys():
    """Every planned (trial, seed) has a committed row, filed under the key of the study base + the trial's
    overrides and the generators' code: a changed recipe or clip generator would need the study rerun."""
    from pathlib import Path

    params = load_params()
    cal = params.calibration
    base = calibrate.study_base(params)
    trials = Path(__file__).resolve().parents[1] / "reports/calibration/trials"
    found = {}
    for path in trials.glob("*.json"):
        trial, seed_key = path.stem.rsplit("-s", 1)
        seed, key = seed_key.split("-")
        found[(trial, int(seed))] = key
    assert set(found) == set(calibrate.planned(cal))
    for (trial, seed), key in found.items():
        profile = calibrate.apply_overrides(base, cal.trials[trial].overrides)
        assert key == calibrate.trial_key(profile, cal.regime, seed), (trial, seed)


def test_share_of_headroom_is_measured_from_the_higher_floor():
    assert calibrate.headroom_share(40.0, (20.0, 30.0), 80.0) == pytest.approx(20.0)   # (40 - 30) / (80 - 30)
    assert calibrate.headroom_share(25.0, (20.0, 30.0), 80.0) == pytest.approx(-10.0)  # below the pixel floor
    assert np.isnan(calibrate.headroom_share(40.0, (20.0, 30.0), None))
    assert np.isnan(calibrate.headroom_share(40.0, (20.0, 30.0), 25.0))               # no headroom at all


def test_summary_shares_use_usable_committed_ceilings_only(tmp_path):
    table = tmp_path / "analogues.csv"
    pd.DataFrame([
        {"analogue": "motion", "generator": "committed", "usable": True, "ceiling_pp": 70.0, "n_train": 600},
        {"analogue": "motion", "generator": "committed", "usable": True, "ceiling_pp": 94.0, "n_train": 3000},
        {"analogue": "motion", "generator": "committed", "usable": False, "ceiling_pp": 90.0, "n_train": 600},
        {"analogue": "motion", "generator": "candidate", "usable": True, "ceiling_pp": 95.0, "n_train": 600},
        {"analogue": "temporal", "generator": "committed", "usable": False, "ceiling_pp": 50.0, "n_train": 600},
        {"analogue": "epic_like", "generator": "committed", "usable": True, "ceiling_pp": 42.0, "n_train": 960},
    ]).to_csv(table, index=False)
    tiny = load_params().profiles["tiny"]
    at_600 = calibrate.apply_overrides(tiny, {"data.eval_train": 600})
    ceilings = calibrate.committed_ceilings(at_600, "tiny", table)
    assert ceilings == {"motion": 70.0}   # the ceiling on as many labelled clips as the probes, not the higher one
    at_3000 = calibrate.apply_overrides(tiny, {"data.eval_train": 3000})
    assert calibrate.committed_ceilings(at_3000, "tiny", table) == {"motion": 94.0}
    assert calibrate.committed_ceilings(at_600, "tiny", tmp_path / "absent.csv") == {}
    assert calibrate.committed_ceilings(at_600, "smoke", table) == {}  # measured on other clips
    rows = pd.DataFrame(_rows("ref", [0.5] * 3, [0.3] * 3, gflop=6.0) + _rows("big", [0.5] * 3, [0.3] * 3, gflop=6.0)
                        + _rows("wide", [0.5] * 3, [0.3] * 3, gflop=14.0)
                        + _rows("narrow_predictor", [0.5] * 3, [0.3] * 3, gflop=4.0))
    overrides = {"big": {"model.img_size": 48}, "wide": {"train.lr": 2e-3, "model.embed_dim": 144},
                 "narrow_predictor": {"model.pred_dim": 48, "model.pred_depth": 1}}
    s = calibrate.summarize(rows, ceilings, overrides).set_index(["trial", "analogue"])
    assert s.loc[("ref", "motion"), "share_pct"] == pytest.approx(100 * (50 - 30) / (70 - 30))
    assert np.isnan(s.loc[("ref", "temporal"), "share_pct"])   # no usable ceiling
    assert np.isnan(s.loc[("big", "motion"), "share_pct"])     # other clips than the ceiling's
    assert np.isnan(s.loc[("wide", "motion"), "share_pct"])    # another encoder than the ceiling's
    assert s.loc[("narrow_predictor", "motion"), "share_pct"] == pytest.approx(50.0)  # the ceiling trains no predictor
    assert s.loc[("ref", "motion"), "train_tflop"] == pytest.approx(6.0)


def test_choice_counts_flops_not_wall_minutes_then_prefers_more_analogues():
    """Equal training FLOPs: the wall minutes of a shared machine do not decide; more analogues cleared does."""
    clear, none = ([0.5, 0.52, 0.51], [0.3, 0.31, 0.29]), ([0.3, 0.31, 0.29], [0.3, 0.31, 0.29])
    rows = _rows("slow_on_the_clock", *clear, minutes=6, gflop=6.0) + _rows("fast_on_the_clock", *clear, minutes=2, gflop=9.0)
    assert calibrate.choose(calibrate.summarize(pd.DataFrame(rows))) == "slow_on_the_clock"
    two = [r | {"temporal_pretrained": 0.3, "synthetic_motion_pretrained": 0.3} for r in _rows("two", *clear, gflop=6.0)]
    four = _rows("four", *clear, minutes=3, gflop=6.0)
    assert calibrate.choose(calibrate.summarize(pd.DataFrame(two + four))) == "four"
    assert calibrate.choose(calibrate.summarize(pd.DataFrame(_rows("x", *none, gflop=6.0)))) is None


def test_step_gflop_counts_forward_and_backward_and_grows_with_the_batch():
    smoke = load_params().profiles["smoke"]
    one = calibrate.step_gflop(smoke, repeats=1)
    double = calibrate.step_gflop(calibrate.apply_overrides(smoke, {"train.batch_size": 2 * smoke.train.batch_size}),
                                  repeats=1)
    assert one > 0 and double == pytest.approx(2 * one, rel=0.25)


def test_choice_needs_three_analogues_and_a_real_saving_to_change_the_recipe():
    clear, none = ([0.5, 0.52, 0.51], [0.3, 0.31, 0.29]), ([0.3, 0.31, 0.29], [0.3, 0.31, 0.29])
    two = [r | {"temporal_pretrained": 0.3, "synthetic_motion_pretrained": 0.3} for r in _rows("two", *clear, gflop=3.0)]
    three = [r | {"motion_pretrained": 0.3} for r in _rows("three", *clear, gflop=6.0)]
    assert calibrate.choose(calibrate.summarize(pd.DataFrame(two + three))) == "three"   # 2 analogues are not enough
    # 5 % cheaper is a tie: the committed recipe (no overrides) stays; 20 % cheaper wins
    ref, near, far = (_rows(t, *clear, gflop=g) for t, g in (("reference", 6.0), ("near", 5.7), ("far", 4.8)))
    overrides = {"reference": {}, "near": {"train.context_weight": 0.0}, "far": {"train.steps": 500}}
    assert calibrate.choose(calibrate.summarize(pd.DataFrame(ref + near)), overrides=overrides) == "reference"
    assert calibrate.choose(calibrate.summarize(pd.DataFrame(ref + near + far)), overrides=overrides) == "far"


def test_equally_cheap_trials_are_ranked_by_their_share_of_the_headroom(tmp_path):
    table = tmp_path / "analogues.csv"
    at_600 = calibrate.apply_overrides(load_params().profiles["tiny"], {"data.eval_train": 600})
    pd.DataFrame([{"analogue": t, "generator": "committed", "usable": True, "ceiling_pp": 80.0,
                   "n_train": at_600.data.train_clips(t)}
                  for t in ("appearance", "motion", "temporal", "synthetic_motion")]).to_csv(table, index=False)
    ceilings = calibrate.committed_ceilings(at_600, "tiny", table)
    low = _rows("reference", [0.5, 0.52, 0.51], [0.3, 0.31, 0.29], gflop=6.0)
    high = _rows("lr", [0.6, 0.62, 0.61], [0.3, 0.31, 0.29], gflop=6.0)
    overrides = {"reference": {}, "lr": {"train.lr": 2e-3}}
    s = calibrate.summarize(pd.DataFrame(low + high), ceilings)
    assert calibrate.choose(s, overrides=overrides) == "lr"             # same cost and wins: the larger share
    assert calibrate.choose(calibrate.summarize(pd.DataFrame(low + high)), overrides=overrides) == "reference"


def test_quarter_headroom_is_counted_per_trial_over_three_seeds_only():
    ceilings = {t: 80.0 for t in ("appearance", "motion", "temporal", "synthetic_motion")}
    # pixels 20 %, random init 30 %: headroom 50 pp above the higher floor, a quarter at 42.5 %
    two = [r | {"appearance_pretrained": 0.45, "temporal_pretrained": 0.50, "motion_pretrained": 0.31,
                "synthetic_motion_pretrained": 0.40} for r in _rows("two", [0.0] * 3, [0.3] * 3, gflop=6.0)]
    one = [r | {"appearance_pretrained": 0.60, "temporal_pretrained": 0.35, "motion_pretrained": 0.35,
                "synthetic_motion_pretrained": 0.35} for r in _rows("one", [0.0] * 3, [0.3] * 3, gflop=6.0)]
    screen = _rows("screen", [0.9], [0.3], gflop=6.0)   # one seed: not counted
    reached = calibrate.headroom_reached(calibrate.summarize(pd.DataFrame(two + one + screen), ceilings))
    assert reached.to_dict() == {"two": 2, "one": 1}
    assert list(reached.index) == ["two", "one"]


def test_a_chosen_trial_not_yet_adopted_is_shown_beside_the_adopted_one():
    ceilings = {t: 80.0 for t in ("appearance", "motion", "temporal", "synthetic_motion")}
    rows = _rows("adopted", [0.5, 0.52, 0.51], [0.3, 0.31, 0.29], gflop=6.0) + \
        _rows("chosen", [0.6, 0.62, 0.61], [0.3, 0.31, 0.29], gflop=6.0)
    s = calibrate.summarize(pd.DataFrame(rows), ceilings)
    lines = calibrate.adoption_lines(s, "chosen", "adopted")
    assert "share `adopted` (adopted, 3 seeds) | share `chosen` (chosen, 3 seeds)" in lines[1]
    motion = next(line for line in lines if line.startswith("| motion |"))
    # shares (51 - 30) / 50 = 42 % and (61 - 30) / 50 = 62 %; paired gains 21 and 31 pp
    assert motion.startswith("| motion | 42 % | 62 % | 21.0 ± ") and "| 31.0 ± " in motion
    assert calibrate.adoption_lines(s, "chosen", "chosen") == []


def test_a_trial_whose_regenerated_default_fails_a_regime_is_set_aside():
    """The study trains one regime; a default regenerated on the chosen trial that clears fewer than 3 analogues in
    the other sets it aside, and the rule falls back to the next candidate."""
    def regen(trial, mixed_clears):
        return [{"trial": trial, "regime": regime, "analogue": task, "pretrained_pp": 40.0, "pretrained_ci95": 5.0,
                 "random_init_pp": 30.0, "random_init_ci95": 2.0,
                 "beats_random_init": regime == "single" or task in mixed_clears}
                for regime in ("mixed", "single") for task in ("appearance", "motion", "temporal", "synthetic_motion")]
    table = pd.DataFrame(regen("cheap", ("appearance", "synthetic_motion"))
                         + regen("dear", ("appearance", "temporal", "synthetic_motion")))
    failures = calibrate.regeneration_failures(table)
    assert list(failures) == ["cheap"]
    assert failures["cheap"].startswith("mixed clears 2 of 4 (motion 40.0 ± 5.0 vs random init 30.0 ± 2.0, temporal")
    clear = ([0.5, 0.52, 0.51], [0.3, 0.31, 0.29])
    summary = calibrate.summarize(pd.DataFrame(_rows("cheap", *clear, gflop=3.0) + _rows("dear", *clear, gflop=6.0)))
    assert calibrate.choose(summary) == "cheap"
    assert calibrate.choose(summary, set_aside=failures) == "dear"
