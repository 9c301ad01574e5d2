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

Side constraints (budget, brand and country quotas), when given, are kept:
the greedy opens only sites that leave them met while it can, a greedy plan
that still breaks them is repaired by a MILP over the sites alone (keep as
many of its sites as the rows allow, the ones it needs most, and open the
sites of most credit), the swaps move only within them and the kicks keep
only plans that meet them. On the full-scale sample dealers with a Nissan
share of 20 %, a plan blind to them left the solver a 5.6-million-entry
model with no start, and the answer was no site at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise.constraints import SiteRows, most_worth_within
from planner.optimise.flow.rows import CoverRows
from planner.optimise.solution import relative_gap

__all__ = ["kicked", "refuelling_start", "served_flow"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Side rows are met within this (as :meth:`SiteRows.satisfied` checks them).
_SIDE_TOLERANCE = 1e-6


def served_flow(rows: CoverRows, hits: npt.NDArray[np.float64]) -> float:
    """The flow of the merged trips whose rows are all hit (``hits`` open sites per row)."""
    unhit = np.bincount(rows.row_trip, weights=hits < 0.5, minlength=rows.n_groups)
    return float(rows.group_flow[unhit == 0].sum())


@dataclass(frozen=True)
class _Index:
    """The rows three ways, built once per search: by row, by site, and trips × rows;
    and the side rows' columns, dense (a few rows)."""

    rows: CoverRows
    matrix: sp.csr_matrix
    by_site: sp.csr_matrix
    membership: sp.csr_matrix
    side: SiteRows | None
    side_columns: FloatArray

    @classmethod
    def of(cls, rows: CoverRows, side: SiteRows | None = None) -> _Index:
        matrix = sp.csr_matrix(rows.matrix)
        n_rows = rows.row_trip.size
        membership = sp.csr_matrix(
            (np.ones(n_rows), (rows.row_trip, np.arange(n_rows))), shape=(rows.n_groups, n_rows)
        )
        if side is not None and len(side) == 0:
            side = None
        columns = np.zeros((0, matrix.shape[1])) if side is None else side.matrix.toarray()
        return cls(rows, matrix, sp.csr_matrix(matrix.T), membership, side, columns)

    def value(self, is_open: BoolArray) -> float:
        return served_flow(self.rows, self.matrix @ is_open.astype(np.float64))

    def rows_of(self, site: int) -> IntArray:
        """The rows ``site`` hits."""
        return np.asarray(
            self.by_site.indices[self.by_site.indptr[site] : self.by_site.indptr[site + 1]]
        )

    def meets_side(self, is_open: BoolArray) -> bool:
        return self.side is None or not self.side.satisfied(np.flatnonzero(is_open))

    def within_side(self, is_open: BoolArray, closing: int | None = None) -> BoolArray | None:
        """Which sites, opened (with ``closing`` closed), leave every side row within
        its bounds; ``None`` without side rows."""
        if self.side is None:
            return None
        values = self.side_columns @ is_open.astype(np.float64)
        if closing is not None:
            values = values - self.side_columns[:, closing]
        after = values[:, np.newaxis] + self.side_columns
        lower = self.side.lower[:, np.newaxis] - _SIDE_TOLERANCE
        upper = self.side.upper[:, np.newaxis] + _SIDE_TOLERANCE
        return np.asarray(np.all((after >= lower) & (after <= upper), axis=0))


def kicked(
    rows: CoverRows,
    start: IntArray,
    p: int,
    fixed: BoolArray,
    excluded: BoolArray,
    *,
    seconds: float,
    seed: int,
    side: SiteRows | None = None,
    on_better: Callable[[float], None] | None = None,
    bound: float = math.inf,
    gap: float = 0.0,
) -> IntArray:
    """``start`` improved by kicks and swaps for ``seconds`` (module docstring).

    With ``side`` rows only plans that meet them are kept (``start`` should).
    ``on_better`` hears the served flow (``served_anyway`` included) of each
    better plan; the search ends early once that flow is within the relative
    ``gap`` of ``bound``.
    """
    deadline = time.perf_counter() + seconds
    rng = np.random.default_rng(seed)
    index = _Index.of(rows, side)
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
        if value > best_value + 1e-9 * max(1.0, best_value) and index.meets_side(candidate):
            best, best_value = candidate, value
            if on_better is not None:
                on_better(best_value + rows.served_anyway)
            if relative_gap(best_value + rows.served_anyway, bound) <= gap:
                break
    return np.flatnonzero(best).astype(np.int64)


def refuelling_start(
    rows: CoverRows,
    p: int,
    fixed: BoolArray,
    excluded: BoolArray,
    *,
    seconds: float,
    side: SiteRows | None = None,
) -> IntArray:
    """At most ``p`` sites (``fixed`` ones in, ``excluded`` ones out) by greedy and swaps.

    ``seconds`` bounds the swaps; the greedy always completes (one sparse
    product per site opened). With ``side`` rows the greedy opens only sites
    that keep them, a greedy plan that still breaks them is repaired
    (:func:`_repaired`) and the swaps keep them; when no repair is found the
    greedy plan is returned as it is.
    """
    deadline = time.perf_counter() + seconds
    index = _Index.of(rows, side)
    is_open = np.asarray(fixed, dtype=bool).copy()
    never = np.asarray(excluded, dtype=bool)
    _greedy_fill(index, is_open, never, p)
    if not index.meets_side(is_open):
        mended = _repaired(index, is_open, p, fixed, never, seconds=deadline - time.perf_counter())
        if mended is None:
            return np.flatnonzero(is_open).astype(np.int64)
        is_open = mended
    return _swapped(index, is_open, np.asarray(fixed, dtype=bool), never, deadline)


def _repaired(
    index: _Index,
    is_open: BoolArray,
    p: int,
    fixed: BoolArray,
    excluded: BoolArray,
    *,
    seconds: float,
) -> BoolArray | None:
    """The plan of at most ``p`` sites that meets the side rows and keeps most of ``is_open``.

    Each open site is worth more than all the flow, plus what the plan loses
    without it, and each closed site the credit the greedy gives it, so the
    fewest open sites close (those the plan needs least) and the closed sites
    of most credit open (:func:`most_worth_within`). ``None`` when no such
    plan is found within ``seconds``.
    """
    side = index.side
    assert side is not None
    rows = index.rows
    hits = index.matrix @ is_open.astype(np.float64)
    value = served_flow(rows, hits)
    worth = _credit(index, hits)
    # More than any closed site's credit (at most all the flow), plus what the
    # plan loses without the site, so the sites it needs least close first.
    kept = float(rows.group_flow.sum()) + 1.0
    for site in np.flatnonzero(is_open).tolist():
        without = hits.copy()
        without[index.rows_of(site)] -= 1.0
        worth[site] = kept + value - served_flow(rows, without)
    return most_worth_within(
        side, worth, p, exact_p=False, fixed=fixed, excluded=excluded, seconds=seconds
    )


def _greedy_fill(index: _Index, is_open: BoolArray, barred: BoolArray, p: int) -> None:
    """Open sites of most credit (never ``barred`` ones) in ``is_open`` until ``p`` are open."""
    hits = index.matrix @ is_open.astype(np.float64)
    while int(is_open.sum()) < p:
        score = _credit(index, hits)
        score[is_open | barred] = -1.0
        keeping = index.within_side(is_open)
        if keeping is not None and np.any(keeping & (score > 0.0)):
            # Sites that keep the side rows first; a plan the others leave
            # breaking them is repaired or left out by the caller.
            score[~keeping] = -1.0
        best = int(np.argmax(score))
        if score[best] <= 0.0:
            break
        is_open[best] = True
        hits[index.rows_of(best)] += 1.0


def _credit(index: _Index, hits: FloatArray) -> FloatArray:
    """Each site's credit (module docstring) with ``hits`` open sites per row."""
    rows = index.rows
    unhit = hits < 0.5
    left = np.bincount(rows.row_trip, weights=unhit, minlength=rows.n_groups)
    row_flow = rows.group_flow[rows.row_trip]
    credit = np.where(unhit, row_flow / np.maximum(left[rows.row_trip], 1.0), 0.0)
    return np.asarray(index.by_site @ credit, dtype=np.float64)


def _swapped(
    index: _Index, is_open: BoolArray, fixed: BoolArray, never: BoolArray, deadline: float
) -> IntArray:
    """``is_open`` improved by best swaps until none improves or ``deadline`` passes."""
    rows, matrix, membership = index.rows, index.matrix, index.membership
    hits = matrix @ is_open.astype(np.float64)
    value = served_flow(rows, hits)
    while time.perf_counter() < deadline:
        best = (value, -1, -1)
        for out in np.flatnonzero(is_open & ~fixed):
            if time.perf_counter() >= deadline:
                break
            without = hits.copy()
            without[index.rows_of(int(out))] -= 1.0
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
            keeping = index.within_side(is_open, closing=int(out))
            if keeping is not None:
                gain[~keeping] = -1.0
            into = int(np.argmax(gain))
            if gain[into] >= 0.0 and kept + gain[into] > best[0] + 1e-9 * max(1.0, value):
                best = (float(kept + gain[into]), int(out), into)
        value, closing, opening = best
        if closing < 0:
            break
        is_open[closing], is_open[opening] = False, True
        hits = matrix @ is_open.astype(np.float64)
    return np.flatnonzero(is_open).astype(np.int64)
