"""Claim registry, paper values, reproduced effects with 95% CIs over seeds, and verdicts.

A claim's effect is a paired difference over seeds: variant minus baseline of
the same regime and seed, on one benchmark, in percentage points. Verdict:
same sign as the paper and CI excludes 0 -> supported; CI includes 0 ->
inconclusive; opposite sign with CI excluding 0 -> contradicted (docs/method.md, "Claims and the
verdict rule"). The intervals come from jepa.stats.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from jepa import paths
from jepa.stats import ci_separated, mean_ci
from jepa.config import PAPER_BENCHMARK

ANALOGUE = {v: k for k, v in PAPER_BENCHMARK.items()}


@dataclass(frozen=True)
class Claim:
    """One checkable effect: mean over `variants` minus `reference`, same regime and seed, on one benchmark.

    `paper_claim` is the number of the paper's claim (1-17, as docs/method.md lists them) (0: beyond them, e.g. the
    abstract's headline or the released-code ablation); a range claim has one row per variant.
    `paper_variants`: the released table's rows that measured this claim's variants (default the
    variants themselves); an `*_as_released` variant was measured under its plain name.
    """

    claim_id: str
    paper_claim: int
    text: str
    regime: str
    variants: tuple[str, ...]
    benchmark: str          # paper benchmark name (diving48, imagenet100, ssv2, synthetic_motion)
    reference: str = "baseline"
    paper_variants: tuple[str, ...] = ()

    @property
    def variant(self) -> str:
        return "+".join(self.variants)


def _rows(paper_claim: int, text: str, regime: str, benchmark: str, variants: list[str], tag: str) -> list[Claim]:
    return [Claim(f"{tag}_{v}" if len(variants) > 1 else tag, paper_claim, text, regime, (v,), benchmark)
            for v in variants]


def _as_released_rows(rows: list[Claim]) -> list[Claim]:
    """The same claims scored on what the released code evaluated for EMA-off variants: its target
    encoder, the never-updated init copy (`*_as_released` variants); the paper's numbers are these."""
    return [Claim(f"{c.claim_id}_as_released", c.paper_claim, c.text + " As released: the exported encoder is "
                  "the EMA-off init copy.", c.regime, tuple(f"{v}_as_released" for v in c.variants), c.benchmark,
                  c.reference, paper_variants=c.variants) for c in rows]


KINEMATIC = ["kinematic", "kinematic_0_1", "kinematic_accel", "kinematic_split", "kinematic_huber", "kinematic_anneal"]
# mixed-regime methods of the paper's ImageNet-100 count (claim 10) and the temporal-objective group (claim 17)
MIXED_METHODS = ["mgm", "amg", "hw", "delta", "combo", "fwm", "ld", "fwm_ld", "hw_ld", "fwm_hw_ld", "spectral", "ltc",
                 "ac", "ac_hw", "fac"]
TEMPORAL_OBJECTIVES = ("delta", "ld", "spectral", "ltc", "ac", "fwm_ld")

KINEMATIC_D48 = _rows(4, "Kinematic variants degrade Diving-48 accuracy by 2.5-2.9 pp (UCF-101 pretraining).",
                     "single", "diving48", KINEMATIC, "kinematic_d48")
KINEMATIC_IN100 = _rows(5, "Kinematic variants improve ImageNet-100 accuracy by 1.5-1.7 pp (UCF-101 pretraining).",
                        "single", "imagenet100", ["kinematic", "kinematic_0_1", "kinematic_accel", "kinematic_split"],
                        "kinematic_in100")
KINEMATIC_SYNMOTION = _rows(15, "Kinematic regularization gains +40-45 pp on Synthetic Motion Discrimination "
                                "(UCF-101).", "single", "synthetic_motion", ["kinematic", "kinematic_0_1"],
                            "kinematic_synmotion")

CLAIMS: list[Claim] = [
    *_rows(1, "Motion-Guided Masking improves Diving-48 accuracy by 0.30 pp (UCF-101 pretraining).",
           "single", "diving48", ["mgm"], "mgm_single_d48"),
    *_rows(2, "Motion-Guided Masking improves ImageNet-100 accuracy by 0.14 pp (UCF-101 pretraining).",
           "single", "imagenet100", ["mgm"], "mgm_single_in100"),
    *_rows(3, "Motion-Guided Masking improves SSv2 accuracy by 1.38 pp (UCF-101 pretraining).",
           "single", "ssv2", ["mgm"], "mgm_single_ssv2"),
    *KINEMATIC_D48,
    *_as_released_rows(KINEMATIC_D48),
    *KINEMATIC_IN100,
    *_as_released_rows(KINEMATIC_IN100),
    *_rows(6, "FWM-HW-LD gains +5.92 pp on ImageNet-100 (mixed pretraining).", "mixed", "imagenet100",
           ["fwm_hw_ld"], "fwm_hw_ld_in100"),
    *_rows(7, "FWM-HW-LD gains +3.21 pp on SSv2 (mixed pretraining).", "mixed", "ssv2", ["fwm_hw_ld"],
           "fwm_hw_ld_ssv2"),
    *_rows(8, "FWM-HW-LD changes Diving-48 by -0.30 pp (mixed pretraining).", "mixed", "diving48", ["fwm_hw_ld"],
           "fwm_hw_ld_d48"),
    *_rows(9, "LD-JEPA gains +5.02 pp on SSv2 (mixed pretraining).", "mixed", "ssv2", ["ld"], "ld_ssv2"),
    *_rows(10, "10 of 14 methods lose more than 5 pp on ImageNet-100 (mixed): per-method rows; the count is in "
               "claims_count.", "mixed", "imagenet100", MIXED_METHODS, "in100_loss"),
    *_rows(11, "AC-JEPA and FAC-JEPA lose 13-16 pp on ImageNet-100 (mixed).", "mixed", "imagenet100", ["ac", "fac"],
           "ac_fac_in100"),
    *_rows(12, "LD alone boosts SSv2 (+5.02) but hurts ImageNet-100 and Diving-48.", "mixed", "imagenet100", ["ld"],
           "ld_in100"),
    *_rows(12, "LD alone boosts SSv2 (+5.02) but hurts ImageNet-100 and Diving-48.", "mixed", "diving48", ["ld"],
           "ld_d48"),
    *_rows(13, "FWM alone boosts ImageNet-100 (+1.88) but hurts SSv2 and Diving-48.", "mixed", "imagenet100", ["fwm"],
           "fwm_in100"),
    *_rows(13, "FWM alone boosts ImageNet-100 (+1.88) but hurts SSv2 and Diving-48.", "mixed", "ssv2", ["fwm"],
           "fwm_ssv2"),
    *_rows(13, "FWM alone boosts ImageNet-100 (+1.88) but hurts SSv2 and Diving-48.", "mixed", "diving48", ["fwm"],
           "fwm_d48"),
    *_rows(14, "FWM+LD without hard weighting loses 10.14 pp on ImageNet-100 (mixed).", "mixed", "imagenet100",
           ["fwm_ld"], "fwm_ld_in100"),
    *KINEMATIC_SYNMOTION,
    *_as_released_rows(KINEMATIC_SYNMOTION),
    Claim("kinematic_vs_as_released_synmotion", 0, "Released-code ablation: kinematic with the trained encoder "
          "exported minus as released (the EMA-off init copy exported) on Synthetic Motion; the paper has no "
          "number for this difference.", "single", ("kinematic",), "synthetic_motion",
          reference="kinematic_as_released"),
    Claim("fwm_hw_ld_vs_as_released_in100", 0, "Released-code ablation: FWM-HW-LD as described (LD trains) minus "
          "as released (LD under no-grad) on ImageNet-100; the paper has no number for this difference.", "mixed",
          ("fwm_hw_ld",), "imagenet100", reference="fwm_hw_ld_as_released"),
    Claim("temporal_vs_appearance", 17, "Objectives emphasizing temporal structure coincide with weaker appearance "
          "(mean ImageNet-100 change over delta, ld, spectral, ltc, ac, fwm_ld; mixed).", "mixed",
          TEMPORAL_OBJECTIVES, "imagenet100"),
]
# Claim 16 ("the encoder produces a fixed 768-dimensional embedding") is structural: see structural_claims().
SEED_CLAIMS = tuple(range(1, 18))


def structural_claims(paper_embed_dim: int, profile: str) -> pd.DataFrame:
    """Claim 16 holds by construction of the paper profile's encoder width, not by an experiment."""
    ok = paper_embed_dim == 768
    return pd.DataFrame([{"claim_id": "embedding_768", "paper_claim": 16,
                          "text": "The encoder produces a fixed 768-dimensional embedding.",
                          "paper_value": 768, "reproduced": paper_embed_dim,
                          "verdict": "supported (paper profile config)" if ok else "contradicted", "profile": profile}])


def paper_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: the paper's per-run results (regime,variant,benchmark,top1) are missing")
    df = pd.read_csv(path)
    missing = {"regime", "variant", "benchmark", "top1"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}; expected regime,variant,benchmark,top1")
    return df


def paper_delta(paper: pd.DataFrame, claim: Claim) -> float:
    """Paper effect in pp (mean over the claim's variants); NaN where the released table has no number."""
    def top1(variant: str) -> float:
        row = paper[(paper.regime == claim.regime) & (paper.variant == variant) & (paper.benchmark == claim.benchmark)]
        return float(row.top1.iloc[0]) if len(row) else float("nan")

    return round(float(np.mean([top1(v) for v in claim.paper_variants or claim.variants])) - top1(claim.reference), 4)


def verdict(paper_value: float, mean: float, half_width: float) -> str:
    if not np.isfinite(paper_value):
        return "no paper value"
    if not np.isfinite(half_width):
        return "inconclusive"
    lo, hi = mean - half_width, mean + half_width
    if lo <= 0 <= hi:
        return "inconclusive"
    return "supported" if np.sign(mean) == np.sign(paper_value) else "contradicted"


def load_probe_metrics(runs: dict[str, dict[str, list[int]]]) -> pd.DataFrame:
    """Long table (regime, variant, seed, analogue, benchmark, acc_pp) of the runs given as regime ->
    {variant: seeds} (`jepa.sweep.collect`: what `dvc repro` trained plus the committed sweep's current runs)."""
    rows = []
    for regime, variants in runs.items():
        for variant, seeds in variants.items():
            for seed in seeds:
                path = paths.probe_metrics(regime, variant, seed)
                if not path.exists():
                    raise FileNotFoundError(f"{path}: probe metrics missing for run {regime}/{variant}/seed {seed}")
                for analogue, res in json.loads(path.read_text()).items():
                    rows.append({"regime": regime, "variant": variant, "seed": seed, "analogue": analogue,
                                 "benchmark": PAPER_BENCHMARK[analogue], "acc_pp": 100 * res["acc"]})
    return pd.DataFrame(rows)


def attach_sources(claims: pd.DataFrame, source: dict[tuple[str, str], str]) -> pd.DataFrame:
    """A `runs_from` column: where each evaluated row's runs come from (`dvc repro` or the committed sweep),
    so a reader sees which rows the default regenerates and which the full sweep does."""
    def where(row) -> str:
        if row.n_seeds == 0:
            return ""
        found = {source.get((row.regime, v)) for v in row.variant.split("+")} | {source.get((row.regime, "baseline"))}
        return " + ".join(sorted(s for s in found if s))
    return claims.assign(runs_from=[where(r) for r in claims.itertuples()])


def load_floor_metrics(seeds: list[int]) -> pd.DataFrame:
    """Random-init floors: one value per encoder seed. Raw pixels: one value per probe seed (the only randomness)."""
    rows = []
    sources = [("random_init", paths.floor_metrics("random_init", seed), seed) for seed in seeds]
    sources.append(("pixels", paths.floor_metrics("pixels"), None))
    for floor, path, seed in sources:
        if not path.exists():
            raise FileNotFoundError(f"{path}: {floor} floor metrics missing (seed {seed}); run `dvc repro`")
        for analogue, res in json.loads(path.read_text()).items():
            values = [res["acc"]] if floor == "random_init" else res["accs"]
            for i, acc in enumerate(values):
                rows.append({"floor": floor, "seed": seed if seed is not None else i, "analogue": analogue,
                             "benchmark": PAPER_BENCHMARK[analogue], "acc_pp": 100 * acc})
    return pd.DataFrame(rows)


def evaluate_claims(metrics: pd.DataFrame, paper: pd.DataFrame, profile: str,
                    claims: list[Claim] | None = None) -> pd.DataFrame:
    """One row per claim; claims whose variants were not run say so instead of getting a verdict."""
    rows = []
    for claim in claims or CLAIMS:
        sel = metrics[(metrics.regime == claim.regime) & (metrics.benchmark == claim.benchmark)]
        pv = paper_delta(paper, claim)
        row = {**{k: v for k, v in asdict(claim).items() if k not in ("variants", "paper_variants")}, "variant": claim.variant,
               "analogue": ANALOGUE[claim.benchmark], "paper_value_pp": pv, "profile": profile}
        missing = [v for v in (*claim.variants, claim.reference) if v not in set(sel.variant)]
        if missing:
            rows.append(row | {"reproduced_mean_pp": np.nan, "ci95_pp": np.nan, "ci_low_pp": np.nan,
                               "ci_high_pp": np.nan, "n_seeds": 0, "verdict": f"not run ({', '.join(missing)})"})
            continue
        a = sum(sel[sel.variant == v].set_index("seed").acc_pp for v in claim.variants) / len(claim.variants)
        b = sel[sel.variant == claim.reference].set_index("seed").acc_pp
        paired = (a - b).dropna()
        mean, half = mean_ci(paired.values)
        rows.append(row | {"reproduced_mean_pp": round(mean, 3), "ci95_pp": round(half, 3),
                           "ci_low_pp": round(mean - half, 3), "ci_high_pp": round(mean + half, 3),
                           "n_seeds": int(len(paired)), "verdict": verdict(pv, mean, half)})
    return pd.DataFrame(rows)


def loss_count(claims: pd.DataFrame, paper_claim: int = 10, threshold: float = -5.0) -> dict:
    """Claim 10's count: methods whose ImageNet-100 change is below -5 pp, in the paper and reproduced."""
    rows = claims[claims.paper_claim == paper_claim]
    run = rows[rows.n_seeds > 0]
    return {"paper": f"{int((rows.paper_value_pp < threshold).sum())} of {len(rows)} (released table)",
            "paper_text": "10 of 14",
            "reproduced": (f"{int((run.reproduced_mean_pp < threshold).sum())} of {len(run)} run"
                           + (f" ({len(rows) - len(run)} not run)" if len(run) < len(rows) else ""))}


def floors_table(metrics: pd.DataFrame, floors: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Baseline of each regime beside both floors, with CIs; 'beats_random_init' needs separated CIs."""
    rows = []
    for analogue in metrics.analogue.unique():
        rf = floors[(floors.analogue == analogue) & (floors.floor == "random_init")].acc_pp
        px = floors[(floors.analogue == analogue) & (floors.floor == "pixels")].acc_pp
        r_mean, r_half = mean_ci(rf)
        p_mean, p_half = mean_ci(px)
        for regime in sorted(metrics.regime.unique()):
            base = metrics[(metrics.analogue == analogue) & (metrics.regime == regime)
                           & (metrics.variant == "baseline")].acc_pp
            if base.empty:
                continue
            m, h = mean_ci(base)
            rows.append({"analogue": analogue, "benchmark": PAPER_BENCHMARK[analogue], "regime": regime,
                         "pretrained_pp": round(m, 2), "pretrained_ci95": round(h, 2),
                         "random_init_pp": round(r_mean, 2), "random_init_ci95": round(r_half, 2),
                         "pixels_pp": round(p_mean, 2), "pixels_ci95": round(p_half, 2),
                         "beats_random_init": ci_separated(m, h, r_mean, r_half),
                         "profile": profile})
    return pd.DataFrame(rows)


def flag_floors(claims: pd.DataFrame, floors: pd.DataFrame) -> pd.DataFrame:
    """claims + `baseline_clears_floor`: whether the baseline of the claim's regime beats the random-init floor
    of its analogue with separated CIs (floors_table). Where it does not, the analogue has not shown that it
    registers pretraining at all, so the claim's verdict, whatever it is, compares noise."""
    beats = {(r.regime, r.analogue): bool(r.beats_random_init) for r in floors.itertuples()}
    out = claims.copy()
    out["baseline_clears_floor"] = [beats.get((r, a)) for r, a in zip(out.regime, out.analogue)]
    return out


def to_markdown(df: pd.DataFrame) -> str:
    """GitHub table without the optional `tabulate` dependency."""
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(_fmt(row[c]) for c in cols) + " |")
    return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, float):
        return "n/a" if not np.isfinite(v) else f"{v:.2f}"
    return str(v)


# --- per-variant effect tables behind the trade-off, heatmap and synthetic-motion figures -----------------------

PAPER_BENCHMARKS = tuple(sorted(PAPER_BENCHMARK.values()))  # column order of the per-variant figures
PAPER_REFERENCES = ("baseline", "baseline_seed239")  # reference runs of the released table, not variants


def _regime_variants(paper: pd.DataFrame, metrics: pd.DataFrame, regime: str) -> list[str]:
    """The paper's variants in its table order, then variants only this project ran (e.g. infonce)."""
    listed = [*paper[paper.regime == regime].variant, *metrics[metrics.regime == regime].variant]
    return [v for v in dict.fromkeys(listed) if v not in PAPER_REFERENCES]


def _regime_benchmarks(paper: pd.DataFrame, metrics: pd.DataFrame, regime: str) -> list[str]:
    """Benchmarks the paper reports for the regime (the comparison's columns); the run's own if the paper has none."""
    have = set(paper[paper.regime == regime].benchmark) or set(metrics[metrics.regime == regime].benchmark)
    return [b for b in PAPER_BENCHMARKS if b in have]


def variant_deltas(metrics: pd.DataFrame, paper: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Every (regime, variant, benchmark) cell the paper reports or this project ran: paper delta beside the
    reproduced paired delta (mean, 95% CI over seeds), computed by the same code as the claims table.

    Cells whose variant was not run keep their paper value and get NaN reproduced values (n_seeds 0).
    """
    regimes = list(dict.fromkeys([*paper.regime, *metrics.regime]))
    cells = [Claim(f"{r}_{v}_{b}", 0, "", r, (v,), b) for r in regimes
             for v in _regime_variants(paper, metrics, r) for b in _regime_benchmarks(paper, metrics, r)]
    if not cells:
        return pd.DataFrame(columns=["regime", "variant", "benchmark", "analogue", "paper_value_pp",
                                     "reproduced_mean_pp", "ci95_pp", "n_seeds"])
    out = evaluate_claims(metrics, paper, profile, cells)
    return out[["regime", "variant", "benchmark", "analogue", "paper_value_pp", "reproduced_mean_pp", "ci95_pp",
                "n_seeds"]].reset_index(drop=True)


def tradeoff_points(deltas: pd.DataFrame, regime: str = "mixed", x: str = "imagenet100",
                    y: str = "ssv2") -> pd.DataFrame:
    """One row per variant: paper and reproduced deltas on two benchmarks (the appearance-vs-temporal trade-off)."""
    d = deltas[(deltas.regime == regime) & deltas.benchmark.isin([x, y])]
    order = list(dict.fromkeys(d.variant))
    wide = d.pivot(index="variant", columns="benchmark",
                   values=["paper_value_pp", "reproduced_mean_pp", "ci95_pp", "n_seeds"]).reindex(order)
    return pd.DataFrame({
        "variant": order,
        "paper_x_pp": wide["paper_value_pp"][x].astype(float).to_numpy(),
        "paper_y_pp": wide["paper_value_pp"][y].astype(float).to_numpy(),
        "reproduced_x_pp": wide["reproduced_mean_pp"][x].astype(float).to_numpy(),
        "reproduced_y_pp": wide["reproduced_mean_pp"][y].astype(float).to_numpy(),
        "ci95_x_pp": wide["ci95_pp"][x].astype(float).to_numpy(),
        "ci95_y_pp": wide["ci95_pp"][y].astype(float).to_numpy(),
        "n_seeds": wide["n_seeds"].min(axis=1).fillna(0).astype(int).to_numpy(),
    }).assign(regime=regime, x_benchmark=x, y_benchmark=y)


def benchmark_accuracy(metrics: pd.DataFrame, paper: pd.DataFrame, regime: str = "single",
                       benchmark: str = "synthetic_motion") -> pd.DataFrame:
    """Absolute top-1 per variant (baseline first): the paper's number beside the reproduced mean and 95% CI over
    seeds. The paper's Table 4 reports accuracies, not deltas, so this is the table behind its figure."""
    p = paper[(paper.regime == regime) & (paper.benchmark == benchmark)].set_index("variant").top1
    m = metrics[(metrics.regime == regime) & (metrics.benchmark == benchmark)]
    ran = set(m.variant)
    variants = [v for v in dict.fromkeys(["baseline", *p.index, *m.variant])
                if (v == "baseline" or v not in PAPER_REFERENCES) and (v in p.index or v in ran)]
    rows = []
    for v in variants:
        mean, half = mean_ci(m[m.variant == v].acc_pp)
        rows.append({"variant": v, "paper_pp": float(p.get(v, np.nan)), "reproduced_mean_pp": mean,
                     "ci95_pp": half, "n_seeds": int((m.variant == v).sum())})
    return pd.DataFrame(rows).assign(regime=regime, benchmark=benchmark)


def floor_summary(floor_metrics: pd.DataFrame, benchmark: str) -> pd.DataFrame:
    """Mean and 95% CI of each floor (random-init over encoder seeds, raw pixels over probe seeds) on a benchmark."""
    d = floor_metrics[floor_metrics.benchmark == benchmark]
    rows = [dict(zip(("mean_pp", "ci95_pp"), mean_ci(g.acc_pp)), floor=f, n=len(g))
            for f, g in d.groupby("floor", sort=True)]
    return pd.DataFrame(rows, columns=["floor", "mean_pp", "ci95_pp", "n"])


READINGS = {  # why a row reads the way it does, in the order REPORT.md lists them
    "holds": "same sign as the paper, CI excludes 0",
    "opposite": "opposite sign to the paper, CI excludes 0",
    "below floor": "inconclusive and the baseline does not clear its floor on this analogue: the row compares noise",
    "within CI": "inconclusive: the effect is smaller than its CI",
    "one seed": "inconclusive: one seed so far, no CI (the rest of its seeds are not committed yet)",
    "no paper value": "beyond the paper (no paper number to compare)",
}


def reading(row) -> str | None:
    """One evaluated claim row's reading (a READINGS key); None for rows not run."""
    if not row.n_seeds:
        return None
    if row.verdict == "supported":
        return "holds"
    if row.verdict == "contradicted":
        return "opposite"
    if row.verdict == "no paper value":
        return "no paper value"
    if row.n_seeds < 2:
        return "one seed"
    return "within CI" if row.baseline_clears_floor else "below floor"


def discussion_table(claims: pd.DataFrame) -> pd.DataFrame:
    """Evaluated rows with their reading and the size of the reproduced effect beside the paper's, ordered by
    reading then by paper claim: the table REPORT.md's discussion is written from."""
    rows = claims.assign(reading=[reading(r) for r in claims.itertuples()]).dropna(subset=["reading"])
    rows = rows.assign(order=rows.reading.map(list(READINGS).index)).sort_values(["order", "paper_claim", "claim_id"])
    return rows[["reading", "paper_claim", "claim_id", "regime", "variant", "benchmark", "paper_value_pp",
                 "reproduced_mean_pp", "ci95_pp", "n_seeds", "baseline_clears_floor", "runs_from"]].reset_index(drop=True)


def released_ablations(metrics: pd.DataFrame, floor_metrics: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every `*_as_released` variant beside the variant it shadows, on every benchmark of its regime: both
    effects vs the same baseline (paired over seeds, mean and 95% CI in pp), and their paired difference,
    i.e. what the released code's flaw changes (EMA-off: the init copy exported; LD: trained under no-grad).
    With `floor_metrics`, `equals_random_init` says whether the as-released accuracy equals the random-init
    floor of the same seed on every seed (within 0.01 pp): the exported encoder is then the untrained one."""
    init_floor = floor_metrics[floor_metrics.floor == "random_init"] if floor_metrics is not None else None
    out = []
    for (regime, released), sel in metrics[metrics.variant.str.endswith("_as_released")].groupby(["regime", "variant"]):
        shadowed = released.removesuffix("_as_released")
        for benchmark in sorted(sel.benchmark.unique()):
            m = metrics[(metrics.regime == regime) & (metrics.benchmark == benchmark)]
            acc = {v: m[m.variant == v].set_index("seed").acc_pp for v in (shadowed, released, "baseline")}
            if any(a.empty for a in acc.values()):
                continue
            row = {"regime": regime, "variant": shadowed, "benchmark": benchmark}
            for label, diff in (("as_described", acc[shadowed] - acc["baseline"]),
                                ("as_released", acc[released] - acc["baseline"]),
                                ("described_minus_released", acc[shadowed] - acc[released])):
                mean, half = mean_ci(diff.dropna().values)
                row |= {f"{label}_pp": round(mean, 2), f"{label}_ci95": round(half, 2)}
            row["n_seeds"] = int((acc[shadowed] - acc[released]).dropna().size)
            if init_floor is not None:
                init = init_floor[init_floor.benchmark == benchmark].set_index("seed").acc_pp
                gap = (acc[released] - init).dropna()
                row["equals_random_init"] = bool(gap.size == acc[released].size and (gap.abs() < 0.01).all())
            out.append(row)
    return pd.DataFrame(out)
