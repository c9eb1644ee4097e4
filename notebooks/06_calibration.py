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
# # 06 · Calibration study: when does the tiny V-JEPA beat its random init?
# Every trial of `calibration.trials` (params.yaml) = the base profile plus a few overrides. Each
# pretrains the baseline, probes it with the profile's protocol and stands beside its floors (the same
# architecture at the same initialisation, and raw pixels). All trials are screened on one seed; the
# finalists run 3 seeds. A trial *learns* on an analogue when the 95% CIs over seeds of pretrained and
# random-init accuracy do not overlap. Finished (trial, seed) results are cached in
# `reports/calibration/trials/` by a hash of their resolved config. The study starts from the base
# profile with `calibration.base_overrides` (the recipe before the study); the trial the rule chooses
# is adopted into the base profile by hand (`calibration.adopted`; a test checks the two agree).

# %% tags=["parameters"]
progress = True

# %%
import pandas as pd

from jepa import calibrate, figures
from jepa.config import load_params
from jepa.io import write_json, write_text
from jepa.paths import calibration_dir, calibration_trials_dir, calibration_work_dir

out = calibration_dir()
params = load_params()
rows = calibrate.run_study(params, calibration_trials_dir(), calibration_work_dir(), progress)
overrides = {k: t.overrides for k, t in params.calibration.trials.items()}
summary = calibrate.summarize(rows, calibrate.committed_ceilings(calibrate.study_base(params), params.calibration.base),
                             overrides)
# defaults regenerated on a trial (a dependency of this stage): both regimes beside their floors
set_aside = calibrate.regeneration_failures(pd.read_csv(out / "regenerated.csv"))
chosen = calibrate.choose(summary, overrides=overrides, set_aside=set_aside)
write_text(out / "runs.csv", rows.drop(columns=["overrides"]).to_csv(index=False, float_format="%.4f"))
write_text(out / "summary.csv", summary.to_csv(index=False, float_format="%.2f"))
write_json(out / "choice.json", {"chosen": chosen, "adopted": params.calibration.adopted,
                                 "rule": calibrate.RULE})
figures.save(figures.calibration(summary), out / "calibration")
summary.round(1)

# %%
write_text(out / "calibration.md", calibrate.report(summary, params, chosen, set_aside))
print(chosen)
