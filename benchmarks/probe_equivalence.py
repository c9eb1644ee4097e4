"""Probe seeds one at a time (`fit_probe`) against trained together (`fit_probes`) on one trained encoder.

The two paths are the same math with a different floating-point summation order (batched products,
re-associated attention pooling); this reports, per analogue and probe seed, both accuracies, the
largest difference of the validation logits and how many validation predictions differ. Writes
reports/benchmarks/probe_equivalence.csv.

    python benchmarks/probe_equivalence.py --encoder runs/single/baseline/s0/encoder.pt [--eval data/generated/eval]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import torch

from jepa import evaluate
from jepa.data import eval_data
from jepa.config import BENCHMARKS, profile_cfg

ROOT = Path(__file__).resolve().parents[1]


def compare(encoder_path: str | Path, eval_dir: str | Path, profile: str | None, tasks: list[str]) -> list[dict]:
    _, prof = profile_cfg(profile)
    cfg = prof.probe
    encoder = evaluate.load_encoder(encoder_path)
    rows = []
    for task in tasks:
        train, val = eval_data.load(eval_dir, task)
        data = evaluate._standardize(evaluate.ProbeData(
            evaluate.encoder_tokens(encoder, train.videos), torch.as_tensor(train.labels),
            evaluate.encoder_tokens(encoder, val.videos), torch.as_tensor(val.labels), len(train.class_names)))
        kind = cfg.protocol[task]
        t0 = time.perf_counter()
        together = evaluate.fit_probes(kind, data, cfg, cfg.seeds)
        t_together = time.perf_counter() - t0
        for i, seed in enumerate(cfg.seeds):
            t0 = time.perf_counter()
            probe = evaluate.fit_probe(kind, data, cfg, seed)
            t_alone = time.perf_counter() - t0
            with torch.no_grad():
                alone = torch.cat([probe(chunk) for chunk in data.val.split(256)])
            pred_alone, pred_together = alone.argmax(-1), together[i].argmax(-1)
            rows.append({"task": task, "probe": kind, "seed": seed, "epochs": cfg.epochs,
                         "acc_alone": float((pred_alone == data.val_y).float().mean()),
                         "acc_together": float((pred_together == data.val_y).float().mean()),
                         "max_abs_logit_diff": float((alone - together[i]).abs().max()),
                         "max_abs_logit": float(alone.abs().max()),
                         "preds_differ": int((pred_alone != pred_together).sum()), "n_val": len(data.val),
                         "s_alone": round(t_alone, 2), "s_together_per_seed": round(t_together / len(cfg.seeds), 2)})
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--encoder", required=True, help="an encoder.pt of a pretrain stage")
    ap.add_argument("--eval", default=None, help="the data stage's eval sets (default: data/generated/eval)")
    ap.add_argument("--profile", default=None)
    ap.add_argument("--tasks", default=",".join(BENCHMARKS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--note", default="", help="what the encoder is (written in every row)")
    ap.add_argument("--out", default="reports/benchmarks/probe_equivalence.csv")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from jepa import paths

    rows = [{"encoder": args.note or str(args.encoder), **r}
            for r in compare(args.encoder, args.eval or paths.eval_data_dir(), args.profile, args.tasks.split(","))]
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
