"""Training-step throughput of our tubelet ViT against a plain timm VisionTransformer, side by side.

Same width, depth, heads and number of tokens; one step = forward + backward + AdamW on a batch.
Measurements alternate between the two models (so load drift on a shared machine hits both) and
report the median. The full JEPA step (context encoder + predictor + EMA target) is listed for
reference. Writes reports/benchmarks/throughput.csv.

    python benchmarks/throughput.py [--profile tiny] [--repeats 15] [--threads 2]
"""

from __future__ import annotations

import argparse
import copy
import csv
import platform
import statistics
import time
from pathlib import Path

import torch
from timm.models.vision_transformer import VisionTransformer

from jepa.config import load_run
from jepa.masks import MaskGenerator
from jepa.models.vit import VideoViT
from jepa.train import JEPA


def _timed(step) -> float:
    t0 = time.perf_counter()
    step()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="tiny")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="reports/benchmarks/throughput.csv")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = load_run("single", "baseline", 0, profile=args.profile)
    m, b = cfg.profile.model, cfg.profile.train.batch_size
    t, h, w = m.grid
    clip = torch.randn(b, 3, m.frames, m.img_size, m.img_size)

    ours = VideoViT(m)
    # timm reference: an image ViT whose patch grid has as many tokens as our tubelet grid
    side = int(round((t * h * w) ** 0.5))
    assert side * side == t * h * w, "token count must be a square for the image reference"
    ref = VisionTransformer(img_size=side * m.patch, patch_size=m.patch, in_chans=3 * m.tubelet, embed_dim=m.embed_dim,
                            depth=m.depth, num_heads=m.heads, mlp_ratio=m.mlp_ratio, class_token=False,
                            global_pool="avg", num_classes=0, qkv_bias=True)
    image = torch.randn(b, 3 * m.tubelet, side * m.patch, side * m.patch)

    def make_step(model, inputs, forward):
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

        def step():
            loss = forward(model, inputs)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return step

    ours_step = make_step(ours, clip, lambda mod, x: mod(x)[0].square().mean())
    ref_step = make_step(ref, image, lambda mod, x: mod.forward_features(x).square().mean())

    jepa = JEPA(cfg)
    target = copy.deepcopy(jepa.encoder).requires_grad_(False)
    masks = MaskGenerator(cfg.profile.mask, m)
    jepa_opt = torch.optim.AdamW(jepa.parameters(), lr=1e-4)

    def jepa_step():
        pairs = masks(clip, torch.Generator().manual_seed(0))
        loss, _ = jepa(clip, torch.zeros(b, dtype=torch.bool), pairs, target, 0.0)
        jepa_opt.zero_grad(set_to_none=True)
        loss.backward()
        jepa_opt.step()

    for step in (ours_step, ref_step, jepa_step):  # warm-up
        step(), step()
    times = {"ours_encoder": [], "timm_vit": [], "jepa_full_step": []}
    for _ in range(args.repeats):
        times["ours_encoder"].append(_timed(ours_step))
        times["timm_vit"].append(_timed(ref_step))
        times["jepa_full_step"].append(_timed(jepa_step))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["timm_vit"] / med["ours_encoder"]  # throughput ours / throughput timm
    rows = [{"model": k, "profile": args.profile, "batch": b, "tokens": t * h * w, "width": m.embed_dim,
             "depth": m.depth, "median_ms": round(1000 * v, 2), "clips_per_s": round(b / v, 1),
             "throughput_ratio_vs_timm": round(ratio, 3) if k == "ours_encoder" else "",
             "threads": args.threads, "machine": f"{platform.machine()} {torch.get_num_threads()} threads"}
            for k, v in med.items()]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for r in rows:
        print(f"{r['model']:16s} {r['median_ms']:8.1f} ms/step  {r['clips_per_s']:7.1f} clips/s")
    print(f"throughput ours / timm = {ratio:.3f} (target >= 0.9); wrote {out}")


if __name__ == "__main__":
    main()
