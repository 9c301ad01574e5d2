"""Ctrl-C during a command: always noticed, never half-published.

A Python signal handler alone would miss a Ctrl-C during the solve: the
OR-Tools backends install their own SIGINT handlers while they run (SCIP
stops and returns its best solution as if its time limit had been hit,
CP-SAT resets the handler to the default when it ends), so the run would go
on and publish a plan the user asked to abandon.

:func:`catching_interrupts` therefore blocks SIGINT in the main thread before
any other thread exists (threads inherit the mask, so solver threads block
it too) and lets one watcher thread take it with ``sigtimedwait``, whatever
handler a library has installed. The watcher

1. marks the run interrupted (:func:`interrupted`) and raises
   ``KeyboardInterrupt`` in the main thread at its next Python instruction:
   the normal path, which unwinds through ``finally`` blocks and removes
   temporary files;
2. if the main thread is still inside native code after
   :data:`GRACE_S` seconds (a solver can run to its time limit) or the user
   presses Ctrl-C again, reports the interruption and ends the process with
   exit code 130. Nothing has been published at that point: publishing
   happens only under :func:`commit`, which the watcher waits for.

:func:`commit` is the one step that makes an output visible (a rename): it
refuses to start once the run is interrupted, and an interruption that
arrives during it waits until it is done. Where signals cannot be blocked
(Windows, or a caller that is not the main thread) only the first path
exists.
"""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

#: Seconds the main thread gets to unwind after Ctrl-C before the process ends.
GRACE_S = 1.0

#: Exit code of an interrupted command (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130

_commit_lock = threading.Lock()
_interrupted = threading.Event()
_published: list[Path] = []
_reported = threading.Event()
_report_lock = threading.Lock()


def interrupted() -> bool:
    """Whether Ctrl-C was pressed during the current command."""
    return _interrupted.is_set()


def published() -> list[Path]:
    """The output folders published during the current command."""
    return list(_published)


def interrupt_message() -> str:
    """The line that reports an interruption: what was and was not written."""
    if not _published:
        return "interrupted; nothing written"
    folders = ", ".join(str(p) for p in _published)
    return f"interrupted after writing {folders}; nothing else written"


def claim_report() -> bool:
    """True for the first caller only: the interruption is reported once."""
    with _report_lock:
        if _reported.is_set():
            return False
        _reported.set()
        return True


@contextmanager
def commit(target: Path) -> Iterator[None]:
    """Hold off interruptions while ``target`` is made visible.

    Raises
    ------
    KeyboardInterrupt
        When the command was interrupted before the commit began.
    """
    with _commit_lock:
        if _interrupted.is_set():
            raise KeyboardInterrupt
        yield
        _published.append(target)


@contextmanager
def catching_interrupts(report: Callable[[str], None]) -> Iterator[None]:
    """Route Ctrl-C through a watcher thread while the body runs.

    Parameters
    ----------
    report
        Prints the interruption message when the watcher has to end the
        process itself (the main thread is stuck in native code).
    """
    _interrupted.clear()
    _published.clear()
    _reported.clear()
    can_block = (
        hasattr(signal, "pthread_sigmask")
        and hasattr(signal, "sigtimedwait")
        and threading.current_thread() is threading.main_thread()
    )
    if not can_block:
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    watcher = _Watcher(report)
    watcher.start()
    try:
        yield
    finally:
        watcher.stop()
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _Watcher(threading.Thread):
    """Takes SIGINT with sigtimedwait (every other thread blocks it) and acts on it."""

    #: Seconds between looks at the stop flag.
    POLL_S = 0.05

    def __init__(self, report: Callable[[str], None]) -> None:
        super().__init__(name="planner-interrupts", daemon=True)
        self._report = report
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=5)
        # A Ctrl-C after the watcher ended but before the mask is restored
        # would hit the finished command: take it here.
        while signal.sigtimedwait({signal.SIGINT}, 0) is not None:
            pass

    def _wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for Ctrl-C; False on timeout or when stopping."""
        waited = 0.0
        while waited < seconds and not self._stopping.is_set():
            if signal.sigtimedwait({signal.SIGINT}, self.POLL_S) is not None:
                return not self._stopping.is_set()
            waited += self.POLL_S
        return False

    def run(self) -> None:
        if not self._wait(float("inf")):
            return
        with _commit_lock:
            _interrupted.set()
            _thread.interrupt_main()
        # The main thread unwinds through Python in far less than the grace
        # period; a second Ctrl-C cuts the wait short.
        self._wait(GRACE_S)
        if self._stopping.is_set():
            return
        with _commit_lock:
            # Never in the middle of making an output visible.
            if claim_report():
                self._report(interrupt_message())
            for stream in (sys.stdout, sys.stderr):
                with suppress(OSError, ValueError):
                    stream.flush()
            os._exit(EXIT_INTERRUPTED)
