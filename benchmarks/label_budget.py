"""Floors, pretrained baselines and supervised ceilings compared at one label budget (not a test).

A share of the headroom, (baseline - higher floor) / (ceiling - higher floor), is a share only when the
frozen probe and the supervised ceiling learn from the same labelled clips. More labels lift a ceiling, so a
share against a ceiling on more clips understates the share at the probes' budget; and more labels lift the
floors too, so a headroom measured between a ceiling on many clips and floors on few overstates what is
learnable at either. This is how each analogue's budget in the profile (`data.eval_train`) was chosen: the
largest measured budget at which its ceiling clears the higher floor by the usable margin.

`measure` probes the default's baseline encoders (both regimes: the pipeline's own runs, checked against
their committed final loss), random-init encoders (3 seeds) and raw pixels exactly as the pipeline probes
them (the profile's probe kind, epochs and probe seeds; the same validation clips), on training splits of each
size drawn from the same generator stream, and appends one row per (analogue, budget, encoder, seed) to
reports/benchmarks/label_budget.csv. `report` sets each budget beside the ceiling trained on the same number of
clips (reports/benchmarks/ceilings.csv; `benchmarks/analogues.py ceilings [--n-train N]`) in
reports/benchmarks/label_budget.md. `cost` times one encoder's probe per analogue at each budget (feature
extraction and the profile's probe seeds, as a probe stage runs them; alternating repeats, 2 threads) into
reports/benchmarks/label_budget_cost.csv: what a larger budget would add to every probe stage.

  nice -n 5 .venv/bin/python benchmarks/label_budget.py measure --n-train 600 3000 [--runs-root runs]
  .venv/bin/python benchmarks/label_budget.py cost --n-train 600 3000 [--repeats 5]
  .venv/bin/python benchmarks/label_budget.py report
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import analogues
from jepa import ceiling, evaluate
from jepa.claims import to_markdown
from jepa.config import profile_cfg
from jepa.data import eval_data
from jepa.io import read_json, write_text
from jepa.paths import benchmarks_dir, pretrain_metrics, root
from jepa.stats import ci_separated

OUT = benchmarks_dir() / "label_budget.csv"
KEY = ("set", "n_train", "epochs", "encoder", "seed", "data")
TASKS = ("appearance", "motion", "temporal")  # synthetic motion keeps the paper's 160 training clips
REGIMES = ("single", "mixed")


def budget_profile(profile, n_train: int, epochs: int | None = None):
    """The profile with `n_train` training clips per analogue (validation clips unchanged) and, given `epochs`,
    that many probe epochs."""
    update = {"data": profile.data.model_copy(update={"eval_train": n_train})}
    if epochs:
        update["probe"] = profile.probe.model_copy(update={"epochs": epochs})
    return profile.model_copy(update=update)


def baseline_encoder(runs_root: Path, regime: str, seed: int):
    """The default's baseline encoder of (regime, seed), refused unless it is the committed run."""
    run = runs_root / regime / "baseline" / f"s{seed}"
    committed = read_json(pretrain_metrics(regime, "baseline", seed))["final_loss"]
    if not (run / "encoder.pt").exists():
        sys.exit(f"{run / 'encoder.pt'}: missing; run `dvc repro "
                 f"data/pipelines/pretrain_{regime}/dvc.yaml:pretrain_{regime}@baseline-{seed}` first")
    if read_json(run / "summary.json")["final_loss"] != committed:
        sys.exit(f"{run / 'summary.json'}: final_loss is not the committed {committed} "
                 f"({pretrain_metrics(regime, 'baseline', seed)}); expected the default's own run")
    return evaluate.load_encoder(run / "encoder.pt")


def measure(tasks, budgets, runs_root: Path, seeds, epochs: int | None = None, random_init_seeds=None,
            sources=("baseline", "random_init", "pixels")) -> None:
    torch.set_num_threads(2)
    _, base = profile_cfg("tiny")
    m = base.model
    extractors = []  # (name, seed, loader of the encoder; None: raw pixels)
    if "baseline" in sources:
        extractors += [(f"baseline_{r}", s, lambda r=r, s=s: baseline_encoder(runs_root, r, s))
                       for r in REGIMES for s in seeds]
    if "random_init" in sources:
        extractors += [("random_init", s, lambda s=s: evaluate.random_encoder(m, s)) for s in random_init_seeds or seeds]
    if "pixels" in sources:
        extractors.append(("pixels", 0, None))
    for n in budgets:
        profile = budget_profile(base, n, epochs)
        out_dir = analogues.eval_sets(profile)
        data = {t: analogues.fingerprint(eval_data.load(out_dir, t)[1]) for t in tasks}
        for name, seed, load in extractors:
            t0 = time.time()
            if load is None:
                token_fn = lambda v: evaluate.pixel_tokens(v, m.tubelet, m.patch)  # noqa: E731
            else:
                encoder = load()
                token_fn = lambda v, e=encoder: evaluate.encoder_tokens(e, v)  # noqa: E731
            for task, r in evaluate.evaluate_tokens(token_fn, out_dir, profile.probe, tasks).items():
                row = {"set": task, "n_train": r["n_train"], "epochs": profile.probe.epochs, "encoder": name,
                       "seed": seed, "data": data[task], "acc": r["acc"], "probe": r["probe"], "n_val": r["n_val"],
                       "seconds": round(time.time() - t0, 1)}
                print(row, flush=True)
                analogues._append(row, OUT, key=KEY)


def cost(tasks, budgets, runs_root: Path, repeats: int, epochs: list[int] | None = None) -> None:
    """Median seconds of one probe evaluation (features + the profile's probe seeds) per analogue, budget and
    probe epochs, on the single-regime baseline of seed 0, the settings alternating within each repeat."""
    torch.set_num_threads(2)
    _, base = profile_cfg("tiny")
    encoder = baseline_encoder(runs_root, "single", 0)
    settings = [(n, e) for n in budgets for e in (epochs or [base.probe.epochs])]
    profiles = {s: budget_profile(base, *s) for s in settings}
    dirs = {s: analogues.eval_sets(p) for s, p in profiles.items()}
    times = {(t, *s): [] for t in tasks for s in settings}
    for _ in range(repeats):
        for task in tasks:
            for s in settings:
                t0 = time.perf_counter()
                evaluate.evaluate_tokens(lambda v: evaluate.encoder_tokens(encoder, v), dirs[s], profiles[s].probe, [task])
                times[(task, *s)].append(time.perf_counter() - t0)
    rows = [{"set": t, "n_train": n, "probe": base.probe.protocol[t], "probe_seeds": len(base.probe.seeds),
             "epochs": e, "median_s": round(float(np.median(v)), 2), "min_s": round(min(v), 2),
             "max_s": round(max(v), 2), "repeats": len(v), "threads": torch.get_num_threads()}
            for (t, n, e), v in times.items()]
    df = with_ratio(pd.DataFrame(rows), base.data, base.probe.epochs)  # NaN if that setting was not timed
    out = OUT.with_name("label_budget_cost.csv")
    tmp = out.with_suffix(".tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(out)
    print(df.to_string())


def with_ratio(df: pd.DataFrame, data, epochs: int) -> pd.DataFrame:
    """Each time over the same analogue's time at the pipeline's setting (the profile's `data` training clips
    of that analogue, `epochs` epochs)."""
    ref = df[(df.n_train == df.set.map(data.train_clips)) & (df.epochs == epochs)].set_index("set").median_s
    return df.assign(ratio_to_pipeline=(df.median_s / df.set.map(ref)).round(2))


def matched_ceiling(ceilings: pd.DataFrame, task: str, data: str, n_train: int, embed_dim: int) -> pd.Series | None:
    """The best supervised recipe measured on `n_train` clips of this generator, among those run on the most
    seeds: mean and CI of its validation accuracy, and the recipe."""
    c = analogues.profile_ceilings(ceilings, embed_dim)
    c = c[(c.set == task) & (c.data == data) & (c.n_train == n_train)]
    if c.empty:
        return None
    recipe = ["steps", "lr", "head_only_steps", "encoder_lr_scale", "standardize", "augment"]
    groups = c.groupby(recipe).val_acc.agg(["mean", "count", list])
    best = groups[groups["count"] == groups["count"].max()]["mean"].idxmax()
    mean, half, n = analogues._ci(groups.loc[best, "list"])
    name = f"{analogues._recipe(pd.Series(dict(zip(recipe, best))))}, {int(best[0])} steps"
    return pd.Series({"ceiling_pp": mean, "ceiling_ci95": half, "ceiling_seeds": n, "ceiling_recipe": name})


def summary() -> pd.DataFrame:
    """One row per (analogue, budget): floors, baselines and the ceiling at that budget, headroom, shares."""
    _, profile = profile_cfg("tiny")
    rows = pd.read_csv(OUT)
    rows["epochs"] = rows["epochs"].fillna(profile.probe.epochs).astype(int) if "epochs" in rows else profile.probe.epochs
    ceilings = pd.read_csv(analogues.OUT)
    out = []
    for (task, n, epochs, data), g in rows.groupby(["set", "n_train", "epochs", "data"], sort=False):
        row = {"analogue": task, "n_train": int(n), "probe_epochs": int(epochs), "n_val": int(g.n_val.iloc[0])}
        for enc in ("pixels", "random_init", *[f"baseline_{r}" for r in REGIMES]):
            row[f"{enc}_pp"], row[f"{enc}_ci95"], row[f"{enc}_seeds"] = analogues._ci(g[g.encoder == enc].acc)
        ceil = matched_ceiling(ceilings, task, data, int(n), profile.model.embed_dim)
        floor = max(row["pixels_pp"], row["random_init_pp"])
        floor = floor if np.isfinite([row["pixels_pp"], row["random_init_pp"]]).all() else np.nan
        if ceil is not None:
            row |= ceil.to_dict()
        if ceil is not None and np.isfinite(floor):  # both floors measured at this budget
            row["headroom_pp"] = row["ceiling_pp"] - floor
            row["usable"] = ceiling.usable(row["ceiling_pp"], [row["pixels_pp"], row["random_init_pp"]])
        for r in REGIMES:
            b = f"baseline_{r}"
            row[f"beats_random_init_{r}"] = ci_separated(row[f"{b}_pp"], row[f"{b}_ci95"], row["random_init_pp"],
                                                          row["random_init_ci95"])
            if "headroom_pp" in row:
                row[f"share_{r}_pct"] = 100 * (row[f"{b}_pp"] - floor) / row["headroom_pp"]
        out.append(row)
    return pd.DataFrame(out).sort_values(["analogue", "n_train", "probe_epochs"], ascending=[True, True, False],
                                         kind="stable").reset_index(drop=True)


def _budgets(profile) -> str:
    """The profile's probe budgets in words: 'appearance 3,000, motion 3,000, temporal 600'."""
    return ", ".join(f"{t} {profile.data.train_clips(t):,}" for t in TASKS)


def report() -> None:
    _, profile = profile_cfg("tiny")
    df = summary()
    csv = OUT.with_name("label_budget_summary.csv")
    tmp = csv.with_suffix(".tmp")
    df.round(2).to_csv(tmp, index=False)
    tmp.replace(csv)

    def pm(mean, half):
        return "n/a" if not np.isfinite(mean) else f"{mean:.1f}" + (f" ± {half:.1f}" if np.isfinite(half) else "")

    table = pd.DataFrame({
        "analogue": df.analogue, "labelled clips": df.n_train, "probe epochs": df.probe_epochs,
        "raw pixels": [pm(m, h) for m, h in zip(df.pixels_pp, df.pixels_ci95)],
        "random init": [pm(m, h) for m, h in zip(df.random_init_pp, df.random_init_ci95)],
        "random-init seeds": df.random_init_seeds,
        **{f"baseline {r}": [pm(m, h) for m, h in zip(df[f"baseline_{r}_pp"], df[f"baseline_{r}_ci95"])] for r in REGIMES},
        "ceiling": [pm(m, h) for m, h in zip(df.get("ceiling_pp", np.nan), df.get("ceiling_ci95", np.nan))],
        "ceiling recipe": df.get("ceiling_recipe", pd.Series("", index=df.index)).fillna("not measured"),
        "headroom": df.get("headroom_pp", pd.Series(np.nan, index=df.index)).round(1),
        "usable": df.get("usable", pd.Series(np.nan, index=df.index)),
        **{f"share {r} %": df.get(f"share_{r}_pct", pd.Series(np.nan, index=df.index)).where(
            df.get("usable", False) == True).round(1) for r in REGIMES},  # noqa: E712
        **{f"clears random init ({r})": df[f"beats_random_init_{r}"] for r in REGIMES},
    })
    lines = ["# Floors, baselines and ceilings at one label budget (profile `tiny`)", "",
             "Each row probes the default's baseline encoders (3 seeds per regime), random-init encoders (seeds: `random-init seeds`) and "
             "raw pixels exactly as the pipeline does, on a training split of `labelled clips` clips of the analogue's "
             "generator (the same validation clips), beside the supervised ceiling trained end to end on the same "
             "number of clips (the best recipe measured there; `reports/benchmarks/ceilings.csv`). Values are % top-1 "
             "± the 95% Student-t half-width over seeds. Usable: ceiling >= higher floor + "
             f"{ceiling.USABLE_MARGIN_PP:.0f} pp; share = 100 x (baseline - higher floor) / headroom, on usable rows; "
             "clears random init: the baseline's 95% interval lies wholly above the random-init floor's. The pipeline "
             f"probes with {_budgets(profile)} labelled clips, each analogue's largest usable budget here. "
             "Rows: `label_budget.csv`; this table: `label_budget_summary.csv`; produced by `benchmarks/label_budget.py`.",
             "", to_markdown(table), ""]
    cost_csv = OUT.with_name("label_budget_cost.csv")
    if cost_csv.exists():
        # ratios over today's pipeline setting (the timings themselves do not depend on it)
        c = with_ratio(pd.read_csv(cost_csv).drop(columns="ratio_to_pipeline", errors="ignore"), profile.data,
                       profile.probe.epochs)
        tmp = cost_csv.with_suffix(".tmp")
        c.to_csv(tmp, index=False)
        tmp.replace(cost_csv)
        lines += ["## What a budget costs a probe stage", "",
                  "Seconds for one encoder's probe of one analogue (feature extraction and the profile's "
                  f"{int(c.probe_seeds.iloc[0])} probe seeds), median of "
                  f"{int(c.repeats.iloc[0])} alternating repeats on {int(c.threads.iloc[0])} threads "
                  "(`label_budget_cost.csv`, `benchmarks/label_budget.py cost`); a probe stage scores every "
                  "analogue, once per encoder; ratio_to_pipeline: over the pipeline's setting "
                  f"({_budgets(profile)} clips, {profile.probe.epochs} epochs).", "",
                  to_markdown(c[["set", "n_train", "probe", "epochs", "median_s", "min_s", "max_s", "ratio_to_pipeline"]]), ""]
    write_text(OUT.with_name("label_budget.md"), "\n".join(lines))
    print(table.to_string())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    m.add_argument("--n-train", nargs="+", type=int, default=[600, 3000])
    m.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    m.add_argument("--runs-root", type=Path, default=None, help="where the pipeline's runs are (default: runs/)")
    m.add_argument("--epochs", type=int, default=None, help="probe epochs (default: the profile's)")
    m.add_argument("--random-init-seeds", nargs="+", type=int, default=None, help="default: --seeds")
    m.add_argument("--sources", nargs="+", default=["baseline", "random_init", "pixels"],
                   choices=["baseline", "random_init", "pixels"])
    c = sub.add_parser("cost")
    c.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    c.add_argument("--n-train", nargs="+", type=int, default=[600, 3000])
    c.add_argument("--repeats", type=int, default=5)
    c.add_argument("--epochs", nargs="+", type=int, default=None, help="probe epochs to time (default: the profile's)")
    c.add_argument("--runs-root", type=Path, default=None, help="where the pipeline's runs are (default: runs/)")
    sub.add_parser("report")
    args = ap.parse_args()
    if args.cmd == "measure":
        measure(args.tasks, args.n_train, args.runs_root or root() / "runs", args.seeds, args.epochs,
                args.random_init_seeds, args.sources)
    elif args.cmd == "cost":
        cost(args.tasks, sorted(args.n_train), args.runs_root or root() / "runs", args.repeats, args.epochs)
    else:
        report()


if __name__ == "__main__":
    main()
