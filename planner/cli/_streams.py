"""Standard output and error as the commands print to them, never the reason a run fails.

A command's product is its files; the lines it prints say what happened. A
reader gone from a pipe (``planner run | head -1``), a stream that is closed
(``>&-``), full (``>/dev/full``) or cannot encode a name (``PYTHONIOENCODING=ascii``)
must not turn a finished run into "unexpected failure", nor, through rich's
own handling of a broken pipe, into a silent exit 1 that drops the warnings
still to come on standard error. :class:`Stream` writes to the stream of the
moment (``sys.stdout`` as the test harness swaps it), writes a name the
stream cannot encode escaped, and after a failure drops what follows, with
one warning on standard error when standard output failed for another
reason than its reader leaving.
"""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from typing import Any, Literal

from rich.console import Console

__all__ = ["consoles"]


class Stream:
    """``sys.stdout`` or ``sys.stderr``, looked up at each write, whose failures are contained."""

    def __init__(self, name: Literal["stdout", "stderr"]) -> None:
        self._name = name
        self.failed = False

    @property
    def _stream(self) -> Any:
        return getattr(sys, self._name)

    def write(self, text: str) -> int:
        stream = self._stream
        if stream is None or self.failed:
            return len(text)
        try:
            try:
                return int(stream.write(text))
            except UnicodeEncodeError:
                encoding = getattr(stream, "encoding", None) or "ascii"
                return int(stream.write(text.encode(encoding, "backslashreplace").decode(encoding)))
        except (OSError, ValueError) as exc:
            self._failure(exc)
            return len(text)

    def flush(self) -> None:
        stream = self._stream
        if stream is None or self.failed:
            return
        try:
            stream.flush()
        except (OSError, ValueError) as exc:
            self._failure(exc)

    def isatty(self) -> bool:
        try:
            return bool(self._stream.isatty())
        except (AttributeError, OSError, ValueError):
            return False

    def fileno(self) -> int:
        return int(self._stream.fileno())

    def __getattr__(self, name: str) -> Any:
        # encoding, errors, buffer...: the stream's own.
        return getattr(self._stream, name)

    def _failure(self, exc: BaseException) -> None:
        self.failed = True
        stream = self._stream
        # Python flushes the stream again at exit and would report the same error.
        with suppress(AttributeError, OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        if self._name == "stdout" and not isinstance(exc, BrokenPipeError):
            reason = getattr(exc, "strerror", None) or str(exc)
            with suppress(AttributeError, OSError, ValueError):
                sys.stderr.write(
                    f"warning: standard output cannot be written ({reason}); "
                    "its lines are left out\n"
                )


def consoles() -> tuple[Console, Console]:
    """Rich consoles for standard output and standard error, as every command makes them."""
    options: dict[str, Any] = {"highlight": False, "markup": False, "emoji": False}
    out = Console(file=Stream("stdout"), **options)  # type: ignore[arg-type]
    err = Console(file=Stream("stderr"), stderr=True, **options)  # type: ignore[arg-type]
    return out, err
