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
# `source = "random_init"`: the same probes on a randomly initialised encoder of the same
# architecture (one per seed); `source = "pixels"`: on raw tubelet pixels. A pretraining effect
# exists only where the pretrained encoder beats the random-init floor with separated CIs.

# %% tags=["parameters"]
source = "pretrained"  # "pretrained" | "random_init" | "pixels"
regime = "single"
variant = "baseline"
seed = 0
profile = None

# %%
import pandas as pd

from jepa import evaluate, paths
from jepa.config import profile_cfg
from jepa.data import eval_data
from jepa.io import write_json

name, prof = profile_cfg(profile)
# the data stage's sets, rebuilt (deterministically, checked against its manifest) where this checkout lacks them
eval_data.ensure(prof, paths.eval_data_dir(), paths.eval_manifest())
if source == "pretrained":
    results = evaluate.evaluate_pretrained(paths.run_dir(regime, variant, seed) / "encoder.pt",
                                           paths.eval_data_dir(), prof.probe)
    write_json(paths.probe_metrics(regime, variant, seed), results)
elif source == "random_init":
    results = evaluate.evaluate_random_init(prof.model, paths.eval_data_dir(), prof.probe, seed)
    write_json(paths.floor_metrics("random_init", seed), results)
elif source == "pixels":
    results = evaluate.evaluate_pixels(prof.model, paths.eval_data_dir(), prof.probe)
    write_json(paths.floor_metrics("pixels"), results)
else:
    raise ValueError(f"source must be 'pretrained', 'random_init' or 'pixels', got {source!r}")
pd.DataFrame(results).T[["probe", "acc", "accs"]]
