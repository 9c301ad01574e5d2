"""Fast heuristics that give every model a feasible warm start.

The greedy heuristics open, one at a time, the site with the largest
marginal gain. Gains only shrink as sites open (coverage is submodular), so
a lazy priority queue re-evaluates a site only when it reaches the top.
"""

from __future__ import annotations

import heapq
import time

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

    def gain(site: int) -> float:
        members = by_site.indices[by_site.indptr[site] : by_site.indptr[site + 1]]
        return float(weights[members[~covered[members]]].sum())

    candidates = np.flatnonzero(~fixed & ~excluded)
    heap: list[tuple[float, int]] = [(-gain(site), site) for site in candidates.tolist()]
    heapq.heapify(heap)
    while len(chosen) < p and heap:
        _, site = heapq.heappop(heap)
        current = gain(site)
        if current <= 0:
            continue  # Gains only shrink: this site will never help again.
        if heap and current < -heap[0][0]:
            heapq.heappush(heap, (-current, site))
            continue
        chosen.append(site)
        covered[by_site.indices[by_site.indptr[site] : by_site.indptr[site + 1]]] = True
    return np.sort(np.asarray(chosen, dtype=np.int64))


def swap_coverage(
    rows: sp.csr_matrix,
    weights: FloatArray,
    open_sites: IntArray,
    *,
    fixed: BoolArray,
    excluded: BoolArray,
    max_passes: int = 5,
) -> IntArray:
    """Improve a maximal-covering solution by swapping one open site for a closed one.

    First-improvement interchange (Teitz & Bart style): for each closed
    candidate the best open site to drop is found from the rows it would
    newly cover and the rows only that open site covers, in time linear in
    the candidate's rows. Fixed sites never leave; passes stop when no swap
    improves the covered weight.
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


def _two_nearest(
    costs: sp.csr_matrix, is_open: BoolArray, missing: float
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Per row: nearest open cost and site, second-nearest open cost (``missing`` if none)."""
    n_rows = costs.shape[0]
    owner = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(costs.indptr))
    keep = is_open[costs.indices]
    owner, site, cost = owner[keep], costs.indices[keep].astype(np.int64), costs.data[keep]
    order = np.lexsort((site, cost, owner))
    owner, site, cost = owner[order], site[order], cost[order]
    starts = np.ones(owner.size, dtype=bool)
    starts[1:] = owner[1:] != owner[:-1]
    first = np.flatnonzero(starts)
    nearest = np.full(n_rows, missing)
    nearest_site = np.full(n_rows, -1, dtype=np.int64)
    second = np.full(n_rows, missing)
    nearest[owner[first]] = cost[first]
    nearest_site[owner[first]] = site[first]
    following = first + 1
    has_second = following < owner.size
    has_second[has_second] = owner[following[has_second]] == owner[first[has_second]]
    second[owner[first[has_second]]] = cost[following[has_second]]
    return nearest, nearest_site, second


def greedy_median(
    costs: sp.csr_matrix,
    weights: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    excluded: BoolArray,
) -> IntArray:
    """Greedy p-median: fixed sites, then the site saving the most weighted cost, p times.

    A row with no open site in reach counts at a cost above every pair, so
    the greedy first serves everyone it can.
    """
    missing = 10.0 * (float(costs.data.max()) if costs.nnz else 1.0) + 1.0
    is_open = fixed.copy()
    owner = np.repeat(np.arange(costs.shape[0], dtype=np.int64), np.diff(costs.indptr))
    while int(is_open.sum()) < p:
        nearest, _, _ = _two_nearest(costs, is_open, missing)
        saving = weights[owner] * np.maximum(0.0, nearest[owner] - costs.data)
        # Any open site serving an unserved row is worth more than every saving.
        saving += (nearest[owner] >= missing) * missing * (1.0 + weights[owner])
        gain = np.bincount(costs.indices, weights=saving, minlength=costs.shape[1])
        gain[is_open | excluded] = -1.0
        best = int(np.argmax(gain))
        if gain[best] < 0:
            break
        is_open[best] = True
    return np.flatnonzero(is_open).astype(np.int64)


def swap_median(
    costs: sp.csr_matrix,
    weights: FloatArray,
    open_sites: IntArray,
    *,
    fixed: BoolArray,
    excluded: BoolArray,
    seconds: float = 5.0,
) -> IntArray:
    """Fast interchange (Whitaker, 1983): swap an open site for a closed one while it pays.

    For each closed candidate, the best site to drop follows from each row's
    nearest and second-nearest open sites, in time linear in the candidate's
    rows plus the number of sites. Stops at a local optimum or after ``seconds``.
    """
    started = time.perf_counter()
    n_sites = costs.shape[1]
    missing = 10.0 * (float(costs.data.max()) if costs.nnz else 1.0) + 1.0
    by_site = sp.csc_matrix(costs)
    is_open = np.zeros(n_sites, dtype=bool)
    is_open[open_sites] = True
    tolerance = 1e-9 * max(1.0, float(weights.sum()))

    def state() -> tuple[FloatArray, IntArray, FloatArray, FloatArray]:
        nearest, nearest_site, second = _two_nearest(costs, is_open, missing)
        served = nearest_site >= 0
        loss = np.bincount(
            nearest_site[served],
            weights=(weights * (second - nearest))[served],
            minlength=n_sites,
        )
        return nearest, nearest_site, second, np.where(is_open & ~fixed, loss, np.inf)

    nearest, nearest_site, second, loss = state()
    improved = True
    while improved and time.perf_counter() - started < seconds:
        improved = False
        for candidate in np.flatnonzero(~is_open & ~excluded).tolist():
            span = slice(by_site.indptr[candidate], by_site.indptr[candidate + 1])
            rows_c, cost_c = by_site.indices[span], by_site.data[span]
            w = weights[rows_c]
            d1, d2, s1 = nearest[rows_c], second[rows_c], nearest_site[rows_c]
            gain = float(np.sum(w * np.maximum(0.0, d1 - cost_c)))
            # Rows whose nearest site is dropped go to the candidate if it is nearer
            # than their second site: correct the separately counted loss and gain.
            correction = w * (np.minimum(cost_c, d2) - d2 + np.maximum(0.0, d1 - cost_c))
            delta = loss.copy()
            served = s1 >= 0
            np.add.at(delta, s1[served], correction[served])
            drop = int(np.argmin(delta))
            if delta[drop] - gain < -tolerance:
                is_open[drop], is_open[candidate] = False, True
                nearest, nearest_site, second, loss = state()
                improved = True
            if time.perf_counter() - started >= seconds:
                break
    return np.flatnonzero(is_open).astype(np.int64)
