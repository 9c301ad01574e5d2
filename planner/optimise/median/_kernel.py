r"""Kernel search for p-median: the exact model on the sites and pairs the LP points at.

When the radius model over every free site is too large to solve in the
time left, a restricted version often is not, and its optimum is usually
the true one or close (after Guastaroba & Speranza's kernel search, 2012).
The kernel is the sites reduced-cost fixing could not close, plus the
incumbent's sites; each row keeps only its ``k`` nearest kernel sites, plus
the site serving it in the incumbent. Keeping that site makes the incumbent
feasible in the restricted model at its true cost, so the restricted optimum
is never worse; and since a row's restricted cost is a minimum over fewer
sites, the true cost of any restricted solution is at most its restricted
cost.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise._milp import MilpStatus, solve_milp
from planner.optimise._radius import radius_milp, reduced_rows
from planner.optimise._reach import SortedPairs
from planner.optimise._result import sites_from_values
from planner.optimise.constraints import SiteRows, milp_with_site_rows
from planner.optimise.solution import SolverSettings

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: Pairs the restricted model may hold.
MAX_PAIRS = 100_000
#: Nearest kernel sites per row, at least.
MIN_NEAREST = 20


def kernel_nearest(kernel_size: int, p: int) -> int:
    """A first k: enough kernel sites per row for p medians to share the rows out."""
    return max(MIN_NEAREST, math.ceil(3 * kernel_size / max(p, 1)))


def kernel_nearest_cap(n_rows: int) -> int:
    """The largest k that keeps the restricted model within ``MAX_PAIRS``."""
    return max(1, MAX_PAIRS // max(n_rows, 1))


def kernel_pairs(
    pairs: SortedPairs, kernel: BoolArray, incumbent: IntArray, nearest: int
) -> sp.csr_matrix:
    """Each row's ``nearest`` kernel sites and incumbent server, about ``MAX_PAIRS`` in all."""
    return nearest_pairs(pairs, kernel, incumbent, min(nearest, kernel_nearest_cap(pairs.n_rows)))


def nearest_pairs(
    pairs: SortedPairs, kernel: BoolArray, incumbent: IntArray, nearest: int
) -> sp.csr_matrix:
    """Each row's ``nearest`` kernel sites and its incumbent server, as a reach matrix."""
    in_kernel = kernel[pairs.site]
    kept = np.flatnonzero(in_kernel)
    owner = pairs.owner[kept]
    first = np.searchsorted(owner, np.arange(pairs.n_rows))
    rank = np.arange(kept.size) - first[owner]
    chosen = kept[rank < nearest]
    # The incumbent's server of every row (its first open pair).
    is_open = np.zeros(pairs.n_sites, dtype=bool)
    is_open[incumbent] = True
    servers = pairs.row_firsts(is_open[pairs.site])
    chosen = np.union1d(chosen, servers)
    return sp.csr_matrix(
        (pairs.cost[chosen], (pairs.owner[chosen], pairs.site[chosen])),
        shape=(pairs.n_rows, pairs.n_sites),
    )


def kernel_search(
    pairs: SortedPairs,
    weights: FloatArray,
    p: int,
    *,
    must: BoolArray,
    never: BoolArray,
    side: SiteRows,
    kernel: BoolArray,
    incumbent: IntArray,
    nearest: int,
    backend: str,
    settings: SolverSettings,
    deadline: float,
) -> IntArray | None:
    """The best plan of the restricted model found by ``deadline``.

    ``None`` when the solver found no plan in time.
    """
    started = time.perf_counter()
    kernel = kernel & ~never | must
    kernel[incumbent] = True
    restricted = kernel_pairs(pairs, kernel, incumbent, nearest)
    reduced, reduced_weights, _ = reduced_rows(restricted, weights, must, never | ~kernel)
    milp = radius_milp(reduced, reduced_weights, p, must, never | ~kernel, hint=incumbent)
    milp = milp_with_site_rows(milp, side)
    seconds = max(deadline - time.perf_counter(), 0.1)
    result = solve_milp(milp, replace(settings, time_limit_s=seconds), backend=backend)
    logger.debug(
        "kernel search: %d sites, %d pairs, %s in %.2f s",
        int(kernel.sum()),
        restricted.nnz,
        result.status.name,
        time.perf_counter() - started,
    )
    if result.status not in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
        return None
    return sites_from_values(result.values, pairs.n_sites)
