r"""Phased roll-out: one nested maximal-covering plan over several years.

Years :math:`t = 1..T`, each with a demand level :math:`d_t` (BEV growth)
and either a cumulative number of sites :math:`p_t` or a spending budget
:math:`B_t` for the sites newly opened in that year. Distinct reach sets
:math:`k` with weight :math:`W_k`, :math:`y_{jt} \in \{0,1\}` site j open
by the end of year t, :math:`z_{kt} \in [0, 1]` reach set k covered in year t::

    max  Σ_t d_t Σ_k W_k z_kt
    s.t. z_kt ≤ Σ_{j ∈ N_k} y_jt                  every k, t        (1)
         y_jt ≤ y_j,t+1                           every j, t < T    (2)
         Σ_j y_jt ≤ p_t                           years with a p    (3)
         Σ_j c_j (y_jt − y_j,t−1) ≤ B_t           years with a budget (y_j0 = 0)  (4)
         side rows  lo ≤ A y_t ≤ hi               every t           (5)
         y_j1 = 1 for fixed sites; y_jT = 0 for excluded sites

Constraint (2) makes the plan nested — a site opened stays open — which is
the point of solving the years together: independent yearly runs can close
in year 2 what they opened in year 1.

How it is solved (:mod:`._nested`): the nested model is a maximal covering
over (site, year) pairs with (2)–(5) as side rows, so the single-year
model's dual-form LP and branch and bound prove it — reduced-cost fixing,
strong branching, diving, bounds valid wherever the search stops — with
nested plans for rounding and polishing. Before, the reductions: rows with
identical reach sets merge, rows a fixed site covers leave, sites dominated
by one of equal cost and side-row columns stay closed; each year's count
row is the smallest later p (nesting), and a budget year counts the sites
its budget can pay for at most (:attr:`._nested.NestedModel.new_caps`).

Start: a greedy that repairs the side rows, then opens the sites of largest
marginal coverage (per euro in budget years), improved by exchanges of
opening years (:mod:`._nested_search`); then the best plan over the sites
the root LP leans on, the kernel (:mod:`._nested_solve`). A backend named
in the settings (``SolverSettings.backend``) gets the nested MILP above
instead, on the reduced model, with the greedy start as its hint.

Measured (the sample network, 1.4k sites, 13.5k places; 60 s on two cores
shared with other solves, load about 3): ``scenarios/rollout.toml`` (p =
20/40/60) proven at 13 045.4 in 53 s, where SCIP on the nested MILP stood
at 12 986.4 ≤ … ≤ 13 121.0 (gap 1.0 %) after 60 s and at 13 034.6 ≤ … ≤
13 056.8 after 600 s; ``scenarios/rollout_budget.toml`` proven at 11 797.2
in 40 s, where it stood at 11 531.8 ≤ … ≤ 16 649.7 (44 %). At load 4–5
both ended at 60 s with gaps of about 0.02 %. The LP over
pairs bounds tighter than Σ_t d_t × the single-year optima (13 057.7
against 13 121.0; 11 813.9 against 11 877.8) and solves in 1–4 s. The
nested MILP's own gap came from both sides: its plan was 0.45 % below the
optimum (13 045.4, proven), its bound 0.58 % above.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError, SolverError
from planner.optimise import evaluate, progress
from planner.optimise._milp import Milp, MilpStatus, solve_milp
from planner.optimise._reduce import DOMINANCE_SHARE
from planner.optimise.constraints import (
    SiteRows,
    budget_rows,
    combine,
    describe_rows,
    explain_infeasible,
    no_site_rows,
)
from planner.optimise.coverage._nested import NestedModel, reduce_nested
from planner.optimise.coverage._nested_search import improve, nested_greedy
from planner.optimise.coverage._nested_solve import NestedResult, solve_pairs
from planner.optimise.solution import Solution, SolverSettings, Status, relative_gap

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_DEFAULT = SolverSettings()


@dataclass(frozen=True)
class YearLimit:
    """What one year allows: a cumulative ``p`` or a spending ``budget`` (exactly one)."""

    p: int | None = None
    budget: float | None = None
    demand_factor: float = 1.0


@dataclass(frozen=True)
class PhasedSolution:
    """A nested plan.

    Attributes
    ----------
    solution
        The whole plan as one :class:`Solution`: objective Σ_t d_t covered_t,
        proven bound, the sites open in the last year and their assignment.
    opened
        For each site the index of the year it opens, -1 if never.
    covered
        Covered weight per year (before the demand factor).
    """

    solution: Solution
    opened: IntArray
    covered: FloatArray

    def open_in_year(self, year: int) -> IntArray:
        """Sites open by the end of year index ``year``."""
        return np.flatnonzero((self.opened >= 0) & (self.opened <= year)).astype(np.int64)


def evaluate_phased(
    reach: sp.csr_matrix, weights: FloatArray, opened: IntArray, years: Sequence[YearLimit]
) -> tuple[float, FloatArray]:
    """Independent check: Σ_t d_t × (weight covered by the sites open in year t)."""
    covered = np.array(
        [
            evaluate.max_coverage_objective(
                reach, weights, np.flatnonzero((opened >= 0) & (opened <= t)).astype(np.int64)
            )
            for t in range(len(years))
        ]
    )
    factors = np.array([y.demand_factor for y in years])
    return float(factors @ covered), covered


def phased_coverage(
    reach: sp.csr_matrix,
    weights: npt.NDArray[np.float64],
    years: Sequence[YearLimit],
    *,
    site_costs: npt.NDArray[np.float64] | None = None,
    fixed: npt.NDArray[np.bool_] | None = None,
    excluded: npt.NDArray[np.bool_] | None = None,
    constraints: SiteRows | None = None,
    settings: SolverSettings = _DEFAULT,
    year_names: Sequence[str] | None = None,
) -> PhasedSolution:
    """Choose when each site opens so that coverage summed over the years is largest.

    ``year_names`` name the years in messages (``"2026"``); default
    ``"1"``, ``"2"``, ….

    Raises
    ------
    InfeasibleError
        A year's ``p`` is below the fixed sites, the budgets cannot pay for the
        fixed sites, or the side constraints cannot hold together; the
        message names the year, the constraint and the numbers.
    """
    started = time.perf_counter()
    n_sites = reach.shape[1]
    n_years = len(years)
    if n_years == 0:
        raise ValueError("phased_coverage needs at least one year")
    for t, limit in enumerate(years):
        if (limit.p is None) == (limit.budget is None):
            raise ValueError(f"year {t}: give exactly one of p or budget")
    weights = np.asarray(weights, dtype=np.float64)
    must = np.zeros(n_sites, bool) if fixed is None else np.asarray(fixed, bool)
    never = np.zeros(n_sites, bool) if excluded is None else np.asarray(excluded, bool)
    costs = np.ones(n_sites) if site_costs is None else np.asarray(site_costs, np.float64)
    side = constraints if constraints is not None else no_site_rows(n_sites)
    names = list(year_names) if year_names is not None else [str(t + 1) for t in range(n_years)]
    for t, limit in enumerate(years):
        if limit.p is not None and limit.p < int(must.sum()):
            raise InfeasibleError(
                f"phased roll-out, year {names[t]}: p = {limit.p} is below the "
                f"{int(must.sum())} fixed sites"
            )
    if years[0].budget is not None and float(costs[must].sum()) > years[0].budget:
        raise InfeasibleError(
            f"phased roll-out, year {names[0]}: the {int(must.sum())} fixed sites cost "
            f"{float(costs[must].sum()):,.0f} EUR, above that year's budget of "
            f"{years[0].budget:,.0f} EUR"
        )
    year_rows = [_year_rows(years, t, side, costs) for t in range(n_years)]
    for t in range(n_years):
        try:
            explain_infeasible(
                year_rows[t], p=_year_cap(years, t), exact_p=False, fixed=must, excluded=never
            )
        except InfeasibleError as exc:
            raise InfeasibleError(f"phased roll-out, year {names[t]}: {exc}") from None

    model, dominated = reduce_nested(
        sp.csr_matrix(reach),
        weights,
        factors=np.array([y.demand_factor for y in years], dtype=np.float64),
        caps=tuple(_year_cap(years, t) for t in range(n_years)),
        budgets=tuple(y.budget for y in years),
        costs=costs,
        fixed=must,
        excluded=never,
        side=side,
        dominance_deadline=started + DOMINANCE_SHARE * settings.time_limit_s,
    )
    details: dict[str, float] = {
        "rows_in_model": float(model.rows.shape[0]),
        "sites_dominated": float(dominated.sum()),
        "years": float(n_years),
    }
    start: IntArray | None = improve(model, nested_greedy(model))
    if start is not None and not model.feasible(start):
        start = None
    if start is not None:
        progress.note(best=model.value(start) + model.constant, maximise=True)
    left = settings.time_limit_s - (time.perf_counter() - started)
    found: NestedResult | None = None
    if settings.backend is None:
        try:
            found = solve_pairs(
                model,
                start,
                relative_gap=settings.relative_gap,
                seconds=max(left, 0.5),
                on_bounds=lambda best, bound: progress.note(
                    best=best + model.constant, bound=bound + model.constant, maximise=True
                ),
            )
        except SolverError as error:
            # HiGHS failing on an LP is no reason to give up: SCIP takes the model.
            logger.warning("phased roll-out: %s; solving with SCIP instead", error)
    if found is None:
        left = settings.time_limit_s - (time.perf_counter() - started)
        found = _solve_milp(model, start, replace(settings, time_limit_s=max(left, 0.5)))
    if found.opened is None:
        if found.proven:
            _name_infeasible_year(reach, weights, years, must, never, year_rows, names)
            limits = "; ".join(
                f"{names[t]}: " + (f"p ≤ {y.p}" if y.p is not None else f"{y.budget:,.0f} EUR")
                for t, y in enumerate(years)
            )
            rows_text = describe_rows(side, excluded=never) if len(side) else "none"
            raise InfeasibleError(
                f"phased roll-out: the yearly limits ({limits}), the nesting (a site opened "
                f"stays open) and the side constraints ({rows_text}) cannot all hold"
            )
        raise InfeasibleError(
            "phased roll-out: no plan found within the time limit; raise solver.time_limit_s"
        )
    details.update(found.details)
    opened = found.opened
    objective_value, covered = evaluate_phased(sp.csr_matrix(reach), weights, opened, years)
    bound = max(found.bound + model.constant, objective_value)
    status = (
        Status.OPTIMAL
        if relative_gap(objective_value, bound) <= settings.relative_gap * (1 + 1e-6)
        else Status.TIME_LIMIT
    )
    final_sites = np.flatnonzero(opened >= 0).astype(np.int64)
    assignment, _ = evaluate.nearest_open(sp.csr_matrix(reach), final_sites)
    solution = Solution(
        model="phased_coverage",
        sense="max",
        status=status,
        objective=objective_value,
        bound=bound,
        seconds=time.perf_counter() - started,
        open_sites=final_sites,
        assignment=assignment,
        details=details,
    )
    logger.info("phased roll-out: %d years, %s, %.2f s", n_years, status, solution.seconds)
    return PhasedSolution(solution=solution, opened=opened, covered=covered)


def _name_infeasible_year(
    reach: sp.csr_matrix,
    weights: FloatArray,
    years: Sequence[YearLimit],
    fixed: npt.NDArray[np.bool_],
    excluded: npt.NDArray[np.bool_],
    year_rows: Sequence[SiteRows],
    names: Sequence[str],
) -> None:
    """Raise the single-year model's message for the first year infeasible on its own.

    Called once the nested model is proven infeasible: a year that cannot
    hold alone is the clearest thing to tell; when every year can, the
    nesting is to blame and the caller says so.
    """
    from planner.optimise.coverage.model import max_coverage

    n_sites = reach.shape[1]
    for t in range(len(years)):
        cap = _year_cap(years, t)
        try:
            max_coverage(
                reach,
                weights,
                n_sites if cap is None else cap,
                fixed=fixed,
                excluded=excluded,
                constraints=year_rows[t],
                settings=SolverSettings(time_limit_s=10.0),
            )
        except InfeasibleError as exc:
            raise InfeasibleError(f"phased roll-out, year {names[t]}: {exc}") from None
        except SolverError:
            continue


def _year_cap(years: Sequence[YearLimit], t: int) -> int | None:
    """Most sites open in year t: the smallest p of year t or any later year (nesting)."""
    caps = [int(y.p) for y in years[t:] if y.p is not None]
    return min(caps) if caps else None


def _year_rows(years: Sequence[YearLimit], t: int, side: SiteRows, costs: FloatArray) -> SiteRows:
    """Side rows of year t, with the budgets so far when every year up to t has one."""
    if all(y.budget is not None for y in years[: t + 1]):
        spent = float(sum(float(y.budget or 0.0) for y in years[: t + 1]))
        return combine([side, budget_rows(costs, spent)], side.n_sites)
    return side


def _solve_milp(
    model: NestedModel, start: IntArray | None, settings: SolverSettings
) -> NestedResult:
    """The nested MILP of the module docstring by SCIP, on the reduced model, from ``start``."""
    rows = model.rows
    n_rows, n_sites = rows.shape
    n_years = model.n_years
    # Variables, year by year: y_0t .. y_{n-1}t, then z_0t .. z_{K-1}t.
    block = n_sites + n_rows
    n_vars = n_years * block

    def y_col(t: int) -> IntArray:
        return np.arange(n_sites, dtype=np.int64) + t * block

    blocks: list[sp.csr_matrix] = []
    lower: list[FloatArray] = []
    upper: list[FloatArray] = []

    def add(matrix: sp.spmatrix, low: FloatArray, high: FloatArray) -> None:
        blocks.append(sp.csr_matrix(matrix))
        lower.append(low)
        upper.append(high)

    ones = sp.csr_matrix(np.ones((1, n_sites)))
    cost_row = sp.csr_matrix(model.costs[None, :])
    for t in range(n_years):
        # Constraint (1): z_kt − Σ_{j∈N_k} y_jt ≤ 0.
        cover = sp.hstack([-rows, sp.identity(n_rows, format="csr")], format="csr")
        add(_place(cover, t * block, n_vars), np.full(n_rows, -np.inf), np.zeros(n_rows))
        cap, budget = model.caps[t], model.budgets[t]
        if cap is not None:
            # Constraint (3): Σ_j y_jt ≤ p_t.
            add(_place(ones, t * block, n_vars), np.array([-np.inf]), np.array([float(cap)]))
        if budget is not None:
            # Constraint (4): Σ_j c_j (y_jt − y_j,t−1) ≤ B_t.
            spend = _place(cost_row, t * block, n_vars)
            if t > 0:
                spend = spend - _place(cost_row, (t - 1) * block, n_vars)
            add(spend, np.array([-np.inf]), np.array([float(budget)]))
        if len(model.side):
            # Constraint (5): the side rows on this year's sites.
            add(_place(model.side.matrix, t * block, n_vars), model.side.lower, model.side.upper)
        if t + 1 < n_years:
            # Constraint (2): y_jt − y_j,t+1 ≤ 0.
            nest = sp.hstack(
                [sp.identity(n_sites, format="csr"), sp.csr_matrix((n_sites, n_rows))], format="csr"
            )
            add(
                _place(nest, t * block, n_vars) - _place(nest, (t + 1) * block, n_vars),
                np.full(n_sites, -np.inf),
                np.zeros(n_sites),
            )
    var_lower = np.zeros(n_vars)
    var_upper = np.ones(n_vars)
    var_lower[y_col(0)[model.fixed]] = 1.0  # fixed sites open from year 1 (so in every year)
    integer = np.zeros(n_vars, dtype=bool)
    objective = np.zeros(n_vars)
    for t in range(n_years):
        var_upper[y_col(t)[model.closed]] = 0.0
        integer[y_col(t)] = True
        objective[t * block + n_sites : (t + 1) * block] = model.factors[t] * model.weights
    hint = None
    if start is not None:
        hint = np.zeros(n_vars)
        for t in range(n_years):
            y_t = ((start >= 0) & (start <= t)).astype(np.float64)
            hint[y_col(t)] = y_t
            hint[t * block + n_sites : (t + 1) * block] = np.minimum(1.0, rows @ y_t)
    milp = Milp(
        objective=objective,
        matrix=sp.csr_matrix(sp.vstack(blocks, format="csr")),
        row_lower=np.concatenate(lower),
        row_upper=np.concatenate(upper),
        lower=var_lower,
        upper=var_upper,
        integer=integer,
        maximise=True,
        hint=hint,
    )
    constant = model.constant

    def report(best: float | None, bound: float | None) -> None:
        progress.note(
            best=None if best is None else best + constant,
            bound=None if bound is None else bound + constant,
            maximise=True,
        )

    result = solve_milp(milp, settings, backend="scip", report=report)
    start_value = model.value(start) if start is not None else -math.inf
    if result.status is MilpStatus.INFEASIBLE:
        return NestedResult(None, -math.inf, -math.inf, True, {})
    opened = start
    if result.status is not MilpStatus.NO_SOLUTION:
        found = np.full(n_sites, -1, dtype=np.int64)
        for t in reversed(range(n_years)):
            found[result.values[y_col(t)] > 0.5] = t
        # The solver's incumbent can lose to the start it was given when it
        # stops early; keep the better of the two (both feasible).
        if model.value(found) > start_value:
            opened = found
    value = -math.inf if opened is None else model.value(opened)
    # Without a bound from the solver, all demand covered every year bounds the plan.
    everything = float(model.factors.sum() * model.weights.sum())
    bound = result.bound if math.isfinite(result.bound) else everything
    return NestedResult(opened, value, max(bound, value), False, {})


def _place(matrix: sp.spmatrix, column_offset: int, n_columns: int) -> sp.csr_matrix:
    """``matrix`` shifted right by ``column_offset`` inside ``n_columns`` columns."""
    coo = sp.coo_matrix(matrix)
    return sp.csr_matrix(
        (coo.data, (coo.row, coo.col + column_offset)), shape=(coo.shape[0], n_columns)
    )
