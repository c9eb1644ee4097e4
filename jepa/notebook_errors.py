"""Filter for a notebook run's stderr (scripts/run-notebook): a user mistake prints as one line.

papermill ends a failed run with two tracebacks (its own and the kernel's). When the exception is one
this package raises for bad input (a params.yaml key, a damaged checkpoint, a malformed annotation
file), the message already says what is wrong and what to do, so only `error: MESSAGE` is printed;
any other failure is printed whole. Everything before the first traceback streams through unchanged.
"""

from __future__ import annotations

import re
import sys
from typing import Iterable, TextIO

USER_ERRORS = ("ConfigError", "CheckpointError", "EncoderFileError", "CheckpointFileError", "DatasetFormatError",
               "RealDataMissing", "TooManyBadFilesError", "NonFiniteLossError")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_START = re.compile(r"^Traceback \(most recent call last\)")
_USER = re.compile(rf"^(?:[\w.]+\.)?({'|'.join(USER_ERRORS)}): (.*)$")


def summarize(lines: list[str]) -> list[str]:
    """The lines to print for a buffered traceback: one `error:` line (plus a continuation list) or all."""
    plain = [_ANSI.sub("", line.rstrip("\n")) for line in lines]
    hits = [i for i, line in enumerate(plain) if _USER.match(line)]
    if not hits:
        return [line.rstrip("\n") for line in lines]
    first = hits[-1]
    message = [_USER.match(plain[first]).group(2)]
    for line in plain[first + 1:]:  # a multi-line message (a list of invalid keys) continues indented
        if not line.startswith("  "):
            break
        message.append(line)
    return [f"error: {message[0]}", *message[1:]]


def run(stream: Iterable[str], out: TextIO) -> None:
    buffer: list[str] | None = None
    for line in stream:
        if buffer is None and _START.match(_ANSI.sub("", line)):
            buffer = []
        if buffer is None:
            out.write(line)
            out.flush()
        else:
            buffer.append(line)
    if buffer:
        out.write("\n".join(summarize(buffer)) + "\n")


if __name__ == "__main__":
    run(sys.stdin, sys.stderr)
