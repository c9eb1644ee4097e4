import math

import pandas as pd
import pytest

from jepa import claims as C
from jepa import report


@pytest.mark.parametrize("paper, mean, half, expected", [
    (0.30, 1.0, 0.5, "supported"),
    (0.30, 1.0, 1.0, "inconclusive"),      # CI touches 0 -> includes it
    (0.30, 1.0, 0.999, "supported"),
    (0.30, -1.0, 0.5, "contradicted"),
    (-2.5, -1.0, 0.5, "supported"),
    (-2.5, 0.2, 0.5, "inconclusive"),
    (0.30, 1.0, math.nan, "inconclusive"),  # one seed: no CI, no verdict
])
def test_verdict_boundaries(paper, mean, half, expected):
    assert C.verdict(paper, mean, half) == expected


def test_paper_delta_from_released_table(repo_root):
    paper = C.paper_table(repo_root / "data" / "paper_results.csv")
    by_id = {c.claim_id: c for c in C.CLAIMS}
    assert C.paper_delta(paper, by_id["mgm_single_d48"]) == pytest.approx(0.30)
    assert C.paper_delta(paper, by_id["mgm_single_in100"]) == pytest.approx(0.14)
    assert C.paper_delta(paper, by_id["mgm_single_ssv2"]) == pytest.approx(1.38)


def test_evaluate_claims_pairs_by_seed():
    rows = []
    for seed, (base, mgm) in enumerate([(10.0, 12.0), (20.0, 22.5), (15.0, 16.5)]):
        rows += [{"regime": "single", "variant": "baseline", "seed": seed, "benchmark": "diving48", "acc_pp": base},
                 {"regime": "single", "variant": "mgm", "seed": seed, "benchmark": "diving48", "acc_pp": mgm}]
    paper = pd.DataFrame([["single", "baseline", "diving48", 8.38], ["single", "mgm", "diving48", 8.68]],
                         columns=["regime", "variant", "benchmark", "top1"])
    out = C.evaluate_claims(pd.DataFrame(rows), paper, "test", [C.CLAIMS[0]])
    row = out.iloc[0]
    # paired deltas 2.0, 2.5, 1.5 -> mean 2.0, tight CI, supported (unpaired would be inconclusive)
    assert row.reproduced_mean_pp == pytest.approx(2.0)
    assert row.n_seeds == 3 and row.verdict == "supported" and row.paper_value_pp == pytest.approx(0.30)


def test_registry_covers_every_paper_claim_with_the_papers_numbers(repo_root):
    paper = C.paper_table(repo_root / "data" / "paper_results.csv")
    covered = {c.paper_claim for c in C.CLAIMS} | {16}  # 16 is structural (structural_claims)
    assert set(C.SEED_CLAIMS) <= covered
    value = {c.claim_id: C.paper_delta(paper, c) for c in C.CLAIMS}
    assert value["fwm_hw_ld_in100"] == pytest.approx(5.92)
    assert value["fwm_hw_ld_ssv2"] == pytest.approx(3.21)
    assert value["fwm_hw_ld_d48"] == pytest.approx(-0.30)
    assert value["ld_ssv2"] == pytest.approx(5.02)
    assert value["fwm_in100"] == pytest.approx(1.88)
    assert value["fwm_ld_in100"] == pytest.approx(-10.14)
    assert -16.5 < value["ac_fac_in100_fac"] < value["ac_fac_in100_ac"] < -13
    assert {value["kinematic_synmotion_kinematic"], value["kinematic_synmotion_kinematic_0_1"]} == {40.0, 45.0}
    for v in ("kinematic", "kinematic_0_1", "kinematic_accel", "kinematic_split"):
        assert -2.9 <= value[f"kinematic_d48_{v}"] <= -2.5
        assert 1.5 <= value[f"kinematic_in100_{v}"] <= 1.75
    assert math.isnan(value["fwm_hw_ld_vs_as_released_in100"])  # no paper number: verdict "no paper value"
    assert C.structural_claims(768, "paper").verdict.iloc[0].startswith("supported")


def test_ema_off_claims_are_shown_both_ways(repo_root):
    """Claims 4, 5 and 15 (EMA-off kinematic variants) each have an as-released twin: the same claim on
    the encoder the released code exported (the init copy), carrying the paper's number."""
    from jepa.config import load_params
    paper = C.paper_table(repo_root / "data" / "paper_results.csv")
    variants = load_params(repo_root / "params.yaml").variants
    by_id = {c.claim_id: c for c in C.CLAIMS}
    plain = [c for c in C.CLAIMS if c.paper_claim in (4, 5, 15) and not c.claim_id.endswith("_as_released")]
    assert len(plain) == 6 + 4 + 2
    for c in plain:
        twin = by_id[f"{c.claim_id}_as_released"]
        assert twin.paper_claim == c.paper_claim and twin.benchmark == c.benchmark and twin.reference == c.reference
        assert twin.variants == tuple(f"{v}_as_released" for v in c.variants)
        assert C.paper_delta(paper, twin) == pytest.approx(C.paper_delta(paper, c))
        assert not math.isnan(C.paper_delta(paper, twin))
        for v in twin.variants:
            assert variants[v].export == "init" and variants[v].ema is False
    ablation = by_id["kinematic_vs_as_released_synmotion"]
    assert ablation.reference == "kinematic_as_released" and math.isnan(C.paper_delta(paper, ablation))


def test_every_claim_variant_is_a_params_row(repo_root):
    from jepa.config import load_params
    variants = load_params(repo_root / "params.yaml").variants
    for c in C.CLAIMS:
        for v in (*c.variants, c.reference):
            assert v in variants, (c.claim_id, v)


def test_claims_without_runs_say_not_run():
    paper = pd.DataFrame([["mixed", "baseline", "ssv2", 8.39], ["mixed", "ld", "ssv2", 13.41]],
                         columns=["regime", "variant", "benchmark", "top1"])
    metrics = pd.DataFrame([{"regime": "mixed", "variant": "baseline", "seed": 0, "benchmark": "ssv2", "acc_pp": 9.0}])
    claim = next(c for c in C.CLAIMS if c.claim_id == "ld_ssv2")
    row = C.evaluate_claims(metrics, paper, "t", [claim]).iloc[0]
    assert row.verdict == "not run (ld)" and row.n_seeds == 0


def test_recipe_departures_name_the_regulariser_only_where_a_profile_uses_it():
    from jepa.config import load_params
    from jepa.report import recipe_departures

    profiles = load_params().profiles
    assert recipe_departures(profiles["paper"]) == []
    train = profiles["paper"].train.model_copy(update={"vc_std": 1.0, "vc_cov": 0.5})
    (line,) = recipe_departures(profiles["paper"].model_copy(update={"train": train}))
    assert "variance hinge 1, covariance 0.5" in line and "baseline included" in line


def test_claims_are_flagged_where_the_baseline_does_not_clear_its_floor():
    claims = pd.DataFrame({"regime": ["single", "mixed", "mixed"], "analogue": ["motion", "motion", "temporal"],
                           "verdict": ["supported"] * 3})
    floors = pd.DataFrame({"regime": ["single", "mixed"], "analogue": ["motion", "motion"],
                           "beats_random_init": [False, True]})
    out = C.flag_floors(claims, floors)
    assert out.baseline_clears_floor.tolist() == [False, True, None]     # no baseline run: unknown
    assert out.verdict.tolist() == ["supported"] * 3                     # a flag beside the verdict, not a new verdict


def _row(claim_id, verdict, paper, mean, half, clears, n=3, variant="ld"):
    return {"paper_claim": 9, "claim_id": claim_id, "regime": "mixed", "variant": variant, "benchmark": "ssv2",
            "paper_value_pp": paper, "reproduced_mean_pp": mean, "ci95_pp": half, "n_seeds": n,
            "verdict": verdict, "baseline_clears_floor": clears, "runs_from": "dvc repro"}


def test_discussion_reads_each_row_and_says_why_an_inconclusive_one_is():
    claims = pd.DataFrame([_row("a", "inconclusive", 1.0, 0.2, 1.0, True),
                           _row("b", "supported", 5.0, 2.5, 1.0, True),
                           _row("c", "inconclusive", 1.0, 3.0, 4.0, False),
                           _row("d", "contradicted", 1.0, -2.0, 1.0, True),
                           _row("e", "not run (ld)", 1.0, math.nan, math.nan, True, n=0),
                           _row("f", "inconclusive", 1.0, 3.0, math.nan, True, n=1)])
    table = C.discussion_table(claims)
    assert table[["reading", "claim_id"]].values.tolist() == [
        ["holds", "b"], ["opposite", "d"], ["below floor", "c"], ["within CI", "a"], ["one seed", "f"]]   # the row not run is left out


def _released_rows(benchmark: str) -> list[dict]:
    """Three seeds of a baseline, kinematic and kinematic_as_released on one benchmark."""
    rows = []
    for seed, (base, plain, released) in enumerate([(10, 13, 10.5), (11, 13, 11.0), (12, 16, 12.5)]):
        for variant, acc in (("baseline", base), ("kinematic", plain), ("kinematic_as_released", released)):
            rows.append({"regime": "single", "variant": variant, "seed": seed, "benchmark": benchmark,
                         "acc_pp": acc})
    return rows


def test_released_ablations_pair_each_as_released_variant_with_the_one_it_shadows():
    rows = _released_rows("synthetic_motion")
    (row,) = C.released_ablations(pd.DataFrame(rows)).to_dict("records")
    assert (row["variant"], row["n_seeds"]) == ("kinematic", 3)
    assert row["as_described_pp"] == 3.0 and row["as_released_pp"] == pytest.approx(0.33, abs=0.01)
    assert row["described_minus_released_pp"] == pytest.approx(2.67, abs=0.01)
    # a shadowed variant without runs gives no row rather than a half-empty one
    assert C.released_ablations(pd.DataFrame([r for r in rows if r["variant"] != "kinematic"])).empty


def test_released_ablations_flag_an_export_that_is_the_random_init_encoder():
    rows = _released_rows("diving48")
    floors = pd.DataFrame([{"floor": "random_init", "seed": s, "benchmark": "diving48", "acc_pp": a}
                           for s, a in enumerate([10.5, 11.0, 12.5])]
                          + [{"floor": "pixels", "seed": s, "benchmark": "diving48", "acc_pp": 99.0} for s in range(3)])
    (row,) = C.released_ablations(pd.DataFrame(rows), floors).to_dict("records")
    assert row["equals_random_init"] is True
    floors.loc[1, "acc_pp"] = 11.5   # one seed differs: not the untrained encoder
    (row,) = C.released_ablations(pd.DataFrame(rows), floors).to_dict("records")
    assert row["equals_random_init"] is False
    # a seed without its floor cannot be shown equal
    (row,) = C.released_ablations(pd.DataFrame(rows), floors[floors.seed != 2]).to_dict("records")
    assert row["equals_random_init"] is False
    assert "equals_random_init" not in C.released_ablations(pd.DataFrame(rows)).columns


def test_discussion_says_which_signed_rows_sit_on_an_analogue_below_its_floor():
    claims = pd.DataFrame([_row("b", "supported", 5.0, 2.5, 1.0, True),
                           _row("d", "contradicted", 1.0, -2.0, 1.0, False),
                           _row("g", "contradicted", 1.0, -3.0, 1.0, True)])
    text = "\n".join(report._discussion_lines(claims, None))
    holds, opposite = text.split("**opposite**")
    assert "does not clear its random-init floor" not in holds          # its one row clears its floor
    assert "1 of these rows (ssv2) is on an analogue where the baseline does not clear" in opposite
