"""Diagnostic (not a test): how many dimensions do pretrained features use, vs the same encoder at init?

For every calibration run whose encoder is on disk (data/generated/calibration/runs/, written by
`dvc repro benchmarks/calibration/dvc.yaml`) and for the random initialisation of the same seed,
extracts the probe's tokens on each analogue's training clips and reports the effective rank
(exp of the entropy of the normalized singular-value spectrum, Roy & Vetterli 2007) of the tokens
and of the mean-pooled clip features. A pretrained encoder far below its init has concentrated its
features on a few directions (partial dimensional collapse), even when the feature std looks healthy.

Writes reports/benchmarks/feature_rank.csv. Run: .venv/bin/python benchmarks/feature_rank.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from jepa import evaluate
from jepa.config import BENCHMARKS
from jepa.data import eval_data
from jepa.io import write_text
from jepa.paths import benchmarks_dir, calibration_work_dir


def effective_rank(x: torch.Tensor) -> float:
    """exp(entropy) of the normalized squared singular values of the centred (N, D) matrix."""
    s = torch.linalg.svdvals(x - x.mean(0))
    p = s.square() / s.square().sum()
    return float(torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum()))


def main() -> None:
    torch.set_num_threads(2)
    work = calibration_work_dir()
    rows = []
    for enc_path in sorted(work.glob("runs/*/s*/encoder.pt")):
        trial, seed = enc_path.parts[-3].rsplit("-", 1)[0], int(enc_path.parts[-2][1:])
        pretrained = evaluate.load_encoder(enc_path)
        model_cfg = pretrained.cfg
        init = evaluate.random_encoder(model_cfg, seed)
        eval_dirs = sorted(work.glob(f"eval-{model_cfg.frames}x{model_cfg.img_size}-*"))
        if not eval_dirs:
            continue
        for task in BENCHMARKS:
            clips = eval_data.load(eval_dirs[0], task)[0]
            for name, enc in (("pretrained", pretrained), ("random_init", init)):
                tokens = evaluate.encoder_tokens(enc, clips.videos)
                rows.append({"trial": trial, "seed": seed, "analogue": task, "encoder": name,
                             "tokens_erank": effective_rank(tokens.reshape(-1, tokens.shape[-1])),
                             "pooled_erank": effective_rank(tokens.mean(1)), "dim": tokens.shape[-1]})
        print(trial, seed, flush=True)
    out = benchmarks_dir() / "feature_rank.csv"
    df = pd.DataFrame(rows)
    write_text(out, df.to_csv(index=False, float_format="%.2f"))
    print(df.groupby(["trial", "encoder"])[["tokens_erank", "pooled_erank"]].mean().round(1).to_string())
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
