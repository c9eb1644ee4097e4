"""Calibration study: which CPU recipe makes the tiny V-JEPA beat its random-init floor
(docs/method.md, "The calibration study").

A *trial* is the base profile plus dotted overrides (``{"train.steps": 2500}``). Each
(trial, seed) pretrains the baseline variant, probes it with the profile's protocol and
stands it beside its floors probed the same way: the same architecture at the same
initialisation (the pretraining seed fixes the init, so the comparison is paired) and raw
pixels. Results are cached one JSON per (trial config, seed), keyed by a hash of everything
that determines them, so adding finalists or seeds never recomputes finished trials.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from jepa import evaluate
from jepa.config import BENCHMARKS, ConfigError, ProfileCfg, RunConfig, VariantCfg
from jepa.data import eval_data
from jepa.io import read_json, write_json
from jepa.paths import calibration_run_dir
from jepa.stats import ci_separated, mean_ci


def apply_overrides(profile: ProfileCfg, overrides: dict[str, Any]) -> ProfileCfg:
    """The profile with dotted-key overrides applied; a wrong key fails with its path."""
    raw = profile.model_dump()
    for dotted, value in overrides.items():
        node, keys = raw, dotted.split(".")
        for k in keys[:-1]:
            if not isinstance(node.get(k), dict):
                raise ConfigError(f"calibration override {dotted!r}: {k!r} is not a section of the profile")
            node = node[k]
        if keys[-1] not in node:
            raise ConfigError(f"calibration override {dotted!r}: unknown key {keys[-1]!r}; known: {sorted(node)}")
        node[keys[-1]] = value
    try:
        return ProfileCfg.model_validate(raw)
    except Exception as err:  # pydantic's message already names the key path
        raise ConfigError(f"calibration overrides {overrides}: {err}") from None


def _digest(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha1(blob).hexdigest()[:12]


def generator_digest() -> str:
    """Digest of the synthetic generators' code: evaluation sets and trial rows made by other code are not reused."""
    from jepa.data import synthetic

    files = sorted(Path(synthetic.__file__).parent.glob("*.py"))
    return _digest(*[hashlib.sha1(f.read_bytes()).hexdigest() for f in files])


def eval_dir_for(profile: ProfileCfg, cache: Path) -> Path:
    """Evaluation sets at the trial's clip size, built once per (frames, size, set sizes, generator code)."""
    key = _digest(profile.model.frames, profile.model.img_size, profile.data.model_dump(), generator_digest())
    out = Path(cache) / f"eval-{profile.model.frames}x{profile.model.img_size}-{key}"
    if not (out / "manifest.json").exists():
        eval_data.build(profile, out)
    return out


def _floor(kind: str, profile: ProfileCfg, seed: int, eval_dir: Path, cache: Path) -> dict:
    """Random-init (per seed) or raw-pixel floor, cached by the architecture, data and probe protocol."""
    arch = profile.model.model_dump() if kind == "random_init" else [profile.model.patch, profile.model.tubelet]
    path = Path(cache) / "floors" / f"{kind}-{_digest(arch, str(eval_dir), profile.probe.model_dump(), seed)}.json"
    if path.exists():
        return read_json(path)
    if kind == "random_init":
        res = evaluate.evaluate_random_init(profile.model, eval_dir, profile.probe, seed)
    else:
        res = evaluate.evaluate_pixels(profile.model, eval_dir, profile.probe)
    write_json(path, res)
    return res


def step_gflop(profile: ProfileCfg, repeats: int = 3) -> float:
    """GFLOP of one baseline training step on a random batch, averaged over `repeats` mask draws, with the
    context loss at its final weight: a trial's cost (`train.step_flops`)."""
    import torch

    from jepa.train import step_flops

    cfg = RunConfig(profile_name="flops", regime="single", variant_name="baseline", seed=0, profile=profile,
                    variant=VariantCfg(description="V-JEPA loss only."))
    m, b = profile.model, profile.train.batch_size
    x = torch.randn(b, 3, m.frames, m.img_size, m.img_size, generator=torch.Generator().manual_seed(0))
    return step_flops(cfg, x, torch.zeros(b, dtype=torch.bool), range(repeats), 0.75) / 1e9


def _profile_identity(profile: ProfileCfg) -> dict:
    """What determines a trial's numbers: the resolved profile without its prose description."""
    return profile.model_dump(exclude={"description"})


def trial_key(profile: ProfileCfg, regime: str, seed: int) -> str:
    """What a trial's cached row is filed under: its resolved recipe, regime, seed and the code of the synthetic
    generators (its pretraining stream and evaluation clips), so a row made from other clips is never reused."""
    return _digest(_profile_identity(profile), regime, seed, generator_digest())


def run_trial(name: str, overrides: dict[str, Any], seed: int, base: ProfileCfg, results_dir: str | Path,
              work_dir: str | Path, regime: str = "single", progress: bool = True) -> dict:
    """Pretrain + probe one (trial, seed) with its floors; returns the cached row if it exists."""
    from jepa.train import pretrain

    profile = apply_overrides(base, overrides)
    key = trial_key(profile, regime, seed)
    out = Path(results_dir) / f"{name}-s{seed}-{key}.json"
    if out.exists():
        return read_json(out)
    work_dir = Path(work_dir)
    eval_dir = eval_dir_for(profile, work_dir)
    run_dir = calibration_run_dir(work_dir, f"{name}-{key}", seed)
    cfg = RunConfig(profile_name=f"calibration:{name}", regime=regime, variant_name="baseline", seed=seed,
                    profile=profile, variant=VariantCfg(description="V-JEPA loss only."))
    summary = pretrain(cfg, run_dir, progress=progress)
    t0 = time.perf_counter()
    pre = evaluate.evaluate_pretrained(run_dir / "encoder.pt", eval_dir, profile.probe)
    eval_seconds = time.perf_counter() - t0
    rand = _floor("random_init", profile, seed, eval_dir, work_dir)
    pix = _floor("pixels", profile, seed, eval_dir, work_dir)
    row = {"trial": name, "seed": seed, "regime": regime, "overrides": overrides, "key": key,
           "train_seconds": summary["seconds"], "ms_per_step": summary["ms_per_step"],
           "steps": profile.train.steps, "step_gflop": round(step_gflop(profile), 3), "eval_seconds": round(eval_seconds, 1),
           "final_loss": summary["final_loss"], "final_target_std": summary["final_target_std"]}
    for task in BENCHMARKS:
        row[f"{task}_pretrained"] = pre[task]["acc"]
        row[f"{task}_random_init"] = rand[task]["acc"]
        row[f"{task}_pixels"] = pix[task]["acc"]
    write_json(out, row)
    return row


def load_rows(results_dir: str | Path) -> pd.DataFrame:
    rows = [read_json(p) for p in sorted(Path(results_dir).glob("*.json"))]
    return pd.DataFrame(rows)


CEILINGS_PROFILE = "tiny"  # the profile whose clips benchmarks/analogues.py measured the ceilings on


def committed_ceilings(profile: ProfileCfg, profile_name: str = CEILINGS_PROFILE,
                       path: str | Path | None = None) -> dict[str, float]:
    """{analogue: supervised ceiling in pp} of the analogues shown usable on the committed generator with as many
    labelled clips as `profile`'s probes learn from (reports/analogues.csv; the highest such ceiling, so a share
    is never flattered); {} without the table or for a study based on another profile than the ceilings' (other
    clips)."""
    from jepa import paths

    path = Path(path) if path is not None else paths.analogues_table()
    if profile_name != CEILINGS_PROFILE or not path.exists():
        return {}
    df = pd.read_csv(path)
    df = df[(df.generator == "committed") & (df.usable.astype(str) == "True") & df.analogue.isin(BENCHMARKS)]
    df = df[df.n_train == df.analogue.map(profile.data.train_clips)]
    return {k: float(v) for k, v in df.groupby("analogue").ceiling_pp.max().items()}


# Overrides that change the evaluation clips, or the encoder whose supervised ceiling was measured (its width,
# depth, heads, positions, initialisation: a larger encoder has a higher ceiling of its own): no share for those
# trials. The predictor's settings do not change the ceiling, which trains the encoder alone.
_CHANGES_THE_CEILING = ("model.img_size", "model.frames", "model.patch", "model.tubelet", "data.", "model.embed_dim",
                        "model.depth", "model.heads", "model.mlp_ratio", "model.pos_embed", "model.init")


def headroom_share(pretrained_pp: float, floors_pp: tuple[float, float], ceiling_pp: float | None) -> float:
    """(pretrained - higher floor) / (ceiling - higher floor), in %: the part of what the architecture can learn
    with labels that pretraining captures (negative: below a floor; NaN without a usable ceiling)."""
    if ceiling_pp is None or not np.isfinite(ceiling_pp):
        return float("nan")
    floor = max(floors_pp)
    return 100 * (pretrained_pp - floor) / (ceiling_pp - floor) if ceiling_pp > floor else float("nan")


def summarize(rows: pd.DataFrame, ceilings: dict[str, float] | None = None,
              overrides: dict[str, dict] | None = None) -> pd.DataFrame:
    """One row per (trial, analogue): pretrained and floors in pp with 95% t-CIs over seeds, the paired gain
    over the random init, whether the CIs of pretrained and random init separate, the share of the learnable
    headroom (`ceilings`: committed_ceilings; skipped for trials whose `overrides` change the clips or the encoder) and the
    cost: training TFLOP per run (steps x the step's GFLOP) beside the measured wall minutes."""
    ceilings, overrides = ceilings or {}, overrides or {}
    out = []
    for trial, g in rows.groupby("trial", sort=False):
        comparable = not any(k.startswith(_CHANGES_THE_CEILING) for k in overrides.get(trial, {}))
        steps = int(g["steps"].iloc[0])
        tflop = steps * float(g["step_gflop"].iloc[0]) / 1000 if "step_gflop" in g else float("nan")
        for task in BENCHMARKS:
            pre, rnd, pix = (100 * g[f"{task}_{k}"].to_numpy() for k in ("pretrained", "random_init", "pixels"))
            (pre_m, pre_ci), (rnd_m, rnd_ci), (gain_m, gain_ci) = mean_ci(pre), mean_ci(rnd), mean_ci(pre - rnd)
            share = headroom_share(pre_m, (rnd_m, pix.mean()), ceilings.get(task) if comparable else None)
            out.append({"trial": trial, "analogue": task, "seeds": len(g),
                        "pretrained_pp": pre_m, "pretrained_ci95": pre_ci,
                        "random_init_pp": rnd_m, "random_init_ci95": rnd_ci,
                        "pixels_pp": pix.mean(), "gain_pp": gain_m, "gain_ci95": gain_ci,
                        "beats_random_init": ci_separated(pre_m, pre_ci, rnd_m, rnd_ci),
                        "ceiling_pp": ceilings.get(task, float("nan")) if comparable else float("nan"),
                        "share_pct": share, "train_tflop": tflop,
                        "minutes_per_run": (g["train_seconds"] + g["eval_seconds"]).mean() / 60,
                        "ms_per_step": g["ms_per_step"].mean(), "steps": steps})
    return pd.DataFrame(out)


MIN_ANALOGUES = 3   # the target: the baseline clears its random-init floor on at least 3 of the 4 analogues
COST_TIE = 0.10     # a recipe change must save more than this fraction of the training FLOPs to count as cheaper
RULE = (f"the cheapest trial (training TFLOP per run; within {COST_TIE:.0%} counts as a tie, broken by more analogues "
        "cleared, then the larger mean share of the headroom, then fewer changes to the recipe) whose baseline clears "
        f"the random-init floor with separated 95% CIs on at least {MIN_ANALOGUES} analogues over three seeds, and "
        "whose default, where it was regenerated on the trial, did so in both regimes")


def regeneration_failures(table: pd.DataFrame, min_analogues: int = MIN_ANALOGUES) -> dict[str, str]:
    """Trials set aside after the default was regenerated on them: trial -> why. The study trains one regime;
    a regenerated default trains both, and a trial whose baseline there clears its random-init floor (separated
    95% CIs, 10 floor seeds) on fewer than `min_analogues` analogues in either regime fails the target the study
    chooses for. `table`: rows of `regenerated.csv` (trial, regime, analogue, pretrained_pp, pretrained_ci95,
    random_init_pp, random_init_ci95, beats_random_init), copied from that regeneration's floors.csv."""
    out = {}
    for trial, g in table.groupby("trial", sort=False):
        short = []
        for regime, r in g.groupby("regime", sort=True):
            cleared = r.beats_random_init.astype(bool)
            if cleared.sum() < min_analogues:
                short.append(f"{regime} clears {cleared.sum()} of {len(r)} ("
                             + ", ".join(f"{m.analogue} {m.pretrained_pp:.1f} ± {m.pretrained_ci95:.1f} vs random "
                                         f"init {m.random_init_pp:.1f} ± {m.random_init_ci95:.1f}"
                                         for m in r[~cleared].itertuples()) + ")")
        if short:
            out[str(trial)] = "; ".join(short)
    return out


def choose(summary: pd.DataFrame, min_analogues: int = MIN_ANALOGUES, overrides: dict[str, dict] | None = None,
           tie: float = COST_TIE, set_aside: Iterable[str] = ()) -> str | None:
    """The cheapest trial whose pretrained encoder clears the random-init floor with separated 95% CIs on at
    least `min_analogues` analogues over at least 3 seeds; None when no trial does. Cheapest: training TFLOP
    per run where measured (wall minutes otherwise); trials within `tie` of the cheapest count as equally
    cheap, and among them the one that clears more analogues wins, then the one whose pretraining captures
    the larger mean share of the learnable headroom (over analogues with a usable ceiling), then the one
    with fewer `overrides` (the recipe closest to the committed one). Trials in `set_aside`
    (`regeneration_failures`) are not candidates."""
    agg = {"wins": ("beats_random_init", "sum"), "minutes": ("minutes_per_run", "first"), "seeds": ("seeds", "first")}
    if "train_tflop" in summary:
        agg["tflop"] = ("train_tflop", "first")
    wins = summary.groupby("trial").agg(**agg)
    ok = wins[(wins.wins >= min_analogues) & (wins.seeds >= 3) & ~wins.index.isin(list(set_aside))].copy()
    if ok.empty:
        return None
    ok["cost"] = ok.tflop if "tflop" in ok and ok.tflop.notna().all() else ok.minutes
    ok = ok[ok.cost <= (1 + tie) * ok.cost.min()]
    ok["changes"] = [len((overrides or {}).get(t, {})) for t in ok.index]
    shares = summary.groupby("trial").share_pct.mean() if "share_pct" in summary else pd.Series(dtype=float)
    ok["share"] = shares.reindex(ok.index).fillna(-np.inf).round(1)
    return str(ok.sort_values(["wins", "share", "changes", "cost"], ascending=[False, False, True, True]).index[0])


def best_share_per_cost(summary: pd.DataFrame) -> pd.DataFrame:
    """Per analogue with a ceiling: the trial whose share of the headroom per training TFLOP is largest."""
    d = summary[np.isfinite(summary.share_pct) & np.isfinite(summary.train_tflop)].copy()
    if d.empty:
        return d
    d["share_per_tflop"] = d.share_pct / d.train_tflop
    return d.loc[d.groupby("analogue").share_per_tflop.idxmax(),
                 ["analogue", "trial", "seeds", "share_pct", "train_tflop", "share_per_tflop"]]


QUARTER = 25.0   # the target share of the learnable headroom, in %


def headroom_reached(summary: pd.DataFrame, share: float = QUARTER, min_seeds: int = 3) -> pd.Series:
    """Per trial run on at least `min_seeds` seeds: how many analogues' baselines capture at least `share` %
    of the learnable headroom (the target is two), most first, then by the larger mean share."""
    d = summary[(summary.seeds >= min_seeds) & np.isfinite(summary.share_pct)]
    g = d.groupby("trial", sort=False).share_pct
    table = pd.DataFrame({"n": g.apply(lambda s: int((s >= share).sum())), "mean": g.mean()})
    return table.sort_values(["n", "mean"], ascending=False, kind="stable").n


def adoption_lines(summary: pd.DataFrame, chosen: str, adopted: str | None) -> list[str]:
    """What adopting the chosen trial would change: its share of the headroom and paired gain per analogue
    beside the adopted recipe's, from the same table."""
    if not adopted or adopted == chosen:
        return []
    by = summary.set_index(["trial", "analogue"])
    seeds = {t: int(by.loc[t].seeds.max()) for t in (adopted, chosen)}
    lines = ["", f"| analogue | share `{adopted}` (adopted, {seeds[adopted]} seeds) | share `{chosen}` (chosen, "
                 f"{seeds[chosen]} seeds) | gain `{adopted}` pp | gain `{chosen}` pp |",
             "|---|---|---|---|---|"]
    for task in BENCHMARKS:
        a, c = by.loc[(adopted, task)], by.loc[(chosen, task)]
        lines.append(f"| {task} | {a.share_pct:.0f} % | {c.share_pct:.0f} % | {_pm(a.gain_pp, a.gain_ci95)} | "
                     f"{_pm(c.gain_pp, c.gain_ci95)} |")
    return lines


def planned(cal) -> list[tuple[str, int]]:
    """(trial, seed) pairs of the study: every trial on the screen seeds, finalists on the final seeds."""
    pairs = [(t, s) for t in cal.trials for s in cal.screen_seeds]
    pairs += [(t, s) for t in cal.finalists for s in cal.final_seeds if (t, s) not in pairs]
    return pairs


def study_base(params) -> ProfileCfg:
    """The study's starting point: the base profile with `calibration.base_overrides` applied."""
    cal = params.calibration
    return apply_overrides(params.profiles[cal.base], cal.base_overrides)


def run_study(params, results_dir: str | Path, work_dir: str | Path, progress: bool = True) -> pd.DataFrame:
    """Run (or read from the cache) every planned (trial, seed); returns the raw rows."""
    from tqdm.auto import tqdm

    cal = params.calibration
    base = study_base(params)
    todo = planned(cal)
    for trial, seed in tqdm(todo, desc="calibration", disable=not progress):
        row = run_trial(trial, cal.trials[trial].overrides, seed, base, results_dir, work_dir, cal.regime,
                        progress=False)
        if progress:
            tqdm.write(f"{trial} s{seed}: " + ", ".join(
                f"{t} {100 * row[f'{t}_pretrained']:.1f} (init {100 * row[f'{t}_random_init']:.1f})"
                for t in BENCHMARKS) + f" | {row['train_seconds'] / 60:.1f} min")
    rows = load_rows(results_dir)
    keep = {(t, s) for t, s in todo}
    rows = rows[[(t, s) in keep for t, s in zip(rows.trial, rows.seed)]]
    order = {t: i for i, t in enumerate(cal.trials)}  # params.yaml order, then seed
    return rows.sort_values(["trial", "seed"], key=lambda c: c.map(order) if c.name == "trial" else c,
                            ignore_index=True)


def _pm(mean: float, ci: float) -> str:
    return f"{mean:.1f}" if not np.isfinite(ci) else f"{mean:.1f} ± {ci:.1f}"


def findings(summary: pd.DataFrame) -> list[str]:
    """Plain-language bullets computed from the table: the best paired gain per analogue and how often
    pretraining ends below its own initialisation."""
    out = []
    for task, g in summary.groupby("analogue", sort=False):
        best = g.loc[g.gain_pp.idxmax()]
        below = int((g.gain_pp < 0).sum())
        out.append(f"- {task}: largest paired gain {best.gain_pp:+.1f} pp (`{best.trial}`, {best.seeds} seed"
                   f"{'s' if best.seeds > 1 else ''}); {below} of {len(g)} trials end below their random init.")
    return out


def report(summary: pd.DataFrame, params, chosen: str | None, set_aside: dict[str, str] | None = None) -> str:
    """reports/calibration/calibration.md: the trials, their numbers beside both floors, the trials set aside after
    a regeneration of the default (`regeneration_failures`) and the choice."""
    cal = params.calibration
    tasks = list(dict.fromkeys(summary.analogue))
    lines = ["# Calibration study", "",
             f"Base profile `{cal.base}`"
             + (f" with {', '.join(f'`{k}={v}`' for k, v in cal.base_overrides.items())} (the recipe before the "
                "study)" if cal.base_overrides else "")
             + f", regime `{cal.regime}`, baseline variant. Each cell: "
             "pretrained accuracy / random-init floor (paired gain) in %, mean ± 95% t-CI over pretraining seeds "
             "(no CI with one seed). The random-init floor is the same architecture at the same initialisation, "
             "probed the same way; raw-pixel floors: "
             + ", ".join(f"{t} {summary[summary.analogue == t].pixels_pp.iloc[0]:.1f}" for t in tasks)
             + ". **learns on** = analogues where the CIs of pretrained and random init do not overlap (needs ≥ 2 "
             "seeds). Wall minutes per run (pretraining + probing) were measured on a 2-core machine that was "
             "sometimes shared with other work; ms/step × steps is the comparable cost.", "",
             "| trial | overrides | seeds | steps | ms/step | min/run | " + " | ".join(tasks) + " | learns on |",
             "|---" * (7 + len(tasks)) + "|"]
    for trial, g in summary.groupby("trial", sort=False):
        g = g.set_index("analogue")
        ov = ", ".join(f"`{k}={v}`" for k, v in cal.trials[trial].overrides.items()) if trial in cal.trials else "?"
        cells = [f"{_pm(g.pretrained_pp[t], g.pretrained_ci95[t])} / {_pm(g.random_init_pp[t], g.random_init_ci95[t])}"
                 f" ({_pm(g.gain_pp[t], g.gain_ci95[t])})"
                 + (f", share {g.share_pct[t]:.0f} %" if "share_pct" in g and np.isfinite(g.share_pct[t]) else "")
                 for t in tasks]
        wins = ", ".join(t for t in tasks if g.beats_random_init[t]) or "none"
        first = g.iloc[0]
        lines.append(f"| {trial} | {ov or '—'} | {first.seeds} | {first.steps} | {first.ms_per_step:.0f} | "
                     f"{first.minutes_per_run:.1f} | " + " | ".join(cells) + f" | {wins} |")
    if "share_pct" in summary and np.isfinite(summary.share_pct).any():
        ceil = summary.dropna(subset=["ceiling_pp"]).groupby("analogue", sort=False).ceiling_pp.first()
        lines += ["", "**share** = (pretrained - higher floor) / (supervised ceiling - higher floor), the part of what "
                  "the architecture learns with labels that pretraining captures; ceilings from "
                  "[analogues.csv](../analogues.csv): " + ", ".join(f"{t} {c:.1f}" for t, c in ceil.items())
                  + " (analogues without a usable ceiling, and trials that change the clips or the encoder, whose own ceiling is "
                  "unmeasured, get no share). Largest share per training TFLOP:", ""]
        lines += [f"- {r.analogue}: `{r.trial}` ({r.seeds} seed{'s' if r.seeds > 1 else ''}), share {r.share_pct:.0f} % "
                  f"for {r.train_tflop:.1f} TFLOP" for r in best_share_per_cost(summary).itertuples()]
    reached = headroom_reached(summary)
    if len(reached):
        best = reached.index[0]
        lines += ["", f"Analogues on which the baseline captures at least a quarter of the headroom (over 3 seeds; the "
                  f"target is 2): at most {reached.iloc[0]}, "
                  + ", ".join(f"`{t}` {n}" for t, n in reached.items()) + f" (best first; `{best}`: "
                  + ", ".join(f"{r.analogue} {r.share_pct:.0f} %" for r in summary[summary.trial == best].itertuples()
                              if np.isfinite(r.share_pct)) + ")."]
    lines += ["", "What the table shows:", "", *findings(summary), "",
              "Trial notes:", ""] + [f"- `{k}`: {t.note}" for k, t in cal.trials.items()] + [""]
    for trial, why in (set_aside or {}).items():
        if trial not in cal.trials:
            continue
        lines += [f"**Set aside after regenerating the default on it:** `{trial}`: {why} ([regenerated.csv]"
                  "(regenerated.csv)).", ""]
    if chosen:
        lines.append(f"**Chosen:** `{chosen}`, {RULE}.")
        if cal.adopted == chosen:
            lines.append(f" The `{cal.base}` profile carries its overrides (`calibration.adopted`), so every "
                         "variant of the default is trained with them.")
        else:
            lines.append(f" **Not adopted:** `calibration.adopted` is `{cal.adopted}`, which the `{cal.base}` profile "
                         "carries; adopting the chosen trial (both set to its overrides) changes every run of the "
                         "default and of the full sweep, so it lands with their next regeneration. The two side by "
                         "side:")
            lines += adoption_lines(summary, chosen, cal.adopted)
    else:
        lines.append(f"**No trial** clears the random-init floor with separated CIs on {MIN_ANALOGUES} analogues over "
                     "three seeds.")
    lines += ["", "![calibration](calibration.png)", ""]
    return "\n".join(lines)
