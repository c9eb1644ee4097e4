"""Atomic writes: a crash never leaves a half-written file that a later stage trusts.

Every file the package writes goes through `atomic_write`: the content is written to a
temporary file in the target's folder (``.NAME.PID-RANDOM.tmp``), then renamed onto the
target in one step. The temporary file gets the permissions a plain ``open()`` would give
(0666 minus the umask), so reports stay readable on a shared machine; a temporary file left
by a killed writer (SIGKILL skips every ``finally``) is removed by the next write of the same
target once its process is gone.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any, Callable


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def clean_stale_temps(path: str | Path) -> list[Path]:
    """Remove temporary files (or folders) of `path` whose writer process no longer exists; returns them."""
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)-[0-9a-f]+\.tmp$")
    removed = []
    if not path.parent.is_dir():
        return removed
    for entry in path.parent.iterdir():
        match = pattern.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_path)` then rename onto `path` (same folder, so the rename is atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(path)
    tmp = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for open()
        os.close(fd)
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # writers that recreate the file (np.save, savefig) keep it too
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    return path


def write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(path: str | Path, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def torch_save(path: str | Path, obj: Any) -> Path:
    import torch

    return atomic_write(path, lambda p: torch.save(obj, p))


class CheckpointFileError(RuntimeError):
    """A .pt file that cannot be used: empty, truncated, or holding more than tensors, numbers and strings."""


def torch_load(path: str | Path, fix: str, map_location: Any = "cpu", error: type = CheckpointFileError) -> Any:
    """torch.load with weights_only=True (nothing in the file is executed); every failure is one `error` line
    naming the file and `fix` (what the user should do)."""
    import pickle
    import warnings

    import torch

    path = Path(path)
    if path.stat().st_size == 0:
        raise error(f"{path}: empty file (a write was cut short); {fix}")
    try:
        with warnings.catch_warnings():  # torch warns about the refused pickle before raising
            warnings.simplefilter("ignore")
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if "weights only" not in str(err).lower():  # not a pickle at all ("invalid load key")
            raise error(f"{path}: unreadable ({str(err).splitlines()[0][:120]}); {fix}") from None
        raise error(f"{path}: refused to load: it holds Python objects other than tensors, numbers and strings "
                    f"(not a file this code wrote); {fix}") from None
    except Exception as err:  # truncated zip, bad magic number, ...
        reason = (str(err).splitlines() or [type(err).__name__])[0][:120]
        raise error(f"{path}: unreadable ({reason}); {fix}") from None


def read_json(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: expected a JSON file written by an earlier stage; run `dvc repro` first")
    return json.loads(path.read_text())
