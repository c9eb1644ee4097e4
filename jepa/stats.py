"""The one statistics module: 95% Student-t intervals over seeds, the normal interval over few-shot
episodes, and the floor-separation test.

Claims, research questions, the calibration study and the figures all read their intervals from here, so a
table and the figure drawn from it cannot disagree. The rule behind each is in docs/method.md
("Claims and the verdict rule").
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def mean_ci(values) -> tuple[float, float]:
    """Mean and 95% half-width with Student's t (few seeds: the normal 1.96 would be overconfident)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return (float(v.mean()) if len(v) else float("nan")), float("nan")
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return float(v.mean()), float(half)


def normal_ci(values) -> tuple[float, float]:
    """Mean and 95% half-width 1.96 * std / sqrt(n) with the population std: the few-shot literature's episode
    interval (TRX run.py), so episode CIs compare with published ones. Hundreds of episodes: normal is fine."""
    v = np.asarray(values, dtype=float)
    std = float(v.std())
    return float(v.mean()), 1.96 * std / np.sqrt(v.size)


def ci_separated(mean: float, half: float, floor_mean: float, floor_half: float) -> bool:
    """True when the 95% interval of `mean` lies wholly above the floor's (both need a finite half-width)."""
    return bool(np.isfinite(half) and np.isfinite(floor_half) and mean - half > floor_mean + floor_half)


def t_interval(values) -> tuple[float, float]:
    """Seaborn errorbar: the Student-t 95% interval the tables report (seaborn's bootstrap is too narrow on 3 seeds)."""
    mean, half = mean_ci(values)
    half = half if np.isfinite(half) else 0.0  # one value (raw-pixel floor): no whisker
    return mean - half, mean + half
