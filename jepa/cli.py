"""Command line: `python -m jepa.cli pretrain ...` (also the entry point for torchrun / DDP),
`python -m jepa.cli sweep-args` (the `-S` overrides that make `run` list every variant: the full sweep) and
`python -m jepa.cli metrics pretrain|probe|floors [--md]` (one stage kind's metrics, screen-wide) and
`python -m jepa.cli fewshot --regime mixed --variant ltc --seed 0` (one encoder's few-shot scores, reports/fewshot/)
and `python -m jepa.cli fewshot-floor --floor random_init --seed 0` or `--floor pixels` (the floors' scores)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    p.add_argument("--checkpoints", default=None,
                   help="folder of last.pt (default: --out if given, else checkpoints/RUN_ID/CONFIG_HASH as in dvc repro)")
    sub.add_parser("sweep-args", help="print `dvc exp run` overrides that list every variant in both regimes")
    mt = sub.add_parser("metrics", help="one stage kind's metrics as a screen-wide table (accuracies in %%)")
    mt.add_argument("kind", choices=["pretrain", "probe", "floors"])
    mt.add_argument("--md", action="store_true", help="markdown instead of plain text")
    fs = sub.add_parser("fewshot", help="score one pretrained encoder on every few-shot set's saved episodes")
    fs.add_argument("--regime", required=True, choices=["single", "mixed"])
    fs.add_argument("--variant", required=True)
    fs.add_argument("--seed", type=int, required=True)
    fs.add_argument("--profile", default=None, help="profile name (default: params.yaml's `profile`)")
    ff = sub.add_parser("fewshot-floor", help="score a floor (random init at a seed, or raw pixels) the same way")
    ff.add_argument("--floor", required=True, choices=["random_init", "pixels"])
    ff.add_argument("--seed", type=int, default=None, help="initialisation seed (random_init only)")
    ff.add_argument("--profile", default=None, help="profile name (default: params.yaml's `profile`)")
    args = parser.parse_args(argv)
    if args.command in ("fewshot", "fewshot-floor"):
        return fewshot_command(args)
    if args.command == "sweep-args":
        print(" ".join(sweep_args()))
        return 0
    if args.command == "metrics":
        from jepa.report import metrics_table

        try:
            table = metrics_table(args.kind)
        except FileNotFoundError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        from jepa.claims import to_markdown

        print(to_markdown(table) if args.md else table.to_string(index=False))
        return 0

    from jepa import paths
    from jepa.config import load_run
    from jepa.train import CheckpointError, config_hash, pretrain

    try:
        cfg = load_run(args.regime, args.variant, args.seed, args.profile)
        out = args.out or paths.run_dir(args.regime, args.variant, args.seed)
        if Path(out).exists() and not Path(out).is_dir():
            raise ConfigError(f"--out {out}: exists and is not a folder; pass a run folder")
        live = args.live or paths.live_dir(args.regime, args.variant, args.seed)
        ckpt = args.checkpoints or args.out or paths.checkpoint_dir(args.regime, args.variant, args.seed,
                                                                    config_hash(cfg))
        summary = pretrain(cfg, out, live, ckpt_dir=ckpt)
    except (ConfigError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(summary)
    return 0


def sweep_args(params=None) -> list[str]:
    """`-S run.single=[...]` and `-S run.mixed=[...]` naming every variant defined for each regime."""
    from jepa.config import load_params

    params = params or load_params()
    lists = {r: [k for k, v in params.variants.items() if r in v.regimes] for r in ("single", "mixed")}
    return [f"-S run.{r}=[{','.join(names)}]" for r, names in lists.items()]


def fewshot_command(args) -> int:
    from jepa.config import profile_cfg
    from jepa.evaluate import EncoderFileError
    from jepa.rq import score_floor, score_run

    floor = getattr(args, "floor", None)
    try:
        if floor is not None and (args.seed is None) != (floor == "pixels"):
            raise ConfigError("--seed: expected one for the random_init floor and none for the pixel floor")
        name, prof = profile_cfg(args.profile)
        if floor is None:
            path = score_run(name, prof, args.regime, args.variant, args.seed)
            what = f"{args.regime}/{args.variant} seed {args.seed}"
        else:
            path = score_floor(name, prof, floor, args.seed)
            what = f"the {floor} floor" + ("" if args.seed is None else f" seed {args.seed}")
    except (ConfigError, EncoderFileError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{path}: few-shot scores of {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
