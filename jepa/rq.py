"""The two research questions, answered with episodic few-shot evaluation on frozen encoders.

RQ1: does contrastive auxiliary training (ltc, infonce) generalize better to unseen actions than
     reconstructive objectives (ac, pixel_recon), baseline as reference? (EPIC-KITCHENS-100 unseen
     verbs; synthetic default: the EPIC-like set's held-out verbs.)
RQ2: how does mixed-dataset pretraining change few-shot recognition compared with single-dataset
     pretraining? (Kinetics-100 test classes; synthetic default: the Kinetics-like held-out classes.)

Every variant is scored on the same saved episodes, so differences are paired per episode and
per seed; the answer's CI is a Student-t interval over seeds of the per-seed mean difference.

Scoring is per encoder: each run's own stage (`python -m jepa.cli fewshot`) scores its frozen encoder on
every few-shot set's episodes and writes the per-episode accuracies to reports/fewshot/ (git-tracked,
about 25 kB: 2 sets x 2 shot counts x 1,000 episodes); the floors' stages do the same for the random-init
encoders and raw pixels. The rq stages only read those files (`score`), so adding a variant to a clone
without checkpoints trains and scores only it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from jepa import fewshot, paths
from jepa.claims import to_markdown
from jepa.config import Params, ProfileCfg
from jepa.errors import ConfigError
from jepa.evaluate import encoder_tokens, load_encoder, pixel_tokens, random_encoder
from jepa.io import write_text
from jepa.stats import ci_separated, mean_ci

SHOTS = (1, 5)
N_WAY, Q_QUERY = 5, 5
N_EPISODES = 1000
# Floors scored on the same episodes: a contrast between encoders that all sit at their random-init
# floor (or at chance) compares noise, so its answer says so instead of reading the sign. A floor has no
# pretraining: its rows carry regime NOT_PRETRAINED.
FLOORS = {"random_init": "random init", "pixels": "raw pixels"}  # floor -> its label in the tables
RANDOM_INIT, RAW_PIXELS = FLOORS["random_init"], FLOORS["pixels"]
NOT_PRETRAINED = "not pretrained"


@dataclass(frozen=True)
class Question:
    name: str
    text: str
    fewshot_set: str                       # synthetic few-shot kind (epic_like | kinetics_like)
    runs: tuple[tuple[str, str], ...]      # (regime, variant) encoders to score
    contrasts: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]], ...]  # (label, A, B): A - B


QUESTIONS = {
    "rq1": Question(
        "rq1",
        "Does contrastive auxiliary training (ltc, infonce) improve few-shot generalization to unseen actions "
        "(EPIC-KITCHENS-100 unseen verbs) compared with reconstructive objectives (ac, pixel_recon)?",
        "epic_like",
        (("mixed", "baseline"), ("mixed", "ltc"), ("mixed", "infonce"), ("mixed", "ac"), ("mixed", "pixel_recon")),
        (("contrastive - reconstructive", (("mixed", "ltc"), ("mixed", "infonce")),
          (("mixed", "ac"), ("mixed", "pixel_recon"))),
         ("contrastive - baseline", (("mixed", "ltc"), ("mixed", "infonce")), (("mixed", "baseline"),)),
         ("reconstructive - baseline", (("mixed", "ac"), ("mixed", "pixel_recon")), (("mixed", "baseline"),))),
    ),
    "rq2": Question(
        "rq2",
        "How does mixed-dataset pretraining affect few-shot action recognition (Kinetics-100 test classes) "
        "compared with single-dataset pretraining?",
        "kinetics_like",
        (("single", "baseline"), ("mixed", "baseline"), ("single", "fwm_hw_ld"), ("mixed", "fwm_hw_ld")),
        (("mixed - single (baseline)", (("mixed", "baseline"),), (("single", "baseline"),)),
         ("mixed - single (fwm_hw_ld)", (("mixed", "fwm_hw_ld"),), (("single", "fwm_hw_ld"),))),
    ),
}


def fewshot_clips(kind: str, profile: ProfileCfg, n_per_class: int = 20, seed: int = 0):
    """The held-out (test) classes of a synthetic few-shot set, after checking no pretraining source makes them.

    At paper scale (data.source real) the Kinetics-100 test classes / EPIC-100 unseen verbs instead."""
    if profile.data.source == "real":
        from jepa.data.real.evalsets import fewshot_clips as real_fewshot_clips

        return real_fewshot_clips(kind, profile, n_per_class, seed)
    from jepa.data import synthetic

    test = synthetic.FEWSHOT_SPLITS[kind]["test"]
    for regime in ("single", "mixed"):
        fewshot.check_no_contamination(synthetic.pretraining_class_names(regime), test,
                                       context=f"{regime} pretraining vs {kind} few-shot test classes")
    return synthetic.make_fewshot_set(kind, "test", n_per_class, seed, frames=profile.model.frames,
                                      size=profile.model.img_size)


FEWSHOT_SETS = tuple(sorted({q.fewshot_set for q in QUESTIONS.values()}))  # every encoder is scored on each


def _labels_key(labels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(labels, dtype=np.int64).tobytes()).hexdigest()[:12]


def episodes(labels: np.ndarray, kind: str, n_episodes: int, seed: int = 0) -> dict[int, fewshot.Episodes]:
    """One saved episode set per shot count: every variant is scored on exactly these.

    Deterministic given (labels, kind, n_episodes, seed): the saved file is a cache named by all of them
    (data/generated/fewshot, not in git), so a checkout without it draws the same episodes again."""
    out, key = {}, _labels_key(labels)
    for k in SHOTS:
        path = paths.fewshot_episodes(kind, N_WAY, k, Q_QUERY, n_episodes, seed, key)
        if path.exists():
            out[k] = fewshot.Episodes.load(path)
        else:
            out[k] = fewshot.sample_episodes(labels, N_WAY, k, Q_QUERY, n_episodes, seed)
            out[k].save(path)
    return out


def episodes_fingerprint(ep: fewshot.Episodes) -> str:
    """What the rq stages compare to check that every encoder was scored on the same episodes."""
    digest = hashlib.sha256()
    for a in (ep.support, ep.query, ep.classes):
        digest.update(np.ascontiguousarray(a, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


def _episode_kind(kind: str, profile: ProfileCfg) -> str:
    if profile.data.source == "real":  # real sets get their own saved episodes, never the synthetic ones
        from jepa.data.real.evalsets import REAL_FEWSHOT_SETS

        return REAL_FEWSHOT_SETS[kind]
    return kind


def score_encoder(tokens, profile: ProfileCfg, n_episodes: int = N_EPISODES) -> dict:
    """Per-episode accuracies of one frozen encoder on every few-shot set: {set: {episodes, n_way, q_query, acc}}.

    `tokens(videos) -> (N, L, D)` the encoder's tokens, mean-pooled here into the prototypes' features (the
    protocol chosen for every encoder, docs/method.md "Few-shot protocol"); acc maps the shot count (str) to
    one accuracy per episode."""
    out = {}
    for kind in FEWSHOT_SETS:
        clips = fewshot_clips(kind, profile)
        eps = episodes(clips.labels, _episode_kind(kind, profile), n_episodes)
        feats = tokens(clips.videos).mean(dim=1)
        out[kind] = {"episodes": {str(k): episodes_fingerprint(ep) for k, ep in eps.items()},
                     "n_way": N_WAY, "q_query": Q_QUERY,
                     "acc": {str(k): [round(float(a), 6) for a in fewshot.evaluate_fewshot(feats, clips.labels, ep)]
                             for k, ep in eps.items()}}
    return out


def score_run(profile_name: str, profile: ProfileCfg, regime: str, variant: str, seed: int,
              n_episodes: int = N_EPISODES) -> Path:
    """Score one pretrained encoder (regime single | mixed) and write reports/fewshot/REGIME/VARIANT-sSEED.json."""
    if regime not in ("single", "mixed"):
        raise ValueError(f"expected regime single | mixed, got {regime!r}")
    encoder = load_encoder(paths.run_dir(regime, variant, seed) / "encoder.pt")
    record = {"profile": profile_name, "regime": regime, "variant": variant, "seed": seed,
              "sets": score_encoder(partial(encoder_tokens, encoder), profile, n_episodes)}
    return _write_scores(paths.fewshot_scores(regime, variant, seed), record)


def score_floor(profile_name: str, profile: ProfileCfg, floor: str, seed: int | None = None,
                n_episodes: int = N_EPISODES) -> Path:
    """Score a floor and write reports/fewshot/floors/: "random_init" (the architecture at `seed`'s
    initialisation) or "pixels" (mean-pooled raw patches, seed-free)."""
    m = profile.model
    if floor == "pixels":
        tokens = partial(pixel_tokens, tubelet=m.tubelet, patch=m.patch)
    elif floor == "random_init":
        tokens = partial(encoder_tokens, random_encoder(m, seed))
    else:
        raise ValueError(f"expected floor {' | '.join(FLOORS)}, got {floor!r}")
    record = {"profile": profile_name, "floor": floor, "seed": seed, "sets": score_encoder(tokens, profile, n_episodes)}
    return _write_scores(paths.fewshot_floor_scores(floor, seed), record)


def _write_scores(path: Path, record: dict) -> Path:
    # one line per accuracy list: about 25 kB per encoder, and a diff shows which set changed
    text = re.sub(r"\[\s*([-0-9.e,\s]+?)\s*\]", lambda g: "[" + " ".join(g[1].split()) + "]",
                  json.dumps(record, indent=1, sort_keys=True))
    write_text(path, text + "\n")
    return path


def _read_scores(path: Path, kind: str, fix: str) -> dict:
    if not path.exists():
        raise ConfigError(f"{path}: no few-shot scores; its stage writes them ({fix})")
    record = json.loads(path.read_text())
    if kind not in record.get("sets", {}):
        raise ConfigError(f"{path}: no scores on few-shot set {kind!r} (has {sorted(record.get('sets', {}))}); {fix}")
    return record["sets"][kind]


def score(question: Question, params: Params, profile: ProfileCfg) -> pd.DataFrame:
    """Per-episode accuracies (long table) of every available run of the question and of the floors, read from
    the per-encoder files the run and floor stages wrote; refuses files scored on different episodes."""
    kind = question.fewshot_set
    available = {"single": params.run.single, "mixed": params.run.mixed}
    rows, seen = [], {}

    def add(path: Path, regime: str, label: str, row_seed: int, fix: str) -> None:
        scores = _read_scores(path, kind, fix)
        for k, fp in scores["episodes"].items():
            first = seen.setdefault(k, (fp, path))
            if fp != first[0]:
                raise ConfigError(f"{path}: scored on other {k}-shot episodes of {kind} than {first[1]}; "
                                  "rerun `dvc repro` so every encoder meets the same episodes")
        for k in SHOTS:
            acc = np.asarray(scores["acc"][str(k)], dtype=np.float64)
            rows.append(pd.DataFrame({"regime": regime, "variant": label, "seed": row_seed, "shots": k,
                                      "episode": np.arange(len(acc)), "acc": acc}))

    for regime, variant in question.runs:
        if variant not in available[regime]:
            continue
        for seed in params.run.seeds:
            add(paths.fewshot_scores(regime, variant, seed), regime, variant, seed,
                f"run `dvc repro fewshot_{regime}@{variant}-{seed}`")
    if rows:  # floors: the same architecture at each seed's initialisation, and raw pixels (seed-free)
        for seed in params.run.seeds:
            add(paths.fewshot_floor_scores("random_init", seed), NOT_PRETRAINED, RANDOM_INIT, seed,
                f"run `dvc repro fewshot_floors@{seed}`")
        add(paths.fewshot_floor_scores("pixels"), NOT_PRETRAINED, RAW_PIXELS, params.run.seeds[0],
            "run `dvc repro fewshot_pixels`")
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["regime", "variant", "seed", "shots", "episode", "acc"])


def summarize(question: Question, per_episode: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-run table, contrast table): means with episode CIs, and paired contrasts with seed CIs (pp)."""
    runs = []
    for (regime, variant, k), g in per_episode.groupby(["regime", "variant", "shots"]):
        per_seed = g.groupby("seed").acc.mean() * 100
        m, h = mean_ci(per_seed.values)
        ep = fewshot.summarize(g[g.seed == g.seed.min()].acc.values)
        runs.append({"regime": regime, "variant": variant, "shots": k, "acc_pp": round(m, 2),
                     "ci95_seeds_pp": round(h, 2), "ci95_episodes_pp": round(100 * ep["ci95"], 2),
                     "n_seeds": len(per_seed), "n_episodes": ep["n"]})
    runs = pd.DataFrame(runs)
    if len(runs):
        runs["beats_floors"] = [_beats_floors(runs, r) for r in runs.itertuples()]
    contrasts = []
    have = set(zip(per_episode.regime, per_episode.variant))
    for label, group_a, group_b in question.contrasts:
        missing = [f"{r}/{v}" for r, v in group_a + group_b if (r, v) not in have]
        for k in SHOTS:
            if missing:
                contrasts.append({"contrast": label, "shots": k, "mean_pp": np.nan, "ci95_pp": np.nan,
                                  "n_seeds": 0, "answer": f"not run: {', '.join(missing)}"})
                continue
            sub = per_episode[per_episode.shots == k]

            def group_acc(group):
                parts = [sub[(sub.regime == r) & (sub.variant == v)].set_index(["seed", "episode"]).acc
                         for r, v in group]
                return sum(parts) / len(parts)

            diff = (group_acc(group_a) - group_acc(group_b)).groupby(level="seed").mean() * 100
            m, h = mean_ci(diff.values)
            informative = _any_beats_floors(runs, group_a + group_b, k)
            contrasts.append({"contrast": label, "shots": k, "mean_pp": round(m, 2), "ci95_pp": round(h, 2),
                              "n_seeds": len(diff), "answer": _answer(m, h, informative)})
    return runs, pd.DataFrame(contrasts)


def _beats_floors(runs: pd.DataFrame, row) -> bool | float:
    """Seed CI wholly above the random-init floor's, and episode CI wholly above chance (NaN for the floors).

    Both: seed CIs are narrow because every encoder meets the same episodes, so an encoder can sit a
    fraction of a point above a floor that itself fell below chance and still be guessing."""
    floor = runs[(runs.regime == NOT_PRETRAINED) & (runs.variant == RANDOM_INIT) & (runs.shots == row.shots)]
    if row.regime == NOT_PRETRAINED or floor.empty:
        return np.nan
    above_chance = row.acc_pp - row.ci95_episodes_pp > 100 / N_WAY
    return bool(above_chance and ci_separated(row.acc_pp, row.ci95_seeds_pp, floor.acc_pp.iloc[0],
                                              floor.ci95_seeds_pp.iloc[0]))


def _any_beats_floors(runs: pd.DataFrame, encoders, shots: int) -> bool | None:
    """None when the floor was not scored (tables built by hand), else whether any encoder clears the floors."""
    if "beats_floors" not in runs or runs.beats_floors.isna().all():
        return None
    picked = runs[runs.shots == shots].set_index(["regime", "variant"]).beats_floors
    return bool(any(picked.get(encoder, False) == True for encoder in encoders))  # noqa: E712 (as floor_reading)


def _answer(mean: float, half: float, informative: bool | None = None) -> str:
    if not np.isfinite(half):
        return "undetermined (one seed)"
    if informative is False:
        return "undetermined: no encoder of the contrast beats its random-init floor and chance (the difference is noise)"
    if mean - half > 0:
        return "first better (CI excludes 0)"
    if mean + half < 0:
        return "second better (CI excludes 0)"
    return "no detectable difference (CI includes 0)"


def floor_reading(runs: pd.DataFrame) -> str:
    """Plain-words check of the instrument: does any pretrained encoder clear its random-init floor and chance?"""
    if runs.empty or "beats_floors" not in runs:
        return ""
    lines = []
    for k, g in runs.groupby("shots"):
        floors = g[g.regime == NOT_PRETRAINED].set_index("variant").acc_pp
        encoders = g[g.regime != NOT_PRETRAINED]
        cleared = encoders[encoders.beats_floors == True]  # noqa: E712 (object column: True / False / NaN)
        span = f"{encoders.acc_pp.min():.1f}-{encoders.acc_pp.max():.1f} %" if len(encoders) else "n/a"
        lines.append(f"- {k}-shot: pretrained encoders {span}; random-init floor {floors.get(RANDOM_INIT, np.nan):.1f} %, "
                     f"raw pixels {floors.get(RAW_PIXELS, np.nan):.1f} %, chance {100 / N_WAY:.0f} %; "
                     f"{len(cleared)} of {len(encoders)} encoders beat both the random-init floor and chance"
                     + (f" ({', '.join(cleared.variant + ' · ' + cleared.regime)})." if len(cleared) else "."))
    if not (runs.beats_floors == True).any():  # noqa: E712
        lines.append("\nNo pretrained encoder separates from both its random-init floor and chance at any shot count: on this profile the "
                     "few-shot set sits at chance for every encoder, so **the question is not answered here**, and "
                     "every contrast says undetermined whatever its sign. Answering it needs encoders that clear "
                     "their floor: the paper profile on the real test classes, or a longer/larger pretraining.")
    return "\n".join(lines)


def markdown(question: Question, runs: pd.DataFrame, contrasts: pd.DataFrame, profile: str,
             real: bool = False) -> str:
    floors_note = ("Synthetic default: the few-shot test classes are held-out procedural action classes that no "
                   "pretraining source generates (checked before scoring); they test the direction of an effect, "
                   "not EPIC-KITCHENS-100 or Kinetics-100 numbers.")
    if real:
        from jepa.data.real.evalsets import REAL_FEWSHOT_SETS

        floors_note = (f"Real data (`{REAL_FEWSHOT_SETS[question.fewshot_set]}`): at most 20 clips of every few-shot "
                       "test class, decoded with the evaluation protocol (uniform frames, centre crop); unreadable "
                       "files are skipped and listed in the set's frame-cache manifest.")
    return "\n".join([
        f"# {question.name.upper()} (profile `{profile}`)",
        "",
        f"**Question.** {question.text}",
        "",
        f"**Protocol.** {N_WAY}-way 1-shot and 5-shot, {Q_QUERY} queries per class, cosine-prototype classifier on "
        "mean-pooled frozen target-encoder tokens; identical saved episodes for every encoder; contrasts are paired "
        "per episode and seed, CI = 95% Student-t over seeds. Floors on the same episodes: the same architecture at "
        "each seed's random initialisation, and raw pixels (mean-pooled tubelet patches). An encoder `beats_floors` "
        "when its seed CI lies above the random-init floor's and its episode CI above chance; a contrast none of "
        "whose encoders does is answered *undetermined*.",
        "",
        "## Answer",
        "",
        to_markdown(contrasts) if len(contrasts) else "_nothing to compare_",
        "",
        "## Is the measurement informative?",
        "",
        floor_reading(runs) or "_no floors scored_",
        "",
        "## Every encoder",
        "",
        to_markdown(runs) if len(runs) else "_none of the question's variants is in `run` of params.yaml_",
        "",
        "## What this does and does not show",
        "",
        floors_note,
        "A contrast whose variants are not in `run` of params.yaml is reported as not run rather than guessed.",
        "",
        f"![{question.name}](figures/{question.name}.png)",
        "",
    ])
