r"""The p-center model: open p sites so the farthest reachable demand is as near as possible.

Formulation (vertex p-center)::

    min  D
    s.t. every reachable demand row i has an open site j with c_ij ≤ D    (1)
         Σ_j y_j = p                                                      (2)
         y_j = 1 fixed, 0 excluded

The optimal D is one of the distinct pair costs, so the model is solved as a
sequence of set-covering decisions (Minieka, 1970): for a radius r, the
minimum number of sites covering every row within r is at most p exactly
when D ≤ r is achievable. A bisection over the sorted distinct costs needs
about log2(#costs) set covers, each small after the coverage reductions
(merged rows, dominated sites and rows). Every set cover solved to
optimality above p proves its radius infeasible, which gives the lower
bound; every cover of at most p sites gives a solution.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError
from planner.optimise import _checks, evaluate, progress
from planner.optimise._reach import drop_sites, keep_entries
from planner.optimise.coverage.model import set_cover
from planner.optimise.solution import Solution, SolverSettings, Status

logger = logging.getLogger(__name__)

IntArray = npt.NDArray[np.int64]

_DEFAULT = SolverSettings()


def _cover_within(
    matrix: sp.csr_matrix,
    radius: float,
    must: npt.NDArray[np.bool_],
    never: npt.NDArray[np.bool_],
    settings: SolverSettings,
) -> tuple[IntArray | None, float]:
    """Fewest sites covering every reachable row within ``radius``: (sites, proven lower bound)."""
    within = keep_entries(matrix, matrix.data <= radius)
    try:
        with progress.muted():  # a cover's site count is not the p-center's radius
            cover = set_cover(within, fixed=must, excluded=never, settings=settings)
    except InfeasibleError:
        return None, math.inf
    return cover.open_sites, cover.bound


def _pad(open_sites: IntArray, p: int, never: npt.NDArray[np.bool_]) -> IntArray:
    """Top up to exactly ``p`` open sites with the lowest-index allowed closed sites."""
    chosen = np.zeros(never.size, dtype=bool)
    chosen[open_sites] = True
    spare = np.flatnonzero(~chosen & ~never)[: max(0, p - int(chosen.sum()))]
    chosen[spare] = True
    return np.flatnonzero(chosen).astype(np.int64)


def p_center(
    reach: sp.csr_matrix,
    p: int,
    *,
    fixed: npt.NDArray[np.bool_] | None = None,
    excluded: npt.NDArray[np.bool_] | None = None,
    settings: SolverSettings = _DEFAULT,
) -> Solution:
    """Open exactly ``p`` sites minimising the largest cost from reachable demand to its site.

    Parameters
    ----------
    reach
        Demand × sites; stored pairs are within reach, data their travel cost.
        Rows without any pair are unreachable and ignored.
    p
        Number of sites to open, fixed sites included.
    fixed, excluded
        Masks of sites that must / must not open.
    settings
        Time limit (for the whole bisection), gap, threads and seed.

    Returns
    -------
    Solution
        ``objective`` is the largest cost from a reachable row to its nearest
        open site; ``bound`` the largest radius proven infeasible's successor.

    Raises
    ------
    InputError
        Malformed arguments.
    InfeasibleError
        ``p`` does not fit between the fixed and allowed sites, or ``p`` sites
        cannot serve every reachable row within reach.
    """
    started = time.perf_counter()
    problems: list[str] = []
    matrix = _checks.canonical_reach(reach, problems)
    n_sites = matrix.shape[1]
    must = _checks.site_mask(fixed, n_sites, "fixed", problems)
    never = _checks.site_mask(excluded, n_sites, "excluded", problems)
    _checks.raise_problems("p_center", problems)
    _checks.check_fixed_excluded("p_center", must, never)
    _checks.check_p("p_center", p, must, never, exact=True)

    reachable = evaluate.reachable_rows(matrix)
    usable = drop_sites(matrix, never)
    blocked = reachable & (np.diff(usable.indptr) == 0)
    if np.any(blocked):
        raise InfeasibleError(
            f"p_center: {int(blocked.sum())} reachable demand row(s) have only excluded "
            f"sites in reach (first: row {int(np.flatnonzero(blocked)[0])})"
        )
    _, nearest = evaluate.nearest_open(usable, np.flatnonzero(~never))
    floor = float(np.max(nearest[reachable])) if np.any(reachable) else 0.0
    radii = np.unique(usable.data[usable.data >= floor])
    if radii.size == 0:
        radii = np.array([floor])

    def remaining() -> SolverSettings:
        left = settings.time_limit_s - (time.perf_counter() - started)
        return replace(settings, time_limit_s=max(left, 0.01), relative_gap=0.0)

    # Feasibility at the largest radius: otherwise no answer exists at all.
    best_sites, needed = _cover_within(usable, float(radii[-1]), must, never, remaining())
    if best_sites is None or best_sites.size > p:
        if best_sites is not None and needed > p:
            raise InfeasibleError(
                f"p_center: p = {p} sites cannot serve all {int(reachable.sum())} reachable "
                f"demand rows within reach (at least {math.ceil(needed - 1e-9)} are needed)"
            )
        raise InfeasibleError(f"p_center: p = {p} sites cannot serve all reachable demand")
    low, high = 0, radii.size - 1  # radii[high] is feasible; below radii[low] proven infeasible.
    proven = True
    while low < high:
        if time.perf_counter() - started >= settings.time_limit_s:
            proven = False
            break
        middle = (low + high) // 2
        sites, needed = _cover_within(usable, float(radii[middle]), must, never, remaining())
        if sites is not None and sites.size <= p:
            best_sites, high = sites, middle
        elif needed > p + 1e-9 or sites is None:
            low = middle + 1
        else:
            # The set cover stopped early without settling this radius.
            proven = False
            break
    open_sites = _pad(best_sites, p, never)
    assignment, _ = evaluate.nearest_open(matrix, open_sites)
    objective = evaluate.p_center_objective(matrix, open_sites)
    bound = float(radii[low]) if low > 0 else floor
    bound = min(bound, objective)
    status = Status.OPTIMAL if proven and bound >= objective - 1e-12 else Status.TIME_LIMIT
    return Solution(
        model="p_center",
        sense="min",
        status=status,
        objective=objective,
        bound=bound,
        seconds=time.perf_counter() - started,
        open_sites=open_sites,
        assignment=assignment,
        details={
            "unreachable_demand": float(np.sum(~reachable)),
            "candidate_radii": float(radii.size),
        },
    )
