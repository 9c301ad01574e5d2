"""Independent evaluators: the objective of a set of open sites, recomputed from the data.

Every model reports the objective these functions compute from its open
sites, never the solver's own number, and the tests use them to check
solvers against brute force. They only read the reach matrix: its sparsity
structure says which pairs are within reach, its data the cost of each pair
(explicit zeros are pairs at zero cost).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def open_mask(open_sites: npt.ArrayLike, n_sites: int) -> BoolArray:
    """Boolean mask over ``n_sites`` sites from a list of open site indices."""
    mask = np.zeros(n_sites, dtype=bool)
    mask[np.asarray(open_sites, dtype=np.int64)] = True
    return mask


def nearest_open(reach: sp.csr_matrix, open_sites: npt.ArrayLike) -> tuple[IntArray, FloatArray]:
    """For each demand row, the open site in reach with least cost, and that cost.

    Ties go to the lowest site index. Rows with no open site in reach get
    site -1 and cost ``inf``.
    """
    n_demand, n_sites = reach.shape
    mask = open_mask(open_sites, n_sites)
    rows = np.repeat(np.arange(n_demand, dtype=np.int64), np.diff(reach.indptr))
    keep = mask[reach.indices]
    rows, sites, costs = rows[keep], reach.indices[keep].astype(np.int64), reach.data[keep]
    order = np.lexsort((sites, costs, rows))
    rows, sites, costs = rows[order], sites[order], costs[order]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    site = np.full(n_demand, -1, dtype=np.int64)
    cost = np.full(n_demand, np.inf)
    site[rows[first]] = sites[first]
    cost[rows[first]] = costs[first]
    return site, cost


def reachable_rows(reach: sp.csr_matrix) -> BoolArray:
    """Demand rows with at least one pair in reach (explicit zeros count)."""
    return np.asarray(np.diff(reach.indptr) > 0)


def max_coverage_objective(
    reach: sp.csr_matrix, weights: FloatArray, open_sites: npt.ArrayLike
) -> float:
    """Total weight of demand with at least one open site in reach."""
    site, _ = nearest_open(reach, open_sites)
    return float(np.sum(weights[site >= 0]))


def covered_weight(reach: sp.csr_matrix, weights: FloatArray, open_sites: npt.ArrayLike) -> float:
    """Weight covered by the open sites (the quantity partial set cover constrains)."""
    return max_coverage_objective(reach, weights, open_sites)


def set_cover_objective(costs: FloatArray | None, open_sites: npt.ArrayLike) -> float:
    """Sum of the costs of the open sites (their count when ``costs`` is None)."""
    chosen = np.asarray(open_sites, dtype=np.int64)
    if costs is None:
        return float(chosen.size)
    return float(np.sum(costs[chosen]))


def p_median_objective(
    reach: sp.csr_matrix, weights: FloatArray, open_sites: npt.ArrayLike
) -> float:
    """Σ weight × cost to the nearest open site over reachable demand.

    ``inf`` when some reachable demand has no open site in reach.
    """
    _, cost = nearest_open(reach, open_sites)
    reachable = reachable_rows(reach)
    if np.any(~np.isfinite(cost[reachable])):
        return float("inf")
    return float(np.sum(weights[reachable] * cost[reachable]))


def p_center_objective(reach: sp.csr_matrix, open_sites: npt.ArrayLike) -> float:
    """Largest cost from reachable demand to its nearest open site (``inf`` if one is unserved)."""
    _, cost = nearest_open(reach, open_sites)
    reachable = reachable_rows(reach)
    if not np.any(reachable):
        return 0.0
    return float(np.max(cost[reachable]))


def facility_location_objective(
    opening_costs: FloatArray, costs: sp.csr_matrix, open_sites: npt.ArrayLike
) -> float:
    """Opening costs of the open sites plus, for every reachable customer, its cheapest
    open site's service cost (``inf`` when a reachable customer has none)."""
    service = p_median_objective(costs, np.ones(costs.shape[0]), open_sites)
    return float(np.sum(opening_costs[np.asarray(open_sites, dtype=np.int64)])) + service


def allocation_matrix(
    costs: sp.csr_matrix, reachable: BoolArray, rows: sp.csr_matrix, shares: FloatArray
) -> sp.csr_matrix:
    """Customers × sites shares from per-pair shares of ``rows`` (the reachable rows)."""
    counts = np.zeros(costs.shape[0], dtype=np.int64)
    counts[reachable] = np.diff(rows.indptr)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return sp.csr_matrix((shares, rows.indices.copy(), indptr), shape=costs.shape)


def capacitated_objective(
    opening_costs: FloatArray,
    costs: sp.csr_matrix,
    demand: FloatArray,
    capacities: FloatArray,
    open_sites: npt.ArrayLike,
    allocation: sp.csr_matrix,
    *,
    tolerance: float = 1e-6,
) -> float:
    """Opening plus service cost of an allocation; ``inf`` when it breaks a constraint.

    Checks that every reachable customer is fully served, only by open sites
    within reach, and that no site serves more than its capacity (all within
    ``tolerance``, relative).
    """
    n_sites = costs.shape[1]
    opened = open_mask(open_sites, n_sites)
    reachable = reachable_rows(costs)
    allocated = np.asarray(allocation.sum(axis=1)).ravel()
    if np.any(np.abs(allocated[reachable] - 1.0) > tolerance):
        return float("inf")
    rows = np.repeat(np.arange(costs.shape[0]), np.diff(allocation.indptr))
    used = allocation.data > tolerance
    if np.any(~opened[allocation.indices[used]]):
        return float("inf")
    pair_cost = sp.csr_matrix(costs)[rows, allocation.indices]
    load = np.bincount(
        allocation.indices, weights=demand[rows] * allocation.data, minlength=n_sites
    )
    if np.any(load > capacities * (1 + tolerance) + tolerance):
        return float("inf")
    service = float(np.sum(np.asarray(pair_cost).ravel() * allocation.data))
    return float(np.sum(opening_costs[opened])) + service


def largest_share(allocation: sp.csr_matrix) -> IntArray:
    """For each customer, the site serving its largest share (-1 when none)."""
    site = np.full(allocation.shape[0], -1, dtype=np.int64)
    for row in range(allocation.shape[0]):
        start, stop = allocation.indptr[row], allocation.indptr[row + 1]
        if stop > start and allocation.data[start:stop].max() > 0:
            site[row] = allocation.indices[start + int(np.argmax(allocation.data[start:stop]))]
    return site
