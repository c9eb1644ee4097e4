"""Claim registry, paper values, reproduced effects with 95% CIs over seeds, and verdicts (DESIGN section 7).

A claim's effect is a paired difference over seeds: variant minus baseline of
the same regime and seed, on one benchmark, in percentage points. Verdict:
same sign as the paper and CI excludes 0 -> supported; CI includes 0 ->
inconclusive; opposite sign with CI excluding 0 -> contradicted.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from jepa.config import PAPER_BENCHMARK

ANALOGUE = {v: k for k, v in PAPER_BENCHMARK.items()}


@dataclass(frozen=True)
class Claim:
    claim_id: str
    text: str
    regime: str
    variant: str
    benchmark: str          # paper benchmark name (diving48, imagenet100, ssv2, synthetic_motion)
    reference: str = "baseline"


CLAIMS: list[Claim] = [
    Claim("mgm_single_d48", "Motion-Guided Masking improves Diving-48 accuracy by 0.30 pp (UCF-101 pretraining).",
          "single", "mgm", "diving48"),
    Claim("mgm_single_in100", "Motion-Guided Masking improves ImageNet-100 accuracy by 0.14 pp (UCF-101 pretraining).",
          "single", "mgm", "imagenet100"),
    Claim("mgm_single_ssv2", "Motion-Guided Masking improves SSv2 accuracy by 1.38 pp (UCF-101 pretraining).",
          "single", "mgm", "ssv2"),
]


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
    def top1(variant: str) -> float:
        row = paper[(paper.regime == claim.regime) & (paper.variant == variant) & (paper.benchmark == claim.benchmark)]
        if row.empty:
            raise KeyError(f"paper_results.csv has no row for {claim.regime}/{variant}/{claim.benchmark}")
        return float(row.top1.iloc[0])

    return round(top1(claim.variant) - top1(claim.reference), 4)


def mean_ci(values) -> tuple[float, float]:
    """Mean and 95% half-width with Student's t (few seeds: the normal 1.96 would be overconfident)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return (float(v.mean()) if len(v) else float("nan")), float("nan")
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return float(v.mean()), float(half)


def verdict(paper_value: float, mean: float, half_width: float) -> str:
    if not np.isfinite(half_width):
        return "inconclusive"
    lo, hi = mean - half_width, mean + half_width
    if lo <= 0 <= hi:
        return "inconclusive"
    return "supported" if np.sign(mean) == np.sign(paper_value) else "contradicted"


def load_probe_metrics(folder: str | Path, runs: dict[str, list[str]], seeds: list[int]) -> pd.DataFrame:
    """Long table (regime, variant, seed, analogue, benchmark, acc_pp) for the runs `dvc repro` covers."""
    rows = []
    for regime, variants in runs.items():
        for variant in variants:
            for seed in seeds:
                path = Path(folder) / f"{regime}-{variant}-s{seed}.json"
                if not path.exists():
                    raise FileNotFoundError(f"{path}: probe metrics missing for run {regime}/{variant}/seed {seed}")
                for analogue, res in json.loads(path.read_text()).items():
                    rows.append({"regime": regime, "variant": variant, "seed": seed, "analogue": analogue,
                                 "benchmark": PAPER_BENCHMARK[analogue], "acc_pp": 100 * res["acc"]})
    return pd.DataFrame(rows)


def load_floor_metrics(folder: str | Path, seeds: list[int]) -> pd.DataFrame:
    """Random-init floors: one value per encoder seed. Raw pixels: one value per probe seed (the only randomness)."""
    rows = []
    sources = [("random_init", Path(folder) / f"random_init-s{seed}.json", seed) for seed in seeds]
    sources.append(("pixels", Path(folder) / "pixels.json", None))
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
    rows = []
    for claim in claims or CLAIMS:
        sel = metrics[(metrics.regime == claim.regime) & (metrics.benchmark == claim.benchmark)]
        a = sel[sel.variant == claim.variant].set_index("seed").acc_pp
        b = sel[sel.variant == claim.reference].set_index("seed").acc_pp
        paired = (a - b).dropna()
        mean, half = mean_ci(paired.values)
        pv = paper_delta(paper, claim)
        rows.append({**asdict(claim), "analogue": ANALOGUE[claim.benchmark], "paper_value_pp": pv,
                     "reproduced_mean_pp": round(mean, 3), "ci95_pp": round(half, 3),
                     "ci_low_pp": round(mean - half, 3), "ci_high_pp": round(mean + half, 3),
                     "n_seeds": int(len(paired)), "verdict": verdict(pv, mean, half), "profile": profile})
    return pd.DataFrame(rows)


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
                         "beats_random_init": bool(np.isfinite(h) and np.isfinite(r_half) and m - h > r_mean + r_half),
                         "profile": profile})
    return pd.DataFrame(rows)


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
