r"""Coverage models: maximal covering (MCLP); set covering (LSCP) is in :mod:`.set_cover`.

Notation: demand rows :math:`i` with weight :math:`w_i`, sites :math:`j`,
reach set :math:`N_i` (the stored pairs of row :math:`i` of ``reach``),
:math:`y_j \in \{0, 1\}` open site, :math:`z_k \in [0, 1]` a distinct
reach set :math:`k` is covered.

Maximal covering (Church & ReVelle, 1974)::

    max  Σ_k W_k z_k
    s.t. z_k ≤ Σ_{j ∈ N_k} y_j        for every distinct reach set k   (1)
         Σ_j y_j ≤ p                                                   (2)
         y_j = 1 for fixed sites, y_j = 0 for excluded sites

Reductions before solving: demand rows with identical reach sets merge
(:math:`W_k` sums their weights); rows already covered by a fixed site and
rows of zero weight leave the model (their weight is a constant); pairs to
excluded sites are dropped; sites whose rows are a subset of another site's
(at no lower cost) stay closed, and in full covering rows implied by another
row go (see ``_reduce``); in maximal covering a row reached by one site only
puts its weight on that site's variable instead of a :math:`z_k`.
:math:`z_k` may be continuous: for integral :math:`y` the optimum puts
:math:`z_k = \min(1, Σ y)`.

Maximal covering is then solved one of two ways, by size:

* **up to** ``KERNEL_FROM_PAIRS`` **reach pairs** (a country at 30–50 km):
  branch and bound over the LP relaxation in dual form (``_coverage_dual``,
  ``_coverage_bnb``), whose simplex basis has one row per site instead of
  one per reach set: HiGHS solves it 5–8 times faster and re-solves it from
  the parent's basis after each branching. Reduced-cost fixing, strong
  branching, LP diving and swaps close most such instances at or near the
  root (France 15k places × 2k sites, p = 100: proven in about 2 s where
  SCIP needs 6). A tree that outgrows ``BNB_NODES`` nodes goes to SCIP with
  the root's fixings and the incumbent: SCIP's cuts (zero-half, mostly)
  close some trees sooner (France p = 400: 8 s against 27 s alone).
* **above** (a continent): the LP relaxation by a first-order method
  (``_coverage_lp``), whose duals give a proven bound and whose rounded site
  values a start beside greedy + swap. The plan then comes from regions of
  about a thousand sites, each solved on its own dual-form LP and swept
  until the time is up (``_coverage_regions``); with side constraints, which
  span regions, from a MIP restricted to the kernel of sites the LP leans
  on instead. SCIP gets the full model only with a real share of the time
  left: its root LP alone outlasts the limit at this size (``_continental``).

A backend named in the settings (``SolverSettings.backend``) gets the whole
mid-size model directly, without the branch and bound.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import SolverError
from planner.optimise import _checks, evaluate, progress
from planner.optimise._milp import MilpResult, MilpStatus, solve_milp
from planner.optimise._reduce import DOMINANCE_SHARE, reduce_coverage
from planner.optimise._result import finish, sites_from_values
from planner.optimise.constraints import SiteRows, column_classes, counted_sites, explain_infeasible
from planner.optimise.coverage._bnb import branch_and_bound, coverage_plans
from planner.optimise.coverage._continental import solve_continental
from planner.optimise.coverage._dual import CoverageDual
from planner.optimise.coverage._reduced import Reduced, infeasible, no_plan
from planner.optimise.coverage._rows import FloatArray, IntArray, coverage_rows, side_rows
from planner.optimise.coverage.set_cover import set_cover
from planner.optimise.heuristics import greedy_coverage, swap_coverage
from planner.optimise.solution import Solution, SolverSettings

__all__ = ["BNB_NODES", "KERNEL_FROM_PAIRS", "max_coverage", "set_cover"]

logger = logging.getLogger(__name__)

_DEFAULT = SolverSettings()

# Both are read from this module at call time, so that patching them here
# (as the tests do) changes how the next solve goes.
#: Models with more reach pairs than this (after reduction) take the
#: continental path: PDLP's bound and regional plans (a kernel MIP with side constraints). SCIP's
#: root LP on Europe's 3.9 M pairs (48k rows × 17k sites) does not finish in
#: 100 s, nor HiGHS's on the dual form in 400 s; France's 0.16 M pairs go to
#: the branch and bound.
KERNEL_FROM_PAIRS = 1_000_000
#: Nodes the branch and bound on the dual LP may open before SCIP takes over
#: the model with the root's fixings (see _solve_by_branch_and_bound). On
#: eleven mid-size instances (benchmarks/README.md) SCIP alone took 278 s,
#: the hand-off at 20 nodes 172 s, at 50 nodes 192 s, at 200 nodes 229 s and
#: the branch and bound alone 227 s; 30 nodes matched 20 on the instances
#: that hand over and keeps Italy p = 32 (19 nodes, 5 s against SCIP's 37 s).
BNB_NODES = 30
#: Share of the time limit the start plan's swaps may take. On Europe (16,500
#: sites after reduction) two passes take 2-4 s, which a 10 s limit cannot spare
#: after 2.5 s of reductions.
START_SWAP_SHARE = 0.1
#: The ``details`` of a solution in the objective's units (scaled back with it,
#: shifted with it by a caller that adds a constant).
OBJECTIVE_DETAILS = ("lp_bound", "regional_objective", "kernel_objective")


def max_coverage(
    reach: sp.csr_matrix,
    weights: npt.NDArray[np.float64],
    p: int,
    *,
    fixed: npt.NDArray[np.bool_] | None = None,
    excluded: npt.NDArray[np.bool_] | None = None,
    constraints: SiteRows | None = None,
    settings: SolverSettings = _DEFAULT,
) -> Solution:
    """Open at most ``p`` sites to cover the most demand weight.

    Parameters
    ----------
    reach
        Demand × sites; stored pairs are within reach, data their travel cost.
    weights
        Non-negative weight of each demand row.
    p
        Largest number of sites to open, fixed sites included.
    fixed, excluded
        Masks of sites that must / must not open.
    constraints
        Side constraints over the open sites (budget, brand shares, country
        bounds; see :mod:`planner.optimise.constraints`).
    settings
        Time limit, gap, threads and seed.

    Returns
    -------
    Solution
        ``objective`` is the covered weight; ``assignment[i]`` the cheapest open
        site in reach of row ``i`` (ties to the lowest index), -1 if uncovered.

    Raises
    ------
    InputError
        Malformed arguments.
    InfeasibleError
        ``p`` is smaller than the number of fixed sites, a site is both
        fixed and excluded, or the side constraints cannot hold.
    """
    started = time.perf_counter()
    problems: list[str] = []
    matrix = _checks.canonical_reach(reach, problems)
    n_demand, n_sites = matrix.shape
    demand = _checks.demand_weights(weights, n_demand, problems)
    must = _checks.site_mask(fixed, n_sites, "fixed", problems)
    never = _checks.site_mask(excluded, n_sites, "excluded", problems)
    _checks.raise_problems("max_coverage", problems)
    _checks.check_fixed_excluded("max_coverage", must, never)
    _checks.check_p("max_coverage", p, must, never, exact=False)
    side = side_rows(constraints, n_sites)
    explain_infeasible(side, p=p, exact_p=False, fixed=must, excluded=never)

    rows, row_weights, fixed_weight, n_kept = coverage_rows(matrix, demand, must, never)
    # Solved on weights scaled so that the heaviest row is at least 1 (at 1e-8
    # a plan 0.2 % short was called optimal); the objective from the weights given.
    scale = _checks.unit_scale(float(row_weights.max(initial=0.0)))
    row_weights, fixed_weight = row_weights * scale, fixed_weight * scale
    n_merged = rows.shape[0]
    rows, row_weights, dominated = reduce_coverage(
        rows,
        row_weights,
        np.ones(n_sites),
        ~must & ~never,
        drop_implied_rows=False,
        classes=column_classes(side) if len(side) else None,
        kept=counted_sites(side) if len(side) else None,
        dominance_deadline=started + DOMINANCE_SHARE * settings.time_limit_s,
    )
    never_in_model = never | dominated
    # The heuristics ignore side constraints: their sites serve as a start and
    # a bound's witness only when they happen to satisfy them.
    start_sites = swap_coverage(
        rows,
        row_weights,
        greedy_coverage(rows, row_weights, p, fixed=must, excluded=never_in_model),
        fixed=must,
        excluded=never_in_model,
        deadline=time.perf_counter() + START_SWAP_SHARE * settings.time_limit_s,
    )
    model = Reduced(
        rows=rows,
        weights=row_weights,
        p=p,
        fixed=must,
        closed=never_in_model,
        side=side,
        fixed_weight=fixed_weight,
    )
    details: dict[str, float] = {
        "unreachable_demand": float(np.sum(np.diff(matrix.indptr) == 0)),
        "rows_before_aggregation": float(n_kept),
        "rows_after_aggregation": float(n_merged),
        "rows_in_model": float(model.folded_rows.shape[0]),
        "sites_dominated": float(dominated.sum()),
        "side_constraints": float(len(side)),
    }
    with progress.scaled(scale):
        if model.feasible(start_sites):
            progress.note(best=model.value(start_sites) + fixed_weight, maximise=True)
        if model.folded_rows.nnz > KERNEL_FROM_PAIRS:
            open_sites, bound, kind = solve_continental(
                model, start_sites, settings, started, details
            )
        elif settings.backend is None:
            open_sites, bound, kind = _solve_by_branch_and_bound(
                model, start_sites, settings, started, details
            )
        else:
            # A backend asked for by name gets the whole model.
            open_sites, bound, kind = _solve_whole_milp(model, start_sites, settings, started)
    for key in OBJECTIVE_DETAILS:
        if key in details:
            details[key] /= scale
    return _coverage_solution(
        matrix, demand, open_sites, bound / scale, kind, settings, started, details
    )


def _solve_by_branch_and_bound(
    model: Reduced,
    start: IntArray,
    settings: SolverSettings,
    started: float,
    details: dict[str, float],
) -> tuple[IntArray, float, MilpStatus]:
    """Branch and bound on the dual-form LP; SCIP takes over a tree that outgrows ``BNB_NODES``.

    Returns the open sites, a proven upper bound (with the fixed-covered
    weight) and whether they are proven optimal; the time limit counts from
    ``started``.
    """
    n_sites = model.n_sites
    side = model.side
    dual = CoverageDual(
        model.folded_rows,
        model.folded_weights,
        model.site_weight,
        sp.vstack([sp.csr_matrix(np.ones((1, n_sites))), side.matrix], format="csr"),
        np.concatenate([[-np.inf], side.lower]),
        np.concatenate([[float(model.p)], side.upper]),
        ~model.fixed & ~model.closed,
        model.fixed,
    )
    lp_sites, position = dual.sites, dual.position
    plans = coverage_plans(
        model.rows,
        model.weights,
        dual,
        model.p,
        fixed=model.fixed,
        closed=model.closed,
        feasible=model.feasible,
    )
    start_value = model.value(start) if model.feasible(start) else -np.inf

    def report(best: float, bound: float) -> None:
        fixed = model.fixed_weight
        progress.note(best=best + fixed, bound=bound + fixed, maximise=True)

    try:
        result = branch_and_bound(
            dual,
            plans,
            start=position[start],
            start_value=start_value,
            relative_gap=settings.relative_gap,
            seconds=settings.time_limit_s - (time.perf_counter() - started),
            max_nodes=BNB_NODES,
            on_bounds=report,
        )
    except SolverError as error:
        # HiGHS failing on an LP is no reason to give up: SCIP takes the model.
        logger.warning("max_coverage: %s; solving with SCIP instead", error)
        return _solve_whole_milp(model, start, settings, started)
    details.update(
        {
            "lp_bound": result.root_bound + model.fixed_weight,
            "bnb_nodes": float(result.nodes),
            "bnb_lp_solves": float(result.lp_solves),
            "bnb_lp_seconds": result.lp_seconds,
        }
    )
    found = np.isfinite(result.value)
    if result.proven:
        if not found:
            raise infeasible(model)
        return lp_sites[result.sites], result.bound + model.fixed_weight, MilpStatus.OPTIMAL
    left = settings.time_limit_s - (time.perf_counter() - started)
    if result.nodes < BNB_NODES or left <= 0.5:
        # Stopped by the clock.
        if not found:
            raise no_plan(settings)
        return lp_sites[result.sites], result.bound + model.fixed_weight, MilpStatus.FEASIBLE
    # SCIP's cuts close some trees far sooner (France p = 400: 8 s against
    # 27 s); it takes the model with the root's fixings and the incumbent.
    lower, upper = model.site_bounds()
    lower[lp_sites[result.lower == 1]] = 1.0
    upper[lp_sites[result.upper == 0]] = 0.0
    milp = model.milp(lower=lower, upper=upper, hint=lp_sites[result.sites] if found else None)
    details["scip_after_nodes"] = float(result.nodes)
    # Plans the root fixings exclude are bounded by fixings_bound.
    excluded = result.fixings_bound + model.fixed_weight

    def scip_report(best: float | None, bound: float | None) -> None:
        bound = None if bound is None else max(bound, excluded)
        progress.note(best=best, bound=bound, maximise=True)

    answer = solve_milp(
        milp, replace(settings, time_limit_s=left), backend="scip", report=scip_report
    )
    if answer.status is MilpStatus.INFEASIBLE:
        # Nothing beats the incumbent within the fixings: it is optimal up to them.
        if not found:
            raise infeasible(model)
        bound = max(result.value + model.fixed_weight, excluded)
        return lp_sites[result.sites], bound, MilpStatus.OPTIMAL
    if answer.status is MilpStatus.NO_SOLUTION:
        if not found:
            raise no_plan(settings)
        return lp_sites[result.sites], result.bound + model.fixed_weight, MilpStatus.FEASIBLE
    open_sites = sites_from_values(answer.values, n_sites)
    if found and model.value(open_sites) < result.value:
        open_sites = lp_sites[result.sites]
    bound = min(result.bound + model.fixed_weight, max(answer.bound, excluded))
    return open_sites, bound, answer.status


def _solve_whole_milp(
    model: Reduced, start: IntArray, settings: SolverSettings, started: float
) -> tuple[IntArray, float, MilpStatus]:
    """The whole model by SCIP (or ``settings.backend``), from ``start`` when it is feasible."""
    feasible = model.feasible(start)
    lower, upper = model.site_bounds()
    milp = model.milp(lower=lower, upper=upper, hint=start if feasible else None)
    left = settings.time_limit_s - (time.perf_counter() - started)
    answer = solve_milp(
        milp,
        replace(settings, time_limit_s=max(left, 0.5)),
        backend="scip",
        report=progress.whole_model(maximise=True),
    )
    if answer.status is MilpStatus.INFEASIBLE:
        raise infeasible(model)
    if answer.status is MilpStatus.NO_SOLUTION:
        if not feasible:
            raise no_plan(settings)
        return start, np.inf, MilpStatus.FEASIBLE
    open_sites = sites_from_values(answer.values, model.n_sites)
    if feasible and model.value(start) > model.value(open_sites):
        open_sites = start
    return open_sites, answer.bound, answer.status


def _coverage_solution(
    matrix: sp.csr_matrix,
    demand: FloatArray,
    open_sites: npt.NDArray[np.int64],
    bound: float,
    kind: MilpStatus,
    settings: SolverSettings,
    started: float,
    details: dict[str, float],
) -> Solution:
    """The maximal-covering :class:`Solution` for ``open_sites`` with a proven upper ``bound``."""
    assignment, _ = evaluate.nearest_open(matrix, open_sites)
    objective = evaluate.max_coverage_objective(matrix, demand, open_sites)
    result = MilpResult(kind, np.empty(0), objective, bound, 0.0)
    return finish(
        model="max_coverage",
        sense="max",
        result=result,
        objective=objective,
        open_sites=open_sites,
        assignment=assignment,
        settings=settings,
        started=started,
        details=details,
    )
