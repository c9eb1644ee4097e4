# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · Frozen probes
# `source = "pretrained"`: probe the frozen target encoder of one run on every analogue.
# `source = "floors"`: probe the two floors of one seed the same way — a randomly initialised
# encoder of the same architecture, and raw pixels. A pretraining effect exists only where the
# pretrained encoder beats the random-init floor with separated CIs.

# %% tags=["parameters"]
source = "pretrained"  # "pretrained" | "floors"
regime = "single"
variant = "baseline"
seed = 0
profile = None

# %%
import pandas as pd

from jepa import evaluate, paths
from jepa.config import profile_cfg
from jepa.io import write_json

name, prof = profile_cfg(profile)
if source == "pretrained":
    results = evaluate.evaluate_pretrained(paths.run_dir(regime, variant, seed) / "encoder.pt",
                                           paths.eval_data_dir(), prof.probe)
    write_json(paths.probe_metrics(regime, variant, seed), results)
    table = pd.DataFrame(results).T[["probe", "acc"]]
elif source == "floors":
    results = evaluate.evaluate_floors(prof.model, paths.eval_data_dir(), prof.probe, seed)
    write_json(paths.floor_metrics(seed), results)
    table = pd.concat({k: pd.DataFrame(v).T[["probe", "acc"]] for k, v in results.items()}, axis=1)
else:
    raise ValueError(f"source must be 'pretrained' or 'floors', got {source!r}")
table
