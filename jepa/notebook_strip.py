"""Strip an executed notebook to what a reader needs before it is committed (scripts/run-notebook runs it).

The executed notebooks under reports/runs/ live in git, so they must be small and change only when their
results do. Removed: ipywidgets state in the notebook metadata and the widget views it backs (tqdm bars),
progress-bar lines in stderr streams (carriage-return redraws, `n/N [time<eta, rate]`), papermill's and
the kernel's per-cell timing metadata, and papermill's run timestamps (its parameters are kept); the random
cell ids of the jupytext conversion become their positions (cell-0, cell-1, ...). Kept:
every other output, figures (image/png, image/svg+xml), tables (text/html, text/plain), stdout, warnings
and tracebacks. Consecutive stream outputs of one name are merged (the kernel splits a long log into many).

    python jepa/notebook_strip.py NOTEBOOK.ipynb [...]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "widgets"
CELL_TIMING = ("execution", "papermill")          # cell metadata written per run (timestamps, durations)
PAPERMILL_KEEP = ("parameters",)                  # notebook-level papermill metadata that says what ran
# a tqdm bar, finished or not: "42%|####      | 5/12 [00:01<00:02,  3.1it/s]" or "step 3/6 [00:02<...]"
_PROGRESS = re.compile(r"\d+(?:\.\d+)?[kMG]?/\d+(?:\.\d+)?[kMG]? \[\d[\d:]*<|\d+%\|")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def strip_progress(text: str) -> str:
    """stderr text without progress bars: lines redrawn by carriage returns and tqdm-formatted lines."""
    kept = []
    for line in re.split(r"(?<=\n)", text):
        body = _ANSI.sub("", line.rstrip("\n"))
        if "\r" in body or _PROGRESS.search(body):
            continue
        kept.append(line)
    return "".join(kept)


def _strip_outputs(outputs: list[dict]) -> list[dict]:
    merged: list[dict] = []
    for o in outputs:
        kind = o.get("output_type")
        if kind in ("display_data", "execute_result") and WIDGET_VIEW in o.get("data", {}):
            continue  # a widget view (tqdm bar): its text/plain fallback is "HBox(...)" and its state is gone
        if kind == "stream":
            if merged and merged[-1].get("output_type") == "stream" and merged[-1].get("name") == o.get("name"):
                merged[-1]["text"] += _text(o.get("text", ""))
                continue
            o = {**o, "text": _text(o.get("text", ""))}
        merged.append(o)
    out = []
    for o in merged:
        if o.get("output_type") == "stream" and o.get("name") == "stderr":
            o["text"] = strip_progress(o["text"])
            if not o["text"].strip():
                continue
        out.append(o)
    return out


def strip(nb: dict) -> dict:
    """The notebook (an nbformat 4 dict) without widget state, progress output or run timing; modified in place."""
    meta = nb.setdefault("metadata", {})
    meta.pop(WIDGET_STATE, None)
    if "papermill" in meta:
        meta["papermill"] = {k: meta["papermill"][k] for k in PAPERMILL_KEEP if k in meta["papermill"]}
    for index, cell in enumerate(nb.get("cells", [])):
        if "id" in cell:  # nbformat >= 4.5: ids must be unique; jupytext draws new random ones on every run
            cell["id"] = f"cell-{index}"
        for key in CELL_TIMING:
            cell.get("metadata", {}).pop(key, None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = _strip_outputs(cell.get("outputs", []))
    return nb


def strip_file(path: str | Path) -> Path:
    """Strip the notebook at `path` in place (atomic write, the layout nbformat writes: indent 1, sorted keys)."""
    from jepa.io import write_text

    path = Path(path)
    nb = strip(json.loads(path.read_text(encoding="utf-8")))
    return write_text(path, json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python jepa/notebook_strip.py NOTEBOOK.ipynb [...]", file=sys.stderr)
        return 2
    for p in paths:
        strip_file(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
