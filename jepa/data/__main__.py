"""`python -m jepa.data index --dataset NAME --root DIR --out FILE.csv [--split ...]`
`python -m jepa.data cache --index FILE.csv --out DIR --frames 8 --size 32 [--sampling ...]`
`python -m jepa.data fixture --out DIR [--overwrite]`  (tiny official-format datasets for a dry run)

Builds a normalized clip index (see jepa.data.real.indexes) from a dataset's official
annotations, writes it atomically (a crashed or interrupted run never leaves a half-written
index for DVC to cache) and prints counts per split and the largest classes. Format errors
print one message and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path
from typing import Sequence

import pandas as pd

from jepa.data.real.indexes import READERS, SPLITS, DatasetFormatError, read_index


def write_index_atomically(df: pd.DataFrame, out: str | Path) -> Path:
    """Write CSV to a temporary file next to `out`, then rename it over `out` in one step."""
    from jepa.io import atomic_write

    return atomic_write(out, lambda tmp: df.to_csv(tmp, index=False, encoding="utf-8"))


def _index_target(out: str | Path) -> Path:
    """`out` may be absent or an earlier index (its header starts with `path,label`); anything else is the user's."""
    out = Path(out)
    if out.is_dir():
        raise IsADirectoryError(f"{out}: is a folder; pass a file name for the index CSV")
    if out.exists():
        with open(out, "rb") as handle:
            head = handle.read(64)
        if not head.lstrip(b"\xef\xbb\xbf").startswith(b"path,label"):
            raise FileExistsError(f"{out}: exists and is not a clip index (no path,label header); pass another "
                                  "--out or remove it")
    return out


def summary(df: pd.DataFrame, top: int = 10) -> str:
    """Counts per split, then the `top` largest classes with their per-split counts."""
    lines = [f"{len(df)} clips, {df['label'].nunique()} classes"]
    counts = df["split"].value_counts()
    for split in sorted(counts.index, key=lambda name: (SPLITS.index(name) if name in SPLITS else len(SPLITS), name)):
        count = counts[split]
        lines.append(f"  {split:<6} {count:>8} clips  {df.loc[df['split'] == split, 'label'].nunique():>5} classes")
    per_class = pd.crosstab(df["label_name"], df["split"])
    per_class = per_class.assign(total=per_class.sum(axis=1)).sort_values("total", ascending=False, kind="stable")
    lines.append(f"top {min(top, len(per_class))} classes:")
    for name, row in per_class.head(top).iterrows():
        counts = "  ".join(f"{split}={row[split]}" for split in per_class.columns if split != "total")
        lines.append(f"  {name[:40]:<40} {int(row['total']):>7}  {counts}")
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jepa.data", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    index = commands.add_parser("index", help="build a normalized clip index CSV from official annotations")
    index.add_argument("--dataset", required=True, choices=sorted(READERS))
    index.add_argument("--root", required=True, help="dataset root (see the reader's docstring for its layout)")
    index.add_argument("--out", required=True, help="output CSV")
    index.add_argument("--split", dest="splits", help="comma-separated subset of train,val,test (default: all)")
    index.add_argument("--fold", type=int, help="UCF-101 official split 1-3 (default 1)")
    index.add_argument("--split-dir", help="Kinetics-100 folder of meta_{train,val,test}.txt")
    index.add_argument("--split-file", help="EPIC-100 few-shot verb split CSV (default: HyRSM's)")
    index.add_argument("--class-list", help="ImageNet-100 synset list (default: root/imagenet100.txt or CMC's)")
    index.add_argument("--segment-unit", choices=["sec", "frame"], help="EPIC-100 segment unit (default sec)")
    index.add_argument("--top", type=int, default=10, help="how many classes to list")
    cache = commands.add_parser("cache", help="decode an index once into a memory-mapped frame cache")
    cache.add_argument("--index", required=True, help="index CSV written by `index`")
    cache.add_argument("--out", required=True, help="cache folder (e.g. data/generated/frame_cache/<key>)")
    cache.add_argument("--frames", type=int, required=True, help="frames per clip (model.frames)")
    cache.add_argument("--size", type=int, required=True, help="frame side after resize + centre crop (model.img_size)")
    cache.add_argument("--sampling", choices=["uniform", "stride", "fps"], default="uniform")
    cache.add_argument("--stride", type=float, default=2.0, help="frame stride for --sampling stride")
    cache.add_argument("--fps", type=float, help="target frame rate for --sampling fps")
    cache.add_argument("--split", help="only rows of this split")
    cache.add_argument("--max-bad-fraction", type=float, default=0.01, help="stop when more of the index is bad")
    cache.add_argument("--workers", type=int, default=1, help="decoding processes")
    cache.add_argument("--shard-size", type=int, default=256, help="clips per .npy shard")
    fixture = commands.add_parser("fixture", help="write tiny datasets in every official layout (a dry run)")
    fixture.add_argument("--out", required=True, help="folder to hold ucf101/, ssv2/, ... (e.g. data/fixture)")
    fixture.add_argument("--overwrite", action="store_true", help="write into a non-empty folder")
    return parser


def fixture_main(args: argparse.Namespace) -> int:
    """Write the fixture datasets and print what each holds."""
    from jepa.data.real.fixtures import build

    try:
        written = build(args.out, overwrite=args.overwrite)
    except (FileExistsError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}")
    for name, info in written.items():
        splits = ", ".join(f"{split} {count}" for split, count in info["splits"].items())
        print(f"  {name:<12} {info['classes']} classes; listed clips: {splits}; corrupt {len(info['corrupt'])}, "
              f"missing {len(info['missing'])}")
    return 0


def cache_main(args: argparse.Namespace) -> int:
    """Build a frame cache; print counts and every skipped file; exit 2 above the bad-file tolerance."""
    from jepa.data.real.frame_cache import ClipSpec, build_cache
    from jepa.data.real.video_dataset import TooManyBadFilesError

    try:
        df = pd.read_csv(args.index)
        lacking = [column for column in ("path", "label", *(["split"] if args.split else [])) if column not in df.columns]
        if lacking:
            raise ValueError(f"{args.index}: columns {lacking} missing; expected an index CSV written by "
                             "`python -m jepa.data index`")
        if args.split:
            df = df[df["split"] == args.split].reset_index(drop=True)
        spec = ClipSpec(args.frames, args.size, args.sampling, args.stride, args.fps)
        result = build_cache(df, args.out, spec, max_bad_fraction=args.max_bad_fraction, shard_size=args.shard_size,
                             workers=args.workers)
    except (TooManyBadFilesError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {result.out}")
    print(f"{result.cached} of {result.total} clips cached, {result.num_bad} bad files skipped")
    for path, reason in result.bad_files.items():
        print(f"  bad: {path}: {reason}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "cache":
        return cache_main(args)
    if args.command == "fixture":
        return fixture_main(args)
    options = {key: getattr(args, key) for key in ("splits", "fold", "split_dir", "split_file", "class_list",
                                                   "segment_unit")}
    accepted = inspect.signature(READERS[args.dataset]).parameters
    unused = [key for key, value in options.items() if value is not None and key not in accepted]
    if unused:
        flags = ", ".join("--" + key.replace("_", "-").replace("splits", "split") for key in unused)
        print(f"error: {flags} does not apply to --dataset {args.dataset}", file=sys.stderr)
        return 2
    try:
        df = read_index(args.dataset, args.root, **options)
    except (DatasetFormatError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if df.empty:
        print(f"error: {args.dataset} under {args.root} gave no clips for split {args.splits or 'all'}",
              file=sys.stderr)
        return 2
    try:
        out = write_index_atomically(df, _index_target(args.out))
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    missing = df.attrs.get("missing_videos")
    if missing:
        print(f"{missing} listed clips had no video file and were left out")
    print(summary(df, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
