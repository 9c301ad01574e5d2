"""Progress of a solve while it runs: the best plan so far, the proven bound, the time left.

A long solve is otherwise silent for a minute. The pipeline opens a
:func:`watch` around a model's solve; the model (and the MILP backend's log,
read by :mod:`planner.optimise._solver_log`) report what they know through
:func:`note` as they learn it, and a timer thread hands a
:class:`SolveProgress` snapshot to the watcher's callback every few seconds.

A model that solves on its objective's terms multiplied by a factor (so
that tiny weights stay above the solvers' absolute tolerances) opens
:func:`scaled` around the solve, and what is noted inside it is divided back:
the display shows the objective in the units given.

Only values that hold for the whole model are noted: the objective of a plan
that satisfies every constraint, and a bound that no such plan can beat. A
sub-problem's figures (one region, a kernel of sites) are not. The watch
keeps the best plan and the tightest bound it has heard of, so a later, weaker
report never makes the display go backwards.

With no watch open, :func:`note` does nothing: models run exactly as before.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["SolveProgress", "muted", "note", "reporting", "scaled", "watch", "whole_model"]


@dataclass(frozen=True)
class SolveProgress:
    """One snapshot of a running solve.

    Attributes
    ----------
    elapsed_s
        Seconds since the solve started.
    time_limit_s
        The solve's time limit.
    best
        Objective of the best plan found so far (the model's own units:
        covered sessions/day, cost, weighted distance), or ``None`` before
        the first plan.
    bound
        The best value any plan could reach, as proven so far, or ``None``.
    maximise
        Whether a larger objective is better.
    """

    elapsed_s: float
    time_limit_s: float
    best: float | None
    bound: float | None
    maximise: bool

    @property
    def time_left_s(self) -> float:
        """Seconds left before the time limit stops the solve (never negative)."""
        return max(0.0, self.time_limit_s - self.elapsed_s)

    @property
    def gap(self) -> float | None:
        """Relative gap |best − bound| / max(|best|, 1e-9), or ``None`` without both."""
        if self.best is None or self.bound is None:
            return None
        if not (math.isfinite(self.best) and math.isfinite(self.bound)):
            return None
        return max(0.0, (self.bound - self.best) * (1 if self.maximise else -1)) / max(
            abs(self.best), 1e-9
        )

    def __str__(self) -> str:
        parts = [f"{self.elapsed_s:.0f} s elapsed, {self.time_left_s:.0f} s left"]
        if self.best is not None:
            parts.append(f"best plan {_figure(self.best)}")
        if self.bound is not None:
            parts.append(f"bound {_figure(self.bound)}")
        gap = self.gap
        if gap is not None:
            parts.append(f"gap {100 * gap:.3g} %")
        return "solving: " + ", ".join(parts)


def _figure(value: float) -> str:
    """An objective for a one-line display: 27,400,000 or 6,819.96 or 0.0123."""
    if abs(value) >= 1e5:
        return f"{value:,.0f}"
    return f"{value:,.6g}"


class _Watch:
    """The best plan and bound heard of so far, and the thread that reports them."""

    def __init__(
        self, callback: Callable[[SolveProgress], None], time_limit_s: float, every_s: float
    ) -> None:
        self._callback = callback
        self._time_limit_s = time_limit_s
        self._every_s = every_s
        self._started = time.perf_counter()
        self._lock = threading.Lock()
        self._best: float | None = None
        self._bound: float | None = None
        self._maximise = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="solve-progress", daemon=True)
        #: What the callback raised, re-raised in the caller's thread when the solve returns.
        self.error: BaseException | None = None

    def note(self, best: float | None, bound: float | None, maximise: bool) -> None:
        better = max if maximise else min
        tighter = min if maximise else max
        with self._lock:
            if maximise != self._maximise and (self._best, self._bound) != (None, None):
                return  # a sub-model of the other sense: not the whole model's figures
            self._maximise = maximise
            if best is not None and math.isfinite(best):
                self._best = best if self._best is None else better(self._best, best)
            if bound is not None and math.isfinite(bound):
                self._bound = bound if self._bound is None else tighter(self._bound, bound)

    def snapshot(self) -> SolveProgress:
        with self._lock:
            return SolveProgress(
                elapsed_s=time.perf_counter() - self._started,
                time_limit_s=self._time_limit_s,
                best=self._best,
                bound=self._bound,
                maximise=self._maximise,
            )

    def _tick(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self._callback(self.snapshot())
            except BaseException as exc:  # the caller's own, KeyboardInterrupt too
                # Raised on this timer thread it would only print a traceback and
                # let the run go on; it ends the run instead, once the solver returns.
                self.error = exc
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


_WATCH: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar("solve_watch", default=None)
#: The factor the model being solved multiplied its objective's terms by.
_SCALE: contextvars.ContextVar[float] = contextvars.ContextVar("objective_scale", default=1.0)


@contextmanager
def watch(
    callback: Callable[[SolveProgress], None] | None,
    *,
    time_limit_s: float,
    every_s: float = 3.0,
) -> Iterator[Callable[[], SolveProgress] | None]:
    """Report the solve run inside the block to ``callback`` every ``every_s`` seconds.

    The callback runs on a timer thread; it should be quick (print a line,
    update a bar). What it raises stops the reports and is raised here when
    the block ends (the solver cannot be stopped from another thread sooner).
    ``None`` watches nothing. Yields a function giving the latest snapshot
    (``None`` when nothing is watched).
    """
    if callback is None:
        yield None
        return
    current = _Watch(callback, time_limit_s, every_s)
    token = _WATCH.set(current)
    current.start()
    try:
        yield current.snapshot
    finally:
        current.stop()
        _WATCH.reset(token)
    if current.error is not None:
        raise current.error


@contextmanager
def muted() -> Iterator[None]:
    """Keep a model's sub-solves (a year alone, a relaxation) out of the open watch."""
    token = _WATCH.set(None)
    try:
        yield
    finally:
        _WATCH.reset(token)


@contextmanager
def scaled(scale: float) -> Iterator[None]:
    """Divide by ``scale`` what the block notes: its solve runs on terms multiplied by it."""
    token = _SCALE.set(_SCALE.get() * scale)
    try:
        yield
    finally:
        _SCALE.reset(token)


def note(*, best: float | None = None, bound: float | None = None, maximise: bool) -> None:
    """Tell the open watch (if any) of a plan's objective and/or a proven bound."""
    current = _WATCH.get()
    if current is not None:
        scale = _SCALE.get()
        current.note(
            None if best is None else best / scale,
            None if bound is None else bound / scale,
            maximise,
        )


def whole_model(maximise: bool) -> Callable[[float | None, float | None], None]:
    """A backend report for a MILP that is the whole model (its objective is the plan's)."""

    def report(best: float | None, bound: float | None) -> None:
        note(best=best, bound=bound, maximise=maximise)

    return report


def reporting() -> bool:
    """Whether a watch is open (so reading a backend's log is worth its cost)."""
    return _WATCH.get() is not None
