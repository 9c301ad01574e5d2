"""The best plan and bound of a running MILP backend, read from its log.

OR-Tools' model builder offers no incumbent callback for SCIP or HiGHS (its
log callback cannot be bound from Python in 9.15), but both backends print
a progress table with the primal and dual bound, flushed line by line. While
a watch is open (:mod:`planner.optimise.progress`), :func:`backend_log`
points file descriptor 1 at a pipe for the duration of the solve and a
reader thread parses each table line; Python's own ``sys.stdout`` keeps
writing to the real output meanwhile, so nothing else printed is lost.

Only one solve at a time reads its log: the descriptor is process-wide, so a
second solve running concurrently in another thread simply goes unwatched.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import io
import logging
import math
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator

__all__ = ["BoundsCallback", "LogReader", "backend_log"]

logger = logging.getLogger(__name__)

#: Called with (best plan, bound) in the backend's objective space; either may be None.
BoundsCallback = Callable[[float | None, float | None], None]

_CAPTURE = threading.Lock()

_NEW_PRIMAL = re.compile(r"new primal bound\s+([-+0-9.eE]+)")


def _number(text: str) -> float | None:
    """A table cell as a finite number, or ``None`` ("--", "inf", "Large", blank)."""
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class LogReader:
    """Turns progress-table lines of SCIP and HiGHS into (best, bound) reports."""

    def __init__(self, on_bounds: BoundsCallback) -> None:
        self._on_bounds = on_bounds
        self._scip_columns: tuple[int, int, int] | None = None  # cells, dual, primal

    def line(self, text: str) -> None:
        found = _NEW_PRIMAL.search(text)
        if found is not None:  # SCIP: a start or a heuristic's plan, before any table line
            self._report(_number(found.group(1)), None)
        elif "|" in text:
            self._scip_line(text)
        else:
            self._highs_line(text)

    def _scip_line(self, text: str) -> None:
        cells = [cell.strip() for cell in text.split("|")]
        if "dualbound" in cells and "primalbound" in cells:
            self._scip_columns = (len(cells), cells.index("dualbound"), cells.index("primalbound"))
            return
        if self._scip_columns is None or len(cells) != self._scip_columns[0]:
            return
        _, dual, primal = self._scip_columns
        self._report(_number(cells[primal]), _number(cells[dual]))

    def _highs_line(self, text: str) -> None:
        # Src Proc. InQueue | Leaves Expl. | BestBound BestSol Gap | Cuts InLp Confl. | LpIters Time
        tokens = text.split()
        if len(tokens) not in (12, 13) or not tokens[-1].endswith("s") or "%" not in tokens[-9]:
            return
        if _number(tokens[-1][:-1]) is None:
            return
        self._report(_number(tokens[-7]), _number(tokens[-8]))

    def _report(self, best: float | None, bound: float | None) -> None:
        if best is None and bound is None:
            return
        try:
            self._on_bounds(best, bound)
        except Exception:  # a display must never break a solve
            logger.exception("progress report failed")


def _read_lines(fd: int, reader: LogReader) -> None:
    with open(fd, encoding="utf-8", errors="replace") as pipe:
        for text in pipe:
            reader.line(text)


def _flush_c_stdio() -> None:
    """Push what the backend left in C's stdout buffer into the pipe, not the terminal."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def backend_log(on_bounds: BoundsCallback) -> Iterator[bool]:
    """Feed the backend's log lines printed inside the block to ``on_bounds``.

    Yields whether the log is being read (``False`` when another solve
    already reads it, or the platform has no descriptor 1 to redirect); the
    caller turns the backend's output on only then.
    """
    if not _CAPTURE.acquire(blocking=False):
        yield False
        return
    try:
        with contextlib.suppress(AttributeError, ValueError, OSError):
            sys.stdout.flush()
        try:
            saved = os.dup(1)
        except OSError:
            yield False
            return
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 1)
        os.close(write_fd)
        python_stdout = sys.stdout
        own_stdout = None
        with contextlib.suppress(AttributeError, ValueError, OSError, io.UnsupportedOperation):
            if python_stdout.fileno() == 1:
                own_stdout = open(  # noqa: SIM115 - closed in the finally below
                    os.dup(saved),
                    "w",
                    buffering=1,
                    encoding=python_stdout.encoding or "utf-8",
                    errors="replace",
                )
                sys.stdout = own_stdout
        # The reader reports to the caller's progress watch, held in a context variable.
        context = contextvars.copy_context()
        thread = threading.Thread(
            target=context.run, args=(_read_lines, read_fd, LogReader(on_bounds)), daemon=True
        )
        thread.start()
        try:
            yield True
        finally:
            _flush_c_stdio()
            os.dup2(saved, 1)
            os.close(saved)
            # A child process that inherited the pipe could hold it open.
            thread.join(timeout=5.0)
            if own_stdout is not None:
                sys.stdout = python_stdout
                own_stdout.close()
    finally:
        _CAPTURE.release()
