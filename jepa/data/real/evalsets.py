"""The paper profile's probe and few-shot sets, built from the official datasets via frame caches.

Probing: appearance = ImageNet-100 (train / val), motion = Diving-48 V2
(train / test), temporal = SSv2 (train / validation); the Synthetic Motion Discrimination
set stays synthetic, as in the paper. Each split is indexed by jepa.data.real.indexes, capped at
the profile's eval_train / eval_val clips (a seeded subsample, so the cap is reproducible),
decoded once into a frame cache with the evaluation protocol (uniform frames over the
segment, centre crop) and written as the ClipSet files eval_data.load reads, so the probe
stage is unchanged. Real clips have no generator latents: `latents` is (N, T, 0).

Few-shot: Kinetics-100 test classes (CMN split lists resolved to Kinetics-400
files) and EPIC-100 unseen verbs (test verbs of a verb split, HyRSM's by default).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from jepa import paths
from jepa.paths import eval_set_file
from jepa.data.real.frame_cache import ClipSpec, FrameCache, build_cache, cache_key
from jepa.data.real.indexes import read_epic100_fewshot, read_index, read_kinetics100

# task -> (dataset, official split used for probe training, official split used for validation)
EVAL_SOURCES = {"appearance": ("imagenet100", "train", "val"),
                "motion": ("diving48", "train", "test"),
                "temporal": ("ssv2", "train", "val")}
# synthetic few-shot kind -> the real set standing in for it at paper scale (also the episode-file key)
REAL_FEWSHOT_SETS = {"kinetics_like": "kinetics100_test", "epic_like": "epic100_unseen_verbs"}
FEWSHOT_RAW = {"kinetics_like": ("kinetics400", "kinetics100"), "epic_like": ("epic100",)}
EPIC_SPLIT_FILE = "fewshot_verb_split.csv"  # optional, under data/raw/epic100/; HyRSM's split otherwise


def eval_spec(profile) -> ClipSpec:
    """Evaluation protocol: model.frames frames uniformly over the segment, model.img_size centre crop."""
    return ClipSpec(profile.model.frames, profile.model.img_size, "uniform")


def class_names(index: pd.DataFrame) -> list[str]:
    """Names indexed by label id over the whole index (ids absent from it get an empty name)."""
    pairs = index.drop_duplicates("label").set_index("label")["label_name"]
    names = [""] * (int(pairs.index.max()) + 1 if len(pairs) else 0)
    for label, name in pairs.items():
        names[int(label)] = str(name)
    return names


def subsample(rows: pd.DataFrame, cap: int, seed: int) -> pd.DataFrame:
    """At most `cap` rows, drawn with a fixed seed and kept in index order."""
    if len(rows) <= cap:
        return rows.reset_index(drop=True)
    keep = np.sort(np.random.default_rng(seed).choice(len(rows), size=cap, replace=False))
    return rows.iloc[keep].reset_index(drop=True)


def per_class(rows: pd.DataFrame, n_per_class: int, seed: int) -> pd.DataFrame:
    """At most n_per_class rows of every label, seeded, in index order (few-shot pools)."""
    rng = np.random.default_rng(seed)
    keep = []
    labels = rows["label"].to_numpy()
    for label in np.unique(labels):
        positions = np.flatnonzero(labels == label)
        keep.extend(positions if len(positions) <= n_per_class else rng.choice(positions, n_per_class, replace=False))
    return rows.iloc[np.sort(np.asarray(keep, dtype=np.int64))].reset_index(drop=True)


def cached(rows: pd.DataFrame, key: str, spec: ClipSpec, cache_root: Path | None = None, workers: int = 1,
           max_bad_fraction: float = 0.01) -> FrameCache:
    """The frame cache of exactly these rows, reused when an existing one covers the same files."""
    folder = (Path(cache_root) / key) if cache_root is not None else paths.frame_cache_dir(key)
    cache = FrameCache.matching(folder, spec)
    if cache is not None and set(cache.index["path"]) | set(cache.bad_files) == set(map(str, rows["path"])):
        return cache
    build_cache(rows, folder, spec, max_bad_fraction=max_bad_fraction, workers=workers)
    return FrameCache(folder)


def _clip_set(cache: FrameCache, names: list[str], task: str):
    from jepa.data.synthetic import ClipSet

    videos = cache.clips()
    return ClipSet(videos=videos, labels=cache.labels.copy(), class_names=names, task=task,
                   latents=np.zeros((len(videos), cache.spec.frames, 0), np.float32))


def build_eval_sets(profile, out_dir: str | Path, seed: int = 0, cache_root: str | Path | None = None,
                    workers: int = 1) -> dict:
    """Write {task}_{train,val}.npz for every benchmark and manifest.json; returns the manifest."""
    from jepa.data.synthetic import make_eval_set
    from jepa.io import write_json

    out_dir = Path(out_dir)
    spec, d = eval_spec(profile), profile.data
    manifest: dict = {}
    for task, (dataset, train_split, val_split) in EVAL_SOURCES.items():
        index = read_index(dataset, Path(d.root) / dataset, splits=[train_split, val_split])
        names = class_names(index)
        sets, bad = {}, {}
        for split, source_split, cap, offset in (("train", train_split, d.train_clips(task), 1_000),
                                                 ("val", val_split, d.eval_val, 2_000)):
            rows = subsample(index[index["split"] == source_split], cap, seed + offset)
            if rows.empty:
                raise ValueError(f"{dataset} under {Path(d.root) / dataset} has no {source_split} clips; "
                                 f"the {task} probe needs them")
            cache = cached(rows, f"{cache_key(dataset, source_split, spec)}-n{len(rows)}-seed{seed}", spec,
                           Path(cache_root) if cache_root else None, workers)
            sets[split] = _clip_set(cache, names, task)
            bad.update(cache.bad_files)
        for split, clips in sets.items():
            clips.save(eval_set_file(out_dir, task, split))
        manifest[task] = {"train": len(sets["train"]), "val": len(sets["val"]), "classes": len(names),
                          "dataset": dataset, "bad_files_skipped": len(bad), "bad_files": sorted(bad)}
    full = make_eval_set("synthetic_motion", d.synthetic_motion_clips, seed, frames=profile.model.frames,
                         size=profile.model.img_size)
    n_train = d.synthetic_motion_split  # as on the synthetic default
    for split, part in (("train", slice(0, n_train)), ("val", slice(n_train, None))):
        full.subset(part).save(eval_set_file(out_dir, "synthetic_motion", split))
    manifest["synthetic_motion"] = {"train": n_train, "val": len(full.labels) - n_train,
                                    "classes": len(full.class_names), "dataset": "synthetic"}
    write_json(out_dir / "manifest.json", manifest)
    return manifest


def fewshot_index(kind: str, root: str | Path) -> pd.DataFrame:
    """Test-side rows of the real few-shot set standing in for synthetic `kind`."""
    root = Path(root)
    if kind == "kinetics_like":
        split_dir = root / "kinetics100"
        return read_kinetics100(root / "kinetics400", split_dir if split_dir.is_dir() else None, splits="test")
    if kind == "epic_like":
        split_file = root / "epic100" / EPIC_SPLIT_FILE
        return read_epic100_fewshot(root / "epic100", split_file if split_file.is_file() else None, splits="test")
    raise ValueError(f"unknown few-shot set {kind!r}; expected one of {sorted(REAL_FEWSHOT_SETS)}")


def fewshot_clips(kind: str, profile, n_per_class: int = 20, seed: int = 0, cache_root: str | Path | None = None,
                  workers: int = 1):
    """ClipSet of at most n_per_class clips of every few-shot test class, decoded through a frame cache."""
    from jepa.data.real.stream import check_raw_data

    if kind not in REAL_FEWSHOT_SETS:
        raise ValueError(f"unknown few-shot set {kind!r}; expected one of {sorted(REAL_FEWSHOT_SETS)}")
    check_raw_data(profile.data.root, FEWSHOT_RAW[kind])
    index = fewshot_index(kind, profile.data.root)
    if index.empty:
        raise ValueError(f"{REAL_FEWSHOT_SETS[kind]}: no test clips found under {profile.data.root}")
    rows = per_class(index, n_per_class, seed)
    spec = eval_spec(profile)
    cache = cached(rows, f"{REAL_FEWSHOT_SETS[kind]}-{spec.tag}-k{n_per_class}-seed{seed}", spec,
                   Path(cache_root) if cache_root else None, workers)
    return _clip_set(cache, class_names(index), REAL_FEWSHOT_SETS[kind])
