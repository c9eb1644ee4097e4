"""The evaluation sets every encoder is probed on: built once by the data stage, read by every probe.

On the synthetic default each paper benchmark has an analogue (docs/method.md, "Synthetic analogues"):
appearance ~ ImageNet-100, motion ~ Diving-48, temporal ~ SSv2, plus the
paper's Synthetic Motion Discrimination task (the paper's 200 clips split 160 train / 40 val;
the tiny profile keeps the 160 training clips and validates on 400, `data.synthetic_motion_train`,
so the probe's noise stays below the seed-to-seed spread without making the task easier).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from jepa.config import BENCHMARKS, ProfileCfg
from jepa.errors import ConfigError
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
            sizes = {"train": d.train_clips(task), "val": d.eval_val}
            splits = {split: make_eval_set(task, sizes[split], seed + _SPLIT_SEED[split],
                                           frames=m.frames, size=m.img_size) for split in ("train", "val")}
        for split, clips in splits.items():
            clips.save(eval_set_file(out_dir, task, split))
        manifest[task] = {split: len(c.labels) for split, c in splits.items()} | {
            "classes": len(splits["train"].class_names)}
    write_json(out_dir / "manifest.json", manifest)
    return manifest


def fingerprint(out_dir: str | Path) -> dict[str, str]:
    """sha256 (16 hex digits) of the arrays of every analogue's train/val file; 'missing' for an absent file.

    Of the arrays, not the .npz bytes: the zip container stamps its entries with the time of writing."""
    out = {}
    for task in BENCHMARKS:
        for split in ("train", "val"):
            path = eval_set_file(out_dir, task, split)
            if not path.exists():
                out[path.name] = "missing"
                continue
            digest = hashlib.sha256()
            with np.load(path, allow_pickle=False) as z:
                for key in sorted(z.files):
                    a = np.ascontiguousarray(z[key])
                    digest.update(f"{key}:{a.dtype.str}:{a.shape}".encode())
                    digest.update(a.tobytes())
            out[path.name] = digest.hexdigest()[:16]
    return out


def write_manifest(manifest: dict, out_dir: str | Path, path: str | Path) -> dict:
    """The git-tracked record of what the evaluation sets hold: build's sizes plus every file's fingerprint.

    Probe stages depend on this small file instead of the sets themselves, so a clone without the sets (they
    are not in git) regenerates them (`ensure`) and knows they are the ones every committed result saw."""
    record = {"sets": manifest, "fingerprints": fingerprint(out_dir)}
    write_json(path, record)
    return record


def ensure(profile: ProfileCfg, out_dir: str | Path, manifest_path: str | Path, seed: int = 0) -> Path:
    """The evaluation sets at `out_dir`, regenerated (`build`, deterministic) when missing or not the recorded ones.

    Raises ConfigError when the regenerated sets still differ from `manifest_path` (written by the data stage)."""
    manifest_path, out_dir = Path(manifest_path), Path(out_dir)
    if not manifest_path.exists():
        raise ConfigError(f"{manifest_path}: no evaluation-set manifest; the data stage writes it (run `dvc repro data`)")
    expected = json.loads(manifest_path.read_text())["fingerprints"]
    if fingerprint(out_dir) == expected:
        return out_dir
    build(profile, out_dir, seed)
    got = fingerprint(out_dir)
    if got != expected:
        differ = sorted(name for name in expected if got.get(name) != expected[name])
        raise ConfigError(f"{manifest_path}: the regenerated evaluation sets differ from the recorded ones "
                          f"({', '.join(differ)}); the manifest belongs to another profile or generator version: "
                          "rerun `dvc repro data` (every probe then reruns)")
    return out_dir


def load(out_dir: str | Path, task: str):
    """(train, val) ClipSets of one analogue."""
    from jepa.data.synthetic import ClipSet

    files = [eval_set_file(out_dir, task, s) for s in ("train", "val")]
    for p in files:
        if not p.exists():
            raise FileNotFoundError(f"{p}: evaluation set missing; the data stage writes it (run `dvc repro data`)")
    return tuple(ClipSet.load(p) for p in files)
