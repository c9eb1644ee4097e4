"""Arrow-of-time designs tried for the temporal (SSv2) analogue (not a test).

Each candidate pairs a clip with its exact time reversal (2 classes, identical bag of frames, stationary,
uniform positions on the torus), so only the order of frames carries the label. The question is whether
the tiny ViT, trained end to end with labels on 3,000 clips for a pretraining-sized budget (the
supervised ceiling, `jepa.ceiling`), can read that order at 32 px, 8 frames, tubelet 2, and how far the
floors (raw-pixel tokens and a random-init encoder under the analogue's attentive probe, 600 training
clips as the probes get) sit below it.

- `ripples`: rings born at random times and places spread at 1.6 px/frame while fading (drops on water),
  random contrast polarity; reversed, they gather and brighten.
- comets, a bright head with a fading tail moving head-first at ~2 px/frame vs tail-first, were tried here
  first and are now the committed design (`jepa.data.synthetic.evalsets._temporal`).

Run: nice -n 10 .venv/bin/python benchmarks/analogues.py candidate ripples
(measures it here and appends its rows to reports/benchmarks/ceilings.csv and analogue_floors.csv, keyed by a
fingerprint of the candidate's clips, so `benchmarks/analogues.py report` lists it beside the committed generator).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch

from jepa import ceiling, evaluate
from jepa.config import profile_cfg
from jepa.data.synthetic.evalsets import ClipSet, _balanced_labels, _torus_distance
from jepa.data.synthetic.render import F32, add_grey_noise, background, to_uint8


def _reverse(canvas, latents, labels, rng, names):
    back = labels == 1
    canvas = np.where(back[:, None, None, None, None], canvas[:, ::-1], canvas)
    add_grey_noise(canvas, rng, 6.0)
    latents = np.where(back[:, None, None], latents[:, ::-1], latents)
    return ClipSet(to_uint8(canvas), labels, names, "temporal", latents.astype(F32))


def ripples(n, rng, frames=8, size=32, k=4, life=5.0, speed=1.6, width=1.3) -> ClipSet:
    labels = _balanced_labels(n, 2)
    canvas = np.repeat(background(n, size, rng, level=(85.0, 170.0), saturation=0.1, gradient=25.0), frames, axis=1)
    g, t = np.arange(size, dtype=F32) + F32(0.5), np.arange(frames, dtype=F32)[None]
    lat = []
    for _ in range(k):
        age = t - rng.uniform(-life, frames, (n, 1)).astype(F32)
        alive = (age >= 0) & (age < life)
        radius = 1 + speed * np.clip(age, 0, None)
        strength = np.where(alive, 1 - age / life, 0).astype(F32)
        cx, cy = rng.uniform(0, size, (2, n, 1)).astype(F32)
        contrast = rng.uniform(60, 90, (n, 1)).astype(F32) * np.where(rng.random((n, 1)) < 0.5, F32(-1), F32(1))
        ring = np.clip(1 - np.abs(_torus_distance(g, cx, cy, size) - radius[..., None, None]) / width, 0, 1)
        canvas += (ring * (strength * contrast)[..., None, None])[..., None]
        lat.append(np.stack([radius * alive, strength], -1))
    return _reverse(canvas, np.concatenate(lat, -1), labels, rng, ["spreading", "gathering"])


CANDIDATES = {"ripples": ripples}
NOTES = {"ripples": "candidate, not adopted: ripples spreading and fading vs gathering (random polarity)"}


def measure(name: str, steps: int = 1000, seed: int = 0, head_only_steps: int = 0, encoder_lr_scale: float = 1.0,
            standardize: bool = True) -> dict:
    torch.set_num_threads(1)
    _, prof = profile_cfg("tiny")
    m, kind = prof.model, prof.probe.protocol["temporal"]
    train = CANDIDATES[name](3000, np.random.default_rng(1))
    val = CANDIDATES[name](400, np.random.default_rng(2))
    probe_train = train.subset(slice(0, 600))
    t0 = time.time()
    cfg = ceiling.CeilingCfg(steps=steps, head_only_steps=head_only_steps, encoder_lr_scale=encoder_lr_scale,
                             standardize=standardize)
    r = ceiling.analogue_ceiling(train, val, m, kind, cfg, seed)

    def floor(fn):
        data = evaluate.ProbeData(fn(probe_train.videos), torch.as_tensor(probe_train.labels), fn(val.videos),
                                  torch.as_tensor(val.labels), 2)
        return evaluate.probe_accuracy(kind, data, prof.probe)["acc"]

    encoder = evaluate.random_encoder(m, seed)
    return {"candidate": name, "ceiling_val": r["val_acc"], "ceiling_train": r["train_acc"],
            "ceiling_final_loss": r["final_loss"],
            "random_init": floor(lambda v: evaluate.encoder_tokens(encoder, v)),
            "pixels": floor(lambda v: evaluate.pixel_tokens(v, m.tubelet, m.patch)),
            "n_train": len(train), "n_val": len(val), "n_probe_train": len(probe_train), "steps": steps,
            "head_only_steps": head_only_steps, "encoder_lr_scale": encoder_lr_scale, "standardize": standardize,
            "minutes": round((time.time() - t0) / 60, 1)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("candidate", choices=sorted(CANDIDATES))
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--head-only-steps", type=int, default=0)
    ap.add_argument("--encoder-lr-scale", type=float, default=1.0)
    ap.add_argument("--standardize", action=argparse.BooleanOptionalAction, default=True,
                    help="z-score token channels before the head, as the probes do")
    args = ap.parse_args()
    json.dump(measure(args.candidate, args.steps, head_only_steps=args.head_only_steps,
                      encoder_lr_scale=args.encoder_lr_scale, standardize=args.standardize), sys.stdout)
    print()
