"""One cold regeneration of the default beside an earlier one, per pretraining run (not a test).

After `scripts/repro` on a fresh clone, reports/training.csv holds each run's wall seconds, ms/step and final
loss. This sets them beside the same file at an earlier commit (the previous cold run): the step's speed on the
two VMs, and whether every run's final loss is bit-for-bit the same (it must be, unless the recipe changed).
Writes reports/benchmarks/cold_repro.csv and prints the medians.

  .venv/bin/python benchmarks/cold_repro.py --earlier <commit whose reports/training.csv is the earlier cold run>
"""

from __future__ import annotations

import argparse
import io
import subprocess

import pandas as pd

from jepa.config import load_params
from jepa.paths import benchmarks_dir, reports_dir, root

KEY = ["regime", "variant", "seed"]


def compare(now: pd.DataFrame, earlier: pd.DataFrame) -> pd.DataFrame:
    """Per run: today's seconds, ms/step and final loss, the earlier ms/step, and whether the final loss is equal."""
    both = now[KEY + ["seconds", "ms_per_step", "final_loss"]].merge(
        earlier[KEY + ["ms_per_step", "final_loss"]].rename(
            columns={"ms_per_step": "ms_per_step_earlier_cold", "final_loss": "final_loss_earlier"}),
        on=KEY, how="left")
    both["same_final_loss"] = both.final_loss == both.final_loss_earlier
    return both.drop(columns="final_loss_earlier")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--earlier", required=True, help="git commit holding the earlier cold run's reports/training.csv")
    args = ap.parse_args()
    run = load_params().run  # the runs `dvc repro` trains (training.csv also lists the committed sweep's)
    now = pd.read_csv(reports_dir() / "training.csv")
    now = now[[v in getattr(run, r) and s in run.seeds for r, v, s in zip(now.regime, now.variant, now.seed)]]
    text = subprocess.run(["git", "show", f"{args.earlier}:reports/training.csv"], cwd=root(), check=True,
                          capture_output=True, text=True).stdout
    table = compare(now, pd.read_csv(io.StringIO(text)))
    out = benchmarks_dir() / "cold_repro.csv"
    tmp = out.with_suffix(".tmp")
    table.to_csv(tmp, index=False)
    tmp.replace(out)
    print(table.to_string())
    print(f"runs {len(table)}; pretraining {table.seconds.sum():.0f} s; median ms/step {table.ms_per_step.median():.1f} "
          f"({table.ms_per_step.min():.1f}-{table.ms_per_step.max():.1f}); earlier median "
          f"{table.ms_per_step_earlier_cold.median():.1f}; final loss equal in {int(table.same_final_loss.sum())} of {len(table)}")


if __name__ == "__main__":
    main()
