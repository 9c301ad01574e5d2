"""Ctrl-C or SIGTERM during a command: always noticed, never half-published.

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

SIGTERM (``kill PID``, a job scheduler, ``docker stop``) takes the same path
as Ctrl-C: it is blocked and taken by the watcher too, the run unwinds and
removes its temporary folder, and the command reports "terminated; nothing
written" and exits with 143 (128 + SIGTERM) instead of 130.

A signal that arrives while the command is still loading (before
:func:`catching_interrupts` blocks it; importing the command line takes a
few tenths of a second) must not print a traceback: when the process was
started as the ``planner`` command, importing this module installs handlers
that only note SIGINT and SIGTERM, and :func:`catching_interrupts` marks the
command interrupted (:func:`interrupted`) before its body starts.

Code that must run however the command ends (deleting a lock file, a
staging folder) registers with :func:`add_cleanup`: it runs when
:func:`catching_interrupts` ends and before the watcher ends the process.
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
from typing import Any

from planner._atomic import remove_temporaries

#: Seconds the main thread gets to unwind after Ctrl-C before the process ends.
GRACE_S = 1.0

#: Exit code of an interrupted command (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130


def _watched_signals() -> frozenset[int]:
    """SIGINT, SIGTERM, and SIGHUP (a closed terminal or SSH session) unless it is ignored.

    ``nohup planner run …`` starts the process with SIGHUP ignored: taken here,
    a hang-up would end the very run nohup was asked to keep alive.
    """
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    found = [getattr(signal, name) for name in names if hasattr(signal, name)]
    hup = getattr(signal, "SIGHUP", None)
    with suppress(OSError, ValueError):
        if hup is not None and signal.getsignal(hup) is signal.SIG_IGN:
            found.remove(hup)
    return frozenset(found)


#: The signals the watcher takes.
_SIGNALS = _watched_signals()

_commit_lock = threading.Lock()
_interrupted = threading.Event()
_published: list[Path] = []
_reported = threading.Event()
_report_lock = threading.Lock()
_received: list[int] = []
_cleanups: list[Callable[[], None]] = []
_early_handlers: dict[int, Any] = {}
_early_signals: list[int] = []


def interrupted() -> bool:
    """Whether Ctrl-C was pressed (or SIGTERM received) during the current command."""
    return _interrupted.is_set()


def _terminated() -> bool:
    return bool(_received) and _received[0] != signal.SIGINT


def interrupt_exit_code() -> int:
    """The exit code of the interrupted command: 130 after Ctrl-C, 143 after SIGTERM, 129
    after SIGHUP (128 + the signal, as shells report it)."""
    return 128 + int(_received[0]) if _received else EXIT_INTERRUPTED


def add_cleanup(cleanup: Callable[[], None]) -> None:
    """Run ``cleanup`` however a command ends, even when the watcher ends the process."""
    if cleanup not in _cleanups:
        _cleanups.append(cleanup)


# A file written on its own leaves no temporary file when the watcher ends the process.
add_cleanup(remove_temporaries)


def _run_cleanups() -> None:
    for cleanup in list(_cleanups):
        with suppress(Exception):
            cleanup()


def published() -> list[Path]:
    """The output folders published during the current command."""
    return list(_published)


def interrupt_message() -> str:
    """The line that reports an interruption: what was and was not written."""
    what = "terminated" if _terminated() else "interrupted"
    if not _published:
        return f"{what}; nothing written"
    folders = ", ".join(str(p) for p in _published)
    return f"{what} after writing {folders}; nothing else written"


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
    """Route Ctrl-C and SIGTERM through a watcher thread while the body runs.

    Parameters
    ----------
    report
        Prints the interruption message when the watcher has to end the
        process itself (the main thread is stuck in native code).
    """
    _interrupted.clear()
    _published.clear()
    _reported.clear()
    _received.clear()
    can_block = (
        hasattr(signal, "pthread_sigmask")
        and hasattr(signal, "sigtimedwait")
        and threading.current_thread() is threading.main_thread()
    )
    if not can_block:
        try:
            yield
        finally:
            _run_cleanups()
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    watcher = _Watcher(report)
    watcher.start()
    _resend_early_signals()
    try:
        yield
    finally:
        try:
            # The watcher may have raised KeyboardInterrupt in this thread
            # after the body had already seen interrupted() and finished: take
            # it here, not halfway through the clean-up below.
            watcher.stop_interrupting()
            _take_pending_interrupt()
        except KeyboardInterrupt:
            pass
        watcher.stop()
        _run_cleanups()
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _take_pending_interrupt() -> None:
    """A Python-level call: a pending KeyboardInterrupt is raised here, if any."""


def _note_early_signal(signum: int, frame: object) -> None:
    _early_signals.append(signum)


def hold_signals_while_loading() -> None:
    """Note SIGINT and SIGTERM until :func:`catching_interrupts` takes over.

    For a process that is the ``planner`` command: the modules it loads take
    a few tenths of a second, and a Ctrl-C meanwhile would otherwise print a
    traceback (and a SIGTERM end it without a word).
    """
    if threading.current_thread() is not threading.main_thread() or _early_handlers:
        return
    for signum in _SIGNALS:
        with suppress(OSError, ValueError):
            _early_handlers[signum] = signal.signal(signum, _note_early_signal)


def _resend_early_signals() -> None:
    """Restore the handlers replaced while loading; mark a noted signal as received."""
    for signum, handler in _early_handlers.items():
        with suppress(OSError, ValueError, TypeError):
            signal.signal(signum, handler)
    _early_handlers.clear()
    if _early_signals:
        # The command has not started: it sees interrupted() and stops at once.
        _received.append(_early_signals[0])
        _interrupted.set()
        _early_signals.clear()


def _started_as_command() -> bool:
    """Whether this process is ``python -m planner`` or the ``planner`` script."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if getattr(spec, "name", None) == "planner.__main__":
        return True
    return bool(sys.argv) and Path(sys.argv[0]).name in ("planner", "planner.exe")


class _Watcher(threading.Thread):
    """Takes SIGINT and SIGTERM with sigtimedwait (every other thread blocks them)."""

    #: Seconds between looks at the stop flag.
    POLL_S = 0.05

    def __init__(self, report: Callable[[str], None]) -> None:
        super().__init__(name="planner-interrupts", daemon=True)
        self._report = report
        self._stopping = threading.Event()

    def stop_interrupting(self) -> None:
        """From now on the watcher raises no KeyboardInterrupt in the main thread."""
        with _commit_lock:
            self._stopping.set()

    def stop(self) -> None:
        self.stop_interrupting()
        self.join(timeout=5)
        # A Ctrl-C after the watcher ended but before the mask is restored
        # would hit the finished command: take it here.
        while signal.sigtimedwait(_SIGNALS, 0) is not None:
            pass

    def _wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for Ctrl-C; False on timeout or when stopping."""
        waited = 0.0
        while waited < seconds and not self._stopping.is_set():
            info = signal.sigtimedwait(_SIGNALS, self.POLL_S)
            # After a stop and continue (Ctrl-Z, fg) CPython returns a record
            # of no signal (si_signo 0): not an interruption.
            if info is not None and info.si_signo in _SIGNALS:
                _received.append(info.si_signo)
                return not self._stopping.is_set()
            waited += self.POLL_S
        return False

    def run(self) -> None:
        if not self._wait(float("inf")):
            return
        with _commit_lock:
            if self._stopping.is_set():
                # The command has ended; its clean-up must not be interrupted.
                return
            _interrupted.set()
            _thread.interrupt_main()
        # The main thread unwinds through Python in far less than the grace
        # period; a second Ctrl-C cuts the wait short.
        self._wait(GRACE_S)
        if self._stopping.is_set():
            return
        with _commit_lock:
            # Never in the middle of making an output visible.
            _run_cleanups()
            if claim_report():
                self._report(interrupt_message())
            for stream in (sys.stdout, sys.stderr):
                with suppress(OSError, ValueError):
                    stream.flush()
            os._exit(interrupt_exit_code())


if _started_as_command():
    hold_signals_while_loading()
