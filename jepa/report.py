"""Assemble reports/: claims table, floors table, figures and REPORT.md from the stage metrics."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from jepa import claims as C
from jepa import figures, paths, sweep
from jepa.config import BENCHMARKS, Params
from jepa.io import write_text


def _curves(runs: dict[str, dict[str, list[int]]]) -> pd.DataFrame:
    frames = []
    for regime, variants in runs.items():
        for variant, seeds in variants.items():
            for seed in seeds:
                f = paths.live_dir(regime, variant, seed) / "plots" / "metrics" / "train" / "loss.tsv"
                if f.exists():
                    frames.append(pd.read_csv(f, sep="\t").assign(regime=regime, variant=variant, seed=seed))
    return pd.concat(frames) if frames else pd.DataFrame(columns=["step", "loss", "regime", "variant", "seed"])


def floor_seeds(params: Params) -> list[int]:
    """The random-init floor's encoder seeds: dvc.yaml's `floor_seeds` (the `floors` stages), else run.seeds."""
    import yaml

    from jepa.errors import ConfigError

    dvc_yaml = paths.root() / "dvc.yaml"
    found = [v["floor_seeds"] for v in (yaml.safe_load(dvc_yaml.read_text()) or {}).get("vars", [])
             if isinstance(v, dict) and "floor_seeds" in v]
    if not found:
        return list(params.run.seeds)
    seeds = found[-1]
    if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ConfigError(f"{dvc_yaml}: vars.floor_seeds must be a list of integers, got {seeds!r}")
    missing = sorted(set(params.run.seeds) - set(seeds))
    if missing:
        raise ConfigError(f"{dvc_yaml}: vars.floor_seeds must include every seed of run.seeds; missing {missing}")
    return seeds


def build(params: Params, profile: str | None = None) -> dict:
    profile = profile or params.profile
    runset = sweep.collect(params)
    runs, seeds = runset.runs, params.run.seeds
    reports = paths.reports_dir()
    metrics = C.load_probe_metrics(runs)
    floor_metrics = C.load_floor_metrics(floor_seeds(params))
    paper = C.paper_table(paths.paper_results())
    claims = C.evaluate_claims(metrics, paper, profile)
    count = C.loss_count(claims)
    structural = C.structural_claims(params.profiles["paper"].model.embed_dim, profile)
    floors = C.floors_table(metrics, floor_metrics, profile)
    claims = C.attach_sources(C.flag_floors(claims, floors), runset.source)
    training = _training_table(runs)

    write_text(reports / "claims.csv", claims.to_csv(index=False))
    write_text(reports / "floors.csv", floors.to_csv(index=False))
    departures = [f"**Recipe departure.** {d}" for d in recipe_departures(params.profiles[profile])]
    departures += [f"**Instrument.** {n}" for n in instrument_notes()]
    departures += [""] if departures else []
    write_text(reports / "claims.md", _claims_markdown(claims, floors, profile, seeds, count, structural,
                                                       departures))
    write_text(reports / "training.csv", training.to_csv(index=False))
    write_text(reports / "REPORT.md", _report_markdown(claims, floors, training, profile, runset, seeds,
                                                       departures, _research_questions(),
                                                       C.released_ablations(metrics, floor_metrics)))
    evaluated = claims[claims.n_seeds > 0]
    figs = {"claims": figures.claim_deltas(evaluated),
            "floors": figures.floors(floors, metrics, floor_metrics)}
    figs |= _effect_figures(metrics, floor_metrics, paper, profile)
    curves = _curves(runs)
    figs["curves"] = (figures.training_curves(curves) if len(curves) else
                      figures.not_shown("Pretraining loss", "no dvclive loss curve under reports/live"))
    for key, fig in figs.items():  # every figure the claims stage declares, whatever `run` lists
        figures.save(fig, paths.figures_dir() / f"{key}")
    summary = {"profile": profile, "verdicts": claims.verdict.value_counts().to_dict(),
               "analogues_beating_random_init": floors[floors.beats_random_init][["regime", "analogue"]]
               .apply(tuple, axis=1).map(lambda t: "/".join(t)).tolist()}
    write_text(reports / "summary.json", json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return {"claims": claims, "floors": floors, "training": training, "figures": figs, "summary": summary}


def metrics_table(kind: str) -> pd.DataFrame:
    """A screen-wide view of one stage kind's metrics files (what `dvc metrics show` spreads over 40 columns):
    pretrain -> one row per run with its cost and collapse monitor; probe / floors -> top-1 accuracy in % per
    analogue. Rows are named by file (run id, or the floor and its seed)."""
    if kind not in paths.METRIC_KINDS:
        raise ValueError(f"metrics kind {kind!r}: expected one of {', '.join(paths.METRIC_KINDS)}")
    files = sorted(paths.metrics_dir(kind).glob("*.json"))
    if not files:
        raise FileNotFoundError(f"{paths.metrics_dir(kind)}: no metrics files yet (run `dvc repro`)")
    rows = []
    for f in files:
        m = json.loads(f.read_text())
        if kind == "pretrain":
            ms = m["ms_per_step"]  # None for a run that trains no step (export: init)
            rows.append({"run": f.stem, "steps": m["steps"], "seconds": round(m["seconds"], 1),
                         "ms_per_step": None if ms is None else round(ms, 1), "final_loss": round(m["final_loss"], 4),
                         "target_std": round(m["final_target_std"], 4), "collapsed": m["collapsed"]})
        else:
            rows.append({"run": f.stem} | {task: round(100 * m[task]["acc"], 1) for task in BENCHMARKS if task in m})
    return pd.DataFrame(rows)


# figure key -> one-line caption; REPORT.md lists them in this order
EFFECT_FIGURES = {
    "tradeoff": "Mixed regime, per variant: change on ImageNet-100 (x) against SSv2 (y) vs the mixed baseline, in pp; "
                "paper points beside ours (95% CI over seeds) where the variant was run.",
    "delta_heatmap": "Every variant's change vs its regime's baseline on every benchmark (pp), paper beside "
                     "reproduced; grey cells are not in the paper's table or not run here.",
    "synthetic_motion": "Synthetic motion discrimination (the paper's Table 4, UCF-101 regime): absolute accuracy, "
                        "paper beside reproduced, with our random-init and raw-pixel floors and chance (12.5%).",
}


def _effect_figures(metrics: pd.DataFrame, floor_metrics: pd.DataFrame, paper: pd.DataFrame,
                    profile: str) -> dict:
    """Per-variant paper-vs-reproduced figures: they show the variants the claims table only counts."""
    deltas = C.variant_deltas(metrics, paper, profile)
    return {"tradeoff": figures.tradeoff_scatter(C.tradeoff_points(deltas, "mixed"), profile),
            "delta_heatmap": figures.delta_heatmap(deltas, profile),
            "synthetic_motion": figures.accuracy_bars(C.benchmark_accuracy(metrics, paper, "single"),
                                                      C.floor_summary(floor_metrics, "synthetic_motion"), profile)}


def _captioned_figures(captions: dict[str, str]) -> list[str]:
    """Markdown lines: each figure followed by its one-line caption."""
    return [line for key, caption in captions.items()
            for line in (f"![{key}](figures/{key}.png)", "", f"*{caption}*", "")]


def _training_table(runs: dict[str, dict[str, list[int]]]) -> pd.DataFrame:
    """One row per pretraining run: wall time, final loss and the collapse monitor (std of target features)."""
    rows = []
    for regime, variants in runs.items():
        for variant, seeds in variants.items():
            for seed in seeds:
                path = paths.pretrain_metrics(regime, variant, seed)
                if not path.exists():
                    raise FileNotFoundError(f"{path}: pretraining summary missing for {regime}/{variant}/seed {seed}")
                s = json.loads(path.read_text())
                rows.append({"regime": regime, "variant": variant, "seed": seed, "seconds": s["seconds"],
                             "ms_per_step": s["ms_per_step"], "final_loss": s["final_loss"],
                             "final_target_std": s["final_target_std"], "collapsed": s["collapsed"]})
    return pd.DataFrame(rows)


def _claims_markdown(claims: pd.DataFrame, floors: pd.DataFrame, profile: str, seeds: list[int], count: dict,
                     structural: pd.DataFrame, departures: list[str] = ()) -> str:
    """claims.md; `departures` are ready markdown lines (recipe departures, then a blank line)."""
    cols = ["paper_claim", "claim_id", "text", "variant", "benchmark", "paper_value_pp", "reproduced_mean_pp",
            "ci95_pp", "n_seeds", "verdict", "baseline_clears_floor", "runs_from", "profile"]
    fcols = ["regime", "analogue", "benchmark", "pretrained_pp", "pretrained_ci95", "random_init_pp",
             "random_init_ci95", "pixels_pp", "pixels_ci95", "beats_random_init"]
    return "\n".join([
        f"# Claims (profile `{profile}`, seeds {seeds})",
        "",
        "Effects are paired differences (variant - baseline, same regime and seed) in percentage points of",
        "probe top-1 accuracy; CI = 95% Student-t over seeds. Verdict: same sign as the paper and CI excluding",
        "0 -> supported; CI including 0 -> inconclusive; opposite sign with CI excluding 0 -> contradicted.",
        "On the synthetic default the benchmarks are analogues (appearance ~ ImageNet-100, motion ~ Diving-48,",
        "temporal ~ SSv2): these results test the pipeline and the direction of effects, not the paper's numbers.",
        "",
        *departures,
        C.to_markdown(claims[cols]),
        "",
        "`runs_from`: `dvc repro` (variants listed in `run` of params.yaml, retrained by the default) or "
        "`committed sweep` (runs of `scripts/full-sweep` committed with their dvc.lock entries and still current: "
        "same params and code as today's baseline). Rows marked `not run` have neither; `scripts/full-sweep` "
        "trains them.",
        "",
        f"Claim 10 (methods losing more than 5 pp on ImageNet-100, mixed): paper text {count['paper_text']}; "
        f"released per-run table {count['paper']}; reproduced {count['reproduced']}.",
        "",
        C.to_markdown(structural),
        "",
        "## Baselines beside their floors",
        "",
        "A pretraining effect exists only where the pretrained encoder beats the random-init floor with",
        "separated 95% CIs (`beats_random_init`).",
        "",
        C.to_markdown(floors[fcols]),
        "",
        "![claims](figures/claims.png)",
        "![floors](figures/floors.png)",
        "",
    ])


def recipe_departures(profile_cfg) -> list[str]:
    """Where this profile's recipe departs from the paper's in a way that changes every variant."""
    t = profile_cfg.train
    out = []
    if t.vc_std or t.vc_cov:
        out.append(f"Every variant, the baseline included, is trained with a variance-covariance regulariser on the "
                   f"context tokens (variance hinge {t.vc_std:g}, covariance {t.vc_cov:g}; `train.vc_std`, "
                   "`train.vc_cov`), which the paper's recipe does not have. The calibration study adopted it "
                   "because without it no recipe beat its random-init floor on this profile; so each effect here is "
                   "an objective's effect on top of V-JEPA + this regulariser.")
    return out


def instrument_notes() -> list[str]:
    """One line per analogue that is not a usable instrument at the pipeline's label budget (reports/analogues.csv,
    column `instrument`, written by benchmarks/analogues.py): its rows stand, but with no ceiling to read them by."""
    path = paths.analogues_table()
    if not path.exists():
        return []
    table = pd.read_csv(path)
    if "instrument" not in table:
        return []
    status = table[table.instrument.fillna("").str.len() > 0].groupby("analogue", sort=False).first()
    return [f"The {task} analogue (for {row.benchmark}, {int(row.n_train):,} labelled clips) is not a usable "
            f"instrument: {row.instrument.split(' (')[0]} ([analogues.md](analogues.md)). Its rows compare variants "
            "on what the frozen probe reads, beside the floors, without a supervised ceiling above them."
            for task, row in status.iterrows() if row.instrument != "usable"]


RESEARCH_QUESTIONS = ("rq1", "rq2")


def environment_line() -> str:
    """REPORT.md line naming the exact environment: the sha256 of requirements.lock, so a rerun can check it has
    the same package versions (`sha256sum requirements.lock`)."""
    lock = paths.requirements_lock()
    if not lock.exists():
        return "Environment: no `requirements.lock` in this workspace, so the package versions are not recorded."
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    return (f"Environment: `requirements.lock` sha256 `{digest}` (exact package versions, installed by "
            "`scripts/setup-env`).")


def _research_questions() -> list[str]:
    """REPORT.md lines: each research question's answer table (written by the rq stages), linked to its page."""
    lines = []
    for rq in RESEARCH_QUESTIONS:
        path = paths.rq_table(rq)
        if path.exists():
            table = pd.read_csv(path)
            lines += [f"**{rq.upper()}** ([{rq}.md]({rq}.md), where the floors and every encoder are):", "",
                      C.to_markdown(table) if len(table) else "_nothing compared_", ""]
    return lines


def _coverage_lines(runset: sweep.RunSet) -> list[str]:
    """Which variants the report's rows come from: trained by `dvc repro` (`run`) or by the committed full sweep,
    and any committed run left out because its recipe or code is no longer today's."""
    lines = []
    for origin in (sweep.REPRO, sweep.SWEEP):
        for regime in ("single", "mixed"):
            names = [v for v in runset.runs[regime] if runset.source[(regime, v)] == origin]
            if names:
                lines.append(f"- {regime}, from {origin}: {', '.join(names)}")
    if runset.stale:
        lines.append(f"- left out as stale ({len(runset.stale)} committed runs): "
                     + "; ".join(f"{r}/{v}/s{s}: {why}" for (r, v, s), why in list(runset.stale.items())[:5])
                     + (" ..." if len(runset.stale) > 5 else ""))
    return lines


def _verdict_line(claims: pd.DataFrame) -> str:
    """Verdict counts, the `not run` rows counted together rather than one entry per missing variant."""
    if not len(claims):
        return "no claims evaluated"
    verdicts = claims.verdict.where(~claims.verdict.str.startswith("not run"), "not run")
    counts = verdicts.value_counts()
    below = int(((claims.verdict == "inconclusive") & ~claims.baseline_clears_floor.astype(bool)).sum())
    parts = [f"{k}: {int(counts[k])}" for k in ("supported", "contradicted", "inconclusive", "no paper value",
                                                  "not run") if k in counts]
    return f"{len(claims)} rows; " + ", ".join(parts) + (
        f" ({below} of the inconclusive rows on an analogue where the baseline does not clear its floor)"
        if below else "") + "."


def _discussion_lines(claims: pd.DataFrame, ablations: pd.DataFrame | None) -> list[str]:
    """What holds at this scale, what does not and why, from the claims table; then the released-code
    ablations beside the variants they shadow."""
    table = C.discussion_table(claims)
    lines = ["## Which of the paper's effects hold at this scale", ""]
    if not len(table):
        return lines + ["_no claim row has runs yet_", ""]
    for key, meaning in C.READINGS.items():
        rows = table[table.reading == key]
        if not len(rows):
            continue
        lines += [f"**{key}** ({len(rows)} rows): {meaning}.", ""]
        if key in ("holds", "opposite"):
            sizes = (rows.reproduced_mean_pp / rows.paper_value_pp).abs()
            lines += [f"Reproduced effect as a fraction of the paper's: median {sizes.median():.2f} "
                      f"(range {sizes.min():.2f}-{sizes.max():.2f}).", ""]
            below = rows[~rows.baseline_clears_floor.astype(bool)]
            if len(below):
                lines += [f"{len(below)} of these rows ({', '.join(sorted(set(below.benchmark)))}) "
                          f"{'is' if len(below) == 1 else 'are'} on an analogue "
                          "where the baseline does not clear its random-init floor: the sign of the difference is "
                          "measured, but the analogue does not show that pretraining learned what it tests.", ""]
        lines += [C.to_markdown(rows.drop(columns=["reading"])), ""]
    lines += ["## Released-code ablations", "",
              "Each `*_as_released` variant is what the released code trains or exports (EMA-off variants: the "
              "never-updated init copy; LD: its loss under no-grad), beside the variant as the paper describes it; "
              "effects vs the same baseline, paired over seeds (pp, 95% CI).", ""]
    if ablations is None or not len(ablations):
        return lines + ["_no `*_as_released` variant has runs yet_", ""]
    if "equals_random_init" in ablations:
        same = ablations[ablations.equals_random_init]
        if len(same):
            lines += [f"{len(same)} of {len(ablations)} rows (" + ", ".join(sorted(set(same.variant + "_as_released")))
                      + ") equal the random-init floor of the same seed on every seed (`equals_random_init`): "
                      "what these variants export is the untrained encoder, whatever they were trained with, so "
                      "their rows measure the initialisation, not the objective.", ""]
    return lines + [C.to_markdown(ablations), ""]


def _report_markdown(claims: pd.DataFrame, floors: pd.DataFrame, training: pd.DataFrame, profile: str,
                     runset: sweep.RunSet, seeds: list[int], departures: list[str] = (),
                     research_questions: list[str] = (), ablations: pd.DataFrame | None = None) -> str:
    beat = floors[floors.beats_random_init]
    stages = ["01_data", "05_claims"] + [f"04_fewshot-{rq}" for rq in RESEARCH_QUESTIONS] + [
        f"{kind}-{regime}-{v}-s{s}" for kind in ("pretrain", "probe")
        for regime, vs in runset.runs.items() for v, v_seeds in vs.items() for s in v_seeds]
    notebooks = [paths.executed_notebook(n).relative_to(paths.reports_dir()).as_posix() for n in stages]
    return "\n".join([
        "# Report",
        "",
        f"Profile `{profile}`; seeds {seeds}.",
        "",
        *_coverage_lines(runset),
        "",
        *departures,
        "## Verdicts",
        "",
        _verdict_line(claims),
        "",
        "See [claims.md](claims.md) for every claim with its paper value, reproduced mean and 95% CI.",
        "",
        *_discussion_lines(claims, ablations),
        "## Does pretraining beat its floors?",
        "",
        (f"{len(beat)} of {len(floors)} (regime, analogue) baselines beat the random-init floor with separated "
         f"95% CIs: {', '.join(beat.regime + '/' + beat.analogue) or 'none'}."),
        "A claim on an analogue where the baseline does not clear its floor compares noise: its verdict can only "
        "be inconclusive by construction or accidental; treat those rows accordingly.",
        "What was tried to make the tiny profile learn (recipe, masks, EMA, length), with floors and 95% CIs: "
        "[calibration study](calibration/calibration.md).",
        "",
        "![floors](figures/floors.png)",
        "![claims](figures/claims.png)",
        "![curves](figures/curves.png)",
        "",
        "## Per variant: paper beside reproduced",
        "",
        *_captioned_figures(EFFECT_FIGURES),
        "## Research questions (few-shot, 5-way, paired over the same episodes)",
        "",
        *(research_questions or ["_the rq stages have not written their answers yet_", ""]),
        "## Training health",
        "",
        (f"{len(training)} runs, {training.seconds.sum() / 60:.1f} min of pretraining in total "
         f"({training.ms_per_step.median():.0f} ms/step median). Representation collapse (std of layer-normed "
         f"target features below the profile's `collapse_std`): "
         + (", ".join(training[training.collapsed].apply(lambda r: f"{r.regime}/{r.variant}/s{r.seed}", axis=1))
            or "none") + ". Per-run numbers: [training.csv](training.csv)."),
        "",
        "## What these numbers are",
        "",
        "The synthetic default tests the pipeline and the direction of effects, not the paper's absolute",
        "numbers on real data (ViT-B on UCF-101 / SSv2 / ImageNet-100 with 4 GPUs; `profile: paper`).",
        "Coverage: the variants listed at the top, each from `dvc repro` (the default's core: the claims' "
        "headline variants and both research questions') or from the committed full sweep (`scripts/full-sweep`, "
        "every variant of both regimes, resumable in parts); a claim row whose variant has neither says "
        "`not run`. Measured wall times: [cost.md](cost.md).",
        "",
        environment_line(),
        "",
        "## Executed notebooks",
        "",
        *[f"- [{n}]({n})" for n in notebooks],
        "",
    ])
