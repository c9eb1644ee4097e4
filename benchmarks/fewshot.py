"""Benchmark few-shot scoring over cached features (not a test).

Times jepa.fewshot.evaluate_fewshot on 100 classes x 50 samples x 768-d random features with
2 torch threads: the prototype classifier at up to 10,000 5-way {1,5}-shot 15-query episodes
(budget: < 10 s for 10,000 5-shot episodes) and, for scale, the per-episode sklearn
logistic regression on a few episodes. Episode sampling is timed separately and printed: it
is paid once per protocol (episodes are saved), scoring once per variant.

Writes reports/benchmarks/fewshot.csv and reports/benchmarks/fewshot.png.
Run: .venv/bin/python benchmarks/fewshot.py
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
import torch  # noqa: E402

from jepa.fewshot import evaluate_fewshot, sample_episodes  # noqa: E402
from jepa.io import atomic_write, write_text  # noqa: E402
from jepa.paths import benchmarks_dir  # noqa: E402

N_CLASSES, PER_CLASS, DIM = 100, 50, 768
N_WAY, Q_QUERY = 5, 15
PROTOTYPE_EPISODES = (1_000, 2_000, 5_000, 10_000)
LOGISTIC_EPISODES = 50
BUDGET_SECONDS = 10.0
REPEATS = 3


def median_seconds(function, repeats: int = REPEATS) -> float:
    """Median wall time of ``repeats`` calls after one warm-up (robust to noise on shared cores)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(out_dir: Path) -> pd.DataFrame:
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(N_CLASSES), PER_CLASS)
    features = torch.from_numpy(rng.standard_normal((labels.size, DIM), dtype=np.float32))

    rows = []
    for k_shot in (1, 5):
        for n_episodes in PROTOTYPE_EPISODES:
            start = time.perf_counter()
            episodes = sample_episodes(labels, N_WAY, k_shot, Q_QUERY, n_episodes, seed=0)
            print(f"sampling {n_episodes:,} {N_WAY}-way {k_shot}-shot episodes: {time.perf_counter() - start:.2f} s")
            seconds = median_seconds(lambda: evaluate_fewshot(features, labels, episodes, "prototype"))
            rows.append(dict(n_episodes=n_episodes, k_shot=k_shot, classifier="prototype", seconds=seconds))
        episodes = sample_episodes(labels, N_WAY, k_shot, Q_QUERY, LOGISTIC_EPISODES, seed=0)
        seconds = median_seconds(lambda: evaluate_fewshot(features, labels, episodes, "logistic"), repeats=1)
        rows.append(dict(n_episodes=LOGISTIC_EPISODES, k_shot=k_shot, classifier="logistic", seconds=seconds))

    table = pd.DataFrame(rows).assign(n_way=N_WAY, q_query=Q_QUERY, dim=DIM)
    table["episodes_per_s"] = table["n_episodes"] / table["seconds"]
    table = table[["n_episodes", "n_way", "k_shot", "q_query", "dim", "classifier", "seconds", "episodes_per_s"]]

    out_dir.mkdir(parents=True, exist_ok=True)
    write_text(out_dir / "fewshot.csv", table.to_csv(index=False, float_format="%.6g"))
    plot(table[table["classifier"] == "prototype"], out_dir / "fewshot.png")
    return table


def plot(prototype: pd.DataFrame, path: Path) -> None:
    figure, axis = plt.subplots(figsize=(4.5, 3.2))
    sns.lineplot(data=prototype.assign(shots=prototype["k_shot"].map("{}-shot".format)),
                 x="n_episodes", y="seconds", hue="shots", marker="o", ax=axis)
    axis.set_xlabel("episodes (count)")
    axis.set_ylabel("scoring time (s)")
    axis.set_title(f"Prototype classifier, {N_WAY}-way, {Q_QUERY} queries/class,\n{DIM}-d features, 2 CPU threads", fontsize=9)
    axis.set_ylim(bottom=0)
    axis.legend(title=None)
    figure.tight_layout()
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=120))
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=benchmarks_dir())
    table = run(parser.parse_args().out_dir)
    print(table.to_string(index=False))
    five_shot = table.query("classifier == 'prototype' and k_shot == 5 and n_episodes == 10000")["seconds"].item()
    verdict = "within" if five_shot < BUDGET_SECONDS else "OVER"
    print(f"10,000 5-way 5-shot episodes: {five_shot:.2f} s ({verdict} the {BUDGET_SECONDS:.0f} s budget)")


if __name__ == "__main__":
    main()
