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


def live_dir(regime: str, variant: str, seed: int) -> Path:
    return root() / "reports" / "live" / run_id(regime, variant, seed)


def eval_data_dir() -> Path:
    return root() / "data" / "generated" / "eval"


def clip_bank_dir(regime: str, seed: int) -> Path:
    """The pretraining clips of one (regime, seed), shared by every variant (jepa.data.bank)."""
    return root() / "data" / "generated" / "clips" / f"{regime}-s{seed}"


def pretrain_metrics(regime: str, variant: str, seed: int) -> Path:
    return root() / "reports" / "metrics" / "pretrain" / f"{run_id(regime, variant, seed)}.json"


def probe_metrics(regime: str, variant: str, seed: int) -> Path:
    return root() / "reports" / "metrics" / "probe" / f"{run_id(regime, variant, seed)}.json"


def floor_metrics(kind: str, seed: int | None = None) -> Path:
    """random_init floors are per encoder seed; the raw-pixel floor has no encoder, hence no seed."""
    name = f"{kind}-s{seed}" if kind == "random_init" else kind
    return root() / "reports" / "metrics" / "floors" / f"{name}.json"


def figures_dir() -> Path:
    return root() / "reports" / "figures"


def paper_results() -> Path:
    return root() / "data" / "paper_results.csv"


def frame_cache_dir(key: str) -> Path:
    """One pre-decoded frame cache (jepa.data.frame_cache; key from frame_cache.cache_key)."""
    return root() / "data" / "generated" / "frame_cache" / key


def real_eval_dir() -> Path:
    """Indexes of the real evaluation and few-shot sets (paper profile), next to their caches."""
    return root() / "data" / "generated" / "real_index"
