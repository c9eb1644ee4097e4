"""Execute a jupytext notebook with papermill in one process, then strip it for git.

    python -m jepa.notebook_run NOTEBOOK.py OUTPUT.ipynb [-p NAME VALUE ...]   (scripts/run-notebook)

Every pipeline stage that runs a notebook pays this start-up, so it happens in one interpreter: the
jupytext conversion (with the python3 kernel set, as `jupytext --set-kernel python3` does), papermill's
execution and the strip (jepa/notebook_strip.py) share one import of each library instead of three
processes. Parameters are typed as papermill's `-p` types them (True/False/None, int, float, else str).

A failed cell raised by this package for bad input (a params.yaml key, a damaged checkpoint, a malformed
annotation file) prints as one `error: MESSAGE` line: the message already says what is wrong and what to
do. Any other failure prints the kernel's traceback. The executed notebook keeps the traceback either way,
and is stripped also when the run failed.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

USER_ERRORS = ("ConfigError", "CheckpointError", "EncoderFileError", "CheckpointFileError", "DatasetFormatError",
               "RealDataMissing", "TooManyBadFilesError", "NonFiniteLossError")
KERNEL = "python3"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def typed(value: str):
    """A `-p` value as papermill's command line types it."""
    if value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[value]
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def failure_message(ename: str, evalue: str, traceback_text: str) -> str:
    """What a failed run prints: one `error:` line (plus an indented continuation) for a user mistake,
    else the kernel's traceback."""
    if ename in USER_ERRORS:
        return f"error: {_ANSI.sub('', evalue).rstrip()}"
    return _ANSI.sub("", traceback_text).rstrip()


def to_ipynb(src: Path):
    """The jupytext source as the ipynb notebook `jupytext --to ipynb --set-kernel python3` writes."""
    import jupytext
    import nbformat
    from jupytext.kernels import get_kernel_spec

    nb = jupytext.read(src)
    spec = get_kernel_spec(KERNEL)
    nb.metadata["kernelspec"] = {"name": KERNEL, "language": spec.language, "display_name": spec.display_name}
    return nbformat.reads(jupytext.writes(nb, fmt="ipynb"), as_version=4)


def run(src: Path, out: Path, parameters: dict) -> int:
    """Execute `src` into `out` with `parameters`; 0 on success, 1 when a cell failed."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from jepa.notebook_strip import strip_file

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out.parent.mkdir(parents=True, exist_ok=True)
    status = 0
    try:
        papermill.execute_notebook(to_ipynb(src), str(out), parameters=parameters, kernel_name=KERNEL,
                                   progress_bar=False, log_output=True)
    except PapermillExecutionError as err:
        print(failure_message(err.ename, err.evalue, "\n".join(err.traceback)), file=sys.stderr)
        status = 1
    finally:
        if out.exists():
            strip_file(out)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run-notebook", description="Execute a jupytext notebook with papermill.")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        print(f"error: {args.notebook}: no such notebook", file=sys.stderr)
        return 2
    return run(args.notebook, args.output, {name: typed(value) for name, value in args.parameter})


if __name__ == "__main__":
    raise SystemExit(main())
