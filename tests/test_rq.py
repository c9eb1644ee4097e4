import numpy as np
import pandas as pd
import pytest

from jepa import rq


def _per_episode(effect: float, seeds=(0, 1, 2), n=200, floors: bool = False):
    rng = np.random.default_rng(0)
    rows = []
    encoders = [("mixed", "baseline", 0.0), ("mixed", "ltc", effect), ("mixed", "infonce", effect),
                ("mixed", "ac", 0.0), ("mixed", "pixel_recon", 0.0)]
    if floors:  # the floors score like the baseline: only ltc / infonce can clear them
        encoders += [(rq.NOT_PRETRAINED, rq.RANDOM_INIT, 0.0)]
    for seed in seeds:
        base = rng.uniform(0.3, 0.5, n)
        for regime, variant, shift in encoders:
            for k in rq.SHOTS:
                rows.append(pd.DataFrame({"regime": regime, "variant": variant, "seed": seed, "shots": k,
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


def test_contrasts_read_against_the_random_init_floor():
    runs, contrasts = rq.summarize(rq.QUESTIONS["rq1"], _per_episode(0.05, floors=True))
    flags = runs.set_index(["variant", "shots"]).beats_floors
    assert flags[("ltc", 1)] is True and flags[("baseline", 1)] is False and np.isnan(flags[(rq.RANDOM_INIT, 1)])
    c = contrasts.set_index(["contrast", "shots"]).answer
    assert c[("contrastive - reconstructive", 1)].startswith("first better")  # ltc / infonce clear the floor
    # ac, pixel_recon and baseline all sit on the floor: a sign between them is noise, whatever it is
    assert c[("reconstructive - baseline", 1)].startswith("undetermined: no encoder")
    assert "2 of 5 encoders beat both the random-init floor and chance (infonce · mixed, ltc · mixed)" in (
        rq.floor_reading(runs))

    runs, contrasts = rq.summarize(rq.QUESTIONS["rq1"], _per_episode(0.0, floors=True))
    assert contrasts.answer.str.startswith("undetermined: no encoder").all()
    assert "the question is not answered here" in rq.floor_reading(runs)


def test_an_encoder_above_a_floor_that_sits_below_chance_is_still_guessing():
    """Seed CIs are narrow on shared episodes: +1 pp over a floor at 19 % is still chance for 5-way."""
    data = _per_episode(0.0, floors=True)
    episode = np.random.default_rng(1).uniform(0.0, 0.4, data.episode.max() + 1)  # episode-to-episode spread
    episode += 0.19 - episode.mean()
    floor = data.regime == rq.NOT_PRETRAINED
    data["acc"] = episode[data.episode] + np.where(floor, 0.0, 0.01 + 0.002 * data.seed)  # encoders 20.0-20.4 %
    runs, contrasts = rq.summarize(rq.QUESTIONS["rq1"], data)
    encoders = runs[runs.regime != rq.NOT_PRETRAINED]
    assert (encoders.acc_pp - encoders.ci95_seeds_pp > 19.0).all()  # above the floor ...
    assert not encoders.beats_floors.any()                            # ... but not above chance
    assert contrasts.answer.str.startswith("undetermined").all()


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


def test_rq_reads_per_encoder_scores_and_refuses_other_episodes(tmp_path, monkeypatch, repo_root):
    """The rq stages load no encoder: they read the scores each run's and floor's stage wrote."""
    import json
    import shutil

    from jepa import paths
    from jepa.config import load_params, profile_cfg
    from jepa.errors import ConfigError

    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    shutil.copy2(repo_root / "params.yaml", tmp_path)
    monkeypatch.chdir(tmp_path)
    name, prof = profile_cfg("smoke")
    params = load_params(overrides={"run": {"single": ["baseline"], "mixed": ["baseline"], "seeds": [0]}})
    floor = rq.score_floor(name, prof, "random_init", 0, n_episodes=40)
    rq.score_floor(name, prof, "pixels", n_episodes=40)
    record = json.loads(floor.read_text())
    assert sorted(record["sets"]) == ["epic_like", "kinetics_like"]
    assert [len(record["sets"]["epic_like"]["acc"][k]) for k in ("1", "5")] == [40, 40]
    assert len(floor.read_text().splitlines()) < 40  # one line per accuracy list
    # a pretrained run's file, as its stage would write it (here: the random-init floor's scores)
    run = paths.fewshot_scores("mixed", "baseline", 0)
    run.parent.mkdir(parents=True)
    run.write_text(floor.read_text())
    per_episode = rq.score(rq.QUESTIONS["rq1"], params, prof)
    assert set(zip(per_episode.regime, per_episode.variant)) == {
        ("mixed", "baseline"), (rq.NOT_PRETRAINED, rq.RANDOM_INIT), (rq.NOT_PRETRAINED, rq.RAW_PIXELS)}
    base = per_episode[(per_episode.variant == "baseline") & (per_episode.shots == 5)].acc.to_numpy()
    assert list(base) == record["sets"]["epic_like"]["acc"]["5"]
    # scores drawn on other episodes are refused, naming the file
    record["sets"]["epic_like"]["episodes"]["5"] = "0" * 16
    run.write_text(json.dumps(record))
    with pytest.raises(ConfigError, match=r"random_init-s0.json: scored on other 5-shot episodes of epic_like than \S+/mixed/baseline-s0.json"):
        rq.score(rq.QUESTIONS["rq1"], params, prof)
    run.unlink()
    with pytest.raises(ConfigError, match=r"baseline-s0.json: no few-shot scores.*fewshot_mixed@baseline-0"):
        rq.score(rq.QUESTIONS["rq1"], params, prof)
