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
# # 04 · Few-shot research questions
# `rq = "rq1"`: contrastive (ltc, infonce) vs reconstructive (ac, pixel_recon) auxiliary objectives on
# unseen verbs (EPIC-like). `rq = "rq2"`: mixed- vs single-dataset pretraining on held-out Kinetics-like
# classes. Every encoder is scored on the same saved episodes by its own stage (reports/fewshot/, git-tracked);
# this notebook reads those scores, so it loads no encoder. Contrasts are paired.

# %% tags=["parameters"]
rq = "rq1"
profile = None

# %%
from jepa import figures, paths, rq as RQ
from jepa.config import load_params, profile_cfg
from jepa.io import write_text

params = load_params()
name, prof = profile_cfg(profile)
question = RQ.QUESTIONS[rq]
per_episode = RQ.score(question, params, prof)
runs, contrasts = RQ.summarize(question, per_episode)
write_text(paths.rq_table(rq), contrasts.to_csv(index=False))
write_text(paths.rq_runs_table(rq), runs.to_csv(index=False))
write_text(paths.rq_page(rq), RQ.markdown(question, runs, contrasts, name, real=prof.data.source == "real"))
contrasts

# %%
runs

# %%
fig = figures.fewshot_runs(per_episode, f"{rq.upper()}: few-shot accuracy on held-out classes ({name})")
figures.save(fig, paths.figures_dir() / rq)
fig
