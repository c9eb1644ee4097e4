"""Seaborn figures for the report; saved as PNG and SVG with stable metadata (reruns give identical bytes)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from jepa.io import atomic_write  # noqa: E402

sns.set_theme(style="whitegrid", context="notebook")
plt.rcParams["svg.hashsalt"] = "jepa"
VERDICT_COLORS = {"supported": "#2a9d8f", "inconclusive": "#adb5bd", "contradicted": "#e76f51"}


def save(fig, path: str | Path) -> list[Path]:
    """Write `path` as .png and .svg atomically; returns both paths."""
    path = Path(path).with_suffix("")
    out = []
    for ext, meta in ((".png", {"Software": None}), (".svg", {"Date": None})):
        target = path.with_suffix(ext)
        atomic_write(target, lambda p, ext=ext, meta=meta: fig.savefig(p, format=ext[1:], dpi=150,
                                                                      bbox_inches="tight", metadata=meta))
        out.append(target)
    plt.close(fig)
    return out


def clip_examples(sets: dict[str, object], n_examples: int = 3, n_frames: int = 4):
    """Rows = (analogue, example), columns = frames: what each analogue asks the encoder to see."""
    rows = [(task, i) for task in sets for i in range(n_examples)]
    fig, axes = plt.subplots(len(rows), n_frames, figsize=(1.4 * n_frames, 1.4 * len(rows)), layout="constrained")
    for r, (task, i) in enumerate(rows):
        clips = sets[task]
        video = clips.videos[i]
        frames = np.linspace(0, len(video) - 1, n_frames).round().astype(int)
        for c, f in enumerate(frames):
            ax = axes[r, c]
            ax.imshow(video[f], interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(f"{task}\n{clips.class_names[clips.labels[i]]}", fontsize=7, rotation=0,
                              ha="right", va="center")
            if r == 0:
                ax.set_title(f"frame {f}", fontsize=8)
    fig.suptitle("Synthetic analogues: example clips (rows) over time (columns)", fontsize=10)
    return fig


def claim_deltas(claims: pd.DataFrame):
    """Reproduced effect (mean, 95% CI over seeds) beside the paper's value, one row per claim."""
    df = claims.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(df) + 1.4))
    y = np.arange(len(df))
    for i, row in df.iterrows():
        color = VERDICT_COLORS.get(row.verdict, "black")
        ci = row.ci95_pp if np.isfinite(row.ci95_pp) else 0.0
        ax.errorbar(row.reproduced_mean_pp, i, xerr=ci, fmt="o", color=color, capsize=4, ms=7,
                    label=f"reproduced ({row.verdict})")
        ax.plot(row.paper_value_pp, i, marker="D", color="black", ms=6, ls="none", label="paper")
    ax.axvline(0, color="0.3", lw=1, ls="--")
    ax.set_yticks(y, [f"{r.variant} · {r.regime} · {r.benchmark}" for r in df.itertuples()])
    ax.invert_yaxis()
    ax.set_xlabel("effect vs baseline (percentage points, top-1)")
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), loc="best", fontsize=8)
    ax.set_title(f"Claims: reproduced (profile {df.profile.iloc[0]}) vs paper")
    return fig


def floors(table: pd.DataFrame, metrics: pd.DataFrame, floor_metrics: pd.DataFrame):
    """Per analogue: pretrained baselines beside the random-init and raw-pixel floors (mean and 95% CI)."""
    base = metrics[metrics.variant == "baseline"].assign(model=lambda d: "pretrained · " + d.regime)
    fl = floor_metrics.assign(model=lambda d: d.floor.map({"random_init": "random-init floor", "pixels": "raw-pixel floor"}))
    df = pd.concat([base[["analogue", "model", "acc_pp"]], fl[["analogue", "model", "acc_pp"]]])
    fig, ax = plt.subplots(figsize=(8, 4))
    sns.barplot(df, x="analogue", y="acc_pp", hue="model", errorbar=("ci", 95), capsize=0.1, seed=0, ax=ax)
    ax.set_xlabel("synthetic analogue")
    ax.set_ylabel("probe top-1 accuracy (%)")
    ax.set_title("Does pretraining beat its floors?")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
    return fig


def training_curves(curves: pd.DataFrame):
    """Loss curves of every run (dvclive logs), one panel per regime."""
    g = sns.relplot(curves, x="step", y="loss", hue="variant", units="seed", estimator=None, col="regime",
                    kind="line", height=3.2, aspect=1.3, alpha=0.8)
    g.set_axis_labels("training step", "total loss (L1 + aux)")
    g.figure.suptitle("Pretraining loss", y=1.03)
    return g.figure


def fewshot_runs(per_episode: pd.DataFrame, title: str):
    """Few-shot accuracy of every encoder (bars: mean over seeds, whiskers: 95% CI over seeds), 1- and 5-shot."""
    if per_episode.empty:
        fig, ax = plt.subplots(figsize=(8, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, f"{title}\nnone of the question's variants is in `run` of params.yaml", ha="center",
                va="center")
        return fig
    per_seed = (per_episode.groupby(["regime", "variant", "seed", "shots"]).acc.mean().mul(100).reset_index()
                .assign(encoder=lambda d: d.variant + " · " + d.regime, shots=lambda d: d.shots.astype(str) + "-shot"))
    fig, ax = plt.subplots(figsize=(8, 3.8))
    sns.barplot(per_seed, x="encoder", y="acc", hue="shots", errorbar=("ci", 95), capsize=0.1, seed=0, ax=ax)
    ax.axhline(100 / 5, color="0.3", ls="--", lw=1, label="chance (5-way)")
    ax.set_xlabel("pretrained encoder (variant · regime)")
    ax.set_ylabel("5-way accuracy (%)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    return fig
