"""Median cost of one tiny training step (masks + forward + backward + AdamW + EMA) for the code on PYTHONPATH.

Run it alternately against two checkouts to compare a change side by side (CPU time is steadier
than wall time on a shared machine; one thread keeps the threads from waiting on each other):

    git archive <base> | tar -x -C /tmp/base
    for r in 1 2 3 4 5 6; do
      (cd /tmp/base && PYTHONPATH=$PWD python $OLDPWD/benchmarks/step_cost.py single baseline)
      PYTHONPATH=$PWD python benchmarks/step_cost.py single baseline
    done

or, in one checkout, alternately for two calibration trials (`--trial NAME` applies that trial's overrides
from params.yaml's `calibration.trials` to the study's base, as the calibration study trains it).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch

from jepa import calibrate
from jepa.config import load_params, load_run
from jepa.masks import MaskGenerator
from jepa.train import JEPA, _ema_update


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("regime")
    ap.add_argument("variant")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--profile", default="tiny")
    ap.add_argument("--trial", help="a calibration trial: its overrides on the study's base profile")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_run(args.regime, args.variant, 0, profile=args.profile)
    if args.trial:
        params = load_params()
        profile = calibrate.apply_overrides(calibrate.study_base(params), params.calibration.trials[args.trial].overrides)
        cfg = cfg.model_copy(update={"profile": profile})
    torch.manual_seed(0)
    model = JEPA(cfg)
    target_encoder = copy.deepcopy(model.encoder).requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    m, b = cfg.profile.model, cfg.profile.train.batch_size
    x = torch.randn(b, 3, m.frames, m.img_size, m.img_size, generator=torch.Generator().manual_seed(0))
    is_image = torch.zeros(b, dtype=torch.bool)
    masks = MaskGenerator(cfg.profile.mask, m, cfg.variant.guidance, cfg.variant.future)
    wall, cpu = [], []
    for i in range(args.steps + 2):  # two warm-up steps
        t0, c0 = time.perf_counter(), time.process_time()
        loss, _ = model(x, is_image, masks(x, torch.Generator().manual_seed(i)), target_encoder, 0.75)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        _ema_update(target_encoder, model.encoder, 0.999)
        if i >= 2:
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    print(f"{args.regime} {args.variant}{' ' + args.trial if args.trial else ''}: wall {1000 * statistics.median(wall):.1f} ms, "
          f"cpu {1000 * statistics.median(cpu):.1f} ms (median of {args.steps})")


if __name__ == "__main__":
    main()
