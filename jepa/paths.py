"""Where every stage reads and writes; dvc.yaml spells the same paths (a test checks they agree).

Paths are relative to the project root: the nearest folder above the working
directory that holds dvc.yaml (so notebooks opened from notebooks/ and DVC
experiment copies under .dvc/tmp/exps both resolve to their own workspace).
"""

from __future__ import annotations

from pathlib import Path


def project_root(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").exists():
            return folder
    return Path(__file__).resolve().parents[1]


def root() -> Path:
    return project_root()


def run_id(regime: str, variant: str, seed: int) -> str:
    return f"{regime}-{variant}-s{seed}"


def run_dir(regime: str, variant: str, seed: int) -> Path:
    return root() / "runs" / regime / variant / f"s{seed}"


def reports_dir() -> Path:
    return root() / "reports"


def checkpoint_dir(regime: str, variant: str, seed: int, config_hash: str) -> Path:
    """last.pt of one run and configuration. Outside every DVC output (DVC deletes a stage's outputs before
    rerunning it), so `dvc repro` after a kill resumes; keyed by the config hash, so an edited config starts
    afresh and reverting the edit finds its own checkpoint again."""
    return root() / "checkpoints" / run_id(regime, variant, seed) / config_hash


def live_dir(regime: str, variant: str, seed: int) -> Path:
    return reports_dir() / "live" / run_id(regime, variant, seed)


def generated_dir() -> Path:
    """Everything the pipeline derives from data: evaluation sets, clip banks, caches, scratch spaces."""
    return root() / "data" / "generated"


def eval_data_dir() -> Path:
    return generated_dir() / "eval"


def manifests_dir() -> Path:
    """Small git-tracked records of generated data (data/generated/ is not in git): what a clone regenerates."""
    return root() / "data" / "manifests"


RUN_STAGE_KINDS = ("pretrain", "probe", "fewshot")  # a run's stages, in order; one pipeline per kind and regime


def run_pipeline(kind: str, regime: str) -> Path:
    """The dvc.yaml of one stage kind (pretrain, probe, fewshot) and regime: the per-run stages, split from the
    root pipeline so that each has a small dvc.lock (DVC rewrites a pipeline's whole lock after every stage)."""
    return root() / "data" / "pipelines" / f"{kind}_{regime}" / "dvc.yaml"


def dvc_locks() -> list[Path]:
    """Every dvc.lock of the study: the root pipeline's and the per-run pipelines' (those that exist)."""
    locks = [root() / "dvc.lock", *(run_pipeline(k, r).with_name("dvc.lock")
                                    for k in RUN_STAGE_KINDS for r in ("single", "mixed"))]
    return [lock for lock in locks if lock.exists()]


def eval_manifest() -> Path:
    """The evaluation sets' sizes and fingerprints, written by the data stage, read by every probe stage."""
    return manifests_dir() / "eval.json"


def eval_set_file(out_dir: str | Path, task: str, split: str) -> Path:
    """One analogue's train or validation clips inside an evaluation-data folder."""
    return Path(out_dir) / f"{task}_{split}.npz"


METRIC_KINDS = ("pretrain", "probe", "floors")


def metrics_dir(kind: str) -> Path:
    """One folder of per-stage metrics files per stage kind (pretrain, probe, floors)."""
    return reports_dir() / "metrics" / kind


def clip_bank_dir(regime: str, seed: int) -> Path:
    """The pretraining clips of one (regime, seed), shared by every variant (jepa.data.bank)."""
    return generated_dir() / "clips" / f"{regime}-s{seed}"


def clip_bank_manifest(regime: str, seed: int) -> Path:
    """The key of one clip bank (jepa.data.bank), git-tracked: pretraining depends on it, not on the bank."""
    return manifests_dir() / f"clips-{regime}-s{seed}.json"


def pretrain_metrics(regime: str, variant: str, seed: int) -> Path:
    return metrics_dir("pretrain") / f"{run_id(regime, variant, seed)}.json"


def probe_metrics(regime: str, variant: str, seed: int) -> Path:
    return metrics_dir("probe") / f"{run_id(regime, variant, seed)}.json"


def floor_metrics(kind: str, seed: int | None = None) -> Path:
    """random_init floors are per encoder seed; the raw-pixel floor has no encoder, hence no seed."""
    name = f"{kind}-s{seed}" if kind == "random_init" else kind
    return metrics_dir("floors") / f"{name}.json"


def figures_dir() -> Path:
    return reports_dir() / "figures"


def executed_notebook(name: str) -> Path:
    """A notebook as scripts/run-notebook executed it for one stage (name without .ipynb)."""
    return reports_dir() / "runs" / f"{name}.ipynb"


def benchmarks_dir() -> Path:
    """Tables and figures the scripts under benchmarks/ write."""
    return reports_dir() / "benchmarks"


def ceiling_work_dir() -> Path:
    """The analogue-ceiling benchmark's scratch space (its evaluation sets and probe runs)."""
    return generated_dir() / "ceiling"


def rq_table(rq: str) -> Path:
    """A research question's answer (one row per contrast), which REPORT.md quotes."""
    return reports_dir() / f"{rq}.csv"


def rq_runs_table(rq: str) -> Path:
    """A research question's per-encoder accuracies beside their floors."""
    return reports_dir() / f"{rq}_runs.csv"


def rq_page(rq: str) -> Path:
    return reports_dir() / f"{rq}.md"


def fewshot_episodes(kind: str, n_way: int, k_shot: int, q_query: int, n_episodes: int, seed: int,
                     labels_key: str) -> Path:
    """One saved episode set, named by everything that determines it (labels_key: a digest of the set's labels),
    so a changed few-shot set or protocol draws new episodes instead of reading stale ones."""
    name = f"{kind}_{n_way}way{k_shot}shot{q_query}q_{n_episodes}ep_seed{seed}_{labels_key}.npz"
    return generated_dir() / "fewshot" / name


def fewshot_scores(regime: str, variant: str, seed: int) -> Path:
    """One pretrained encoder's per-episode few-shot accuracies on every few-shot set (git-tracked, read by
    the rq stages)."""
    return reports_dir() / "fewshot" / regime / f"{variant}-s{seed}.json"


def fewshot_floor_scores(floor: str, seed: int | None = None) -> Path:
    """The same for a floor: "random_init" (one per seed) or "pixels" (seed-free)."""
    return reports_dir() / "fewshot" / "floors" / (f"{floor}-s{seed}.json" if floor == "random_init" else f"{floor}.json")


def analogues_table() -> Path:
    """Per analogue: chance, floors, pretrained baselines, supervised ceiling, usability (benchmarks/analogues.py)."""
    return reports_dir() / "analogues.csv"


def calibration_dir() -> Path:
    """The calibration study's results: cached trials, tables, figure and calibration.md."""
    return reports_dir() / "calibration"


def calibration_trials_dir() -> Path:
    """Finished (trial, seed) results of the calibration study, cached by a hash of their resolved config."""
    return calibration_dir() / "trials"


def calibration_work_dir() -> Path:
    """The calibration study's scratch space (its pretraining runs, evaluation sets and floors)."""
    return generated_dir() / "calibration"


def calibration_run_dir(work_dir: str | Path, trial: str, seed: int) -> Path:
    """One calibration trial's pretraining run inside a calibration scratch space."""
    return Path(work_dir) / "runs" / trial / f"s{seed}"


def requirements_lock() -> Path:
    """The exact package versions scripts/setup-env installs; REPORT.md records its sha256."""
    return root() / "requirements.lock"


def paper_results() -> Path:
    return root() / "data" / "paper_results.csv"


def frame_cache_dir(key: str) -> Path:
    """One pre-decoded frame cache (jepa.data.real.frame_cache; key from frame_cache.cache_key)."""
    return generated_dir() / "frame_cache" / key


def real_eval_dir() -> Path:
    """Indexes of the real evaluation and few-shot sets (paper profile), next to their caches."""
    return generated_dir() / "real_index"
