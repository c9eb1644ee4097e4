"""The two research questions, answered with episodic few-shot evaluation on frozen encoders.

RQ1: does contrastive auxiliary training (ltc, infonce) generalize better to unseen actions than
     reconstructive objectives (ac, pixel_recon), baseline as reference? (EPIC-KITCHENS-100 unseen
     verbs; synthetic default: the EPIC-like set's held-out verbs.)
RQ2: how does mixed-dataset pretraining change few-shot recognition compared with single-dataset
     pretraining? (Kinetics-100 test classes; synthetic default: the Kinetics-like held-out classes.)

Every variant is scored on the same saved episodes, so differences are paired per episode and
per seed; the answer's CI is a Student-t interval over seeds of the per-seed mean difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from jepa import fewshot, paths
from jepa.claims import mean_ci, to_markdown
from jepa.config import Params, ProfileCfg
from jepa.evaluate import encoder_tokens, load_encoder

SHOTS = (1, 5)
N_WAY, Q_QUERY = 5, 5


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
        from jepa.data.real_eval import fewshot_clips as real_fewshot_clips

        return real_fewshot_clips(kind, profile, n_per_class, seed)
    from jepa.data import synthetic

    test = synthetic.FEWSHOT_SPLITS[kind]["test"]
    for regime in ("single", "mixed"):
        fewshot.check_no_contamination(synthetic.pretraining_class_names(regime), test,
                                       context=f"{regime} pretraining vs {kind} few-shot test classes")
    return synthetic.make_fewshot_set(kind, "test", n_per_class, seed, frames=profile.model.frames,
                                      size=profile.model.img_size)


def episodes(labels: np.ndarray, kind: str, n_episodes: int, seed: int = 0) -> dict[int, fewshot.Episodes]:
    """One saved episode set per shot count: every variant is scored on exactly these."""
    out = {}
    for k in SHOTS:
        path = paths.root() / "data" / "generated" / "fewshot" / f"{kind}_{N_WAY}way{k}shot_seed{seed}.npz"
        if path.exists():
            out[k] = fewshot.Episodes.load(path)
        else:
            out[k] = fewshot.sample_episodes(labels, N_WAY, k, Q_QUERY, n_episodes, seed)
            out[k].save(path)
    return out


@torch.no_grad()
def pooled_features(encoder_path: Path, videos: np.ndarray) -> torch.Tensor:
    return encoder_tokens(load_encoder(encoder_path), videos).mean(dim=1)


def score(question: Question, params: Params, profile: ProfileCfg, n_episodes: int = 1000) -> pd.DataFrame:
    """Per-episode accuracies (long table) of every available run of the question."""
    clips = fewshot_clips(question.fewshot_set, profile)
    kind = question.fewshot_set
    if profile.data.source == "real":  # real sets get their own saved episodes, never the synthetic ones
        from jepa.data.real_eval import REAL_FEWSHOT_SETS

        kind = REAL_FEWSHOT_SETS[kind]
    eps = episodes(clips.labels, kind, n_episodes)
    available = {"single": params.run.single, "mixed": params.run.mixed}
    rows = []
    for regime, variant in question.runs:
        if variant not in available[regime]:
            continue
        for seed in params.run.seeds:
            feats = pooled_features(paths.run_dir(regime, variant, seed) / "encoder.pt", clips.videos)
            for k, ep in eps.items():
                acc = fewshot.evaluate_fewshot(feats, clips.labels, ep)
                rows.append(pd.DataFrame({"regime": regime, "variant": variant, "seed": seed, "shots": k,
                                          "episode": np.arange(len(acc)), "acc": acc}))
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
            contrasts.append({"contrast": label, "shots": k, "mean_pp": round(m, 2), "ci95_pp": round(h, 2),
                              "n_seeds": len(diff), "answer": _answer(m, h)})
    return pd.DataFrame(runs), pd.DataFrame(contrasts)


def _answer(mean: float, half: float) -> str:
    if not np.isfinite(half):
        return "undetermined (one seed)"
    if mean - half > 0:
        return "first better (CI excludes 0)"
    if mean + half < 0:
        return "second better (CI excludes 0)"
    return "no detectable difference (CI includes 0)"


def markdown(question: Question, runs: pd.DataFrame, contrasts: pd.DataFrame, profile: str) -> str:
    floors_note = ("Synthetic default: the few-shot test classes are held-out procedural action classes that no "
                   "pretraining source generates (checked before scoring); they test the direction of an effect, "
                   "not EPIC-KITCHENS-100 or Kinetics-100 numbers.")
    return "\n".join([
        f"# {question.name.upper()} (profile `{profile}`)",
        "",
        f"**Question.** {question.text}",
        "",
        f"**Protocol.** {N_WAY}-way 1-shot and 5-shot, {Q_QUERY} queries per class, cosine-prototype classifier on "
        "mean-pooled frozen target-encoder tokens; identical saved episodes for every encoder; contrasts are paired "
        "per episode and seed, CI = 95% Student-t over seeds.",
        "",
        "## Answer",
        "",
        to_markdown(contrasts) if len(contrasts) else "_nothing to compare_",
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
