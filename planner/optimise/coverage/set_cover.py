r"""Location set covering (LSCP): the cheapest sites that cover (a share of) the demand.

Notation as in :mod:`planner.optimise.coverage.model`: demand rows :math:`i`
with weight :math:`w_i`, sites :math:`j`, reach set :math:`N_i`,
:math:`y_j \in \{0, 1\}` open site, :math:`z_k \in [0, 1]` a distinct reach
set :math:`k` is covered.

Set covering (Toregas et al., 1971), full cover::

    min  Σ_j c_j y_j
    s.t. Σ_{j ∈ N_k} y_j ≥ 1          for every distinct reach set k   (1)

and partial cover (a share α of the reachable weight W)::

    min  Σ_j c_j y_j
    s.t. z_k ≤ Σ_{j ∈ N_k} y_j        for every distinct reach set k   (1)
         Σ_k W_k z_k ≥ α W - W_fixed                                   (2)

The reductions are those of maximal covering (see there); full cover also
drops rows implied by another row. The model goes to the MIP backend whole.
Without side rows, Chvátal's greedy cover
(:func:`planner.optimise.heuristics.greedy_cover`) stands in for the
solver's plan when the time limit leaves none or a dearer one. A cover by
sites of one cost leaves a share of the time to a local search from the
solver's plan (:mod:`planner.optimise.coverage._cover_search`), whose cover
stands in the same way.

Sites of sundry costs (full cover, no side rows) have no such search;
instead the MIP first runs for a share of the time on a core of the model
(:mod:`planner.optimise.coverage._core`: for each row the sites a Lagrangian
relaxation prices lowest), and its cover starts the whole model's MIP and
stands in for its plan the same way; the relaxation's value stands in for
the solver's bound when that is weaker or missing (a root LP unfinished).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError, SolverError
from planner.optimise import _checks, evaluate, progress
from planner.optimise._milp import Milp, MilpResult, MilpStatus, solve_milp
from planner.optimise._reach import drop_sites
from planner.optimise._reduce import DOMINANCE_SHARE, REDUCTION_SHARE, reduce_coverage
from planner.optimise._result import finish, sites_from_values
from planner.optimise.constraints import (
    SiteRows,
    caps_short_of_cover,
    column_classes,
    counted_sites,
    explain_infeasible,
    infeasible_with,
    milp_with_site_rows,
)
from planner.optimise.coverage._core import lagrangian_core
from planner.optimise.coverage._cover_search import search_cover, shrink_partial_cover
from planner.optimise.coverage._rows import coverage_rows, side_rows, site_bounds
from planner.optimise.heuristics import greedy_cover
from planner.optimise.solution import Solution, SolverSettings

logger = logging.getLogger(__name__)

_DEFAULT = SolverSettings()

#: Shares of the time left after the reductions for the local search that
#: follows the solver when it can (sites of one cost, no side rows): the
#: solver stops at its first chance past ``1 - _SEARCH_SHARE`` of it with a
#: bound in hand, and at ``1 - _LEAST_SEARCH_SHARE`` in any case. On the
#: full-scale sample dealers (6,284 rows × 5,731 sites, a million pairs after
#: the reductions) HiGHS alone ends at 203 sites after 52 s and 193 after
#: 300 s. Its bound (177, the LP's 176.6) comes when its root LP ends, 30-36 s
#: in, and its next chance to stop comes about 11 s later: a plain 70 % of
#: the 47 s left gave bound 20 in one run, and stopping past 70 % with a
#: bound stopped at 47.7 s in another. The search reaches 194 sites in 3-5 s
#: and 191 within 10 s.
_SEARCH_SHARE = 0.4
_LEAST_SEARCH_SHARE = 0.1
#: Sites of sundry costs, full cover, no side rows: the shares of the time left
#: after the reductions for the Lagrangian relaxation that picks a core
#: (:mod:`planner.optimise.coverage._core`) and for the MIP on the core, whose
#: cover then starts the whole model's MIP; the rows' sites kept in the core;
#: and the most sites a core may keep, as a share of the allowed ones (a core
#: barely smaller than the model saves nothing). Measured on Beasley's set
#: covering files not shipped (scp6x, A-E, NRE-NRH, 60 s each): 49 of 50 at
#: the published or best known value against 46 without a core, the easier
#: ones proven in about twice the time (median 4.7 s, max 20.9 s against
#: 2.4 s and 10.9 s), two late NRE proofs lost. Half the time for the core's
#: MIP rather than a quarter (rail507, rail516, rail582 and NRE-NRH, two runs
#: side by side): 23 of 23 against 21 (rail507 174 against 175, as its core's
#: MIP finds 174 within 27 s but not within 14; nrh1 63 against 64), the same
#: two proven, scp6x and A-E as before (median 4.8 s, max 21.1 s). On the full-scale
#: sample dealers with costs 1-100 (13,522 × 14,471, 3.2 M pairs) proven in
#: 19.8-21.0 s either way (25.2 s without a core).
_CORE_LAGRANGE_SHARE = 0.05
_CORE_SHARE = 0.5
_CORE_PER_ROW = 10
_CORE_MOST_SITES = 0.5
#: Sites of one cost: the share of the time limit for a Lagrangian bound when
#: the solver's bound proves nothing (:func:`_unicost_bound`).
_UNICOST_BOUND_SHARE = 0.05
#: Relative distance below the solver's plan from which its bound is weak
#: enough for the Lagrangian one to be worth that time.
_WEAK_BOUND = 0.01

IntArray = npt.NDArray[np.int64]


def _searched_cover(
    rows: sp.csr_matrix,
    row_weights: npt.NDArray[np.float64],
    need: float | None,
    allowed: npt.NDArray[np.bool_],
    start: IntArray | None,
    *,
    deadline: float,
    seed: int,
    least: int,
    on_better: Callable[[int], None],
) -> IntArray | None:
    """The allowed sites of the smallest cover the local search finds from ``start``.

    A full cover when ``need`` is None, else rows weighing at least ``need``.
    ``start`` (site indices) is used when its allowed sites cover that much,
    the greedy cover otherwise; None when the allowed sites cannot. The
    search stops at ``least`` sites, a proven bound.
    """
    columns = np.flatnonzero(allowed)
    candidates = sp.csr_matrix(rows)[:, columns]
    chosen = np.zeros(columns.size)
    if start is not None:
        chosen[np.searchsorted(columns, start[np.isin(start, columns)])] = 1.0
    reached = candidates @ chosen > 0
    enough = reached.all() if need is None else row_weights[reached].sum() >= need
    begin = chosen > 0
    ones = np.ones(columns.size)
    greedy = greedy_cover(candidates, row_weights, ones, ones > 0, need)
    if greedy is None and not enough:
        return None
    # The solver's cover may be the dearer start when it stopped early: on
    # scpcyc11 its 4,313 sites left the search at 4,311, where the greedy
    # cover's 4,305 reached 4,264 in the same 6 s.
    if greedy is not None and (not enough or greedy.sum() < begin.sum()):
        begin = greedy
    if need is None:
        found = np.flatnonzero(
            search_cover(
                candidates, begin, deadline=deadline, seed=seed, on_better=on_better, least=least
            )
        )
    else:
        found = shrink_partial_cover(
            candidates,
            row_weights,
            need,
            np.flatnonzero(begin),
            deadline=deadline,
            seed=seed,
            least=least,
            on_better=on_better,
        )
    logger.debug("cover search: %d sites from %d", found.size, int(begin.sum()))
    return columns[found].astype(np.int64)


def _core_cover(
    milp: Milp,
    rows: sp.csr_matrix,
    prices: npt.NDArray[np.float64],
    allowed: npt.NDArray[np.bool_],
    must: npt.NDArray[np.bool_],
    settings: SolverSettings,
    started: float,
) -> tuple[IntArray | None, float]:
    """The sites of the MIP's best cover on a core of ``milp`` (full cover over the sites),
    and the relaxation's bound on every cover's cost, the fixed sites' included.

    No cover when the core keeps more than ``_CORE_MOST_SITES`` of the allowed
    sites or its MIP finds none in its time.
    """
    greedy = greedy_cover(rows, np.ones(rows.shape[0]), prices, allowed)
    if greedy is None:
        return None, -math.inf
    left = settings.time_limit_s - (time.perf_counter() - started)
    core = lagrangian_core(
        rows,
        prices,
        allowed,
        # Over the rows left to cover, as the relaxation is: without the fixed sites.
        float(prices[greedy].sum()),
        per_row=_CORE_PER_ROW,
        deadline=time.perf_counter() + _CORE_LAGRANGE_SHARE * left,
    )
    logger.debug(
        "set cover: core of %d of %d sites, Lagrangian bound %.6g after %d steps",
        core.sites.sum(), allowed.sum(), core.bound, core.steps,
    )  # fmt: skip
    # The rows the fixed sites cover are out of ``rows``: their price is added.
    bound = float(prices[must].sum()) + core.bound
    if core.sites.sum() > _CORE_MOST_SITES * allowed.sum():
        return None, bound
    upper = milp.upper.copy()
    upper[: allowed.size][allowed & ~core.sites] = 0.0
    # The greedy cover starts the core's MIP when it lies in the core.
    inside = not (greedy & ~core.sites).any()
    result = solve_milp(
        replace(milp, upper=upper, hint=(greedy | must).astype(np.float64) if inside else None),
        replace(settings, time_limit_s=max(_CORE_SHARE * left, 0.5)),
    )
    logger.debug("set cover: MIP on the core %s, %.6g", result.status.name, result.objective)
    if result.status not in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
        return None, bound
    return sites_from_values(result.values, allowed.size), bound


def _unicost_bound(
    result: MilpResult,
    rows: sp.csr_matrix,
    prices: npt.NDArray[np.float64],
    allowed: npt.NDArray[np.bool_],
    must: npt.NDArray[np.bool_],
    time_limit_s: float,
) -> float:
    """A Lagrangian bound for sites of one cost when the solver's is weak, else -inf.

    With sites of one cost the solver's bound is all there is, and when its
    root LP does not end in time it proves next to nothing: scpcyc11 (28,160
    rows × 11,264 sites) no site beyond the fixed ones after 60 s, every
    dealer of the five default countries 20 sites against a cover of 198
    (the relaxation: about 177). The relaxation of :mod:`._core` then runs
    for ``_UNICOST_BOUND_SHARE`` of the limit, out of the search's time;
    every cover costs a whole number of sites, so its value rounds up to one.
    Weak means more than ``_WEAK_BOUND`` below the solver's plan.
    """
    fixed_cost = float(prices[must].sum())
    unit = float(prices[allowed][0])
    plan_cost = result.objective if result.status is not MilpStatus.NO_SOLUTION else math.inf
    if result.bound >= plan_cost * (1 - _WEAK_BOUND) or unit <= 0:  # the first False for nan
        return -math.inf
    # The steps aim at a cover's cost over the rows left (without the fixed sites).
    if result.status is not MilpStatus.NO_SOLUTION:
        upper = float(prices[sites_from_values(result.values, allowed.size)].sum()) - fixed_cost
    else:
        greedy = greedy_cover(rows, np.ones(rows.shape[0]), prices, allowed)
        if greedy is None:
            return -math.inf
        upper = float(prices[greedy].sum())
    relaxation = lagrangian_core(
        rows,
        prices,
        allowed,
        upper,
        per_row=0,
        deadline=time.perf_counter() + _UNICOST_BOUND_SHARE * time_limit_s,
    )
    logger.debug(
        "set cover: Lagrangian bound %.6g after %d steps", relaxation.bound, relaxation.steps
    )
    return fixed_cost + unit * math.ceil(relaxation.bound / unit - 1e-6)


def set_cover(
    reach: sp.csr_matrix,
    *,
    costs: npt.NDArray[np.float64] | None = None,
    weights: npt.NDArray[np.float64] | None = None,
    coverage: float = 1.0,
    fixed: npt.NDArray[np.bool_] | None = None,
    excluded: npt.NDArray[np.bool_] | None = None,
    constraints: SiteRows | None = None,
    settings: SolverSettings = _DEFAULT,
) -> Solution:
    """Open the cheapest set of sites that covers (a share of) the reachable demand.

    Parameters
    ----------
    reach
        Demand × sites; stored pairs are within reach, data their travel cost.
        Rows without any pair are unreachable and ignored.
    costs
        Cost of opening each site; every site costs 1 when None (fewest sites).
    weights
        Demand weights used by partial cover; ones when None.
    coverage
        Share of the reachable weight that must be covered, in (0, 1].
    fixed, excluded
        Masks of sites that must / must not open.
    constraints
        Side constraints over the open sites (see :mod:`planner.optimise.constraints`).
    settings
        Time limit, gap, threads and seed.

    Returns
    -------
    Solution
        ``objective`` is the summed cost of the open sites.

    Raises
    ------
    InputError
        Malformed arguments.
    InfeasibleError
        The coverage target cannot be met with the sites that are not excluded,
        or not together with the side constraints.
    """
    started = time.perf_counter()
    problems: list[str] = []
    matrix = _checks.canonical_reach(reach, problems)
    n_demand, n_sites = matrix.shape
    demand = _checks.demand_weights(weights, n_demand, problems)
    prices = _checks.site_costs(costs, n_sites, problems)
    must = _checks.site_mask(fixed, n_sites, "fixed", problems)
    never = _checks.site_mask(excluded, n_sites, "excluded", problems)
    if not (isinstance(coverage, int | float) and 0.0 < coverage <= 1.0):
        problems.append(f"coverage must be in (0, 1], got {coverage!r}")
    _checks.raise_problems("set_cover", problems)
    _checks.check_fixed_excluded("set_cover", must, never)
    # Solved on costs scaled to at least 1; the objective from the costs given.
    given = prices
    scale = _checks.unit_scale(float(prices.max(initial=0.0)))
    prices = prices * scale
    side = side_rows(constraints, n_sites)
    explain_infeasible(side, p=None, exact_p=False, fixed=must, excluded=never)

    reachable = evaluate.reachable_rows(matrix)
    reachable_weight = float(demand[reachable].sum())
    partial = coverage < 1.0
    usable = drop_sites(matrix, never)
    blocked = reachable & (np.diff(usable.indptr) == 0)
    if not partial and np.any(blocked):
        raise InfeasibleError(
            f"set_cover: {int(blocked.sum())} reachable demand row(s) have only excluded "
            f"sites in reach (first: row {int(np.flatnonzero(blocked)[0])}), so full "
            "coverage is impossible"
        )
    # A cap on a group below the sites its own rows need, proven by counting.
    short = caps_short_of_cover(side, usable) if not partial else []
    if short:
        raise InfeasibleError(
            "set_cover: full coverage cannot meet the side constraints: " + "; ".join(short)
        )
    target = coverage * reachable_weight
    coverable = float(demand[reachable & ~blocked].sum())
    if partial and coverable < target * (1 - 1e-12):
        raise InfeasibleError(
            f"set_cover: coverage target {coverage:.6g} × {reachable_weight:.6g} = "
            f"{target:.6g} exceeds the {coverable:.6g} weight the non-excluded sites can reach"
        )

    # Full cover must cover zero-weight rows too; partial cover ignores them.
    row_weights_in = demand if partial else np.ones(n_demand)
    rows, row_weights, fixed_weight, n_kept = coverage_rows(matrix, row_weights_in, must, never)
    n_merged = rows.shape[0]
    rows, row_weights, dominated = reduce_coverage(
        rows,
        row_weights,
        prices,
        ~must & ~never,
        drop_implied_rows=not partial,
        classes=column_classes(side) if len(side) else None,
        kept=counted_sites(side) if len(side) else None,
        deadline=started + REDUCTION_SHARE * settings.time_limit_s,
        dominance_deadline=started + DOMINANCE_SHARE * settings.time_limit_s,
    )
    n_rows = rows.shape[0]
    details: dict[str, float] = {
        "unreachable_demand": float(np.sum(~reachable)),
        "rows_before_aggregation": float(n_kept),
        "rows_after_aggregation": float(n_merged),
        "rows_in_model": float(n_rows),
        "sites_dominated": float(dominated.sum()),
        "side_constraints": float(len(side)),
    }
    y_lower, y_upper = site_bounds(must, never | dominated)
    if not partial:
        # Constraint (1): Σ_{j∈N_k} y_j ≥ 1 for every distinct reach set.
        milp = Milp(
            objective=prices.copy(),
            matrix=rows,
            row_lower=np.ones(n_rows),
            row_upper=np.full(n_rows, np.inf),
            lower=y_lower,
            upper=y_upper,
            integer=np.ones(n_sites, bool),
        )
    else:
        # Constraint (1): z_k - Σ_{j∈N_k} y_j ≤ 0.
        cover = sp.hstack([-rows, sp.identity(n_rows, format="csr")], format="csr")
        # Constraint (2): Σ_k W_k z_k ≥ α W - W_fixed, divided by the largest W_k:
        # weights of 1e-6 left the row within the solver's absolute feasibility
        # tolerance (1e-7: a cover of half the target was taken as feasible).
        heaviest = float(row_weights.max()) if n_rows and row_weights.max() > 0 else 1.0
        needed = (target - fixed_weight) / heaviest
        share = sp.csr_matrix(
            np.concatenate([np.zeros(n_sites), row_weights / heaviest])[np.newaxis, :]
        )
        milp = Milp(
            objective=np.concatenate([prices, np.zeros(n_rows)]),
            matrix=sp.vstack([cover, share], format="csr"),
            row_lower=np.concatenate([np.full(n_rows, -np.inf), [needed]]),
            row_upper=np.concatenate([np.zeros(n_rows), [np.inf]]),
            lower=np.concatenate([y_lower, np.zeros(n_rows)]),
            upper=np.concatenate([y_upper, np.ones(n_rows)]),
            integer=np.concatenate([np.ones(n_sites, bool), np.zeros(n_rows, bool)]),
        )
    allowed = ~must & ~never & ~dominated
    searchable = not len(side) and np.unique(prices[allowed]).size <= 1
    milp = milp_with_site_rows(milp, side)
    # Sites of sundry costs: a cover from a core of the model starts the MIP.
    on_core, relaxed = (
        _core_cover(milp, rows, prices, allowed, must, settings, started)
        if not partial and not len(side) and not searchable and allowed.any()
        else (None, -math.inf)
    )
    if on_core is not None:
        start = np.zeros(milp.objective.size)
        start[on_core] = 1.0
        milp = replace(milp, hint=start)
    # The reductions before it count against the limit (full-scale dealers: 11 s).
    left = settings.time_limit_s - (time.perf_counter() - started)
    with progress.scaled(scale):
        result = solve_milp(
            milp,
            replace(
                settings,
                time_limit_s=max(left * (1 - _LEAST_SEARCH_SHARE if searchable else 1), 0.5),
            ),
            report=progress.whole_model(maximise=False),
            bounded_after_s=left * (1 - _SEARCH_SHARE) if searchable else None,
        )
    if searchable and not partial and result.status is not MilpStatus.OPTIMAL and allowed.any():
        relaxed = _unicost_bound(result, rows, prices, allowed, must, settings.time_limit_s)
    if not result.bound >= relaxed:  # also when the solver has no bound (nan)
        # The Lagrangian bound stands in when the solver's root LP did not end in time.
        result = replace(result, bound=relaxed)
    if result.status is MilpStatus.INFEASIBLE:
        if len(side):
            target_text = "full coverage" if not partial else f"coverage of {coverage:.6g}"
            raise infeasible_with("set_cover", side, target_text)
        raise InfeasibleError("set_cover: the coverage target cannot be met")
    solver_sites = (
        None
        if result.status is MilpStatus.NO_SOLUTION
        else sites_from_values(result.values, n_sites)
    )
    # The search's cover, or else the greedy one (without side rows, which they
    # ignore), when the solver has no plan or a dearer one by its time limit;
    # the bound is the solver's.
    fallback: IntArray | None = None
    if searchable and result.status is not MilpStatus.OPTIMAL:
        fixed_cost = float(prices[must].sum())
        unit = float(prices[allowed][0]) if allowed.any() else 0.0
        # Sites beyond the fixed ones that every cover needs, by the solver's bound.
        least = (
            math.ceil((result.bound - fixed_cost) / unit - 1e-6)
            if unit > 0 and math.isfinite(result.bound)
            else 0
        )
        with progress.scaled(scale):
            searched = _searched_cover(
                rows,
                row_weights,
                target - fixed_weight if partial else None,
                allowed,
                solver_sites,
                deadline=started + settings.time_limit_s,
                seed=settings.seed,
                least=least,
                on_better=lambda count: progress.note(
                    best=fixed_cost + unit * count, maximise=False
                ),
            )
        if searched is not None:
            fallback = np.union1d(np.flatnonzero(must), searched).astype(np.int64)
            details["search_sites"] = float(fallback.size)
    if fallback is None and not len(side) and result.status is not MilpStatus.OPTIMAL:
        need = target - fixed_weight if partial else None
        chosen = greedy_cover(rows, row_weights, prices, ~must & ~never, need)
        fallback = None if chosen is None else np.flatnonzero(chosen | must).astype(np.int64)
    if on_core is not None and (fallback is None or prices[on_core].sum() < prices[fallback].sum()):
        fallback = on_core
    if solver_sites is None:
        # Every allowed site is a cover too.
        open_sites = np.flatnonzero(~never).astype(np.int64) if fallback is None else fallback
        if side.satisfied(open_sites):
            raise SolverError(
                f"set_cover: no cover meeting the side constraints found within "
                f"{settings.time_limit_s:g} s; raise the time limit"
            )
    else:
        open_sites = solver_sites
        if fallback is not None and prices[fallback].sum() < prices[open_sites].sum():
            open_sites = fallback
    assignment, _ = evaluate.nearest_open(matrix, open_sites)
    details["covered_weight"] = evaluate.covered_weight(matrix, demand, open_sites)
    if partial and details["covered_weight"] < target * (1 - 1e-9):
        raise SolverError(
            "set_cover: the solver's cover misses the coverage target by more than "
            "its feasibility tolerance"
        )
    objective = evaluate.set_cover_objective(None if costs is None else given, open_sites)
    result = replace(result, bound=result.bound / scale)
    return finish(
        model="set_cover",
        sense="min",
        result=result,
        objective=objective,
        open_sites=open_sites,
        assignment=assignment,
        settings=settings,
        started=started,
        details=details,
    )
