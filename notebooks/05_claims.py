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
# # 05 · Claims
# Paper value vs reproduced effect (mean over seeds, 95% CI), verdict per docs/method.md ("Claims and the verdict rule"), and
# the baselines beside their floors. Synthetic results test the pipeline and the direction of
# effects, not the paper's absolute numbers on real data.

# %% tags=["parameters"]
profile = None

# %%
from jepa import paths, report
from jepa.config import load_params

params = load_params()
result = report.build(params, profile)
result["claims"]

# %%
result["floors"]

# %%
result["figures"]["claims"]

# %%
result["figures"]["floors"]

# %% [markdown]
# Per variant, paper beside reproduced: the mixed-regime appearance/temporal trade-off, every delta as a
# heatmap, and synthetic motion discrimination (the paper's Table 4) beside its floors.

# %%
result["figures"]["tradeoff"]

# %%
result["figures"]["delta_heatmap"]

# %%
result["figures"]["synthetic_motion"]
