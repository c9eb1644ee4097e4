import numpy as np
import pandas as pd
import pytest

from jepa import rq


def _per_episode(effect: float, seeds=(0, 1, 2), n=200):
    rng = np.random.default_rng(0)
    rows = []
    for seed in seeds:
        base = rng.uniform(0.3, 0.5, n)
        for variant, shift in (("baseline", 0.0), ("ltc", effect), ("infonce", effect), ("ac", 0.0),
                               ("pixel_recon", 0.0)):
            for k in rq.SHOTS:
                rows.append(pd.DataFrame({"regime": "mixed", "variant": variant, "seed": seed, "shots": k,
                                          "episode": np.arange(n), "acc": base + shift}))
    return pd.concat(rows, ignore_index=True)


def test_contrasts_are_paired_and_signed():
    runs, contrasts = rq.summarize(rq.QUESTIONS["rq1"], _per_episode(0.05))
    c = contrasts.set_index(["contrast", "shots"])
    assert c.loc[("contrastive - reconstructive", 1), "mean_pp"] == pytest.approx(5.0)
    # identical per-episode offsets -> zero spread across seeds -> the CI is 0 and excludes nothing but 5
    assert c.loc[("contrastive - reconstructive", 5), "answer"].startswith("first better")
    assert c.loc[("reconstructive - baseline", 1), "mean_pp"] == pytest.approx(0.0)
    assert set(runs.variant) == {"baseline", "ltc", "infonce", "ac", "pixel_recon"}


def test_missing_variants_are_reported_not_guessed():
    data = _per_episode(0.05)
    data = data[data.variant.isin(["baseline"])]
    _, contrasts = rq.summarize(rq.QUESTIONS["rq1"], data)
    assert contrasts.answer.str.startswith("not run").all()
    assert "mixed/ltc" in contrasts.answer.iloc[0]


def test_fewshot_test_classes_never_in_pretraining():
    from jepa.config import profile_cfg

    _, prof = profile_cfg("smoke")
    clips = rq.fewshot_clips("kinetics_like", prof, n_per_class=2)
    assert len(set(clips.labels)) == 24
