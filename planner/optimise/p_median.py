r"""The p-median model in the radius formulation over sparse reach.

Every reachable demand row :math:`i` is served by its nearest open site
within reach; the model opens exactly :math:`p` sites to minimise the
weighted total cost. Instead of one assignment variable per pair it uses the
radius formulation of Elloumi (2010) / García, Labbé & Marín (2011): sort the
distinct costs of row :math:`i`, :math:`D_i^1 < D_i^2 < … < D_i^{K_i}`, and let
:math:`z_i^k \ge 0` be 1 when no open site of row :math:`i` costs
:math:`D_i^k` or less. With :math:`S_i^k` the sites of row :math:`i` at cost
exactly :math:`D_i^k`::

    min  Σ_i w_i (D_i^1 + Σ_{k<K_i} (D_i^{k+1} - D_i^k) z_i^k)
    s.t. z_i^1 + Σ_{j ∈ S_i^1} y_j ≥ 1                      (1) nearest level
         z_i^k - z_i^{k-1} + Σ_{j ∈ S_i^k} y_j ≥ 0  1<k<K_i   (2) chained levels
         -z_i^{K_i-1} + Σ_{j ∈ S_i^{K_i}} y_j ≥ 0            (3) served within reach
         Σ_j y_j = p                                          (4)
         y_j ∈ {0, 1}; y_j = 1 fixed, 0 excluded;  z ≥ 0

Chaining the levels keeps one coefficient per pair (the cumulative form
would need :math:`O(K_i^2)`) and has the same LP relaxation. Constraints
(1)–(3) add up to "some site within reach is open", so infeasibility means
:math:`p` sites cannot serve all reachable demand.

Reductions: pairs to excluded sites go; pairs costlier than the nearest fixed
site of a row can never serve it and go too; rows of zero weight keep only
their coverage requirement (all costs set to 0, one level); rows identical in
sites *and* costs merge with summed weights (merging by sites alone would be
wrong here, unlike in coverage models).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError, SolverError
from planner.optimise import _checks, evaluate
from planner.optimise._aggregate import aggregate_rows
from planner.optimise._milp import Milp, MilpStatus, solve_milp
from planner.optimise._reach import drop_sites, entry_rows, keep_entries, select_rows
from planner.optimise._result import finish, sites_from_values
from planner.optimise.constraints import (
    SiteRows,
    append_site_rows,
    explain_infeasible,
    infeasible_with,
    no_site_rows,
)
from planner.optimise.heuristics import greedy_median, swap_median
from planner.optimise.solution import Solution, SolverSettings

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

_DEFAULT = SolverSettings()


def _reduced_rows(
    matrix: sp.csr_matrix, demand: FloatArray, must: BoolArray, never: BoolArray
) -> tuple[sp.csr_matrix, FloatArray, int]:
    """Distinct (sites, costs) rows after the reductions of the module docstring."""
    usable = drop_sites(matrix, never)
    rows_of = entry_rows(usable)
    _, nearest_fixed = evaluate.nearest_open(usable, np.flatnonzero(must))
    usable = keep_entries(usable, usable.data <= nearest_fixed[rows_of])
    usable.data[demand[entry_rows(usable)] == 0] = 0.0
    keep = np.diff(usable.indptr) > 0
    merged = aggregate_rows(select_rows(usable, keep), demand[keep], match_costs=True)
    return merged.reach, merged.weights, int(keep.sum())


def radius_milp(
    rows: sp.csr_matrix,
    weights: FloatArray,
    p: int | None,
    must: BoolArray,
    never: BoolArray,
    *,
    site_costs: FloatArray | None = None,
) -> Milp:
    """Constraints (1)–(4) of the module docstring as one sparse matrix.

    Without ``p`` constraint (4) is left out; ``site_costs`` put opening costs
    on the site variables (the uncapacitated facility location model).
    """
    n_sites = rows.shape[1]
    owner = entry_rows(rows)
    order = np.lexsort((rows.indices, rows.data, owner))
    owner, sites, costs = owner[order], rows.indices[order].astype(np.int64), rows.data[order]
    new_level = np.ones(owner.size, dtype=bool)
    new_level[1:] = (owner[1:] != owner[:-1]) | (costs[1:] != costs[:-1])
    level_of_entry = np.cumsum(new_level) - 1
    level_row = owner[new_level]
    level_cost = costs[new_level]
    n_levels = level_row.size
    first = np.ones(n_levels, dtype=bool)
    first[1:] = level_row[1:] != level_row[:-1]
    last = np.ones(n_levels, dtype=bool)
    last[:-1] = level_row[1:] != level_row[:-1]
    has_z = ~last
    z_of_level = np.cumsum(has_z) - 1
    n_z = int(has_z.sum())

    levels_with_z = np.flatnonzero(has_z)
    levels_chained = np.flatnonzero(~first)
    # Constraint (4) is the last row, over every site, when p is given.
    in_card = n_sites if p is not None else 0
    coo_rows = np.concatenate(
        [level_of_entry, levels_with_z, levels_chained, np.full(in_card, n_levels)]
    )
    coo_cols = np.concatenate(
        [
            sites,
            n_sites + z_of_level[levels_with_z],
            n_sites + z_of_level[levels_chained - 1],
            np.arange(in_card),
        ]
    )
    coo_vals = np.concatenate(
        [
            np.ones(sites.size),
            np.ones(levels_with_z.size),
            -np.ones(levels_chained.size),
            np.ones(in_card),
        ]
    )
    card_rows = 1 if p is not None else 0
    matrix = sp.csr_matrix(
        (coo_vals, (coo_rows, coo_cols)), shape=(n_levels + card_rows, n_sites + n_z)
    )
    step = np.zeros(n_levels)
    step[levels_with_z] = level_cost[levels_with_z + 1] - level_cost[levels_with_z]
    z_cost = (weights[level_row] * step)[has_z]
    offset = float(np.sum(weights[level_row[first]] * level_cost[first]))
    return Milp(
        objective=np.concatenate([np.zeros(n_sites) if site_costs is None else site_costs, z_cost]),
        matrix=matrix,
        # Constraints (1)-(3): ≥ 1 on a row's nearest level, ≥ 0 on the others;
        # constraint (4): exactly p.
        row_lower=np.concatenate([first.astype(np.float64), np.full(card_rows, float(p or 0))]),
        row_upper=np.concatenate([np.full(n_levels, np.inf), np.full(card_rows, float(p or 0))]),
        lower=np.concatenate([must.astype(np.float64), np.zeros(n_z)]),
        upper=np.concatenate([(~never).astype(np.float64), np.full(n_z, np.inf)]),
        integer=np.concatenate([np.ones(n_sites, bool), np.zeros(n_z, bool)]),
        offset=offset,
    )


def p_median(
    reach: sp.csr_matrix,
    weights: npt.NDArray[np.float64],
    p: int,
    *,
    fixed: npt.NDArray[np.bool_] | None = None,
    excluded: npt.NDArray[np.bool_] | None = None,
    constraints: SiteRows | None = None,
    settings: SolverSettings = _DEFAULT,
) -> Solution:
    """Open exactly ``p`` sites minimising the weighted cost to the nearest open site.

    Parameters
    ----------
    reach
        Demand × sites; stored pairs are within reach, data their travel cost.
        Rows without any pair are unreachable and ignored.
    weights
        Non-negative weight of each demand row.
    p
        Number of sites to open, fixed sites included.
    fixed, excluded
        Masks of sites that must / must not open.
    constraints
        Side constraints over the open sites (see :mod:`planner.optimise.constraints`).
    settings
        Time limit, gap, threads and seed.

    Returns
    -------
    Solution
        ``objective`` is Σ weight × cost to the nearest open site over reachable
        demand; ``assignment[i]`` that site (-1 for unreachable rows).

    Raises
    ------
    InputError
        Malformed arguments.
    InfeasibleError
        ``p`` does not fit between the fixed and the allowed sites, a reachable
        row has only excluded sites in reach, or no ``p`` sites serve every
        reachable row within reach.
    """
    started = time.perf_counter()
    problems: list[str] = []
    matrix = _checks.canonical_reach(reach, problems)
    n_demand, n_sites = matrix.shape
    demand = _checks.demand_weights(weights, n_demand, problems)
    must = _checks.site_mask(fixed, n_sites, "fixed", problems)
    never = _checks.site_mask(excluded, n_sites, "excluded", problems)
    _checks.raise_problems("p_median", problems)
    _checks.check_fixed_excluded("p_median", must, never)
    _checks.check_p("p_median", p, must, never, exact=True)
    side = no_site_rows(n_sites) if constraints is None else constraints
    explain_infeasible(side, p=p, exact_p=True, fixed=must, excluded=never)

    reachable = evaluate.reachable_rows(matrix)
    blocked = reachable & (np.diff(drop_sites(matrix, never).indptr) == 0)
    if np.any(blocked):
        raise InfeasibleError(
            f"p_median: {int(blocked.sum())} reachable demand row(s) have only excluded "
            f"sites in reach (first: row {int(np.flatnonzero(blocked)[0])})"
        )
    rows, row_weights, n_kept = _reduced_rows(matrix, demand, must, never)
    milp = radius_milp(rows, row_weights, p, must, never)
    if len(side):
        matrix_all, row_lower, row_upper = append_site_rows(
            milp.matrix,
            milp.row_lower,
            milp.row_upper,
            side,
            site_columns=np.arange(n_sites, dtype=np.int64),
            n_columns=milp.matrix.shape[1],
        )
        milp = replace(milp, matrix=matrix_all, row_lower=row_lower, row_upper=row_upper)
    details: dict[str, float] = {
        "unreachable_demand": float(np.sum(~reachable)),
        "rows_in_model": float(rows.shape[0]),
        "rows_before_aggregation": float(n_kept),
        "levels_in_model": float(milp.matrix.shape[0] - 1),
    }
    # Greedy + fast interchange: often optimal already, and the fallback when the
    # solver stops without a solution of its own (HiGHS takes no hints).
    start_sites = swap_median(
        rows,
        row_weights,
        greedy_median(rows, row_weights, p, fixed=must, excluded=never),
        fixed=must,
        excluded=never,
        seconds=min(0.2 * settings.time_limit_s, 10.0),
    )
    start_value = evaluate.p_median_objective(rows, row_weights, start_sites)
    details["heuristic_objective"] = start_value
    left = settings.time_limit_s - (time.perf_counter() - started)
    result = solve_milp(milp, replace(settings, time_limit_s=max(left, 0.5)))
    if result.status is MilpStatus.INFEASIBLE:
        if len(side):
            raise infeasible_with(
                "p_median", side, f"p = {p} sites serving all reachable demand within reach"
            )
        raise InfeasibleError(
            f"p_median: no choice of p = {p} sites ({int(must.sum())} fixed, "
            f"{int(never.sum())} excluded) serves all {int(reachable.sum())} reachable "
            "demand rows within reach"
        )
    usable_start = (
        np.isfinite(start_value) and start_sites.size == p and not side.satisfied(start_sites)
    )
    if result.status is MilpStatus.NO_SOLUTION:
        if not usable_start:
            raise SolverError(
                f"p_median: no feasible solution found within {settings.time_limit_s} s"
            )
        open_sites = start_sites
    else:
        open_sites = sites_from_values(result.values, n_sites)
        found = evaluate.p_median_objective(matrix, demand, open_sites)
        if usable_start and start_value < found - 1e-9 * max(1.0, abs(found)):
            open_sites = start_sites
    assignment, _ = evaluate.nearest_open(matrix, open_sites)
    objective = evaluate.p_median_objective(matrix, demand, open_sites)
    return finish(
        model="p_median",
        sense="min",
        result=result,
        objective=objective,
        open_sites=open_sites,
        assignment=assignment,
        settings=settings,
        started=started,
        details=details,
    )
