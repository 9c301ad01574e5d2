"""Fast heuristics that give every model a feasible warm start.

The greedy heuristics open, one at a time, the site with the largest
marginal gain. Gains only shrink as sites open (coverage is submodular), so
a lazy priority queue re-evaluates a site only when it reaches the top.
"""

from __future__ import annotations

import heapq

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
            break
        if heap and current < -heap[0][0]:
            heapq.heappush(heap, (-current, site))
            continue
        chosen.append(site)
        covered[by_site.indices[by_site.indptr[site] : by_site.indptr[site + 1]]] = True
    return np.sort(np.asarray(chosen, dtype=np.int64))
