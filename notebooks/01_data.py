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
# # 01 · Evaluation data
# Builds the evaluation sets every encoder is probed on. On the synthetic default each paper
# benchmark has an analogue (docs/method.md, "Synthetic analogues"): appearance ~ ImageNet-100, motion ~ Diving-48,
# temporal ~ SSv2, and the paper's Synthetic Motion Discrimination task.

# %% tags=["parameters"]
profile = None  # None: the profile named in params.yaml

# %%
from jepa import figures, paths
from jepa.config import BENCHMARKS, profile_cfg
from jepa.data import eval_data

name, prof = profile_cfg(profile)
manifest = eval_data.build(prof, paths.eval_data_dir())
eval_data.write_manifest(manifest, paths.eval_data_dir(), paths.eval_manifest())  # what a clone regenerates
print(f"profile {name}:")
manifest

# %%
examples = {task: eval_data.load(paths.eval_data_dir(), task)[0] for task in BENCHMARKS}
fig = figures.clip_examples(examples)
figures.save(fig, paths.figures_dir() / "data_examples")
fig
