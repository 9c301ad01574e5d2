r"""A start plan for flow refuelling: greedy on the trips' rows, then swaps.

A merged trip :math:`q` is served when every one of its cover rows holds an
open site (:mod:`.rows`). The greedy opens one site at a time, the one of
most credit: each row it would hit that no open site hits yet earns
:math:`f_q / u_q`, with :math:`u_q` the rows of :math:`q` not yet hit, so a
site that completes a trip earns the trip's whole flow and a site that
covers half of what is left earns half of it. Crediting only completed trips
would leave a trip that needs two new stations worth nothing to either.

Swaps follow (one open site out, one closed site in), the best swap of each
pass, until none improves the served flow or the time is up. With site
:math:`i` closed, the rows left unhit number :math:`u_q` per trip, and a
closed site :math:`j` serves trip :math:`q` again exactly when it lies in all
of them: one sparse product, trips × sites, counts for every :math:`j` at once.

:func:`kicked` goes on from a plan for as long as it is given: it closes two
open sites at random, opens the two closed sites of most credit, runs the
swaps again and keeps the result when it serves more (an iterated local
search, for models too large for the solver to improve on its plan).

Side constraints are not read here; the caller keeps a plan that breaks them
out of the solver's hands, as for maximal covering's heuristics.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise.flow.rows import CoverRows
from planner.optimise.solution import relative_gap

__all__ = ["kicked", "refuelling_start", "served_flow"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def served_flow(rows: CoverRows, hits: npt.NDArray[np.float64]) -> float:
    """The flow of the merged trips whose rows are all hit (``hits`` open sites per row)."""
    unhit = np.bincount(rows.row_trip, weights=hits < 0.5, minlength=rows.n_groups)
    return float(rows.group_flow[unhit == 0].sum())


@dataclass(frozen=True)
class _Index:
    """The rows three ways, built once per search: by row, by site, and trips × rows."""

    rows: CoverRows
    matrix: sp.csr_matrix
    by_site: sp.csr_matrix
    membership: sp.csr_matrix

    @classmethod
    def of(cls, rows: CoverRows) -> _Index:
        matrix = sp.csr_matrix(rows.matrix)
        n_rows = rows.row_trip.size
        membership = sp.csr_matrix(
            (np.ones(n_rows), (rows.row_trip, np.arange(n_rows))), shape=(rows.n_groups, n_rows)
        )
        return cls(rows, matrix, sp.csr_matrix(matrix.T), membership)

    def value(self, is_open: BoolArray) -> float:
        return served_flow(self.rows, self.matrix @ is_open.astype(np.float64))


def kicked(
    rows: CoverRows,
    start: IntArray,
    p: int,
    fixed: BoolArray,
    excluded: BoolArray,
    *,
    seconds: float,
    seed: int,
    on_better: Callable[[float], None] | None = None,
    bound: float = math.inf,
    gap: float = 0.0,
) -> IntArray:
    """``start`` improved by kicks and swaps for ``seconds`` (module docstring).

    ``on_better`` hears the served flow (``served_anyway`` included) of each
    better plan; the search ends early once that flow is within the relative
    ``gap`` of ``bound``.
    """
    deadline = time.perf_counter() + seconds
    rng = np.random.default_rng(seed)
    index = _Index.of(rows)
    never = np.asarray(excluded, dtype=bool)
    must = np.asarray(fixed, dtype=bool)
    best = np.zeros(index.matrix.shape[1], dtype=bool)
    best[start] = True
    best_value = index.value(best)
    while time.perf_counter() < deadline:
        movable = np.flatnonzero(best & ~must)
        if movable.size == 0:
            break
        trial = best.copy()
        trial[rng.choice(movable, size=min(2, movable.size), replace=False)] = False
        _greedy_fill(index, trial, never | best, p)
        candidate = np.zeros_like(best)
        candidate[_swapped(index, trial, must, never, deadline)] = True
        value = index.value(candidate)
        if value > best_value + 1e-9 * max(1.0, best_value):
            best, best_value = candidate, value
            if on_better is not None:
                on_better(best_value + rows.served_anyway)
            if relative_gap(best_value + rows.served_anyway, bound) <= gap:
                break
    return np.flatnonzero(best).astype(np.int64)


def refuelling_start(
    rows: CoverRows, p: int, fixed: BoolArray, excluded: BoolArray, *, seconds: float
) -> IntArray:
    """At most ``p`` sites (``fixed`` ones in, ``excluded`` ones out) by greedy and swaps.

    ``seconds`` bounds the swaps; the greedy always completes (one sparse
    product per site opened).
    """
    deadline = time.perf_counter() + seconds
    index = _Index.of(rows)
    is_open = np.asarray(fixed, dtype=bool).copy()
    never = np.asarray(excluded, dtype=bool)
    _greedy_fill(index, is_open, never, p)
    return _swapped(index, is_open, np.asarray(fixed, dtype=bool), never, deadline)


def _greedy_fill(index: _Index, is_open: BoolArray, barred: BoolArray, p: int) -> None:
    """Open sites of most credit (never ``barred`` ones) in ``is_open`` until ``p`` are open."""
    rows, by_site = index.rows, index.by_site
    hits = index.matrix @ is_open.astype(np.float64)
    row_flow = rows.group_flow[rows.row_trip]
    while int(is_open.sum()) < p:
        unhit = hits < 0.5
        left = np.bincount(rows.row_trip, weights=unhit, minlength=rows.n_groups)
        credit = np.where(unhit, row_flow / np.maximum(left[rows.row_trip], 1.0), 0.0)
        score = by_site @ credit
        score[is_open | barred] = -1.0
        best = int(np.argmax(score))
        if score[best] <= 0.0:
            break
        is_open[best] = True
        hits[by_site.indices[by_site.indptr[best] : by_site.indptr[best + 1]]] += 1.0


def _swapped(
    index: _Index, is_open: BoolArray, fixed: BoolArray, never: BoolArray, deadline: float
) -> IntArray:
    """``is_open`` improved by best swaps until none improves or ``deadline`` passes."""
    rows, matrix, by_site, membership = index.rows, index.matrix, index.by_site, index.membership
    hits = matrix @ is_open.astype(np.float64)
    value = served_flow(rows, hits)
    while time.perf_counter() < deadline:
        best = (value, -1, -1)
        for out in np.flatnonzero(is_open & ~fixed):
            if time.perf_counter() >= deadline:
                break
            column = by_site.indices[by_site.indptr[out] : by_site.indptr[out + 1]]
            without = hits.copy()
            without[column] -= 1.0
            unhit = without < 0.5
            left = np.asarray(membership @ unhit.astype(np.float64)).ravel()
            kept = float(rows.group_flow[left == 0].sum())
            # counts[q, j]: the unhit rows of trip q that site j hits.
            counts = sp.coo_matrix(membership[:, unhit] @ matrix[unhit])
            completes = counts.data == left[counts.row]
            gain = np.bincount(
                counts.col[completes],
                weights=rows.group_flow[counts.row[completes]],
                minlength=matrix.shape[1],
            )
            gain[is_open | never] = -1.0
            into = int(np.argmax(gain))
            if gain[into] >= 0.0 and kept + gain[into] > best[0] + 1e-9 * max(1.0, value):
                best = (float(kept + gain[into]), int(out), into)
        value, closing, opening = best
        if closing < 0:
            break
        is_open[closing], is_open[opening] = False, True
        hits = matrix @ is_open.astype(np.float64)
    return np.flatnonzero(is_open).astype(np.int64)
