"""Is each analogue a valid instrument? Supervised ceilings beside the committed floors (not a test).

`ceilings`: trains the tiny encoder end to end with labels (jepa.ceiling) on every analogue's
training clips and on each few-shot set's base classes, appends one row per (set, seed) to
reports/benchmarks/ceilings.csv (with a fingerprint of the generated clips, so rows from a
changed generator are never mixed with the new ones) and keeps the few-shot encoders under
data/generated/ceiling/ for the protocol comparison.
`floors`: random-init (3 seeds) and raw-pixel floors of a redesigned analogue, probed as the default
probes (reports/benchmarks/analogue_floors.csv).
`protocols`: few-shot protocols (mean-pooled / time-ordered prototypes, OTAM, attentive pooling fit on
the base classes) on the ceiling encoder and the floors, same saved episodes
(reports/benchmarks/fewshot_protocols.csv).
`noise`: validation-sampling, probe-seed and run-seed components of the committed probe accuracies
(reports/benchmarks/probe_noise.csv).
`report`: joins those rows with the committed floors and baselines (reports/floors.csv,
reports/rq1_runs.csv, reports/rq2_runs.csv) and the latent oracle into reports/analogues.csv,
reports/analogues.md and reports/figures/analogues.png.

Run (CPU is shared: one thread, low priority):
  nice -n 15 .venv/bin/python benchmarks/analogues.py ceilings --seeds 0 [--n-train 3000] [--steps 1000] [--embed-dim 144]
  nice -n 15 .venv/bin/python benchmarks/analogues.py protocols
  nice -n 15 .venv/bin/python benchmarks/analogues.py candidate ripples   # temporal designs tried
  .venv/bin/python benchmarks/analogues.py report
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from zlib import crc32

import numpy as np
import pandas as pd
import torch

from jepa import ceiling, fewshot, rq
from jepa.config import BENCHMARKS, load_params, profile_cfg
from jepa.data import eval_data
from jepa.models.vit import VideoViT
from jepa.io import read_json
from jepa.report import floor_seeds
from jepa.paths import analogues_table, benchmarks_dir, ceiling_work_dir, eval_manifest, metrics_dir, reports_dir

FEWSHOT_SETS = {"epic_like": "rq1", "kinetics_like": "rq2"}
BASE_PER_CLASS = 40          # base-class clips per class for the few-shot ceilings
PROBE_BASE_PER_CLASS = 20    # ... and for fitting the attentive pooling of the protocol comparison
OUT = benchmarks_dir() / "ceilings.csv"
FLOORS_OUT = benchmarks_dir() / "analogue_floors.csv"
LABEL_BUDGETS = benchmarks_dir() / "label_budget_summary.csv"
WORK = ceiling_work_dir()


def fingerprint(clips) -> str:
    """crc32 of the first clips and labels: identifies the generator version that made a set."""
    return f"{crc32(np.ascontiguousarray(clips.videos[:16]).tobytes()) ^ crc32(clips.labels.tobytes()):08x}"


EVAL_DIR: Path | None = None  # --eval-dir: reuse clips already generated (same generator and sizes)


def eval_sets(profile):
    if EVAL_DIR is not None:
        return EVAL_DIR
    from jepa.calibrate import generator_digest

    source = crc32(generator_digest().encode()) ^ crc32(str(profile.data).encode())
    out = WORK / f"eval-{profile.model.frames}x{profile.model.img_size}-{source:08x}"
    if not (out / "manifest.json").exists():
        eval_data.build(profile, out)
    return out


def run_ceilings(tasks, seeds, cfg: ceiling.CeilingCfg, n_train: int | None = None, embed_dim: int | None = None) -> None:
    torch.set_num_threads(1)
    name, profile = profile_cfg("tiny")
    if embed_dim:  # a wider (or narrower) encoder than the profile's: the ceiling of a calibration trial's encoder
        profile = profile.model_copy(update={"model": profile.model.model_copy(update={"embed_dim": embed_dim})})
    rows = []
    for task in tasks:
        for seed in seeds:
            t0 = time.time()
            if task in FEWSHOT_SETS:
                from jepa.data.synthetic import FEWSHOT_SPLITS, make_fewshot_set

                base = make_fewshot_set(task, "train", BASE_PER_CLASS, 0, frames=profile.model.frames,
                                        size=profile.model.img_size)
                model, losses = ceiling.train_supervised(base.videos, base.labels, len(FEWSHOT_SPLITS[task]["train"]),
                                                         profile.model, "attentive", cfg, seed)
                WORK.mkdir(parents=True, exist_ok=True)
                torch.save(model.encoder.state_dict(), WORK / f"{task}_s{seed}_{cfg.steps}.pt")
                test = rq.fewshot_clips(task, profile)
                eps = rq.episodes(test.labels, task, 1000)
                pooled = ceiling.frozen_tokens(model, test.videos).mean(1)
                row = {"set": task, "seed": seed, "data": fingerprint(test), "probe": "fewshot-prototype",
                       "train_acc": ceiling.accuracy(model, base.videos, base.labels),
                       "final_loss": float(np.mean(losses[-20:])), "n_train": len(base), "n_val": len(test)}
                for k, ep in eps.items():
                    row[f"val_acc_{k}shot"] = float(fewshot.evaluate_fewshot(pooled, test.labels, ep).mean())
                row["val_acc"] = row["val_acc_5shot"]
            else:
                train, val = eval_data.load(eval_sets(profile), task)
                if n_train:  # more clips of the same generator than the probes get (the train split's seed)
                    from jepa.data.synthetic import make_eval_set

                    train = make_eval_set(task, n_train, 1_000, frames=profile.model.frames, size=profile.model.img_size)
                r = ceiling.analogue_ceiling(train, val, profile.model, profile.probe.protocol[task], cfg, seed)
                row = {"set": task, "seed": seed, "data": fingerprint(val), **{k: r[k] for k in (
                    "probe", "val_acc", "train_acc", "final_loss", "n_train", "n_val")}}
            row |= {"steps": cfg.steps, "batch_size": cfg.batch_size, "lr": cfg.lr, "head_only_steps": cfg.head_only_steps,
                    "encoder_lr_scale": cfg.encoder_lr_scale, "standardize": cfg.standardize, "augment": cfg.augment, "profile": name,
                    "embed_dim": profile.model.embed_dim, "minutes": round((time.time() - t0) / 60, 2)}
            print(row, flush=True)
            rows.append(row)
            _append(row)


def run_floors(tasks, seeds) -> None:
    """Random-init (per seed) and raw-pixel floors of analogues whose generator changed, probed exactly as
    the default probes them (the profile's probe kind, epochs and probe seeds)."""
    from jepa import evaluate

    torch.set_num_threads(1)
    _, profile = profile_cfg("tiny")
    out_dir = eval_sets(profile)
    for task in tasks:
        data = fingerprint(eval_data.load(out_dir, task)[1])
        for floor, seed in [("random_init", s) for s in seeds] + [("pixels", seeds[0])]:
            m = profile.model
            if floor == "pixels":
                token_fn = lambda v: evaluate.pixel_tokens(v, m.tubelet, m.patch)  # noqa: E731
            else:
                encoder = evaluate.random_encoder(m, seed)
                token_fn = lambda v, e=encoder: evaluate.encoder_tokens(e, v)  # noqa: E731
            r = evaluate.evaluate_tokens(token_fn, out_dir, profile.probe, tasks=[task])[task]
            row = {"set": task, "floor": floor, "seed": seed, "data": data, "acc": r["acc"], "probe": r["probe"],
                   "n_train": r["n_train"], "n_val": r["n_val"]}
            print(row, flush=True)
            _append(row, FLOORS_OUT, key=FLOOR_KEY)


FLOOR_KEY = ("set", "floor", "seed", "data")  # one floor per analogue generator and seed


def _append(row: dict, out: Path = OUT, key: tuple[str, ...] | None = None) -> None:
    """Append a row; with `key`, a row with the same key values replaces the earlier one (a remeasurement)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame([row])
    if out.exists():
        df = pd.concat([pd.read_csv(out), df], ignore_index=True)
        if key is not None:
            df = df.drop_duplicates(subset=list(key), keep="last", ignore_index=True)
    tmp = out.with_suffix(".tmp")
    df.to_csv(tmp, index=False, float_format="%.4f")
    tmp.replace(out)


BENCHMARK = {"appearance": "imagenet100", "motion": "diving48", "temporal": "ssv2", "synthetic_motion": "synthetic_motion",
             "epic_like": "epic100 unseen verbs (RQ1)", "kinetics_like": "kinetics100 test classes (RQ2)"}


NOTES = {
    ("temporal", "committed"): "comets head-first vs tail-first: the floors read part of the arrow from single "
                               "tubelets (raw-pixel tokens 73 %), the end-to-end ViT all of it",
    ("epic_like", "previous"): "generator before the redesign: random contrast polarity, hand styles that differ by a "
                               "wiggle; base classes learned, novel verbs not",
    ("kinetics_like", "previous"): "generator before the redesign: random contrast polarity, class = motion x object "
                                   "family at 3-6 px objects; base classes not learned with labels",
}

# Temporal generators measured here and since replaced or dropped, by the fingerprint of their validation clips.
RETIRED_TEMPORAL = {
    "981c0af9": ("previous", "speed sawtooth of 3-5 frames (changes inside a tubelet): not learned even with labels"),
    "e0fd23eb": ("candidate", "redesign tried, not adopted: inflate-then-pop vs its reversal (size sawtooth held per "
                              "tubelet); pixels carry the label (hand area rule 98 %) but the ceiling stays at chance"),
    "ef7f4f00": ("candidate", "the committed design (comets head-first vs tail-first) as first measured, on clips "
                              "drawn from another random stream: raw-pixel tokens under the attentive probe read the "
                              "arrow; the end-to-end ViT does only with its head on z-scored channels, best after LP-FT"),
}


def _ci(values) -> tuple[float, float, int]:
    """(mean, 95% Student-t half-width or NaN for one value, n) in pp of fractions."""
    from jepa.stats import mean_ci

    v = np.asarray(values, float) * 100
    if len(v) == 0:
        return np.nan, np.nan, 0
    m, h = mean_ci(v) if len(v) > 1 else (float(v[0]), np.nan)
    return m, h, len(v)


def _oracle(train, val) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from jepa.data.synthetic import oracle_features

    scale = StandardScaler().fit(oracle_features(train.latents))
    clf = LogisticRegression(max_iter=2000, C=10.0).fit(scale.transform(oracle_features(train.latents)), train.labels)
    return float(clf.score(scale.transform(oracle_features(val.latents)), val.labels))


def record_candidate(row: dict) -> None:
    """Append a measured temporal candidate (benchmarks/temporal_candidates.py) to ceilings.csv and
    analogue_floors.csv under the fingerprint of its validation clips."""
    import temporal_candidates as tc

    data = fingerprint(tc.CANDIDATES[row["candidate"]](400, np.random.default_rng(2)))
    _append({"set": "temporal", "seed": 0, "data": data, "probe": "attentive", "val_acc": row["ceiling_val"],
             "train_acc": row["ceiling_train"], "final_loss": row["ceiling_final_loss"], "n_train": row["n_train"],
             "n_val": row["n_val"], "steps": row["steps"], "batch_size": ceiling.CeilingCfg.batch_size,
             "lr": ceiling.CeilingCfg.lr, "head_only_steps": row.get("head_only_steps", 0),
             "encoder_lr_scale": row.get("encoder_lr_scale", 1.0), "standardize": row.get("standardize", False),
             "profile": "tiny", "minutes": row["minutes"]})
    for floor in ("random_init", "pixels"):
        _append({"set": "temporal", "floor": floor, "seed": 0, "data": data, "acc": row[floor], "probe": "attentive",
                 "n_train": row["n_probe_train"], "n_val": row["n_val"]}, FLOORS_OUT, key=FLOOR_KEY)


def _candidate_notes() -> dict[str, str]:
    """Fingerprint -> note of the temporal designs in benchmarks/temporal_candidates.py."""
    import temporal_candidates as tc

    return {fingerprint(make(400, np.random.default_rng(2))): tc.NOTES[name] for name, make in tc.CANDIDATES.items()}


CANDIDATE_NOTES: dict[str, str] = {}


def profile_ceilings(ceilings: pd.DataFrame, embed_dim: int) -> pd.DataFrame:
    """Ceiling rows of the profile's encoder width (others: calibration trials'), with the recipe columns that
    older rows lack filled with the recipe they ran (no LP-FT, the head on layer-normed tokens)."""
    ceilings = ceilings.copy()
    for col, default in (("head_only_steps", 0), ("encoder_lr_scale", 1.0), ("standardize", False), ("augment", "none"),
                         ("embed_dim", embed_dim)):
        ceilings[col] = ceilings[col].fillna(default) if col in ceilings else default
    return ceilings[ceilings.embed_dim == embed_dim]


def build_report() -> None:
    """reports/analogues.csv + reports/figures/analogues.png from the committed floors and the measured ceilings."""
    _, profile = profile_cfg("tiny")
    CANDIDATE_NOTES.update(_candidate_notes())
    reports = reports_dir()
    floors = pd.read_csv(reports / "floors.csv")
    ceilings = profile_ceilings(pd.read_csv(OUT), profile.model.embed_dim)
    new_floors = pd.read_csv(FLOORS_OUT) if FLOORS_OUT.exists() else pd.DataFrame(columns=["set", "data"])
    out_dir = eval_sets(profile)
    # the committed floors and baselines were scored on the sets of the pipeline's manifest: beside today's
    # generator only where those are today's clips (a generator changed since is not yet re-scored)
    manifest = read_json(eval_manifest())
    scored_on = manifest["fingerprints"]
    today = eval_data.fingerprint(out_dir)
    # floors and baselines at other label budgets than the pipeline's (benchmarks/label_budget.py)
    budgets = pd.read_csv(LABEL_BUDGETS) if LABEL_BUDGETS.exists() else pd.DataFrame(columns=["analogue", "n_train"])
    budgets = budgets[budgets.get("probe_epochs", profile.probe.epochs) == profile.probe.epochs]
    rows = []
    for task in BENCHMARKS:
        train, val = eval_data.load(out_dir, task)
        current = fingerprint(val)
        committed = floors[floors.analogue == task].set_index("regime")
        if any(scored_on[f"{task}_{split}.npz"] != today[f"{task}_{split}.npz"] for split in ("train", "val")):
            committed = committed.iloc[0:0]
        committed_n_train = manifest["sets"][task]["train"]  # the labelled clips the committed probes learned from
        for (data, *_), ceil in ceilings[ceilings.set == task].groupby(
                ["data", "n_train", "steps", "lr", "head_only_steps", "encoder_lr_scale", "standardize", "augment"], sort=False):
            is_current = data == current
            n_train = int(ceil.n_train.iloc[0])
            # floors of a candidate design, measured here: only beside a ceiling on as many labelled clips
            mine = new_floors[(new_floors.set == task) & (new_floors.data == data) & (new_floors.n_train == n_train)]
            at_budget = budgets[(budgets.analogue == task) & (budgets.n_train == n_train)] if is_current else budgets.iloc[0:0]
            # committed: the clips the pipeline's floors and baselines are scored on (today's evaluation set)
            committed_gen = is_current
            # a ceiling on a validation set of another size predates the committed set; a retired or candidate
            # design is named by its fingerprint
            retired = RETIRED_TEMPORAL.get(data) if task == "temporal" else None
            generator = ("committed" if committed_gen else retired[0] if retired else
                         "candidate" if data in CANDIDATE_NOTES else "previous")
            row = {"analogue": task, "benchmark": BENCHMARK[task], "generator": generator,
                   "probe": ceil.probe.iloc[0], "chance_pp": round(100 / len(train.class_names), 2)}
            # Every row's floors and baselines learned from as many labelled clips as its ceiling: the pipeline's
            # own (reports/floors.csv) at the pipeline's budget, label_budget.py's at another; none otherwise.
            if committed_gen and len(committed) and n_train == committed_n_train:
                c = committed.iloc[0]
                row |= {"pixels_pp": c.pixels_pp, "pixels_ci95": c.pixels_ci95, "random_init_pp": c.random_init_pp,
                        "random_init_ci95": c.random_init_ci95, "floor_seeds": len(floor_seeds(load_params())),
                        "floors_from": "reports/floors.csv"}
                for regime in ("single", "mixed"):
                    if regime in committed.index:
                        row[f"baseline_{regime}_pp"] = committed.loc[regime, "pretrained_pp"]
                        row[f"baseline_{regime}_ci95"] = committed.loc[regime, "pretrained_ci95"]
            elif len(at_budget):
                b = at_budget.iloc[0]
                row |= {k: b[k] for k in ("pixels_pp", "pixels_ci95", "random_init_pp", "random_init_ci95",
                                          "baseline_single_pp", "baseline_single_ci95", "baseline_mixed_pp",
                                          "baseline_mixed_ci95")}
                row |= {"floor_seeds": int(b.random_init_seeds), "floors_from": LABEL_BUDGETS.relative_to(reports.parent).as_posix()}
            elif len(mine):  # floors measured here on a generator the pipeline has not scored
                pm, ph, _ = _ci(mine[mine.floor == "pixels"].acc)
                rm, rh, rn = _ci(mine[mine.floor == "random_init"].acc)
                row |= {"pixels_pp": pm, "pixels_ci95": ph, "random_init_pp": rm, "random_init_ci95": rh,
                        "floor_seeds": rn, "floors_from": "reports/benchmarks/analogue_floors.csv"}
            row["probe_n_train"] = committed_n_train if committed_gen else np.nan
            m, h, n = _ci(ceil.val_acc)
            row |= {"ceiling_pp": m, "ceiling_ci95": h, "ceiling_seeds": n, "ceiling_steps": int(ceil.steps.iloc[0]),
                    "ceiling_lr": float(ceil.lr.iloc[0]), "ceiling_head_only_steps": int(ceil.head_only_steps.iloc[0]),
                    "ceiling_encoder_lr_scale": float(ceil.encoder_lr_scale.iloc[0]),
                    "ceiling_standardize": bool(ceil.standardize.iloc[0]),
                    "ceiling_recipe": _recipe(ceil.iloc[0]), "ceiling_train_pp": round(100 * ceil.train_acc.mean(), 2), "n_train": n_train,
                    "n_val": int(ceil.n_val.iloc[0])}
            if is_current:
                row["oracle_pp"] = 100 * _oracle(train, val)
            recipe = []
            if bool(ceil.standardize.iloc[0]):
                recipe.append("head on z-scored channels as the probes")
            if ceil.augment.iloc[0] != "none":
                recipe.append(f"training clips augmented: {ceil.augment.iloc[0]}")
            if int(ceil.head_only_steps.iloc[0]):
                recipe.append(f"LP-FT: {int(ceil.head_only_steps.iloc[0])} head-only steps, encoder lr x{float(ceil.encoder_lr_scale.iloc[0]):g}")
            row["note"] = (retired[1] if retired else CANDIDATE_NOTES.get(data, NOTES.get((task, generator), ""))) + (
                f" (ceiling {'; '.join(recipe)})" if recipe else "")
            row["note"] = row["note"].strip()
            if generator == "previous" and not retired:
                row["note"] = (f"an earlier evaluation set of this analogue ({int(ceil.n_val.iloc[0])} validation clips)"
                               + row["note"])
            rows.append(row)
    for kind, question in FEWSHOT_SETS.items():
        runs = pd.read_csv(reports / f"{question}_runs.csv")
        runs = runs[runs.shots == 5].set_index(["regime", "variant"])
        test = rq.fewshot_clips(kind, profile)
        current = fingerprint(test)
        for (data, _, _, _), ceil in ceilings[ceilings.set == kind].groupby(["data", "n_train", "steps", "lr"], sort=False):
            row = {"analogue": kind, "benchmark": BENCHMARK[kind], "generator": "committed" if data == current else "previous",
                   "probe": "5-way 5-shot prototype (mean-pooled)", "chance_pp": 20.0}
            if data == current:
                pix, rnd = runs.loc[(rq.NOT_PRETRAINED, rq.RAW_PIXELS)], runs.loc[(rq.NOT_PRETRAINED, rq.RANDOM_INIT)]
                row |= {"pixels_pp": pix.acc_pp, "pixels_ci95": pix.ci95_episodes_pp, "random_init_pp": rnd.acc_pp,
                        "random_init_ci95": rnd.ci95_seeds_pp, "floor_seeds": int(rnd.n_seeds),
                        "floors_from": f"reports/{question}_runs.csv"}
                for regime in ("single", "mixed"):
                    if (regime, "baseline") in runs.index:
                        row[f"baseline_{regime}_pp"] = runs.loc[(regime, "baseline"), "acc_pp"]
                        row[f"baseline_{regime}_ci95"] = runs.loc[(regime, "baseline"), "ci95_seeds_pp"]
            row["note"] = NOTES.get((kind, row["generator"]), "")
            m, h, n = _ci(ceil.val_acc_5shot)
            row |= {"ceiling_pp": m, "ceiling_ci95": h, "ceiling_seeds": n, "ceiling_steps": int(ceil.steps.iloc[0]),
                    "ceiling_1shot_pp": round(100 * ceil.val_acc_1shot.mean(), 2),
                    "ceiling_train_pp": round(100 * ceil.train_acc.mean(), 2), "n_train": int(ceil.n_train.iloc[0]),
                    "n_val": int(ceil.n_val.iloc[0])}
            rows.append(row)
    df = pd.DataFrame(rows)
    df = _with_protocol(df)
    fewshot_rows = df.analogue.isin(list(FEWSHOT_SETS))
    df["headroom_pp"] = df.ceiling_pp - df[["pixels_pp", "random_init_pp"]].max(axis=1)
    # share of the learnable headroom the pretrained baseline captures: (baseline - higher floor) / headroom
    for regime in ("single", "mixed"):
        col = f"baseline_{regime}_pp"
        if col in df:
            df[f"share_{regime}_pct"] = 100 * (df[col] - df[["pixels_pp", "random_init_pp"]].max(axis=1)) / df.headroom_pp
    df["usable"] = [ceiling.usable(r.ceiling_pp, [r.pixels_pp, r.random_init_pp], fs) if np.isfinite(r.headroom_pp)
                    else np.nan for r, fs in zip(df.itertuples(), fewshot_rows)]
    for regime in ("single", "mixed"):  # a share of no headroom means nothing
        if f"share_{regime}_pct" in df:
            df.loc[df.usable != True, f"share_{regime}_pct"] = np.nan  # noqa: E712
    df["instrument"] = instrument_status(df)
    out = analogues_table()
    tmp = out.with_suffix(".tmp")
    df.round(2).to_csv(tmp, index=False)
    tmp.replace(out)
    _figure(df, reports / "figures" / "analogues.png")
    _markdown(df, reports / "analogues.md", profile)
    print(df.round(1).to_string())


def instrument_status(df: pd.DataFrame) -> pd.Series:
    """Per row of the committed generator at the pipeline's label budget: `usable` when some ceiling on those
    clips clears the higher floor by the margin; `not usable at this budget` when one does at another budget only;
    else `retired`; with the best gap measured at each budget (an analogue is an instrument only where probe and
    ceiling learn from the same labelled clips)."""
    out = pd.Series("", index=df.index, dtype=object)
    committed = df[df.generator == "committed"]
    for task, g in committed.groupby("analogue", sort=False):
        own = g[g.n_train == g.probe_n_train] if "probe_n_train" in g and g.probe_n_train.notna().any() else g
        if (own.usable == True).any():  # noqa: E712
            out[own.index] = "usable"
            continue
        margin = ceiling.USABLE_MARGIN_FEWSHOT_PP if task in FEWSHOT_SETS else ceiling.USABLE_MARGIN_PP
        gaps = [f"{int(n)} clips: ceiling {b.ceiling_pp:.1f} vs higher floor "
                f"{max(b.pixels_pp, b.random_init_pp):.1f} ({b.headroom_pp:+.1f} pp)"
                for n, b in ((n, r.loc[r.ceiling_pp.idxmax()]) for n, r in g[np.isfinite(g.headroom_pp)].groupby("n_train"))]
        elsewhere = sorted({int(n) for n in g[g.usable == True].n_train})  # noqa: E712
        out[own.index] = (f"not usable at this budget, usable at {', '.join(map(str, elsewhere))} clips"
                          if elsewhere else f"retired: no ceiling clears the higher floor by {margin:.0f} pp at any "
                          "label budget measured") + " (" + "; ".join(gaps) + ")"
    return out


def _instruments(df: pd.DataFrame) -> pd.DataFrame:
    """One row per analogue of the committed generator: its probes' labelled clips, status and, where usable,
    the best ceiling on those clips with the shares it gives."""
    rows = []
    for task, g in df[df.instrument != ""].groupby("analogue", sort=False):
        usable = g[g.usable == True].sort_values(["ceiling_seeds", "ceiling_pp"])  # noqa: E712
        best = usable.iloc[-1] if len(usable) else None  # the best ceiling among those on the most seeds
        rows.append({"analogue": task, "labelled clips": int(g.n_train.iloc[0]),
                     "status": g.instrument.iloc[0],
                     "ceiling": "n/a" if best is None else f"{best.ceiling_pp:.1f} ± {best.ceiling_ci95:.1f}",
                     "higher floor": f"{max(g.pixels_pp.iloc[0], g.random_init_pp.iloc[0]):.1f}",
                     **{f"baseline {r}": g[f"baseline_{r}_pp"].iloc[0] for r in ("single", "mixed")},
                     **{f"share {r} %": np.nan if best is None else round(best[f"share_{r}_pct"], 1)
                        for r in ("single", "mixed")}})
    return pd.DataFrame(rows)


def _recipe(ceil) -> str:
    """Short name of a ceiling's training recipe (the markdown table's ceiling_recipe column)."""
    parts = ["z" if bool(ceil.standardize) else "e2e"]
    if int(ceil.head_only_steps):
        parts.append(f"LP-FT {int(ceil.head_only_steps)}" + ("" if float(ceil.encoder_lr_scale) == 0.1 else f" x{float(ceil.encoder_lr_scale):g}"))
    if getattr(ceil, "augment", "none") != "none":
        parts.append(str(ceil.augment))
    return ", ".join(parts)


def _markdown(df: pd.DataFrame, path: Path, profile) -> None:
    from jepa.claims import to_markdown

    cols = ["analogue", "generator", "chance_pp", "pixels_pp", "random_init_pp", "baseline_single_pp",
            "baseline_mixed_pp", "ceiling_pp", "ceiling_train_pp", "n_train", "ceiling_steps", "ceiling_lr", "ceiling_recipe", "ceiling_seeds",
            "oracle_pp", "headroom_pp", "share_single_pct", "share_mixed_pct", "usable", "protocol_chosen", "protocol_usable"]
    lines = ["# Analogues: is each one a valid instrument? (profile `tiny`)", "",
             "Supervised ceiling = the same tiny encoder trained end to end with labels (analogues: on the training "
             "clips with the analogue's probe head, scored on its validation clips; few-shot sets: on the base classes, "
             "then the saved 5-way 5-shot episodes of the novel classes with mean-pooled prototypes). Floors and "
             "pretrained baselines are the committed numbers (baselines: 3 seeds; random-init floors: `floor_seeds` "
             "seeds) unless `floors_from` says otherwise; `candidate` rows "
             "are a redesigned generator measured here but not adopted, `previous` rows the generator a redesign replaced. Usable: ceiling >= higher floor + "
             f"{ceiling.USABLE_MARGIN_PP:.0f} pp (few-shot sets: + {ceiling.USABLE_MARGIN_FEWSHOT_PP:.0f} pp at 5-shot). "
             "share_REGIME_pct = 100 x (pretrained baseline - higher floor) / headroom, on usable rows: the part of what the architecture can "
             "learn that pretraining captures (negative: below a floor). ceiling_recipe: `e2e` = encoder and head trained together "
             "from the start on the layer-normed tokens; `z` = the head reads every channel z-scored, as the frozen probes read "
             "them; `LP-FT N` = N head-only steps on the frozen encoder first, then the encoder at 0.1x the head's lr; "
             "`roll` / `isometry` = each training clip circularly shifted (and rotated by a multiple of 90 degrees and "
             "flipped) at random, label-preserving on the wrapped canvases. "
             "`n_train`: the labelled clips the row's ceiling, floors and baselines all learned from: a share compares "
             "one label budget. At the pipeline's own budget (`probe_n_train` in the CSV; "
             + ", ".join(f"{t.replace('_', ' ')} {profile.data.train_clips(t):,}" for t in BENCHMARKS)
             + " clips) the floors and baselines are the committed ones; at other budgets they come from "
             "[label_budget.md](benchmarks/label_budget.md) (the default's baseline encoders and the same floors, probed "
             "on more or fewer clips). Full table: `analogues.csv`; produced by `benchmarks/analogues.py`.", "",
             "## Instruments", "",
             "Each analogue at the pipeline's label budget: usable when a ceiling on the same clips clears the higher "
             "floor by the margin, else retired (still probed and reported beside its floors, with no share).", "",
             to_markdown(_instruments(df)), "",
             "## Every ceiling measured", "",
             to_markdown(df[[c for c in cols if c in df]].round(1).assign(
                 ceiling_lr=df.get("ceiling_lr", pd.Series(np.nan, index=df.index)).map(
                     lambda v: f"{v:g}" if np.isfinite(v) else "n/a")).rename_axis("row").reset_index()), ""]
    notes = df.get("note", pd.Series("", index=df.index)).fillna("")
    lines += ["Row notes:", ""] + [f"- row {i}: {n}" for i, n in notes.items() if n] + [""]
    prot = benchmarks_dir() / "fewshot_protocols.csv"
    if prot.exists():
        p = pd.read_csv(prot)
        p = p.groupby(["set", "encoder", "protocol", "shots"]).acc_pp.mean().unstack("protocol").round(1).reset_index()
        lines += ["## Few-shot protocols (5-way, 1000 saved episodes; random init: mean of 3 seeds)", "",
                  to_markdown(p), ""]
    lines += ["![analogues](figures/analogues.png)", ""]
    path.write_text("\n".join(lines))


def protocol_table() -> pd.DataFrame | None:
    """5-shot accuracy per (set, protocol) of the ceiling encoder and of the floors (random init: mean of seeds),
    with the headroom over the higher floor."""
    path = benchmarks_dir() / "fewshot_protocols.csv"
    if not path.exists():
        return None
    p = pd.read_csv(path)
    p = p[p.shots == 5].groupby(["set", "protocol", "encoder"]).acc_pp.mean().unstack("encoder")
    if "supervised ceiling" not in p:
        return None
    p["headroom_pp"] = p["supervised ceiling"] - p[["random init", "raw pixels"]].max(axis=1)
    return p.reset_index()


PROTOCOL_MARGIN_PP = 2.0  # another protocol replaces mean-pooled prototypes only if it adds this much headroom


def chosen_protocol(table: pd.DataFrame) -> str:
    """One rule for every encoder: the protocol with the largest mean headroom (ceiling - higher floor) over the
    sets that have a ceiling, if it beats mean-pooled prototypes (today's default) by PROTOCOL_MARGIN_PP."""
    headroom = table.dropna(subset=["headroom_pp"]).groupby("protocol").headroom_pp.mean()
    best = headroom.idxmax()
    return best if headroom[best] >= headroom.get("mean-prototype", -np.inf) + PROTOCOL_MARGIN_PP else "mean-prototype"


def _with_protocol(df: pd.DataFrame) -> pd.DataFrame:
    """Few-shot rows also scored with the chosen protocol (columns protocol_*)."""
    table = protocol_table()
    if table is None or table.headroom_pp.isna().all():
        return df
    best = chosen_protocol(table)
    picked = table[table.protocol == best].set_index("set")
    df = df.copy()
    for kind, r in picked.iterrows():
        i = (df.analogue == kind) & (df.generator == "committed")
        i &= df.ceiling_steps == df.loc[i, "ceiling_steps"].max()  # the encoder the comparison loaded (longest run)
        floors = [r["random init"], r["raw pixels"]]
        df.loc[i, "protocol_chosen"] = best
        df.loc[i, "protocol_ceiling_pp"] = r["supervised ceiling"]
        df.loc[i, "protocol_random_init_pp"] = r["random init"]
        df.loc[i, "protocol_pixels_pp"] = r["raw pixels"]
        df.loc[i, "protocol_usable"] = ceiling.usable(r["supervised ceiling"], floors, fewshot=True)
    return df


def _figure(df: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [("pixels", "raw pixels"), ("random_init", "random init"), ("baseline_single", "baseline single"),
            ("baseline_mixed", "baseline mixed"), ("ceiling", "supervised ceiling"), ("oracle", "latent oracle")]
    labels = [f"{r.analogue}{f' ({r.generator})' if r.generator != 'committed' else ''}\n{r.n_train} clips, {r.ceiling_steps} steps"
              + (f", lr {r.ceiling_lr:g}" if "ceiling_lr" in df and np.isfinite(r.ceiling_lr) and r.ceiling_lr != 1e-3 else "")
              for r in df.itertuples()]
    fig, ax = plt.subplots(figsize=(10.5, 1.6 + 0.75 * len(df)))
    height = 0.8 / len(bars)
    y = np.arange(len(df))
    for i, (key, name) in enumerate(bars):
        vals = df.get(f"{key}_pp", pd.Series(np.nan, index=df.index)).astype(float)
        err = df.get(f"{key}_ci95", pd.Series(np.nan, index=df.index)).astype(float)
        ax.barh(y + (i - len(bars) / 2 + 0.5) * height, vals, height, xerr=err.fillna(0), label=name, capsize=2)
    for yi, chance in zip(y, df.chance_pp):
        ax.plot([chance, chance], [yi - 0.45, yi + 0.45], color="k", lw=1.2, ls="--")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("validation accuracy (%; few-shot: 5-way 5-shot); dashed = chance")
    ax.set_xlim(0, 100)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_title("Analogues: floors, pretrained baseline and supervised ceiling (tiny profile)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


PROTOCOLS = ("mean-prototype", "ordered-prototype", "otam", "attentive-base")


def _protocol_scores(tokens_test, tokens_base, base_labels, n_base, test_labels, eps, time_steps, probe_cfg, seed):
    """5-way accuracies (fractions, per shot) of every protocol on one encoder's tokens."""
    from jepa.evaluate import AttentiveProbe, ProbeData, _standardize, train_probe

    out = {}
    seqs = fewshot.temporal_features(tokens_test, time_steps)
    feats = {"mean-prototype": tokens_test.mean(1), "ordered-prototype": seqs.flatten(1), "otam": seqs}
    # attentive pooling fit on the base classes (a linear head on a learned-query pool, trained with labels
    # on the frozen tokens), then its pooled, normed feature in the prototype classifier
    data = _standardize(ProbeData(tokens_base, torch.as_tensor(base_labels), tokens_test,
                                  torch.as_tensor(test_labels), n_base))
    torch.manual_seed(seed)
    probe = AttentiveProbe(tokens_base.shape[-1], n_base, probe_cfg.heads)
    _fit_probe(probe, data, probe_cfg, seed)
    with torch.no_grad():
        feats["attentive-base"] = probe.norm(probe.pool(data.val))
    for name, f in feats.items():
        for k, ep in eps.items():
            out[(name, k)] = float(fewshot.evaluate_fewshot(f, test_labels, ep, "otam" if name == "otam" else "prototype").mean())
    return out


def _fit_probe(probe, data, cfg, seed) -> None:
    import torch.nn.functional as F

    opt = torch.optim.AdamW(probe.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    n = len(data.train)
    for _ in range(cfg.epochs // 2):
        order = torch.randperm(n, generator=gen)
        for i in range(0, n - cfg.batch_size + 1, cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            loss = F.cross_entropy(probe(data.train[idx]), data.train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    probe.eval()


def run_protocols(kinds, steps: int, which=("ceiling", "floors")) -> None:
    """Few-shot protocols on the ceiling encoder (seed 0) and on the floors, the same episodes for all."""
    from jepa import evaluate
    from jepa.data.synthetic import FEWSHOT_SPLITS, make_fewshot_set

    torch.set_num_threads(1)
    _, profile = profile_cfg("tiny")
    m = profile.model
    rows = []
    for kind in kinds:
        test = rq.fewshot_clips(kind, profile)
        eps = rq.episodes(test.labels, kind, 1000)
        base = make_fewshot_set(kind, "train", PROBE_BASE_PER_CLASS, 0, frames=m.frames, size=m.img_size)
        encoders = {}
        ckpt = WORK / f"{kind}_s0_{steps}.pt"
        if "ceiling" in which and ckpt.exists():
            enc = VideoViT(m)
            enc.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=True))
            encoders[("supervised ceiling", 0)] = lambda v, e=enc: evaluate.encoder_tokens(e, v)
        if "floors" in which:
            for seed in (0, 1, 2):
                encoders[("random init", seed)] = lambda v, e=evaluate.random_encoder(m, seed): evaluate.encoder_tokens(e, v)
            encoders[("raw pixels", 0)] = lambda v: evaluate.pixel_tokens(v, m.tubelet, m.patch)
        for (name, seed), fn in encoders.items():
            scores = _protocol_scores(fn(test.videos), fn(base.videos), base.labels, len(FEWSHOT_SPLITS[kind]["train"]),
                                      test.labels, eps, m.grid[0], profile.probe, seed)
            for (protocol, k), acc in scores.items():
                rows.append({"set": kind, "encoder": name, "seed": seed, "protocol": protocol, "shots": k,
                             "acc_pp": round(100 * acc, 2), "data": fingerprint(test)})
            print(kind, name, seed, {p: round(100 * scores[(p, 5)], 1) for p in PROTOCOLS}, flush=True)
            new = pd.DataFrame([r for r in rows if (r["set"], r["encoder"], r["seed"]) == (kind, name, seed)])
            out = benchmarks_dir() / "fewshot_protocols.csv"
            if out.exists():  # replace this encoder's earlier rows, keep every other encoder's
                old = pd.read_csv(out)
                keep = ~((old.set == kind) & (old.encoder == name) & (old.seed == seed))
                new = pd.concat([old[keep], new], ignore_index=True)
            tmp = out.with_suffix(".tmp")
            new.to_csv(tmp, index=False)
            tmp.replace(out)


def run_noise() -> None:
    """Noise components of the committed probe accuracies (reports/metrics/probe/*.json), per analogue:
    the validation-sampling SE of one accuracy (binomial, sqrt(p(1-p)/n_val)), the spread over probe
    seeds within a run, and the spread over run seeds of a run's mean (std, pp; pooled over variants)."""
    import json
    import re

    rows = []
    for path in sorted(metrics_dir("probe").glob("*.json")):
        regime, variant, seed = re.fullmatch(r"(\w+)-(.+)-s(\d+)", path.stem).groups()
        for task, r in json.loads(path.read_text()).items():
            rows.append({"regime": regime, "variant": variant, "seed": int(seed), "analogue": task, "acc": 100 * r["acc"],
                         "probe_seed_std": 100 * float(np.std(r["accs"], ddof=1)), "n_val": r["n_val"]})
    df = pd.DataFrame(rows)
    out = []
    for task, g in df.groupby("analogue"):
        p = g.acc.mean() / 100
        seed_std = g.groupby(["regime", "variant"]).acc.std(ddof=1)
        out.append({"analogue": task, "n_val": int(g.n_val.iloc[0]), "mean_acc_pp": round(100 * p, 2),
                    "val_sampling_se_pp": round(100 * np.sqrt(p * (1 - p) / g.n_val.iloc[0]), 2),
                    "val_sampling_se_at_400_pp": round(100 * np.sqrt(p * (1 - p) / 400), 2),
                    "probe_seed_std_pp": round(g.probe_seed_std.mean(), 2),
                    "run_seed_std_pp": round(float(np.sqrt((seed_std ** 2).mean())), 2), "n_runs": len(g)})
    res = pd.DataFrame(out)
    res.to_csv(benchmarks_dir() / "probe_noise.csv", index=False)
    print(res.to_string())


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("ceilings")
    c.add_argument("--tasks", nargs="+", default=list(BENCHMARKS) + list(FEWSHOT_SETS))
    c.add_argument("--seeds", nargs="+", type=int, default=[0])
    c.add_argument("--steps", type=int, default=1000)
    c.add_argument("--eval-dir", type=Path, default=None)
    c.add_argument("--n-train", type=int, default=None, help="train the ceiling on this many fresh clips")
    c.add_argument("--lr", type=float, default=ceiling.CeilingCfg.lr)
    c.add_argument("--head-only-steps", type=int, default=0, help="LP-FT: head alone on the frozen encoder first")
    c.add_argument("--encoder-lr-scale", type=float, default=1.0)
    c.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True,
                   help="z-score token channels before the head, as the probes do (the default)")
    c.add_argument("--augment", choices=["none", "roll", "isometry"], default="none",
                   help="label-preserving augmentation of the training clips (jepa.ceiling.CeilingCfg)")
    c.add_argument("--embed-dim", type=int, default=None,
                   help="encoder width, if not the profile's (a calibration trial's wider encoder; kept out of the report)")
    f = sub.add_parser("floors")
    f.add_argument("--tasks", nargs="+", default=["temporal"])
    f.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    pr = sub.add_parser("protocols")
    pr.add_argument("--kinds", nargs="+", default=list(FEWSHOT_SETS))
    pr.add_argument("--steps", type=int, default=1000)
    pr.add_argument("--which", nargs="+", default=["ceiling", "floors"])
    sub.add_parser("noise")
    cd = sub.add_parser("candidate")
    cd.add_argument("name", choices=["ripples"])
    cd.add_argument("--steps", type=int, default=1000)
    cd.add_argument("--head-only-steps", type=int, default=0, help="LP-FT: head alone on the frozen encoder first")
    cd.add_argument("--encoder-lr-scale", type=float, default=1.0)
    cd.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True)
    rp = sub.add_parser("report")
    rp.add_argument("--eval-dir", type=Path, default=None)
    args = ap.parse_args()
    global EVAL_DIR
    EVAL_DIR = getattr(args, "eval_dir", None)
    if args.cmd == "ceilings":
        run_ceilings(args.tasks, args.seeds, ceiling.CeilingCfg(steps=args.steps, lr=args.lr, head_only_steps=args.head_only_steps,
                                                                encoder_lr_scale=args.encoder_lr_scale,
                                                                standardize=args.standardize, augment=args.augment),
                     args.n_train, args.embed_dim)
    elif args.cmd == "protocols":
        run_protocols(args.kinds, args.steps, args.which)
    elif args.cmd == "candidate":
        import temporal_candidates as tc

        record_candidate(tc.measure(args.name, args.steps, head_only_steps=args.head_only_steps,
                                    encoder_lr_scale=args.encoder_lr_scale, standardize=args.standardize))
    elif args.cmd == "noise":
        run_noise()
    elif args.cmd == "floors":
        run_floors(args.tasks, args.seeds)
    else:
        build_report()


if __name__ == "__main__":
    main()
