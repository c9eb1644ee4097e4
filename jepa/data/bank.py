"""Clip bank: a regime's synthetic pretraining batches rendered once, read back memory-mapped.

Rendering a tiny-profile batch costs about a third of a training step and would otherwise run
inside the loop on the training threads, once per variant. The bank renders every step's global
batch of one (regime, seed) once, as uint8, and every variant of that regime and seed reads it:
variants see identical clips and the loop reads instead of rendering.

The bank is only a cache of `jepa.data.stream.synthetic_batch`: step s of the bank is byte-equal to
what the generator yields for (regime, seed, s), steps past the bank's end are rendered on the fly,
and a bank whose key (regime, seed, batch, frames, size, weights, generator source) does not match
the run is ignored, so results never depend on whether a bank exists. Disk: steps x batch x frames x
size^2 x 3 bytes (tiny profile: 1000 x 32 x 8 x 32 x 32 x 3 = 786 MB per regime and seed).

    python -m jepa.data.bank --regime single --seed 0 [--profile tiny] [--out DIR]

Without --out it also writes the bank's meta.json to data/manifests/clips-REGIME-sSEED.json (git-tracked):
pretraining stages depend on that record, not on the bank, so a clone without banks still trains (rendering).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from jepa.data.clips import to_model_input
from jepa.io import write_json

FORMAT = 1
# The files whose code decides what a batch contains; a change to any of them invalidates a bank.
_GENERATOR_FILES = ("stream.py", "clips.py", "synthetic/__init__.py", "synthetic/catalogue.py",
                    "synthetic/evalsets.py", "synthetic/render.py", "synthetic/scenes.py", "synthetic/sources.py")


def generator_fingerprint() -> str:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in _GENERATOR_FILES:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes())
    return digest.hexdigest()[:16]


def bank_key(regime: str, seed: int, batch_size: int, frames: int, size: int,
             weights: dict[str, float] | None) -> dict:
    """What a bank must match to stand in for the generator (weights count only in the mixed regime)."""
    return {"format": FORMAT, "regime": regime, "seed": int(seed), "batch_size": int(batch_size),
            "frames": int(frames), "size": int(size),
            "weights": dict(sorted(weights.items())) if regime == "mixed" and weights else None,
            "generator": generator_fingerprint()}


def write_bank(out: str | Path, regime: str, seed: int, steps: int, batch_size: int, frames: int, size: int,
               weights: dict[str, float] | None = None, progress: bool = False) -> Path:
    """Render steps 0..steps-1 into out/ (clips.npy uint8 (steps, B, T, H, W, 3), is_image.npy, meta.json).

    Written into a temporary sibling folder and renamed into place, so a crash never leaves a bank
    that a run would trust; an existing bank at `out` is replaced, any other folder is refused."""
    from jepa.data.stream import synthetic_clips

    out = Path(out)
    _check_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        clips = np.lib.format.open_memmap(tmp / "clips.npy", mode="w+", dtype=np.uint8,
                                          shape=(steps, batch_size, frames, size, size, 3))
        is_image = np.zeros((steps, batch_size), dtype=bool)
        for step in range(steps):
            clips[step], is_image[step] = synthetic_clips(regime, step, seed, batch_size, frames, size, weights)
            if progress and (step + 1) % 100 == 0:
                print(f"{out.name}: {step + 1}/{steps} steps", flush=True)
        clips.flush()
        del clips
        np.save(tmp / "is_image.npy", is_image)
        meta = {**bank_key(regime, seed, batch_size, frames, size, weights), "steps": int(steps)}
        write_json(tmp / "meta.json", meta)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out


def _check_replaceable(out: Path) -> None:
    """Only a folder this module wrote (it has meta.json) may be replaced."""
    if out.exists() and not (out / "meta.json").exists():
        raise FileExistsError(f"{out}: exists and is not a clip bank (no meta.json); refusing to overwrite it")


def write_empty(out: str | Path, reason: str) -> Path:
    """A profile without synthetic pretraining still gets the stage's output folder (no clips, so never used)."""
    out = Path(out)
    _check_replaceable(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    write_json(out / "meta.json", {"format": FORMAT, "empty": reason})
    return out


class ClipBank:
    """A written bank, memory-mapped read-only."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.meta = json.loads((self.path / "meta.json").read_text())
        self.clips = np.load(self.path / "clips.npy", mmap_mode="r")
        self.is_image = np.load(self.path / "is_image.npy")

    def __len__(self) -> int:
        return len(self.clips)

    @classmethod
    def open_matching(cls, path: str | Path, key: dict) -> "ClipBank | None":
        """The bank at `path` if it exists and was written for exactly this key, else None."""
        meta_path = Path(path) / "meta.json"
        if not meta_path.exists():
            return None
        meta = json.loads(meta_path.read_text())
        if meta.get("empty") or {k: meta.get(k) for k in key} != key:
            return None
        return cls(path)

    def batch(self, step: int, rows: slice) -> tuple[torch.Tensor, torch.Tensor]:
        """The same (clip, is_image) as the generator's global batch of `step`, sliced to `rows`."""
        videos = np.array(self.clips[step, rows])  # copy out of the read-only map
        return to_model_input(videos), torch.as_tensor(self.is_image[step, rows].copy(), dtype=torch.bool)


def bank_stream(bank: ClipBank, start_step: int, rank: int, world_size: int,
                after: Iterator | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Serve steps from the bank; past its end, continue with `after` (a generator stream starting there)."""
    per = bank.meta["batch_size"] // world_size
    rows = slice(rank * per, (rank + 1) * per)
    step = start_step
    while step < len(bank):
        yield bank.batch(step, rows)
        step += 1
    if after is not None:
        yield from after


def main(argv: list[str] | None = None) -> int:
    from jepa import paths
    from jepa.config import ConfigError, profile_cfg

    ap = argparse.ArgumentParser(description="Render one (regime, seed) clip bank for pretraining.")
    ap.add_argument("--regime", required=True, choices=["single", "mixed"])
    ap.add_argument("--seed", required=True, type=int)
    ap.add_argument("--profile", default=None, help="profile name (default: the one params.yaml selects)")
    ap.add_argument("--out", default=None, help="bank folder (default: data/generated/clips/REGIME-sSEED)")
    args = ap.parse_args(argv)
    try:
        name, prof = profile_cfg(args.profile)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else paths.clip_bank_dir(args.regime, args.seed)
    if prof.data.source != "synthetic":
        write_empty(out, f"profile {name} pretrains on data.source={prof.data.source}")
        print(f"{out}: profile {name} does not pretrain on synthetic clips; wrote an empty bank")
    else:
        m, t = prof.model, prof.train
        write_bank(out, args.regime, args.seed, t.steps, t.batch_size, m.frames, m.img_size,
                   prof.data.mixed_weights, progress=True)
        print(f"{out}: {t.steps} steps x {t.batch_size} clips ({(out / 'clips.npy').stat().st_size / 1e6:.0f} MB)")
    if not args.out:
        write_json(paths.clip_bank_manifest(args.regime, args.seed), json.loads((out / "meta.json").read_text()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

def banked_stream(bank_dir, regime: str, seed: int, batch_size: int, frames: int, size: int, start_step: int = 0,
                  weights: dict[str, float] | None = None, rank: int = 0,
                  world_size: int = 1) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """`synthetic_stream`, read from the clip bank at `bank_dir` where one matches (jepa.data.bank).

    Yields exactly the batches `synthetic_stream` would: the bank holds the generator's own output,
    steps past its end are rendered, and without a matching bank every step is rendered."""
    from jepa.data.stream import synthetic_stream

    if batch_size % world_size:
        raise ValueError(f"global batch_size {batch_size} is not divisible by world_size {world_size}")
    bank = ClipBank.open_matching(bank_dir, bank_key(regime, seed, batch_size, frames, size, weights))
    if bank is None or start_step >= len(bank):
        return synthetic_stream(regime, seed, batch_size, frames, size, start_step, weights, rank, world_size)
    after = synthetic_stream(regime, seed, batch_size, frames, size, len(bank), weights, rank, world_size)
    return bank_stream(bank, start_step, rank, world_size, after)
