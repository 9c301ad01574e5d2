"""Dominance reductions for coverage models (set covering and maximal covering).

A site whose covered rows are a subset of another site's, at no lower cost,
can be left closed: swapping it for the dominating site never loses
coverage. A full-cover row whose reach set contains another row's reach set
is implied by that row's constraint. Removing dominated sites makes more
rows identical, so merging and dominance repeat until nothing changes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise._aggregate import aggregate_rows
from planner.optimise._reach import drop_sites, entry_rows, select_rows, spans

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: Rows compared per block when looking for dominated rows (bounds memory).
_ROW_BLOCK = 2048
#: Sites whose candidate dominators are generated at once (bounds memory).
_SITE_BLOCK = 4096
#: Seconds per pair the dominance's setup takes before any site is checked
#: (5 s on 31 M pairs on the 2-core development machine, beside another job).
_SETUP_S_PER_PAIR = 1.6e-7
#: Largest bitset of (row, site) pairs built for membership tests.
_BITSET_BYTES = 1 << 29
#: Share of a solve's time limit after which no further round of reductions
#: starts: on every dealer of the five default countries (14,471 sites) the
#: five rounds of set covering take 12 s, the last three removing 4 % of the
#: sites.
REDUCTION_SHARE = 0.2
#: Share of a solve's time limit after which the site dominance under way
#: stops: the sites found dominated by then are left out, the rest stay in the
#: model. On ten times the full-scale sample (143,000 sites, 31 M pairs) one
#: round took 34 s, so a 10 s limit ended after 43 s; cut at 0.2 of a 60 s
#: limit, the larger model left ended further from its bound (gap 14.8 %
#: against 11.4 %).
DOMINANCE_SHARE = 0.5


def _membership(keys: IntArray, universe: int) -> Callable[[IntArray], BoolArray]:
    """A vectorised test ``want in keys`` for keys in ``[0, universe)``; ``keys`` sorted, unique.

    A bitset when it fits in ``_BITSET_BYTES`` (about 40 times faster than a
    binary search on Europe's 6 M pairs), else a binary search.
    """
    if universe // 8 + 1 <= _BITSET_BYTES:
        bits = np.zeros(universe // 8 + 1, dtype=np.uint8)
        # Keys are unique, so adding bits that share a byte is an OR.
        np.add.at(bits, keys >> 3, np.left_shift(1, keys & 7).astype(np.uint8))
        return lambda want: ((bits[want >> 3] >> (want & 7)) & 1).astype(bool)

    def search(want: IntArray) -> BoolArray:
        at = np.minimum(np.searchsorted(keys, want), keys.size - 1)
        return np.asarray(keys[at] == want)

    return search


def dominated_sites(
    rows: sp.csr_matrix,
    costs: FloatArray,
    candidates: BoolArray,
    classes: npt.NDArray[np.int64] | None = None,
    deadline: float | None = None,
) -> BoolArray:
    """Candidate sites covering a subset of another candidate's rows at no lower cost.

    Among sites with identical row sets and costs the lowest index survives.
    Candidates that cover no row at all are dominated too, unless side
    constraints are in play: with ``classes`` (equal labels for sites the
    side constraints treat alike), a site is only ever dominated by one of
    its own class.

    A site's dominator covers every row of it, in particular its rarest row:
    the sites of that row are the only candidates, and each candidate pair
    is checked against the site's other rows one at a time (rarest first),
    so most pairs fall at the first check. A site × site overlap product
    would cost the sum of squared row sizes instead (14 s against 1.8 s on
    Europe's 49k rows × 16k sites).

    Past ``deadline`` (``time.perf_counter()`` seconds) no further block of
    sites is checked, and none is when the setup would pass it; the smallest
    sites, the likeliest to be dominated, go first. Stopping early is safe:
    every site marked has a dominator, and following dominators (each
    cheaper, larger or an earlier twin) ends at a site not marked, which
    covers its rows too.
    """
    by_site = sp.csc_matrix(rows)
    size = np.diff(by_site.indptr)
    dominated = candidates & (size == 0) if classes is None else np.zeros_like(candidates)
    active = np.flatnonzero(candidates & (size > 0))
    # Not started when its setup alone would pass the deadline.
    setup_s = _SETUP_S_PER_PAIR * by_site.nnz
    if active.size < 2 or (deadline is not None and time.perf_counter() + setup_s > deadline):
        return dominated
    columns = sp.csc_matrix(by_site[:, active])
    columns.sort_indices()
    sub = sp.csr_matrix(columns)
    n_rows, n_active = sub.shape
    row_size = np.diff(sub.indptr)
    site_size = np.diff(columns.indptr)
    # Each site's rows, rarest first (the transpose of a CSC matrix is CSR by site).
    # Rows renumbered by size (rarest first, then by index) and sorted within
    # each site's column: a sort per column takes 1.2-2.1 s on 31 M pairs where
    # one sort of all pairs by (site, row size) took 6.1-6.3 s.
    rarest_first = np.argsort(row_size, kind="stable")
    rank = np.empty(n_rows, dtype=columns.indices.dtype)
    rank[rarest_first] = np.arange(n_rows, dtype=rank.dtype)
    ranked = sp.csc_matrix(
        (np.zeros(columns.nnz, dtype=np.int8), rank[columns.indices], columns.indptr),
        shape=columns.shape,
    )
    ranked.has_sorted_indices = False
    ranked.sort_indices()
    site_rows = rarest_first[ranked.indices].astype(np.int64)
    member = _membership(entry_rows(sub) * n_active + sub.indices, n_rows * n_active)
    cost = costs[active]
    site_class = classes[active] if classes is not None else None
    beaten = np.zeros(n_active, dtype=bool)
    by_size = np.argsort(site_size, kind="stable")
    for first in range(0, n_active, _SITE_BLOCK):
        if deadline is not None and time.perf_counter() > deadline:
            logger.debug("site dominance stopped at its deadline: %d of %d sites", first, n_active)
            break
        block = by_size[first : first + _SITE_BLOCK]
        rarest = site_rows[columns.indptr[block]]
        at, which = spans(sub.indptr[rarest], row_size[rarest])
        j, k = block[which], sub.indices[at].astype(np.int64)
        # k beats j when it covers j's rows and is cheaper, larger, or an
        # identical twin of lower index.
        keep = (j != k) & (site_size[k] >= site_size[j]) & (cost[k] <= cost[j])
        keep &= (cost[k] < cost[j]) | (site_size[k] > site_size[j]) | (k < j)
        if site_class is not None:
            keep &= site_class[j] == site_class[k]
        j, k = j[keep], k[keep]
        position = 1
        while j.size:
            checked = site_size[j] <= position
            beaten[j[checked]] = True
            j, k = j[~checked], k[~checked]
            if not j.size:
                break
            # Pairs of a site already beaten need no further checks.
            keep = member(site_rows[columns.indptr[j] + position] * n_active + k) & ~beaten[j]
            j, k = j[keep], k[keep]
            position += 1
    dominated[active[beaten]] = True
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
    kept: BoolArray | None = None,
    max_rounds: int = 5,
    deadline: float | None = None,
    dominance_deadline: float | None = None,
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
    kept
        Sites never left closed, though dominated: those a side constraint
        may need for their count (:func:`planner.optimise.constraints.counted_sites`).
        They may still dominate others.
    deadline
        ``time.perf_counter()`` seconds after which no further round starts
        (each round is exact, so stopping early leaves a valid, larger model;
        every dealer of the five default countries: five rounds of 1.2-6 s).
    dominance_deadline
        ``time.perf_counter()`` seconds after which the site dominance of the
        round under way stops (see :func:`dominated_sites`).

    Returns
    -------
    rows, weights, removed
        The reduced rows and weights, and the mask of sites left closed.
    """
    removed = np.zeros(rows.shape[1], dtype=bool)
    for round_number in range(max_rounds):
        dominated = dominated_sites(rows, costs, candidates & ~removed, classes, dominance_deadline)
        if kept is not None:
            dominated &= ~kept
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
        if not drop_implied_rows:
            # Merging rows keeps containment between the remaining sites as it
            # was, so without implied-row removal one round is a fixed point.
            break
        if deadline is not None and time.perf_counter() > deadline:
            break
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
