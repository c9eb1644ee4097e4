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
# # 02 · Pretraining one run
# One (regime, variant, seed) run of V-JEPA with the variant's auxiliary objectives. Resumes from
# its last checkpoint (checkpoints/RUN_ID/CONFIG_HASH, kept outside DVC's outputs) if one exists. Curves go to dvclive (`dvc plots show`).

# %% tags=["parameters"]
regime = "single"
variant = "baseline"
seed = 0
profile = None  # None: the profile named in params.yaml

# %%
from jepa import paths
from jepa.config import load_run
from jepa.io import write_json
from jepa.train import config_hash, pretrain

cfg = load_run(regime, variant, seed, profile)
print(cfg.variant.description or variant, "|", cfg.profile_name, "profile")
summary = pretrain(cfg, paths.run_dir(regime, variant, seed), paths.live_dir(regime, variant, seed),
                   ckpt_dir=paths.checkpoint_dir(regime, variant, seed, config_hash(cfg)))
write_json(paths.pretrain_metrics(regime, variant, seed), summary)
summary

# %%
import pandas as pd
import seaborn as sns

curve = pd.read_csv(paths.live_dir(regime, variant, seed) / "plots" / "metrics" / "train" / "loss.tsv", sep="\t")
# export: init variants run no step (their exported encoder is the init copy): one point, at step 0
ax = sns.lineplot(curve, x="step", y="loss", marker="o" if len(curve) == 1 else None)
ax.set(xlabel="training step", ylabel="total loss", title=cfg.run_id);
