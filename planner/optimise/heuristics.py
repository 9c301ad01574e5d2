"""Fast heuristics that give the coverage models a feasible warm start.

The greedy heuristics open, one at a time, the site with the largest
marginal gain (per cost, for set covering). Gains only shrink as sites open
(coverage is submodular), so a lazy priority queue re-evaluates a site only
when it reaches the top.
p-median has its own in :mod:`planner.optimise.median._search`.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def greedy_coverage(
    rows: sp.csr_matrix,
    weights: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    excluded: BoolArray,
) -> IntArray:
    """Greedy maximal covering: fixed sites, then up to ``p`` sites by marginal weight.

    Parameters
    ----------
    rows
        Demand × sites structure (any stored entry is a pair in reach).
    weights
        Weight of each row.
    p
        Total number of sites to open, fixed ones included.
    fixed, excluded
        Site masks.
    """
    by_site = sp.csc_matrix(rows)
    covered = np.zeros(rows.shape[0], dtype=bool)
    chosen: list[int] = np.flatnonzero(fixed).tolist()
    for opened in chosen:
        covered[by_site.indices[by_site.indptr[opened] : by_site.indptr[opened + 1]]] = True
    order = _greedy_order(by_site, weights, covered, np.flatnonzero(~fixed & ~excluded))
    while len(chosen) < p:
        step = next(order, None)
        if step is None:
            break
        chosen.append(step[0])
    return np.sort(np.asarray(chosen, dtype=np.int64))


def greedy_cover(
    rows: sp.csr_matrix,
    weights: FloatArray,
    prices: FloatArray,
    allowed: BoolArray,
    need: float | None = None,
) -> BoolArray | None:
    """Chvátal's greedy set cover: the site covering most uncovered weight per cost, in turn.

    Until ``need`` of the rows' weight is covered (all of it when None); None
    when the allowed sites cannot cover that much. A free site that covers
    anything comes before every priced one.
    """
    total = float(weights.sum())
    need = total if need is None else need
    per_cost = np.maximum(prices, 1e-12 * max(1.0, float(prices.max(initial=0.0))))
    covered = np.zeros(rows.shape[0], dtype=bool)
    order = _greedy_order(sp.csc_matrix(rows), weights, covered, np.flatnonzero(allowed), per_cost)
    chosen = np.zeros(rows.shape[1], dtype=bool)
    done = 0.0
    while done < need - 1e-9 * max(1.0, total):
        step = next(order, None)
        if step is None:
            return None
        chosen[step[0]] = True
        done += step[1]
    return chosen


def _greedy_order(
    by_site: sp.csc_matrix,
    weights: FloatArray,
    covered: BoolArray,
    candidates: IntArray,
    prices: FloatArray | None = None,
) -> Iterator[tuple[int, float]]:
    """The candidates by uncovered weight (per price, when given), best first, with that weight.

    Each site yielded marks its rows in ``covered``; sites that would cover
    nothing more are skipped.
    """

    def gain(site: int) -> float:
        members = by_site.indices[by_site.indptr[site] : by_site.indptr[site + 1]]
        return float(weights[members[~covered[members]]].sum())

    def key(site: int, value: float) -> float:
        return -value if prices is None else -value / prices[site]

    heap = [(key(site, gain(site)), site) for site in candidates.tolist()]
    heapq.heapify(heap)
    while heap:
        _, site = heapq.heappop(heap)
        current = gain(site)
        if current <= 0:
            continue  # Gains only shrink: this site will never help again.
        if heap and key(site, current) > heap[0][0]:
            heapq.heappush(heap, (key(site, current), site))
            continue
        covered[by_site.indices[by_site.indptr[site] : by_site.indptr[site + 1]]] = True
        yield site, current


def swap_coverage(
    rows: sp.csr_matrix,
    weights: FloatArray,
    open_sites: IntArray,
    *,
    fixed: BoolArray,
    excluded: BoolArray,
    max_passes: int = 5,
    deadline: float | None = None,
) -> IntArray:
    """Improve a maximal-covering solution by swapping one open site for a closed one.

    First-improvement interchange (Teitz & Bart style): for each closed
    candidate the best open site to drop is found from the rows it would
    newly cover and the rows only that open site covers, in time linear in
    the candidate's rows. Fixed sites never leave; passes stop when no swap
    improves the covered weight, or at ``deadline`` (``time.perf_counter()``
    seconds) with the swaps made so far (a pass over Europe's 16,000 sites
    takes seconds).
    """
    n_sites = rows.shape[1]
    by_site = sp.csc_matrix(rows)
    count = np.zeros(rows.shape[0], dtype=np.int64)
    coverer_sum = np.zeros(rows.shape[0], dtype=np.int64)
    is_open = np.zeros(n_sites, dtype=bool)

    def members(site: int) -> npt.NDArray[np.int32]:
        return by_site.indices[by_site.indptr[site] : by_site.indptr[site + 1]]

    def toggle(site: int, opening: bool) -> None:
        step = 1 if opening else -1
        covered = members(site)
        count[covered] += step
        coverer_sum[covered] += step * site
        is_open[site] = opening

    for site in open_sites.tolist():
        toggle(site, True)
    tolerance = 1e-9 * max(1.0, float(weights.sum()))

    def cheapest_drop() -> tuple[FloatArray, int]:
        only = count == 1
        loss = np.asarray(
            np.bincount(coverer_sum[only], weights=weights[only], minlength=n_sites),
            dtype=np.float64,
        )
        ranked = np.where(is_open & ~fixed, loss, np.inf)
        return loss, int(np.argmin(ranked))

    if not np.any(is_open & ~fixed):
        return np.flatnonzero(is_open).astype(np.int64)
    loss, cheapest = cheapest_drop()
    for _ in range(max_passes):
        improved = False
        for candidate in np.flatnonzero(~is_open & ~excluded).tolist():
            if deadline is not None and time.perf_counter() > deadline:
                return np.flatnonzero(is_open).astype(np.int64)
            rows_c = members(candidate)
            gain = float(weights[rows_c[count[rows_c] == 0]].sum())
            if gain <= tolerance:
                continue
            # Dropping s loses loss[s], except rows only s covers that the candidate covers too.
            drop, cost = cheapest, float(loss[cheapest])
            singles = rows_c[count[rows_c] == 1]
            if singles.size:
                owners, position = np.unique(coverer_sum[singles], return_inverse=True)
                shared = np.bincount(position, weights=weights[singles])
                net = np.where(fixed[owners], np.inf, loss[owners] - shared)
                best = int(np.argmin(net))
                if net[best] < cost:
                    drop, cost = int(owners[best]), float(net[best])
            if gain - cost > tolerance:
                toggle(drop, False)
                toggle(candidate, True)
                improved = True
                loss, cheapest = cheapest_drop()
        if not improved:
            break
    return np.flatnonzero(is_open).astype(np.int64)
