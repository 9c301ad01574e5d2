r"""Coverage models: maximal covering (MCLP) and location set covering (LSCP).

Notation: demand rows :math:`i` with weight :math:`w_i`, sites :math:`j`,
reach set :math:`N_i` (the stored pairs of row :math:`i` of ``reach``),
:math:`y_j \in \{0, 1\}` open site, :math:`z_k \in [0, 1]` a distinct
reach set :math:`k` is covered.

Maximal covering (Church & ReVelle, 1974)::

    max  Σ_k W_k z_k
    s.t. z_k ≤ Σ_{j ∈ N_k} y_j        for every distinct reach set k   (1)
         Σ_j y_j ≤ p                                                   (2)
         y_j = 1 for fixed sites, y_j = 0 for excluded sites

Set covering (Toregas et al., 1971), full cover::

    min  Σ_j c_j y_j
    s.t. Σ_{j ∈ N_k} y_j ≥ 1          for every distinct reach set k   (1)

and partial cover (a share α of the reachable weight W)::

    min  Σ_j c_j y_j
    s.t. z_k ≤ Σ_{j ∈ N_k} y_j        for every distinct reach set k   (1)
         Σ_k W_k z_k ≥ α W - W_fixed                                   (2)

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
  left: its root LP alone outlasts the limit at this size.

A backend named in the settings (``SolverSettings.backend``) gets the whole
mid-size model directly, without the branch and bound.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError, SolverError
from planner.optimise import _checks, evaluate
from planner.optimise._aggregate import aggregate_rows
from planner.optimise._milp import Milp, MilpResult, MilpStatus, solve_milp
from planner.optimise._reach import drop_sites, rows_touching, select_rows, structure
from planner.optimise._reduce import reduce_coverage
from planner.optimise._result import finish, sites_from_values
from planner.optimise.constraints import (
    SiteRows,
    append_site_rows,
    column_classes,
    explain_infeasible,
    infeasible_with,
    milp_with_site_rows,
    no_site_rows,
)
from planner.optimise.coverage._bnb import branch_and_bound, coverage_plans
from planner.optimise.coverage._dual import CoverageDual, fold_single_rows
from planner.optimise.coverage._lagrange import coverage_value, mclp_lagrangian
from planner.optimise.coverage._lp import cover_and_limit_rows, coverage_lp, rounded_sites
from planner.optimise.coverage._regions import regional_plan
from planner.optimise.heuristics import greedy_coverage, swap_coverage
from planner.optimise.solution import Solution, SolverSettings, relative_gap

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

_DEFAULT = SolverSettings()

#: Models with more reach pairs than this (after reduction) take the
#: continental path: PDLP's bound and regional plans (a kernel MIP with side constraints). SCIP's
#: root LP on Europe's 3.9 M pairs (48k rows × 17k sites) does not finish in
#: 100 s, nor HiGHS's on the dual form in 400 s; France's 0.16 M pairs go to
#: the branch and bound.
KERNEL_FROM_PAIRS = 1_000_000
#: LP value from which a site belongs to the kernel.
KERNEL_LP_VALUE = 0.3
#: Nodes the branch and bound on the dual LP may open before SCIP takes over
#: the model with the root's fixings (see _solve_by_branch_and_bound). On
#: eleven mid-size instances (benchmarks/README.md) SCIP alone took 278 s,
#: the hand-off at 20 nodes 172 s, at 50 nodes 192 s, at 200 nodes 229 s and
#: the branch and bound alone 227 s; 30 nodes matched 20 on the instances
#: that hand over and keeps Italy p = 32 (19 nodes, 5 s against SCIP's 37 s).
BNB_NODES = 30
#: Share of the time limit a continental solve keeps back after its regional
#: sweeps (evaluating the plan, assembling the solution).
REGIONS_RESERVE = 0.02
#: Share of the time limit that must be left after the sweeps for SCIP to run.
SCIP_AFTER_REGIONS = 0.2


def _coverage_rows(
    reach: sp.csr_matrix, weights: FloatArray, fixed: BoolArray, excluded: BoolArray
) -> tuple[sp.csr_matrix, FloatArray, float, int]:
    """Distinct reach sets still open to choice, their weights, fixed-covered weight, row count."""
    usable = drop_sites(reach, excluded)
    by_fixed = rows_touching(usable, fixed)
    fixed_weight = float(weights[by_fixed].sum())
    nonempty = np.diff(usable.indptr) > 0
    keep = nonempty & ~by_fixed & (weights > 0)
    rows = select_rows(usable, keep)
    merged = aggregate_rows(rows, weights[keep], match_costs=False)
    return structure(merged.reach), merged.weights, fixed_weight, int(keep.sum())


def _side_rows(constraints: SiteRows | None, n_sites: int) -> SiteRows:
    """The side constraints, checked to be over these sites (none when absent)."""
    if constraints is None:
        return no_site_rows(n_sites)
    if constraints.n_sites != n_sites:
        raise ValueError(
            f"side constraints are over {constraints.n_sites} sites, the model has {n_sites}"
        )
    return constraints


def _site_bounds(fixed: BoolArray, excluded: BoolArray) -> tuple[FloatArray, FloatArray]:
    lower = fixed.astype(np.float64)
    upper = (~excluded).astype(np.float64)
    return lower, upper


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
    side = _side_rows(constraints, n_sites)
    explain_infeasible(side, p=p, exact_p=False, fixed=must, excluded=never)

    rows, row_weights, fixed_weight, n_kept = _coverage_rows(matrix, demand, must, never)
    n_merged = rows.shape[0]
    rows, row_weights, dominated = reduce_coverage(
        rows,
        row_weights,
        np.ones(n_sites),
        ~must & ~never,
        drop_implied_rows=False,
        classes=column_classes(side) if len(side) else None,
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
    )
    model = _Reduced(
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
    if model.folded_rows.nnz > KERNEL_FROM_PAIRS:
        open_sites, bound, kind = _solve_continental(
            model, start_sites, settings, started, details
        )
    elif settings.backend is None:
        open_sites, bound, kind = _solve_by_branch_and_bound(
            model, start_sites, settings, started, details
        )
    else:
        # A backend asked for by name gets the whole model.
        open_sites, bound, kind = _solve_whole_milp(model, start_sites, settings, started)
    return _coverage_solution(matrix, demand, open_sites, bound, kind, settings, started, details)


@dataclass(frozen=True)
class _Reduced:
    """Maximal covering after the reductions, on the model's site indices.

    ``rows``/``weights`` hold every distinct reach set left; the model folds
    those reached by one site into that site's weight (``folded_rows``,
    ``folded_weights``, ``site_weight``). Fixed-covered weight is a constant.
    """

    rows: sp.csr_matrix
    weights: FloatArray
    p: int
    fixed: BoolArray
    closed: BoolArray
    side: SiteRows
    fixed_weight: float

    @property
    def n_sites(self) -> int:
        return int(self.rows.shape[1])

    @cached_property
    def _folded(self) -> tuple[sp.csr_matrix, FloatArray, FloatArray]:
        return fold_single_rows(self.rows, self.weights)

    @property
    def folded_rows(self) -> sp.csr_matrix:
        return self._folded[0]

    @property
    def folded_weights(self) -> FloatArray:
        return self._folded[1]

    @property
    def site_weight(self) -> FloatArray:
        return self._folded[2]

    def value(self, sites: IntArray) -> float:
        """Covered weight of a plan (the fixed-covered constant excluded)."""
        return coverage_value(self.rows, self.weights, np.zeros(self.n_sites), sites)

    def feasible(self, sites: IntArray) -> bool:
        """Whether a plan meets the limit of p sites and the side constraints."""
        return len(sites) <= self.p and not self.side.satisfied(sites)

    def milp(self, *, lower: FloatArray, upper: FloatArray, hint: IntArray | None) -> Milp:
        """The MIP: y_0 .. y_{n-1}, then z_k per folded row; sites bounded by ``lower``/``upper``.

        Constraints (1) z_k - Σ_{j∈N_k} y_j ≤ 0 and (2) Σ_j y_j ≤ p, then
        the side constraints over the y columns.
        """
        rows, n_sites = self.folded_rows, self.n_sites
        n_rows = rows.shape[0]
        matrix, row_lower, row_upper = append_site_rows(
            cover_and_limit_rows(rows),
            np.full(n_rows + 1, -np.inf),
            np.concatenate([np.zeros(n_rows), [float(self.p)]]),
            self.side,
            site_columns=np.arange(n_sites, dtype=np.int64),
            n_columns=n_sites + n_rows,
        )
        return Milp(
            objective=np.concatenate([self.site_weight, self.folded_weights]),
            matrix=matrix,
            row_lower=row_lower,
            row_upper=row_upper,
            lower=np.concatenate([lower, np.zeros(n_rows)]),
            upper=np.concatenate([upper, np.ones(n_rows)]),
            integer=np.concatenate([np.ones(n_sites, bool), np.zeros(n_rows, bool)]),
            maximise=True,
            offset=self.fixed_weight,
            hint=None if hint is None else _hint(rows, n_sites, hint),
        )

    def site_bounds(self) -> tuple[FloatArray, FloatArray]:
        return _site_bounds(self.fixed, self.closed)


def _infeasible(model: _Reduced) -> InfeasibleError:
    if len(model.side):
        return infeasible_with("max_coverage", model.side, f"at most p = {model.p} sites")
    return InfeasibleError(f"max_coverage: no choice of at most p = {model.p} sites is feasible")


def _solve_by_branch_and_bound(
    model: _Reduced,
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
    try:
        result = branch_and_bound(
            dual,
            plans,
            start=position[start],
            start_value=start_value,
            relative_gap=settings.relative_gap,
            seconds=settings.time_limit_s - (time.perf_counter() - started),
            max_nodes=BNB_NODES,
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
            raise _infeasible(model)
        return lp_sites[result.sites], result.bound + model.fixed_weight, MilpStatus.OPTIMAL
    left = settings.time_limit_s - (time.perf_counter() - started)
    if result.nodes < BNB_NODES or left <= 0.5:
        # Stopped by the clock.
        if not found:
            raise _no_plan(settings)
        return lp_sites[result.sites], result.bound + model.fixed_weight, MilpStatus.FEASIBLE
    # SCIP's cuts close some trees far sooner (France p = 400: 8 s against
    # 27 s); it takes the model with the root's fixings and the incumbent.
    lower, upper = model.site_bounds()
    lower[lp_sites[result.lower == 1]] = 1.0
    upper[lp_sites[result.upper == 0]] = 0.0
    milp = model.milp(lower=lower, upper=upper, hint=lp_sites[result.sites] if found else None)
    details["scip_after_nodes"] = float(result.nodes)
    answer = solve_milp(milp, replace(settings, time_limit_s=left), backend="scip")
    # Plans the root fixings exclude are bounded by fixings_bound.
    excluded = result.fixings_bound + model.fixed_weight
    if answer.status is MilpStatus.INFEASIBLE:
        # Nothing beats the incumbent within the fixings: it is optimal up to them.
        if not found:
            raise _infeasible(model)
        bound = max(result.value + model.fixed_weight, excluded)
        return lp_sites[result.sites], bound, MilpStatus.OPTIMAL
    if answer.status is MilpStatus.NO_SOLUTION:
        if not found:
            raise _no_plan(settings)
        return lp_sites[result.sites], result.bound + model.fixed_weight, MilpStatus.FEASIBLE
    open_sites = sites_from_values(answer.values, n_sites)
    if found and model.value(open_sites) < result.value:
        open_sites = lp_sites[result.sites]
    bound = min(result.bound + model.fixed_weight, max(answer.bound, excluded))
    return open_sites, bound, answer.status


def _solve_whole_milp(
    model: _Reduced, start: IntArray, settings: SolverSettings, started: float
) -> tuple[IntArray, float, MilpStatus]:
    """The whole model by SCIP (or ``settings.backend``), from ``start`` when it is feasible."""
    feasible = model.feasible(start)
    lower, upper = model.site_bounds()
    milp = model.milp(lower=lower, upper=upper, hint=start if feasible else None)
    left = settings.time_limit_s - (time.perf_counter() - started)
    answer = solve_milp(milp, replace(settings, time_limit_s=max(left, 0.5)), backend="scip")
    if answer.status is MilpStatus.INFEASIBLE:
        raise _infeasible(model)
    if answer.status is MilpStatus.NO_SOLUTION:
        if not feasible:
            raise _no_plan(settings)
        return start, np.inf, MilpStatus.FEASIBLE
    open_sites = sites_from_values(answer.values, model.n_sites)
    if feasible and model.value(start) > model.value(open_sites):
        open_sites = start
    return open_sites, answer.bound, answer.status


def _no_plan(settings: SolverSettings) -> SolverError:
    return SolverError(
        f"max_coverage: no site choice meeting the side constraints found within "
        f"{settings.time_limit_s:g} s; raise the time limit"
    )


def _solve_continental(
    model: _Reduced,
    start_sites: IntArray,
    settings: SolverSettings,
    started: float,
    details: dict[str, float],
) -> tuple[IntArray, float, MilpStatus]:
    """PDLP's bound, a regional or kernel MIP's plan, then SCIP on the full model if time is left.

    Without side constraints the plan comes from :func:`regional_plan`; its
    sweeps stop when they stall, and SCIP gets the plan and the time left
    only when that is a real share of the limit. With side constraints
    (which span regions) a MIP over the LP's kernel sites gives the plan.
    """
    rows, row_weights, p = model.rows, model.weights, model.p
    must, never_in_model, n_sites = model.fixed, model.closed, model.n_sites
    allowed = ~never_in_model
    # The LP's duals give the bound (exactly evaluated, see _coverage_lp) and
    # its rounded sites a start; subgradient steps only when the LP does not
    # converge within its share of the time.
    lp = coverage_lp(
        rows,
        row_weights,
        p,
        fixed=must,
        allowed=allowed,
        seconds=min(0.3 * settings.time_limit_s, 60.0),
    )
    if lp is not None:
        rounded = swap_coverage(
            rows,
            row_weights,
            rounded_sites(lp.site_values, p, fixed=must, allowed=allowed),
            fixed=must,
            excluded=never_in_model,
        )
        start_value = model.value(start_sites)
        if model.value(rounded) > start_value:
            start_sites = rounded
        relaxation_bound, iterations = lp.bound, 0
    else:
        relaxation = mclp_lagrangian(
            rows,
            row_weights,
            np.zeros(n_sites),
            p,
            fixed=must,
            allowed=allowed,
            start=start_sites,
            seconds=min(0.1 * settings.time_limit_s, 10.0),
            max_iterations=300,
            target_gap=settings.relative_gap,
        )
        start_sites = relaxation.sites
        relaxation_bound, iterations = relaxation.bound, relaxation.iterations
    start_feasible = model.feasible(start_sites)
    # Dropping the side rows relaxes the model, so the bound holds with them too.
    lagrangian_bound = relaxation_bound + model.fixed_weight
    details.update(
        {
            "lp_bound": lagrangian_bound,
            "lagrangian_iterations": float(iterations),
            "lp_seconds": lp.seconds if lp is not None else 0.0,
        }
    )
    heuristic_value = model.value(start_sites) + model.fixed_weight if start_feasible else -np.inf
    if relative_gap(heuristic_value, lagrangian_bound) <= settings.relative_gap:
        # Proven by the relaxation: no branch and bound needed.
        return start_sites, lagrangian_bound, MilpStatus.OPTIMAL
    if lp is not None and not len(model.side):
        # Regions solved by their own dual LPs, then swept until the time is up
        # (with side constraints, which span regions, the kernel MIP below instead).
        deadline = started + settings.time_limit_s - REGIONS_RESERVE * settings.time_limit_s
        plan = regional_plan(
            rows,
            row_weights,
            p,
            fixed=must,
            closed=never_in_model,
            site_values=lp.site_values,
            start=start_sites,
            deadline=deadline,
        )
        value = model.value(plan) + model.fixed_weight
        details["regional_objective"] = value
        if value > heuristic_value:
            start_sites, heuristic_value = plan, value
        if relative_gap(heuristic_value, lagrangian_bound) <= settings.relative_gap:
            return start_sites, lagrangian_bound, MilpStatus.OPTIMAL
        left = settings.time_limit_s - (time.perf_counter() - started)
        if left < SCIP_AFTER_REGIONS * settings.time_limit_s:
            # The sweeps used the time, as they do on a continent: SCIP would
            # not finish its root LP, and loading the model alone takes seconds.
            return start_sites, lagrangian_bound, MilpStatus.FEASIBLE
    lower, upper = model.site_bounds()
    milp = model.milp(lower=lower, upper=upper, hint=start_sites if start_feasible else None)
    if lp is not None and len(model.side):
        left = settings.time_limit_s - (time.perf_counter() - started)
        kernel = _kernel_sites(milp, lp.site_values, start_sites if start_feasible else None)
        # The kernel's plan should come well within the gap sought: at that gap
        # the hint alone would count as the kernel's optimum.
        kernel_settings = replace(
            settings, time_limit_s=max(0.5 * left, 0.5), relative_gap=0.01 * settings.relative_gap
        )
        found = _solve_kernel(milp, kernel, kernel_settings)
        if found is not None:
            value = model.value(found) + model.fixed_weight
            details["kernel_sites"] = float(kernel.sum())
            details["kernel_objective"] = value
            if value > heuristic_value:
                start_sites, heuristic_value, start_feasible = found, value, True
                milp = replace(milp, hint=_hint(model.folded_rows, n_sites, found))
    # SCIP (without restarts) proved the France MCLP (15k places, 2k sites,
    # p = 100) in 6 s where CP-SAT took 11 s and HiGHS 28 s (benchmarks/README.md).
    left = settings.time_limit_s - (time.perf_counter() - started)
    result = solve_milp(milp, replace(settings, time_limit_s=max(left, 0.5)), backend="scip")
    if result.status is MilpStatus.INFEASIBLE:
        raise _infeasible(model)
    if result.status is MilpStatus.NO_SOLUTION and not start_feasible:
        raise _no_plan(settings)
    open_sites, kind = start_sites, MilpStatus.FEASIBLE
    bound = lagrangian_bound
    if result.status in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
        kind = result.status
        bound = min(bound, result.bound)
        found_sites = sites_from_values(result.values, n_sites)
        if model.value(found_sites) + model.fixed_weight >= heuristic_value:
            open_sites = found_sites
    return open_sites, bound, kind


def _hint(rows: sp.csr_matrix, n_sites: int, open_sites: npt.NDArray[np.int64]) -> FloatArray:
    """Values of y and z for a site choice: z_k = min(1, Σ_{j ∈ N_k} y_j)."""
    y = np.zeros(n_sites)
    y[open_sites] = 1.0
    return np.concatenate([y, np.minimum(1.0, rows @ y)])


def _kernel_sites(
    milp: Milp, site_values: FloatArray, start: npt.NDArray[np.int64] | None
) -> BoolArray:
    """Sites the LP relaxation leans on (value ≥ ``KERNEL_LP_VALUE``), fixed and start sites."""
    n_sites = site_values.size
    kernel = (site_values >= KERNEL_LP_VALUE) & (milp.upper[:n_sites] > 0)
    kernel |= milp.lower[:n_sites] > 0
    if start is not None:
        kernel[start] = True
    return kernel


def _solve_kernel(
    milp: Milp, kernel: BoolArray, settings: SolverSettings
) -> npt.NDArray[np.int64] | None:
    """Open sites of the best plan using kernel sites only; ``None`` if none was found.

    The kernel MIP's bound says nothing about the full model and is dropped.
    """
    n_sites = kernel.size
    upper = milp.upper.copy()
    upper[:n_sites] = np.where(kernel, upper[:n_sites], 0.0)
    result = solve_milp(replace(milp, upper=upper), settings, backend="scip")
    logger.debug("kernel of %d sites: %s after %.1f s", kernel.sum(), result.status, result.seconds)
    if result.status not in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
        return None
    return sites_from_values(result.values, n_sites)


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
    side = _side_rows(constraints, n_sites)
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
    target = coverage * reachable_weight
    coverable = float(demand[reachable & ~blocked].sum())
    if partial and coverable < target * (1 - 1e-12):
        raise InfeasibleError(
            f"set_cover: coverage target {coverage:.6g} × {reachable_weight:.6g} = "
            f"{target:.6g} exceeds the {coverable:.6g} weight the non-excluded sites can reach"
        )

    # Full cover must cover zero-weight rows too; partial cover ignores them.
    row_weights_in = demand if partial else np.ones(n_demand)
    rows, row_weights, fixed_weight, n_kept = _coverage_rows(matrix, row_weights_in, must, never)
    n_merged = rows.shape[0]
    rows, row_weights, dominated = reduce_coverage(
        rows,
        row_weights,
        prices,
        ~must & ~never,
        drop_implied_rows=not partial,
        classes=column_classes(side) if len(side) else None,
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
    y_lower, y_upper = _site_bounds(must, never | dominated)
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
        # Constraint (2): Σ_k W_k z_k ≥ α W - W_fixed.
        share = sp.csr_matrix(np.concatenate([np.zeros(n_sites), row_weights])[np.newaxis, :])
        milp = Milp(
            objective=np.concatenate([prices, np.zeros(n_rows)]),
            matrix=sp.vstack([cover, share], format="csr"),
            row_lower=np.concatenate([np.full(n_rows, -np.inf), [target - fixed_weight]]),
            row_upper=np.concatenate([np.zeros(n_rows), [np.inf]]),
            lower=np.concatenate([y_lower, np.zeros(n_rows)]),
            upper=np.concatenate([y_upper, np.ones(n_rows)]),
            integer=np.concatenate([np.ones(n_sites, bool), np.zeros(n_rows, bool)]),
        )
    milp = milp_with_site_rows(milp, side)
    result = solve_milp(milp, settings)
    if result.status is MilpStatus.INFEASIBLE:
        if len(side):
            target_text = "full coverage" if not partial else f"coverage of {coverage:.6g}"
            raise infeasible_with("set_cover", side, target_text)
        raise InfeasibleError("set_cover: the coverage target cannot be met")
    if result.status is MilpStatus.NO_SOLUTION:
        # Opening every allowed site is always a cover; report it with the bound.
        open_sites = np.flatnonzero(~never).astype(np.int64)
        if side.satisfied(open_sites):
            raise SolverError(
                f"set_cover: no cover meeting the side constraints found within "
                f"{settings.time_limit_s:g} s; raise the time limit"
            )
    else:
        open_sites = sites_from_values(result.values, n_sites)
    assignment, _ = evaluate.nearest_open(matrix, open_sites)
    details["covered_weight"] = evaluate.covered_weight(matrix, demand, open_sites)
    if partial and details["covered_weight"] < target * (1 - 1e-9):
        raise SolverError(
            "set_cover: the solver's cover misses the coverage target by more than "
            "its feasibility tolerance"
        )
    objective = evaluate.set_cover_objective(None if costs is None else prices, open_sites)
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
