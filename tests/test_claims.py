import math

import pandas as pd
import pytest

from jepa import claims as C


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


def test_mean_ci_uses_student_t():
    mean, half = C.mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert half == pytest.approx(4.302653 * 1.0 / math.sqrt(3), rel=1e-5)


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
