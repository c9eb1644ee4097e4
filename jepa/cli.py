"""Command line: `python -m jepa.cli pretrain ...` (also the entry point for torchrun / DDP)."""

from __future__ import annotations

import argparse
import sys

from jepa.config import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jepa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pretrain", help="train one (regime, variant, seed) run")
    p.add_argument("--regime", required=True, choices=["single", "mixed"])
    p.add_argument("--variant", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--profile", default=None, help="profile name (default: params.yaml's `profile`)")
    p.add_argument("--out", default=None, help="run folder (default: runs/REGIME/VARIANT/sSEED)")
    p.add_argument("--live", default=None, help="dvclive folder (default: reports/live/RUN_ID)")
    args = parser.parse_args(argv)

    from jepa import paths
    from jepa.config import load_run
    from jepa.train import pretrain

    try:
        cfg = load_run(args.regime, args.variant, args.seed, args.profile)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = args.out or paths.run_dir(args.regime, args.variant, args.seed)
    live = args.live or paths.live_dir(args.regime, args.variant, args.seed)
    summary = pretrain(cfg, out, live)
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
