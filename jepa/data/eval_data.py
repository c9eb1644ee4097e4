"""The evaluation sets every encoder is probed on: built once by the data stage, read by every probe.

On the synthetic default each paper benchmark has an analogue (docs/method.md, "Synthetic analogues"):
appearance ~ ImageNet-100, motion ~ Diving-48, temporal ~ SSv2, plus the
paper's Synthetic Motion Discrimination task (the paper's 200 clips split 160 train / 40 val;
the tiny profile keeps the 160 training clips and validates on 400, `data.synthetic_motion_train`,
so the probe's noise stays below the seed-to-seed spread without making the task easier).
"""

from __future__ import annotations

from pathlib import Path

from jepa.config import BENCHMARKS, ProfileCfg
from jepa.io import write_json
from jepa.paths import eval_set_file

# Distinct seeds per split so train and validation clips never coincide.
_SPLIT_SEED = {"train": 1_000, "val": 2_000}


def build(profile: ProfileCfg, out_dir: str | Path, seed: int = 0) -> dict:
    """Generate every analogue's train/val clips; returns (and writes) a manifest of sizes."""
    from jepa.data.synthetic import make_eval_set

    if profile.data.source != "synthetic":
        from jepa.data.real.stream import EVAL_DATASETS, REGIME_DATASETS, check_raw_data

        # Fail fast, before any training stage starts, with what is missing and where it comes from.
        check_raw_data(profile.data.root, sorted(set(REGIME_DATASETS["mixed"]) | set(EVAL_DATASETS)))
        from jepa.data.real.evalsets import build_eval_sets  # indexes -> frame caches -> the same ClipSet files

        return build_eval_sets(profile, out_dir, seed)
    out_dir = Path(out_dir)
    m, d = profile.model, profile.data
    manifest = {}
    for task in BENCHMARKS:
        if task == "synthetic_motion":
            full = make_eval_set(task, d.synthetic_motion_clips, seed, frames=m.frames, size=m.img_size)
            n_train = d.synthetic_motion_split  # the paper's 160 training clips; validation = the rest
            splits = {"train": full.subset(slice(0, n_train)), "val": full.subset(slice(n_train, None))}
        else:
            splits = {split: make_eval_set(task, getattr(d, f"eval_{split}"), seed + _SPLIT_SEED[split],
                                           frames=m.frames, size=m.img_size) for split in ("train", "val")}
        for split, clips in splits.items():
            clips.save(eval_set_file(out_dir, task, split))
        manifest[task] = {split: len(c.labels) for split, c in splits.items()} | {
            "classes": len(splits["train"].class_names)}
    write_json(out_dir / "manifest.json", manifest)
    return manifest


def load(out_dir: str | Path, task: str):
    """(train, val) ClipSets of one analogue."""
    from jepa.data.synthetic import ClipSet

    files = [eval_set_file(out_dir, task, s) for s in ("train", "val")]
    for p in files:
        if not p.exists():
            raise FileNotFoundError(f"{p}: evaluation set missing; the data stage writes it (run `dvc repro data`)")
    return tuple(ClipSet.load(p) for p in files)
