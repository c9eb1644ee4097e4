"""Seaborn figures for the report; saved as PNG and SVG with stable metadata (reruns give identical bytes)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from jepa.claims import ANALOGUE as ANALOGUE_OF  # noqa: E402  (paper benchmark -> synthetic analogue)
from jepa.io import atomic_write  # noqa: E402
from jepa.stats import t_interval  # noqa: E402

sns.set_theme(style="whitegrid", context="notebook")
plt.rcParams["svg.hashsalt"] = "jepa"
# Figures shown in a notebook (a cell ending in a figure): PNG at this resolution, without the version stamp.
# The executed notebooks are committed (reports/runs/), so they show a preview; the full-resolution PNG/SVG
# files are under reports/figures/.
NOTEBOOK_DPI = 72
VERDICT_COLORS = {"supported": "#2a9d8f", "inconclusive": "#adb5bd", "contradicted": "#e76f51"}


def _notebook_png(fig) -> bytes:
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=NOTEBOOK_DPI, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _show_in_notebooks() -> None:
    """Inside IPython, display figures as PNG (the Agg backend above leaves them as `<Figure ...>` text)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        from matplotlib.figure import Figure

        shell.display_formatter.formatters["image/png"].for_type(Figure, _notebook_png)


_show_in_notebooks()


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


def not_shown(title: str, reason: str):
    """A figure that says why it has nothing to show, so every report exists for any valid `run` list."""
    fig, ax = plt.subplots(figsize=(8, 1.5))
    ax.axis("off")
    ax.text(0.5, 0.5, f"{title}\n{reason}", ha="center", va="center")
    return fig


def claim_deltas(claims: pd.DataFrame):
    """Reproduced effect (mean, 95% CI over seeds) beside the paper's value, one row per claim."""
    df = claims.reset_index(drop=True)
    if df.empty:  # e.g. a first run of the baselines only: no variant to compare yet, the stage still has its figure
        return not_shown("Claims: no claim evaluated",
                         "not run: no claim has both its variant and its regime's baseline in `run` of params.yaml")
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
    """Per analogue: pretrained baselines beside the random-init and raw-pixel floors (mean and 95% t-CI over seeds)."""
    base = metrics[metrics.variant == "baseline"].assign(model=lambda d: "pretrained · " + d.regime)
    fl = floor_metrics.assign(model=lambda d: d.floor.map({"random_init": "random-init floor", "pixels": "raw-pixel floor"}))
    df = pd.concat([base[["analogue", "model", "acc_pp"]], fl[["analogue", "model", "acc_pp"]]])
    fig, ax = plt.subplots(figsize=(8, 4))
    sns.barplot(df, x="analogue", y="acc_pp", hue="model", errorbar=t_interval, capsize=0.1, ax=ax)
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
    """Few-shot accuracy of every encoder and floor (bars: mean over seeds, whiskers: 95% t-CI over seeds)."""
    if per_episode.empty:
        return not_shown(title, "none of the question's variants is in `run` of params.yaml")
    per_seed = (per_episode.groupby(["regime", "variant", "seed", "shots"]).acc.mean().mul(100).reset_index()
                .assign(encoder=lambda d: d.variant + " · " + d.regime, shots=lambda d: d.shots.astype(str) + "-shot"))
    fig, ax = plt.subplots(figsize=(8, 3.8))
    encoders = per_episode.drop_duplicates(["regime", "variant"])
    order = list(encoders.variant + " · " + encoders.regime)  # scoring order: the question's encoders, then floors
    sns.barplot(per_seed, x="encoder", y="acc", hue="shots", order=order, errorbar=t_interval, capsize=0.1, ax=ax)
    ax.axhline(100 / 5, color="0.3", ls="--", lw=1, label="chance (5-way)")
    ax.set_xlabel("encoder (variant · regime), floors last")
    ax.set_ylabel("5-way accuracy (%)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    return fig


PAPER_COLOR, OURS_COLOR = "#264653", "#e76f51"
BENCHMARK_LABEL = {"diving48": "Diving-48", "imagenet100": "ImageNet-100", "ssv2": "SSv2",
                   "synthetic_motion": "Synthetic motion"}


def _bench_label(bench: str, analogue: bool = False) -> str:
    """Paper benchmark name, optionally with the synthetic analogue that stands in for it on the default profile."""
    name = BENCHMARK_LABEL.get(bench, bench)
    return f"{name}\n({ANALOGUE_OF[bench]})" if analogue and ANALOGUE_OF.get(bench, bench) != bench else name


def _overlap(a, b) -> float:
    """Area shared by two display-space boxes (0 when apart)."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0) * max(h, 0)


def _label_points(ax, xs, ys, texts, color: str, taken: list) -> None:
    """Greedy label placement: for each point try 8 offsets and keep the one overlapping least with labels and
    markers already placed (`taken`, display-space boxes, grows in place). Deterministic, no extra dependency."""
    renderer = ax.figure.canvas.get_renderer()
    offsets = [(6, 4), (6, -10), (-6, 4), (-6, -10), (0, 9), (0, -14), (10, -3), (-10, -3)]
    for x, y, text in zip(xs, ys, texts):
        best = None
        for dx, dy in offsets:
            ann = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=7.5, color=color,
                              ha="left" if dx > 0 else "right" if dx < 0 else "center", zorder=5,
                              bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75})
            box = ann.get_window_extent(renderer)
            outside = box.width * box.height - _overlap(box, ax.get_window_extent(renderer))
            cost = sum(_overlap(box, t) for t in taken) + 10 * outside
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, ann, box)
            else:
                ann.remove()
            if cost == 0:
                break
        taken.append(best[2])


def _marker_boxes(ax, xs, ys, xerr=None, yerr=None, half: float = 4.0) -> list:
    """Display-space boxes around markers and their error bars, so labels avoid covering them."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    xerr = np.zeros_like(xs) if xerr is None else np.nan_to_num(np.asarray(xerr, float))
    yerr = np.zeros_like(ys) if yerr is None else np.nan_to_num(np.asarray(yerr, float))
    boxes = []
    for x, y, ex, ey in zip(xs, ys, xerr, yerr):
        for (x0, y0), (x1, y1) in (((x - ex, y), (x + ex, y)), ((x, y - ey), (x, y + ey))):
            (a, b), (c, d) = ax.transData.transform([(x0, y0), (x1, y1)])
            boxes.append(Bbox([[a - half, b - half], [c + half, d + half]]))
    return boxes


def tradeoff_scatter(points: pd.DataFrame, profile: str):
    """Per variant, the change on the appearance benchmark (x) against the temporal one (y), both vs the same
    regime's baseline: the paper's points, and beside them ours with 95% CIs where the variant was run."""
    x_b, y_b, regime = points.x_benchmark.iloc[0], points.y_benchmark.iloc[0], points.regime.iloc[0]
    paper = points.dropna(subset=["paper_x_pp", "paper_y_pp"])
    ours = points[points.n_seeds > 0].dropna(subset=["reproduced_x_pp", "reproduced_y_pp"])
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.axhline(0, color="0.35", lw=1, zorder=1)
    ax.axvline(0, color="0.35", lw=1, zorder=1)
    ax.scatter(paper.paper_x_pp, paper.paper_y_pp, s=40, marker="D", color=PAPER_COLOR, zorder=3,
               label="paper (ViT-B, real data; one run each)")
    for row in ours.itertuples():  # tie our point to the paper's point of the same variant
        ax.plot([row.paper_x_pp, row.reproduced_x_pp], [row.paper_y_pp, row.reproduced_y_pp], ls=":", lw=1,
                color=OURS_COLOR, zorder=2)
    if len(ours):
        ax.errorbar(ours.reproduced_x_pp, ours.reproduced_y_pp, xerr=ours.ci95_x_pp.to_numpy(float),
                    yerr=ours.ci95_y_pp.to_numpy(float), fmt="o", ms=7, color=OURS_COLOR, capsize=3, zorder=4,
                    label=f"reproduced (profile {profile}): mean, 95% CI over seeds")
    ax.margins(0.12)
    ax.autoscale_view()
    ax.set_xlim(ax.get_xlim()), ax.set_ylim(ax.get_ylim())  # freeze limits so label placement stays valid
    ax.set_xlabel(f"Δ {_bench_label(x_b)} top-1 vs baseline (pp)\nreproduced: {ANALOGUE_OF[x_b]} analogue")
    ax.set_ylabel(f"Δ {_bench_label(y_b)} top-1 vs baseline (pp)\nreproduced: {ANALOGUE_OF[y_b]} analogue")
    fig.canvas.draw()
    taken = _marker_boxes(ax, paper.paper_x_pp, paper.paper_y_pp) + _marker_boxes(
        ax, ours.reproduced_x_pp, ours.reproduced_y_pp, ours.ci95_x_pp, ours.ci95_y_pp)
    _label_points(ax, ours.reproduced_x_pp, ours.reproduced_y_pp, ours.variant, OURS_COLOR, taken)
    _label_points(ax, paper.paper_x_pp, paper.paper_y_pp, paper.variant, PAPER_COLOR, taken)
    not_run = int((points.n_seeds == 0).sum())
    ax.set_title(f"{regime.capitalize()} regime: appearance vs temporal trade-off (variant − baseline)\n"
                 f"{not_run} of {len(points)} variants not run here: paper point only", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def _heatmap_panel(ax, mat: pd.DataFrame, vlim: float, missing: str, cbar_ax=None) -> None:
    """One annotated diverging heatmap; NaN cells grey with a word saying why they are empty."""
    sns.heatmap(mat, ax=ax, cmap="RdBu", center=0, vmin=-vlim, vmax=vlim, annot=True, fmt=".1f",
                annot_kws={"fontsize": 8}, linewidths=0.5, linecolor="white", cbar=cbar_ax is not None,
                cbar_ax=cbar_ax, cbar_kws={"label": f"Δ top-1 vs same-regime baseline (pp; colour saturates at "
                                                    f"±{vlim:g})", "extend": "both"})
    ax.set_facecolor("#dee2e6")
    ax.grid(False)
    for i, j in zip(*np.where(mat.isna().to_numpy())):
        ax.text(j + 0.5, i + 0.5, missing, ha="center", va="center", fontsize=6.5, color="0.35")
    ax.set_xlabel(""), ax.set_ylabel("")
    ax.tick_params(axis="x", labelrotation=0, labelsize=8)
    ax.tick_params(axis="y", labelsize=8)


def delta_heatmap(deltas: pd.DataFrame, profile: str, vcap: float = 10.0):
    """Variant x benchmark deltas per regime, paper beside reproduced on one colour scale (saturating at
    ±`vcap` pp so small effects stay visible; the annotations carry the exact values)."""
    regimes = list(dict.fromkeys(deltas.regime))
    n_rows = [deltas[deltas.regime == r].variant.nunique() for r in regimes]
    values = deltas[["paper_value_pp", "reproduced_mean_pp"]].to_numpy(dtype=float)
    vlim = float(min(np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0, vcap))
    fig = plt.figure(figsize=(10, 0.32 * sum(n_rows) + 1.6 * len(regimes) + 0.8), layout="constrained")
    grid = fig.add_gridspec(len(regimes), 3, height_ratios=n_rows, width_ratios=[1, 1, 0.04])
    cbar_ax = fig.add_subplot(grid[:, 2])
    for r, regime in enumerate(regimes):
        d = deltas[deltas.regime == regime]
        variants, benches = list(dict.fromkeys(d.variant)), list(dict.fromkeys(d.benchmark))
        for c, (col, who, missing) in enumerate([("paper_value_pp", "paper (ViT-B, real data)", "n/a"),
                                                 ("reproduced_mean_pp", f"reproduced (profile {profile})",
                                                  "not run")]):
            ax = fig.add_subplot(grid[r, c])
            mat = d.pivot(index="variant", columns="benchmark", values=col).reindex(index=variants, columns=benches)
            mat.columns = [_bench_label(b, analogue=c == 1) for b in benches]
            _heatmap_panel(ax, mat.astype(float), vlim, missing, cbar_ax if (r, c) == (0, 0) else None)
            ax.set_title(f"{regime.capitalize()} regime · {who}", fontsize=9)
            if c == 1:
                ax.set_yticklabels([])
    fig.suptitle("Change vs the same regime's baseline, per variant and benchmark (pp)\n"
                 "n/a: not in the paper's released table · not run: variant absent from `run` in params.yaml",
                 fontsize=10)
    return fig


def accuracy_bars(acc: pd.DataFrame, floors: pd.DataFrame, profile: str, chance_pp: float = 12.5):
    """The paper's Table 4 as bars: absolute accuracy per variant, paper beside reproduced (mean, 95% CI over
    seeds), with this run's random-init and raw-pixel floors and chance as horizontal lines."""
    fig, ax = plt.subplots(figsize=(max(5.5, 1.3 * len(acc) + 2.5), 4.5))
    x, w = np.arange(len(acc)), 0.38
    paper, ours = np.isfinite(acc.paper_pp.to_numpy(float)), np.isfinite(acc.reproduced_mean_pp.to_numpy(float))
    ax.bar(x[paper] - w / 2, acc.paper_pp[paper], w, color=PAPER_COLOR, zorder=2,
           label="paper (ViT-B, UCF-101; one run each)")
    ax.bar(x[ours] + w / 2, acc.reproduced_mean_pp[ours], w, yerr=acc.ci95_pp[ours].to_numpy(float), capsize=4,
           color=OURS_COLOR, zorder=2, label=f"reproduced (profile {profile}): mean, 95% CI over seeds")
    for xi, row in zip(x, acc.itertuples()):
        for dx, value, ci, word in ((-w / 2, row.paper_pp, 0.0, "not in paper"),
                                    (w / 2, row.reproduced_mean_pp, row.ci95_pp, "not run")):
            if np.isfinite(value):
                ax.text(xi + dx, value + np.nan_to_num(ci) + 1.5, f"{value:.1f}", ha="center", va="bottom",
                        fontsize=7.5, zorder=4)
            else:
                ax.text(xi + dx, 1.5, word, ha="center", va="bottom", fontsize=7, rotation=90, color="0.4")
    styles = {"random_init": ("0.45", "random-init floor"), "pixels": ("#2a9d8f", "raw-pixel floor")}
    for row in floors.itertuples():
        color, name = styles.get(row.floor, ("0.2", row.floor))
        ax.axhline(row.mean_pp, color=color, lw=1.5, zorder=3,
                   label=f"{name} (reproduced; band = 95% CI): {row.mean_pp:.1f}%")
        if np.isfinite(row.ci95_pp):
            ax.axhspan(row.mean_pp - row.ci95_pp, row.mean_pp + row.ci95_pp, color=color, alpha=0.12, lw=0,
                       zorder=1)
    ax.axhline(chance_pp, color="black", ls="--", lw=1.2, zorder=3, label=f"chance ({chance_pp:g}%, 8 directions)")
    ax.grid(axis="x", visible=False)
    ax.set_xticks(x, acc.variant)
    ax.set_ylim(0, 100)
    ax.set_xlabel(f"variant ({acc.regime.iloc[0]} regime)")
    ax.set_ylabel("top-1 accuracy (%)")
    ax.set_title("Synthetic motion discrimination (paper's Table 4): absolute accuracy, not deltas\n"
                 "paper: UCF-101 pretraining · reproduced: single regime (UCF-like source)", fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    first = [i for i, lab in enumerate(labels) if lab.startswith(("paper", "reproduced ("))]
    order = first + [i for i in range(len(labels)) if i not in first]  # bars first, then the reference lines
    ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=7.5, loc="upper left",
              bbox_to_anchor=(1.01, 1))
    return fig


def calibration(summary: pd.DataFrame):
    """Calibration study: per analogue, each trial's pretrained accuracy (mean, 95% CI over seeds) beside
    its random-init and raw-pixel floors; trials ordered by cost (minutes per run)."""
    order = summary.groupby("trial").minutes_per_run.first().sort_values().index.tolist()
    tasks = list(dict.fromkeys(summary.analogue))
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.4 * len(tasks), 0.42 * len(order) + 1.8), sharey=True,
                             layout="constrained")
    y = np.arange(len(order))
    for ax, task in zip(np.atleast_1d(axes), tasks):
        d = summary[summary.analogue == task].set_index("trial").loc[order]
        ci = lambda c: np.nan_to_num(d[c].to_numpy())  # noqa: E731  (single-seed screens have no CI)
        ax.errorbar(d.random_init_pp, y + 0.15, xerr=ci("random_init_ci95"), fmt="s", color="#adb5bd", capsize=3,
                    ms=5, label="random-init floor")
        ax.plot(d.pixels_pp, y, "x", color="#e76f51", ms=6, label="raw-pixel floor")
        colors = np.where(d.beats_random_init, "#2a9d8f", "#264653")
        for yi, (m, c, col) in enumerate(zip(d.pretrained_pp, ci("pretrained_ci95"), colors)):
            ax.errorbar(m, yi - 0.15, xerr=c, fmt="o", color=col, capsize=3, ms=6)
        ax.plot([], [], "o", color="#264653", label="pretrained")
        ax.plot([], [], "o", color="#2a9d8f", label="pretrained, CIs separated from init")
        ax.set_title(task)
    fig.supxlabel("probe top-1 accuracy (%)")
    first = summary.groupby("trial").first()
    axes[0].set_yticks(y, [f"{t} ({first.seeds[t]} seed{'s' if first.seeds[t] > 1 else ''}, "
                           f"{first.minutes_per_run[t]:.1f} min)" for t in order])
    axes[0].invert_yaxis()
    axes[-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    fig.suptitle("Calibration: pretrained baseline vs its floors, per trial (cheapest first)")
    return fig
