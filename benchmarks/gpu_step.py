"""One JEPA training step on a GPU: the paper profile's ViT-B at full size in bf16, and the tiny profile.

Synthetic input (random clips, the profile's masks), so no dataset is needed. Reports ms/step (median of
the timed steps after warm-up, CUDA-synchronised), peak GPU memory, the step's model FLOPs (forward +
backward from torch's FlopCounterMode, gradient-checkpoint recomputation not counted) and the achieved
fraction of the GPU's dense bf16 peak (default 989 TFLOP/s, the H100/H200 SXM datasheet figure;
--peak-tflops to override) and of a bf16 matmul measured in the same run. Writes
reports/benchmarks/gpu_step.csv. Run through benchmarks/gpu_check.sh; no test needs it.

    python benchmarks/gpu_step.py [--batch 8] [--steps 10] [--warmup 3] [--peak-tflops 989]
"""

from __future__ import annotations

import argparse
import copy
import csv
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch

from jepa.config import load_run
from jepa.masks import MaskGenerator, MaskPair
from jepa.train import JEPA, _ema_update, _param_groups

ROOT = Path(__file__).resolve().parents[1]
H100_H200_BF16_DENSE_TFLOPS = 989.0


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_tflops(device: torch.device, dtype=torch.bfloat16, n: int = 8192, repeats: int = 10) -> float:
    """Best achieved TFLOP/s of an n x n x n matmul (the attainable peak in this run)."""
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    a @ b
    _sync(device)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e12


def _set_checkpointing(model: torch.nn.Module, on: bool) -> None:
    for m in model.modules():
        if hasattr(m, "grad_checkpointing"):
            m.grad_checkpointing = on


def time_step(profile: str, batch: int | None, device: torch.device, steps: int, warmup: int) -> dict:
    """ms/step, peak memory and model FLOPs of one (regime single, variant baseline) training step."""
    cfg = load_run("single", "baseline", 0, profile=profile)
    m, t = cfg.profile.model, cfg.profile.train
    batch = batch or t.batch_size
    torch.manual_seed(0)
    model = JEPA(cfg).to(device)
    target = copy.deepcopy(model.encoder).requires_grad_(False).eval()
    fused = {"fused": True} if device.type == "cuda" else {}
    opt = torch.optim.AdamW(_param_groups(model, t.weight_decay), lr=t.lr, betas=t.betas, **fused)
    masks = MaskGenerator(cfg.profile.mask, m, cfg.variant.guidance, cfg.variant.future)
    bf16 = t.amp == "bf16" and device.type == "cuda"
    amp = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, m.frames, m.img_size, m.img_size, generator=gen).to(device)
    is_image = torch.zeros(batch, dtype=torch.bool, device=device)

    def pairs(i: int) -> list[MaskPair]:
        return [MaskPair(p.ctx.to(device), p.tgt.to(device)) for p in masks(x, torch.Generator().manual_seed(i))]

    def step(i: int) -> None:
        with amp:
            loss, _ = model(x, is_image, pairs(i), target, 0.75)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        _ema_update(target, model.encoder, 0.999)

    from torch.utils.flop_counter import FlopCounterMode

    model.train()
    checkpointing = m.grad_checkpointing
    _set_checkpointing(model, False)  # model FLOPs: the recomputation is not counted
    with FlopCounterMode(display=False) as counter, amp:
        loss, _ = model(x, is_image, pairs(0), target, 0.75)
        loss.backward()
    flops = float(counter.get_total_flops())
    opt.zero_grad(set_to_none=True)
    _set_checkpointing(model, checkpointing)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for i in range(warmup + steps):
        _sync(device)
        t0 = time.perf_counter()
        step(i)
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    ms = 1000 * statistics.median(times)
    peak = torch.cuda.max_memory_allocated(device) / 2 ** 30 if device.type == "cuda" else float("nan")
    return {"profile": profile, "batch": batch, "dtype": "bf16" if bf16 else "fp32",
            "grad_checkpointing": checkpointing, "tokens": m.grid[0] * m.grid[1] * m.grid[2],
            "ms_step": round(ms, 2), "ms_step_min": round(1000 * min(times), 2), "steps_timed": steps,
            "peak_mem_gib": round(peak, 2), "step_tflop": _sig(flops / 1e12),
            "achieved_tflops": _sig(flops / (ms / 1000) / 1e12)}


def _sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=8, help="paper-profile clips per step (the paper: 8 per GPU)")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--peak-tflops", type=float, default=H100_H200_BF16_DENSE_TFLOPS,
                    help="the GPU's dense bf16 peak (default: H100/H200 SXM, 989)")
    ap.add_argument("--profiles", default="paper,tiny")
    ap.add_argument("--out", default="reports/benchmarks/gpu_step.csv")
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA GPU visible to torch; nothing timed (this check runs only on a GPU machine)")
        return 0
    device = torch.device("cuda", 0)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    name = torch.cuda.get_device_name(device)
    measured = matmul_tflops(device)
    print(f"{name}: bf16 matmul {measured:.0f} TFLOP/s measured, {args.peak_tflops:.0f} TFLOP/s datasheet", flush=True)
    rows = []
    for profile in args.profiles.split(","):
        row = time_step(profile, args.batch if profile == "paper" else None, device, args.steps, args.warmup)
        row.update({"mfu": _sig(row["achieved_tflops"] / args.peak_tflops),
                    "frac_measured_matmul": _sig(row["achieved_tflops"] / measured),
                    "peak_tflops": args.peak_tflops, "matmul_tflops_measured": round(measured, 1),
                    "gpu": name, "torch": torch.__version__})
        print(row, flush=True)
        rows.append(row)
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
