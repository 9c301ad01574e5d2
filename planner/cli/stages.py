"""The command line's stage display: each finished stage with its time, the current one live.

While the model solves, the current stage's line also shows the solve's
progress (elapsed, time left, best plan, bound, gap): on the spinner in a
terminal, and as a line every 10 s when the output is a file or a pipe.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from planner.optimise.progress import SolveProgress

__all__ = ["Stages"]


class Stages:
    """Prints each finished stage with its time while a spinner shows the current one."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._status = console.status("starting")
        self._current: str | None = None
        self._started = time.perf_counter()
        self._last_line = self._started

    def __enter__(self) -> Stages:
        self._status.__enter__()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self._finish()
        self._status.__exit__(None, None, None)

    def _finish(self) -> None:
        if self._current is not None:
            seconds = time.perf_counter() - self._started
            self._console.print(f"  {self._current:<28} {seconds:6.1f} s")
        self._started = time.perf_counter()

    def __call__(self, name: str | SolveProgress) -> None:
        if not isinstance(name, str):
            self._solving(name)
            return
        self._finish()
        self._current = name
        self._status.update(f"{name} …")

    def _solving(self, progress: SolveProgress) -> None:
        """The solve's progress: on the spinner's line, or a line every 10 s off a terminal."""
        line = f"{self._current} … {str(progress).removeprefix('solving: ')}"
        if self._console.is_terminal:
            self._status.update(line)
        elif time.perf_counter() - self._last_line >= 10.0:
            self._console.print(f"  {line}", soft_wrap=True)
            self._last_line = time.perf_counter()

    def relabel(self, name: str) -> None:
        """Rename the current stage (to add its result); its time still counts from its start."""
        self._current = name
