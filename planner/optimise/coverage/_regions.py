r"""Continental maximal covering by regions: each region's plan from its own dual-form LP.

On a continent the dual-form LP (``_coverage_dual``) is too large for the
simplex (Europe, 48k reach sets × 17k sites: 450 s), but a region of a
thousand sites solves in a fraction of a second, and LP diving there gives
plans close to the optimum (Italy at 50 km, p = 64: 0.002 % below it). So:

1. **Regions.** Candidate sites are split by recursive bisection in the
   row–site graph: two far-apart sites (by hops) are found and every site
   goes to the nearer one's half, until each region has at most
   ``REGION_SITES`` sites. No coordinates are needed; regions are compact
   because reach is.
2. **First pass.** Each region gets the share of ``p`` its sites hold in the
   continental LP relaxation (largest remainders). Regions are solved in
   turn, largest share first; rows already covered by the regions before
   are left out, so nothing is counted twice.
3. **Sweeps.** Until the time runs out or two sweeps in a row find nothing,
   every region is solved again with everything outside it fixed and its
   own number of sites, and its plan kept when the whole improves; the
   region size changes from sweep to sweep, so borders move and sites
   drift between regions.

The plan is a heuristic's: the bound comes from the continental LP.
Measured on Europe (benchmarks/README.md): the first pass and a global swap
pass in 16 s give 0.24 % below the LP bound, three sweeps 0.17 %.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, shortest_path

from planner.optimise._aggregate import aggregate_rows
from planner.optimise._reach import drop_sites, rows_touching, select_rows, structure
from planner.optimise.coverage._bnb import branch_and_bound, coverage_plans
from planner.optimise.coverage._dual import CoverageDual, fold_single_rows
from planner.optimise.coverage._lagrange import coverage_value
from planner.optimise.heuristics import greedy_coverage, swap_coverage

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: Largest region of the first pass; sweeps grow it by ``GROWTH`` up to
#: ``LARGEST`` and start again, so region borders move between sweeps.
REGION_SITES = 1000
GROWTH = 1.3
LARGEST = 4000
#: Seconds one region may take at most.
REGION_SECONDS = 30.0
#: Sweeps in a row without improvement after which the search stops.
STALL_SWEEPS = 2


def bisect(rows: sp.csr_matrix, sites: IntArray, size: int) -> list[IntArray]:
    """Split ``sites`` into regions of at most ``size`` sites that are compact in reach.

    Sites not connected through shared rows fall into separate parts first.
    """
    regions: list[IntArray] = []
    pending = [np.asarray(sites, dtype=np.int64)]
    while pending:
        part = pending.pop()
        if part.size <= size:
            if part.size:
                regions.append(part)
            continue
        graph, n_rows = _site_graph(rows, part)
        n_parts, labels = connected_components(graph, directed=False)
        site_labels = labels[n_rows:]
        if n_parts > 1 and np.unique(site_labels).size > 1:
            pending.extend(part[site_labels == label] for label in np.unique(site_labels))
            continue
        pending.extend(_halves(graph, n_rows, part))
    return regions


def _site_graph(rows: sp.csr_matrix, part: IntArray) -> tuple[sp.csr_matrix, int]:
    """The bipartite row–site graph of ``part`` (rows first), without rows it does not reach."""
    columns = sp.csc_matrix(rows)[:, part]
    reached = np.diff(sp.csr_matrix(columns).indptr) > 0
    incidence = sp.csr_matrix(columns)[np.flatnonzero(reached)]
    graph = sp.bmat([[None, incidence], [incidence.T, None]], format="csr")
    return graph, int(incidence.shape[0])


def _halves(graph: sp.csr_matrix, n_rows: int, part: IntArray) -> list[IntArray]:
    """Two halves of a connected part: sites nearer one of two far-apart sites, balanced."""

    def hops(site: int) -> FloatArray:
        return np.asarray(
            shortest_path(graph, indices=n_rows + site, unweighted=True, directed=False)[n_rows:],
            dtype=np.float64,
        )

    first = int(np.argmax(hops(0)))
    from_first = hops(first)
    second = int(np.argmax(from_first))
    order = np.argsort(from_first - hops(second), kind="stable")
    half = part.size // 2
    return [part[order[:half]], part[order[half:]]]


def allocate(
    site_values: FloatArray, regions: list[IntArray], p: int, fixed: BoolArray
) -> IntArray:
    """Sites per region: its LP mass rounded by largest remainders, at least its fixed sites."""
    mass = np.array([site_values[region].sum() for region in regions])
    minimum = np.array([int(fixed[region].sum()) for region in regions])
    sizes = np.array([region.size for region in regions])
    counts = np.maximum(np.floor(mass).astype(np.int64), minimum)
    remainder = mass - np.floor(mass)
    for index in np.argsort(-remainder, kind="stable"):
        if counts.sum() >= p:
            break
        if counts[index] < sizes[index]:
            counts[index] += 1
    return np.minimum(counts, sizes)


def best_in_region(
    rows: sp.csr_matrix,
    weights: FloatArray,
    region: BoolArray,
    count: int,
    covered: BoolArray,
    fixed: BoolArray,
    seconds: float,
) -> IntArray:
    """A plan of ``count`` region sites for the rows it reaches that ``covered`` leaves open.

    The region's dual-form LP at the root, with strong-branching fixings,
    diving and swaps (one node of :func:`branch_and_bound`).
    """
    n_sites = rows.shape[1]
    keep = rows_touching(rows, region) & ~covered
    merged = aggregate_rows(
        drop_sites(select_rows(rows, keep), ~region), weights[keep], match_costs=False
    )
    sub, sub_weights = structure(merged.reach), merged.weights
    must = region & fixed
    dual = CoverageDual(
        *fold_single_rows(sub, sub_weights),
        sp.csr_matrix(np.ones((1, n_sites))),
        np.array([-np.inf]),
        np.array([float(count)]),
        region & ~fixed,
        must,
    )
    lp_sites, position = dual.sites, dual.position
    plans = coverage_plans(sub, sub_weights, dual, count, fixed=must, closed=~region)
    start = position[np.flatnonzero(must)]
    result = branch_and_bound(
        dual,
        plans,
        start=start,
        start_value=plans.value_of(start),
        relative_gap=1e-6,
        seconds=seconds,
        max_nodes=1,
    )
    return np.asarray(lp_sites[result.sites], dtype=np.int64)


def regional_plan(
    rows: sp.csr_matrix,
    weights: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    closed: BoolArray,
    site_values: FloatArray,
    start: IntArray,
    deadline: float,
    on_plan: Callable[[float], None] | None = None,
) -> IntArray:
    """First pass by LP shares, then sweeps until ``deadline`` (a ``perf_counter`` time).

    The sweeps start from the better of the first pass and ``start`` (a plan
    of at most ``p`` sites from elsewhere, e.g. greedy and swaps).
    ``on_plan`` hears the best plan's value after the first pass and each sweep.
    """
    n_sites = rows.shape[1]
    candidates = np.flatnonzero(~closed | fixed)
    no_weight = np.zeros(n_sites)

    def value(open_mask: BoolArray) -> float:
        return coverage_value(rows, weights, no_weight, np.flatnonzero(open_mask))

    size = REGION_SITES
    regions = bisect(rows, candidates, size)
    counts = allocate(site_values, regions, p, fixed)
    is_open = np.zeros(n_sites, dtype=bool)
    covered = np.zeros(rows.shape[0], dtype=bool)
    for index in np.argsort(-counts, kind="stable"):
        if time.perf_counter() > deadline:
            break
        region = np.zeros(n_sites, dtype=bool)
        region[regions[index]] = True
        seconds = min(REGION_SECONDS, deadline - time.perf_counter())
        chosen = best_in_region(rows, weights, region, int(counts[index]), covered, fixed, seconds)
        is_open[chosen] = True
        covered |= rows_touching(rows, is_open)
    # Greedy fills the sites of regions the deadline left unsolved (and any a
    # region could not use); a global swap pass repairs the borders.
    plan = greedy_coverage(rows, weights, p, fixed=is_open | fixed, excluded=closed)
    is_open = _polished(rows, weights, plan, fixed, closed)
    best = value(is_open)
    given = np.zeros(n_sites, dtype=bool)
    given[start] = True
    if value(given) > best:
        is_open, best = given, value(given)
    logger.debug("regions: %d, first pass %.10g", len(regions), best)
    if on_plan is not None:
        on_plan(best)
    sweep = stalled = 0
    while time.perf_counter() < deadline and stalled < STALL_SWEEPS and len(regions) > 1:
        size = int(size * GROWTH) if size * GROWTH <= LARGEST else int(REGION_SITES * 0.7)
        sweep += 1
        before = best
        for region_sites in bisect(rows, candidates, size):
            if time.perf_counter() > deadline:
                break
            region = np.zeros(n_sites, dtype=bool)
            region[region_sites] = True
            count = int((is_open & region).sum())
            if count == 0:
                continue
            outside = is_open & ~region
            seconds = min(REGION_SECONDS, deadline - time.perf_counter())
            chosen = best_in_region(
                rows, weights, region, count, rows_touching(rows, outside), fixed, seconds
            )
            trial = outside.copy()
            trial[chosen] = True
            trial_value = value(trial)
            if trial_value > best:
                is_open, best = trial, trial_value
        polished = _polished(rows, weights, np.flatnonzero(is_open), fixed, closed)
        if value(polished) > best:
            is_open, best = polished, value(polished)
        stalled = stalled + 1 if best <= before else 0
        if on_plan is not None and best > before:
            on_plan(best)
        logger.debug("regions: sweep %d (regions of %d sites), %.10g", sweep, size, best)
    return np.flatnonzero(is_open).astype(np.int64)


def _polished(
    rows: sp.csr_matrix, weights: FloatArray, plan: IntArray, fixed: BoolArray, closed: BoolArray
) -> BoolArray:
    """The plan after swaps, as a mask of open sites."""
    is_open = np.zeros(rows.shape[1], dtype=bool)
    is_open[swap_coverage(rows, weights, plan, fixed=fixed, excluded=closed)] = True
    return is_open
