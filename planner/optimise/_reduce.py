"""Dominance reductions for coverage models (set covering and maximal covering).

A site whose covered rows are a subset of another site's, at no lower cost,
can be left closed: swapping it for the dominating site never loses
coverage. A full-cover row whose reach set contains another row's reach set
is implied by that row's constraint. Removing dominated sites makes more
rows identical, so merging and dominance repeat until nothing changes.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise._aggregate import aggregate_rows
from planner.optimise._reach import drop_sites, select_rows

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Rows compared per block when looking for dominated rows (bounds memory).
_ROW_BLOCK = 2048


def dominated_sites(
    rows: sp.csr_matrix,
    costs: FloatArray,
    candidates: BoolArray,
    classes: npt.NDArray[np.int64] | None = None,
) -> BoolArray:
    """Candidate sites covering a subset of another candidate's rows at no lower cost.

    Among sites with identical row sets and costs the lowest index survives.
    Candidates that cover no row at all are dominated too, unless side
    constraints are in play: with ``classes`` (equal labels for sites the
    side constraints treat alike), a site is only ever dominated by one of
    its own class.
    """
    by_site = sp.csc_matrix(rows)
    size = np.diff(by_site.indptr)
    dominated = candidates & (size == 0) if classes is None else np.zeros_like(candidates)
    active = np.flatnonzero(candidates & (size > 0))
    if active.size < 2:
        return dominated
    sub = sp.csc_matrix(by_site[:, active])
    sub.data[:] = 1.0
    overlap = sp.coo_matrix(sub.T @ sub)
    j, k, shared = overlap.row, overlap.col, overlap.data
    size_a, cost_a = size[active], costs[active]
    contained = (j != k) & (shared == size_a[j])
    cheaper = cost_a[k] < cost_a[j]
    same_cost = cost_a[k] == cost_a[j]
    strictly_larger = size_a[k] > size_a[j]
    identical_tie = (size_a[k] == size_a[j]) & same_cost & (k < j)
    beaten = contained & (cheaper | (same_cost & strictly_larger) | identical_tie)
    if classes is not None:
        beaten &= classes[active[j]] == classes[active[k]]
    dominated[active[np.unique(j[beaten])]] = True
    return dominated


def dominated_rows(rows: sp.csr_matrix) -> BoolArray:
    """Rows whose reach set contains another row's (implied cover constraints).

    Identical rows are expected to have been merged already.
    """
    pattern = sp.csr_matrix(rows, copy=True)
    pattern.data[:] = 1.0
    size = np.diff(pattern.indptr)
    columns = sp.csc_matrix(pattern.T)
    implied = np.zeros(rows.shape[0], dtype=bool)
    for start in range(0, rows.shape[0], _ROW_BLOCK):
        block = pattern[start : start + _ROW_BLOCK]
        overlap = sp.coo_matrix(block @ columns)
        a = overlap.row + start
        b = overlap.col
        contains = (a != b) & (overlap.data == size[b]) & (size[a] > size[b])
        implied[np.unique(a[contains])] = True
    return implied


def reduce_coverage(
    rows: sp.csr_matrix,
    weights: FloatArray,
    costs: FloatArray,
    candidates: BoolArray,
    *,
    drop_implied_rows: bool,
    classes: npt.NDArray[np.int64] | None = None,
    max_rounds: int = 5,
) -> tuple[sp.csr_matrix, FloatArray, BoolArray]:
    """Repeat site dominance, row merging (and implied-row removal) to a fixed point.

    Parameters
    ----------
    rows
        Distinct reach sets still to cover (structure only).
    weights
        Weight of each row (summed when rows merge).
    costs
        Opening cost of each site (equal costs for maximal covering).
    candidates
        Sites the model may still choose (not fixed, not excluded).
    drop_implied_rows
        Remove rows implied by others (valid for full covering only).
    classes
        Side-constraint classes of the sites (see :func:`dominated_sites`).

    Returns
    -------
    rows, weights, removed
        The reduced rows and weights, and the mask of sites left closed.
    """
    removed = np.zeros(rows.shape[1], dtype=bool)
    for round_number in range(max_rounds):
        dominated = dominated_sites(rows, costs, candidates & ~removed, classes)
        implied = dominated_rows(rows) if drop_implied_rows else np.zeros(rows.shape[0], bool)
        if not dominated.any() and not implied.any():
            break
        removed |= dominated
        shrunk = select_rows(drop_sites(rows, dominated), ~implied)
        merged = aggregate_rows(shrunk, weights[~implied], match_costs=False)
        rows, weights = merged.reach, merged.weights
        logger.debug(
            "round %d: %d sites dominated, %d rows implied, %d rows left",
            round_number,
            int(dominated.sum()),
            int(implied.sum()),
            rows.shape[0],
        )
    return rows, weights, removed


def lowest_equivalent(
    reach: sp.csr_matrix,
    open_sites: npt.NDArray[np.int64],
    *,
    fixed: BoolArray,
    allowed: BoolArray,
    classes: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.int64]:
    """``open_sites`` with each site swapped for the lowest-index twin it has.

    Twins are sites with the same pairs at the same costs (and the same
    side-constraint class): swapping them changes no objective and no
    constraint, so solvers are free to return either; this makes the answer
    the one with the lowest site indices (the lowest site ids in a plan).
    """
    by_site = sp.csc_matrix(reach)
    by_site.sort_indices()
    groups: dict[bytes, list[int]] = {}
    for site in np.flatnonzero(allowed).tolist():
        span = slice(by_site.indptr[site], by_site.indptr[site + 1])
        key = by_site.indices[span].tobytes() + b"|" + by_site.data[span].tobytes()
        if classes is not None:
            key += b"|" + int(classes[site]).to_bytes(8, "little", signed=True)
        groups.setdefault(key, []).append(site)
    is_open = np.zeros(reach.shape[1], dtype=bool)
    is_open[open_sites] = True
    for members in groups.values():
        if len(members) < 2:
            continue
        twins = np.asarray(members, dtype=np.int64)
        count = int(is_open[twins].sum())
        if count == 0 or count == twins.size:
            continue
        # Fixed twins stay open; the others go to the lowest indices.
        keep = twins[fixed[twins]]
        rest = twins[~fixed[twins]][: count - keep.size]
        is_open[twins] = False
        is_open[keep] = True
        is_open[rest] = True
    return np.flatnonzero(is_open).astype(np.int64)
