r"""The p-median model: LP bound by Benders cuts, reduced-cost fixing, radius model.

Every reachable demand row :math:`i` is served by its nearest open site
within reach; the model opens exactly :math:`p` sites to minimise the
weighted total cost. The exact model is the radius formulation of Elloumi
(2010) / García, Labbé & Marín (2011): sort the distinct costs of row
:math:`i`, :math:`D_i^1 < D_i^2 < … < D_i^{K_i}`, and let :math:`z_i^k \ge 0`
be 1 when no open site of row :math:`i` costs :math:`D_i^k` or less. With
:math:`S_i^k` the sites of row :math:`i` at cost exactly :math:`D_i^k`::

    min  Σ_i w_i (D_i^1 + Σ_{k<K_i} (D_i^{k+1} - D_i^k) z_i^k)
    s.t. z_i^1 + Σ_{j ∈ S_i^1} y_j ≥ 1                      (1) nearest level
         z_i^k - z_i^{k-1} + Σ_{j ∈ S_i^k} y_j ≥ 0  1<k<K_i   (2) chained levels
         -z_i^{K_i-1} + Σ_{j ∈ S_i^{K_i}} y_j ≥ 0            (3) served within reach
         Σ_j y_j = p                                          (4)
         y_j ∈ {0, 1}; y_j = 1 fixed, 0 excluded;  z ≥ 0;  side rows over y

Chaining the levels keeps one coefficient per pair (the cumulative form
would need :math:`O(K_i^2)`) and has the same LP relaxation. Constraints
(1)–(3) add up to "some site within reach is open", so infeasibility means
:math:`p` sites cannot serve all reachable demand.

Solving it whole is slow when every row reaches many sites (a 1,400-point
instance has 1.9 million pairs), so the solve goes in three steps:

1. **LP bound.** The LP relaxation is solved in its Benders form (only
   :math:`y` and one :math:`\theta_i` per row, cuts added as needed; see
   :mod:`planner.optimise._median_lp`). On the standard sets it is often
   integral or within a fraction of a percent of the optimum.
2. **Incumbent.** The LP point rounded to its p largest values, and the
   greedy solution when it is cheap, each improved by best-improvement
   interchange (:mod:`planner.optimise._median_search`).
3. **Fixing and the exact model.** A site whose LP reduced cost lifts the
   bound above the incumbent (minus 1 when all data are whole numbers, so
   the objective is too) cannot be in a better plan and is fixed; the radius
   model is solved on the sites left. The bound reported is the best of the
   LP bound and that solve's bound, capped by the incumbent.

Reductions before all that: pairs to excluded sites go; pairs costlier than
the nearest fixed site of a row can never serve it and go too; rows of zero
weight keep only their coverage requirement (all costs set to 0, one level);
rows identical in sites *and* costs merge with summed weights (merging by
sites alone would be wrong here, unlike in coverage models). Among sites
with identical pairs the lowest index is chosen, so ties go to the lowest
site id.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError, SolverError
from planner.optimise import _checks, evaluate
from planner.optimise._aggregate import aggregate_rows
from planner.optimise._median_lp import MedianLp, median_lp
from planner.optimise._median_search import greedy_median, interchange_median
from planner.optimise._milp import Milp, MilpResult, MilpStatus, solve_milp
from planner.optimise._reach import (
    SortedPairs,
    drop_sites,
    entry_rows,
    keep_entries,
    select_rows,
)
from planner.optimise._reduce import lowest_equivalent
from planner.optimise._result import finish, sites_from_values
from planner.optimise.constraints import (
    SiteRows,
    append_site_rows,
    column_classes,
    explain_infeasible,
    infeasible_with,
    no_site_rows,
)
from planner.optimise.solution import Solution, SolverSettings, relative_gap

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
        reachable row within reach (with the side constraints).
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
    pairs = SortedPairs(rows)
    allowed = ~never
    integral = _whole(rows.data) and _whole(row_weights)
    details: dict[str, float] = {
        "unreachable_demand": float(np.sum(~reachable)),
        "rows_in_model": float(rows.shape[0]),
        "rows_before_aggregation": float(n_kept),
        "pairs_in_model": float(rows.nnz),
        "side_constraints": float(len(side)),
    }

    def left() -> float:
        return settings.time_limit_s - (time.perf_counter() - started)

    # (1) The LP bound and reduced costs, from the Benders master.
    lp = median_lp(
        pairs, row_weights, p, fixed=must, allowed=allowed, side=side, seconds=0.5 * left()
    )
    if lp.infeasible:
        raise _infeasible(p, must, never, reachable, side)
    details.update(lp_bound=lp.bound, lp_rounds=float(lp.rounds), lp_cuts=float(lp.cuts))

    # (2) An incumbent: the LP point rounded, and greedy when it is cheap, each
    # improved by interchange. Both ignore side constraints, so they count only
    # when they happen to meet them.
    starts = [_rounded(lp.y, p, must, allowed)]
    if p * pairs.size <= _GREEDY_WORK:
        starts.append(greedy_median(pairs, row_weights, p, fixed=must, allowed=allowed))
    best_sites, best_value = np.empty(0, dtype=np.int64), math.inf
    for start in starts:
        sites = interchange_median(
            pairs, row_weights, start, fixed=must, allowed=allowed, seconds=0.1 * max(left(), 0)
        )
        value = evaluate.p_median_objective(rows, row_weights, sites)
        if value < best_value and sites.size == p and not side.satisfied(sites):
            best_sites, best_value = sites, value
    details["heuristic_objective"] = best_value
    # Any better plan is at least ``step`` better: 1 when every cost and weight
    # is whole (the objective is then whole too), else the requested gap.
    step = 1.0 if integral else settings.relative_gap * abs(best_value)
    bound = lp.bound

    if best_value - lp.bound > settings.relative_gap * abs(best_value) or not math.isfinite(
        best_value
    ):
        # (3) Fix sites by reduced costs, then solve the radius model on the rest.
        never_more, must_more = _fixed_by_reduced_costs(lp, best_value - step)
        details["sites_fixed_closed"] = float((never_more & allowed).sum())
        details["sites_fixed_open"] = float((must_more & ~must).sum())
        result = _solve_reduced(
            rows,
            row_weights,
            p,
            must | must_more,
            never | never_more,
            side,
            integral,
            settings,
            max(left(), 0.5),
            best_sites,
        )
        if result is None or result.status is MilpStatus.INFEASIBLE:
            if not math.isfinite(best_value):
                raise _infeasible(p, must, never, reachable, side)
            # Nothing better than the incumbent by ``step`` exists.
            bound = max(bound, best_value - (0.0 if integral else step))
        elif result.status is not MilpStatus.NO_SOLUTION:
            found = sites_from_values(result.values, n_sites)
            value = evaluate.p_median_objective(rows, row_weights, found)
            if value < best_value:
                best_sites, best_value = found, value
            bound = max(bound, min(result.bound, best_value - (0.0 if integral else step)))
        elif math.isfinite(result.bound):
            bound = max(bound, min(result.bound, best_value - (0.0 if integral else step)))
    if not math.isfinite(best_value):
        raise SolverError(f"p_median: no feasible solution found within {settings.time_limit_s} s")

    open_sites = lowest_equivalent(
        matrix,
        best_sites,
        fixed=must,
        allowed=allowed,
        classes=column_classes(side) if len(side) else None,
    )
    assignment, _ = evaluate.nearest_open(matrix, open_sites)
    objective = evaluate.p_median_objective(matrix, demand, open_sites)
    proven = relative_gap(objective, bound) <= settings.relative_gap * (1 + 1e-6)
    kind = MilpStatus.OPTIMAL if proven else MilpStatus.FEASIBLE
    return finish(
        model="p_median",
        sense="min",
        result=MilpResult(kind, np.empty(0), objective, bound, 0.0),
        objective=objective,
        open_sites=open_sites,
        assignment=assignment,
        settings=settings,
        started=started,
        details=details,
    )


#: Greedy runs only when p × pairs is at most this (it costs about that many steps).
_GREEDY_WORK = 2e8


def _whole(values: FloatArray) -> bool:
    """Every value is a whole number (so sums of products are whole too)."""
    return bool(np.all(values == np.round(values)))


def _rounded(y: FloatArray, p: int, must: BoolArray, allowed: BoolArray) -> IntArray:
    """The fixed sites and the largest LP values up to p sites (ties to the lowest index)."""
    score = np.where(allowed, y, -np.inf)
    score[must] = np.inf
    return np.sort(np.argsort(-score, kind="stable")[:p]).astype(np.int64)


def _fixed_by_reduced_costs(lp: MedianLp, cutoff: float) -> tuple[BoolArray, BoolArray]:
    """Sites that no plan of value below ``cutoff`` can open (close), by LP duality."""
    if not math.isfinite(cutoff) or not math.isfinite(lp.lp_value):
        empty = np.zeros(lp.y.size, dtype=bool)
        return empty, empty.copy()
    tolerance = 1e-9 * max(1.0, abs(cutoff))
    closed = (lp.y <= 1e-9) & (lp.lp_value + lp.reduced_lower > cutoff + tolerance)
    opened = (lp.y >= 1 - 1e-9) & (lp.lp_value - lp.reduced_upper > cutoff + tolerance)
    return closed, opened


def _solve_reduced(
    rows: sp.csr_matrix,
    weights: FloatArray,
    p: int,
    must: BoolArray,
    never: BoolArray,
    side: SiteRows,
    integral: bool,
    settings: SolverSettings,
    seconds: float,
    incumbent: IntArray,
) -> MilpResult | None:
    """The radius model on the sites left free; None when fixing left no feasible plan."""
    if int(must.sum()) > p or int((~never).sum()) < p or np.any(must & never):
        return None
    if np.any(np.diff(drop_sites(rows, never).indptr) == 0):
        return None  # a row lost every site it could be served by
    reduced, reduced_weights, _ = _reduced_rows(rows, weights, must, never)
    milp = radius_milp(reduced, reduced_weights, p, must, never)
    if len(side):
        matrix_all, row_lower, row_upper = append_site_rows(
            milp.matrix,
            milp.row_lower,
            milp.row_upper,
            side,
            site_columns=np.arange(rows.shape[1], dtype=np.int64),
            n_columns=milp.matrix.shape[1],
        )
        milp = replace(milp, matrix=matrix_all, row_lower=row_lower, row_upper=row_upper)
    # CP-SAT with one worker and full linearisation proved the small-p OR-Library
    # instances fastest (pmed17: 10 s against 30 s for HiGHS), but it is exact only
    # on whole numbers; HiGHS takes the rest.
    backend = "sat" if integral else "highs"
    return solve_milp(milp, replace(settings, time_limit_s=seconds), backend=backend)


def _infeasible(
    p: int, must: BoolArray, never: BoolArray, reachable: BoolArray, side: SiteRows
) -> InfeasibleError:
    limit = f"p = {p} sites serving all reachable demand within reach"
    if len(side):
        return infeasible_with("p_median", side, limit)
    return InfeasibleError(
        f"p_median: no choice of p = {p} sites ({int(must.sum())} fixed, "
        f"{int(never.sum())} excluded) serves all {int(reachable.sum())} reachable "
        "demand rows within reach"
    )
