"""Throughput of the procedural synthetic video (jepa.data.synthetic).

Measures clips/s of every pretraining source and of both regimes, the time of one
`sample_regime("mixed", 32)` batch (target: < 30 ms on one core, next to a ~100 ms training
step) and the build time of every evaluation analogue; writes reports/benchmarks/synthetic.csv.

    python benchmarks/synthetic.py [--repeats 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import time
from pathlib import Path


def _best_of(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm-up (imports, caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="reports/benchmarks/synthetic.csv")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np
    from threadpoolctl import threadpool_limits

    from jepa.data import synthetic as S

    rows = []
    rng = np.random.default_rng(0)
    batch, frames, size = 32, 8, 32
    with threadpool_limits(args.threads):
        for name in ("ucf_like", "ssv2_like", "image_like"):
            src = S.make_source(name, frames, size)
            best, median = _best_of(lambda: src.sample(batch, rng), args.repeats)
            rows.append(("source", name, batch, frames, size, best * 1e3, median * 1e3, batch / median))
        for regime in ("single", "mixed"):
            best, median = _best_of(lambda: S.sample_regime(regime, batch, rng, frames, size), args.repeats)
            rows.append(("regime", regime, batch, frames, size, best * 1e3, median * 1e3, batch / median))
        best, median = _best_of(lambda: S.sample_regime("mixed", batch, rng, 16, 64), max(3, args.repeats // 4))
        rows.append(("regime", "mixed", batch, 16, 64, best * 1e3, median * 1e3, batch / median))
        for task, n in (("appearance", 400), ("motion", 400), ("temporal", 400), ("synthetic_motion", 200)):
            best, median = _best_of(lambda: S.make_eval_set(task, n, 0, frames, size), 2)
            rows.append(("eval_set", task, n, frames, size, best * 1e3, median * 1e3, n / median))

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    header = ("kind", "name", "clips", "frames", "size", "best_ms", "median_ms", "clips_per_s")
    with open(out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header + ("threads", "machine"))
        for r in rows:
            writer.writerow([*r[:5], f"{r[5]:.2f}", f"{r[6]:.2f}", f"{r[7]:.1f}", args.threads,
                             f"{platform.machine()} {os.cpu_count()} cpus"])
    for r in rows:
        print(f"{r[0]:9s} {r[1]:17s} n={r[2]:4d} T={r[3]:2d} {r[4]:3d}px  best {r[5]:8.1f} ms  "
              f"median {r[6]:8.1f} ms  {r[7]:8.0f} clips/s")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
