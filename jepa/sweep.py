"""Which runs the reports use: the ones `dvc repro` trains (`run` in params.yaml) plus the full sweep's
committed runs that are still current.

The default pipeline trains a core of variants in well under an hour; the full sweep (`scripts/full-sweep`)
trains every variant and commits each run's small results (metrics, few-shot scores, executed notebooks)
together with its entries in the per-run pipelines' dvc.lock files (data/pipelines/*/dvc.lock). A report
built on the core should still show those runs, but only while they were trained on today's recipe. A committed run counts when, for each of its stages (pretrain,
probe, few-shot), its dvc.lock entry

- holds the same parameter values as today's params.yaml (the variant's own block included), and
- hashes every code and data dependency it shares with the baseline of the same regime and seed exactly as
  that baseline's entry does: the baseline is always part of `run`, so `dvc repro` has just brought its
  entries up to date, and a sweep run locked on older code differs from it there.

A run that fails either test is reported as stale, with the stage and key that differ, never used.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML

from jepa import paths
from jepa.config import Params
from jepa.errors import ConfigError
from jepa.io import write_text

STAGE_KINDS = paths.RUN_STAGE_KINDS
REFERENCE_VARIANT = "baseline"
REPRO, SWEEP = "dvc repro", "committed sweep"   # where a run's results come from, as the reports say it


@dataclass(frozen=True)
class RunSet:
    """Per regime, variant -> seeds the reports use, where each came from, and the committed runs left out."""
    runs: dict[str, dict[str, list[int]]]
    source: dict[tuple[str, str], str]           # (regime, variant) -> REPRO | SWEEP
    stale: dict[tuple[str, str, int], str]       # (regime, variant, seed) -> why it was left out


def _read_yaml(path: Path):
    """YAML 1.2, as DVC reads and writes it: DVC locks 1.0e-5 as `1e-05`, which a YAML 1.1 parser (PyYAML)
    reads back as a string, so a value would differ from itself."""
    return YAML(typ="safe", pure=True).load(path.read_text())


def _lookup(tree: dict, dotted: str):
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _stage_name(kind: str, regime: str, variant: str, seed: int) -> str:
    return f"{kind}_{regime}@{variant}-{seed}"


def why_stale(lock: dict, raw_params: dict, regime: str, variant: str, seed: int) -> str | None:
    """None when the committed run (regime, variant, seed) matches today's recipe and code, else the reason."""
    for kind in STAGE_KINDS:
        name = _stage_name(kind, regime, variant, seed)
        entry = lock.get(name)
        if entry is None:
            return f"dvc.lock has no entry {name}"
        reference = lock.get(_stage_name(kind, regime, REFERENCE_VARIANT, seed))
        if reference is None:
            return f"dvc.lock has no entry {_stage_name(kind, regime, REFERENCE_VARIANT, seed)} to compare with"
        for key, value in entry.get("params", {}).get("params.yaml", {}).items():
            if value != _lookup(raw_params, key):
                return f"{name}: params.yaml key {key} differs from the value it was trained with"
        ref_hashes = {d["path"]: d.get("md5") for d in reference.get("deps", [])}
        for dep in entry.get("deps", []):
            path = dep["path"]
            if path in ref_hashes and ref_hashes[path] != dep.get("md5"):
                return f"{name}: dependency {path} changed since the run was locked"
    return None


def collect(params: Params, raw_params: dict | None = None, locks: list[Path] | None = None) -> RunSet:
    """The runs `dvc repro` trained (all of `params.run`), plus every other variant defined for a regime whose
    committed probe metrics exist for a seed of `run.seeds` and are current (`why_stale` is None).
    `raw_params` is params.yaml as plain data (read from the repository root when omitted); `locks` the
    dvc.lock files to read (default: every lock of the study, `paths.dvc_locks`)."""
    root = paths.root()
    raw_params = raw_params if raw_params is not None else _read_yaml(root / "params.yaml")
    run = {"single": params.run.single, "mixed": params.run.mixed}
    seeds = params.run.seeds
    lock: dict = {}
    for path in (paths.dvc_locks() if locks is None else locks):
        lock.update((_read_yaml(path) or {}).get("stages", {}))
    runs: dict[str, dict[str, list[int]]] = {}
    source: dict[tuple[str, str], str] = {}
    stale: dict[tuple[str, str, int], str] = {}
    for regime in ("single", "mixed"):
        runs[regime] = {}
        for variant in run.get(regime, []):
            runs[regime][variant] = list(seeds)
            source[(regime, variant)] = REPRO
        for variant, cfg in params.variants.items():
            if variant in runs[regime] or regime not in cfg.regimes:
                continue
            kept = []
            for seed in seeds:
                if not paths.probe_metrics(regime, variant, seed).exists():
                    continue
                reason = why_stale(lock, raw_params, regime, variant, seed)
                if reason is None:
                    kept.append(seed)
                else:
                    stale[(regime, variant, seed)] = reason
            if kept:
                runs[regime][variant] = kept
                source[(regime, variant)] = SWEEP
    return RunSet(runs, source, stale)


def with_every_variant(text: str, params: Params) -> str:
    """params.yaml text with `run.single` and `run.mixed` listing every variant defined for the regime (the full
    sweep). Round-trip YAML keeps the comments; scripts/full-sweep restores the original file afterwards."""
    import io

    yaml = YAML()
    yaml.width = 4096
    yaml.preserve_quotes = True  # a quoted flow-style string (`"a 25:25:1 ratio"`) would not parse back unquoted
    data = yaml.load(text)
    if not isinstance(data, dict) or not isinstance(data.get("run"), dict):
        raise ConfigError("params.yaml: expected a `run:` mapping with `single:` and `mixed:` lists")
    for regime in ("single", "mixed"):
        data["run"][regime] = [k for k, v in params.variants.items() if regime in v.regimes]
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """`python -m jepa.sweep every-variant`: rewrite params.yaml's `run` to the full sweep (scripts/full-sweep
    restores the file afterwards)."""
    import argparse

    from jepa.config import load_params

    parser = argparse.ArgumentParser(prog="python -m jepa.sweep")
    parser.add_argument("command", choices=["every-variant"])
    parser.parse_args(argv)
    path = paths.root() / "params.yaml"
    try:
        text = with_every_variant(path.read_text(), load_params())
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    write_text(path, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
