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
in year 2 what they opened in year 1. Rows with identical reach sets merge
first, as in the single-year model.

Bound: year t of a nested plan opens at most min_{s ≥ t} p_s sites, spends
at most Σ_{s ≤ t} B_s when every year up to t has a budget, and meets the
side rows, so Σ_t d_t × (the bound of that single-year maximal covering
model) bounds the whole plan; a year whose single-year model is infeasible
makes the plan infeasible, and the single-year model names the constraint.

Start: year by year, a greedy first repairs the side rows (opens the sites
that reduce their violation most: country minimums, brand shares), then adds
the site of largest marginal coverage (per euro in budget years) among those
that keep every side row satisfied. With a p every year, the single-year
answers nested backwards give a second start. The better feasible start is
the solver's hint and the fallback at the time limit.
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
from planner.optimise._aggregate import aggregate_rows
from planner.optimise._milp import Milp, MilpStatus, solve_milp
from planner.optimise._reach import drop_sites, select_rows, structure
from planner.optimise.constraints import (
    SiteRows,
    budget_rows,
    combine,
    describe_rows,
    explain_infeasible,
    no_site_rows,
)
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

    usable = drop_sites(sp.csr_matrix(reach), never)
    keep = (np.diff(usable.indptr) > 0) & (weights > 0)
    merged = aggregate_rows(select_rows(usable, keep), weights[keep], match_costs=False)
    rows = structure(merged.reach)
    n_rows = rows.shape[0]
    factors = np.array([y.demand_factor for y in years], dtype=np.float64)

    # Variables, year by year: y_0t .. y_{n-1}t, then z_0t .. z_{K-1}t.
    block = n_sites + n_rows
    n_vars = n_years * block

    def y_col(t: int) -> IntArray:
        return np.arange(n_sites, dtype=np.int64) + t * block

    blocks: list[sp.csr_matrix] = []
    lower: list[FloatArray] = []
    upper: list[FloatArray] = []
    for t, limit in enumerate(years):
        # Constraint (1): z_kt − Σ_{j∈N_k} y_jt ≤ 0.
        cover = sp.hstack([-rows, sp.identity(n_rows, format="csr")], format="csr")
        blocks.append(_place(cover, t * block, n_vars))
        lower.append(np.full(n_rows, -np.inf))
        upper.append(np.zeros(n_rows))
        if limit.p is not None:
            # Constraint (3): Σ_j y_jt ≤ p_t.
            blocks.append(_place(sp.csr_matrix(np.ones((1, n_sites))), t * block, n_vars))
            lower.append(np.array([-np.inf]))
            upper.append(np.array([float(limit.p)]))
        else:
            # Constraint (4): Σ_j c_j (y_jt − y_j,t−1) ≤ B_t.
            row = sp.csr_matrix(costs[None, :])
            spend = _place(row, t * block, n_vars)
            if t > 0:
                spend = spend - _place(row, (t - 1) * block, n_vars)
            blocks.append(sp.csr_matrix(spend))
            lower.append(np.array([-np.inf]))
            upper.append(np.array([float(limit.budget or 0.0)]))
        if len(side):
            # Constraint (5): the side rows on this year's sites.
            blocks.append(_place(side.matrix, t * block, n_vars))
            lower.append(side.lower)
            upper.append(side.upper)
        if t + 1 < n_years:
            # Constraint (2): y_jt − y_j,t+1 ≤ 0.
            nest = sp.hstack(
                [sp.identity(n_sites, format="csr"), sp.csr_matrix((n_sites, n_rows))], format="csr"
            )
            blocks.append(
                sp.csr_matrix(
                    _place(nest, t * block, n_vars) - _place(nest, (t + 1) * block, n_vars)
                )
            )
            lower.append(np.full(n_sites, -np.inf))
            upper.append(np.zeros(n_sites))

    var_lower = np.zeros(n_vars)
    var_upper = np.ones(n_vars)
    var_lower[y_col(0)[must]] = 1.0  # fixed sites open from year 1 (so in every year)
    for t in range(n_years):
        var_upper[y_col(t)[never]] = 0.0
    integer = np.zeros(n_vars, dtype=bool)
    objective = np.zeros(n_vars)
    for t in range(n_years):
        integer[y_col(t)] = True
        objective[t * block + n_sites : (t + 1) * block] = factors[t] * merged.weights

    full = sp.csr_matrix(reach)
    starts = [_nested_greedy(rows, merged.weights, years, costs, must, never, side)]
    share = replace(settings, time_limit_s=settings.time_limit_s / (2 * n_years))
    with progress.muted():  # each year's own model is not the roll-out's objective
        year_bound, backward = _single_year_bounds(
            full, weights, years, must, never, year_rows, share, names
        )
    progress.note(bound=year_bound, maximise=True)
    if backward is not None:
        starts.append(backward)
    best: IntArray | None = None
    best_value = -math.inf
    for start in starts:
        if _feasible(start, years, costs, side):
            value, _ = evaluate_phased(full, weights, start, years)
            if value > best_value:
                best, best_value = start, value
    if best is not None:
        progress.note(best=best_value, maximise=True)
    result = None
    if best is None or relative_gap(best_value, year_bound) > settings.relative_gap:
        opened_hint = best if best is not None else starts[0]
        hint = np.zeros(n_vars)
        for t in range(n_years):
            y_t = ((opened_hint >= 0) & (opened_hint <= t)).astype(np.float64)
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
        left = settings.time_limit_s - (time.perf_counter() - started)
        result = solve_milp(
            milp,
            replace(settings, time_limit_s=max(left, 0.5)),
            backend="scip",
            report=progress.whole_model(maximise=True),
        )
        if result.status is MilpStatus.INFEASIBLE:
            limits = "; ".join(
                f"{names[t]}: " + (f"p ≤ {y.p}" if y.p is not None else f"{y.budget:,.0f} EUR")
                for t, y in enumerate(years)
            )
            rows_text = describe_rows(side, excluded=never) if len(side) else "none"
            raise InfeasibleError(
                f"phased roll-out: the yearly limits ({limits}), the nesting (a site opened "
                f"stays open) and the side constraints ({rows_text}) cannot all hold"
            )
        if result.status is not MilpStatus.NO_SOLUTION:
            found = np.full(n_sites, -1, dtype=np.int64)
            for t in reversed(range(n_years)):
                found[result.values[y_col(t)] > 0.5] = t
            value, _ = evaluate_phased(full, weights, found, years)
            # The solver's incumbent can lose to the start it was given when it
            # stops early; keep the better of the two (both feasible).
            if value > best_value:
                best, best_value = found, value
    if best is None:
        raise InfeasibleError(
            "phased roll-out: no plan found within the time limit; raise solver.time_limit_s"
        )
    opened = best
    objective_value, covered = evaluate_phased(full, weights, opened, years)
    bound = year_bound if result is None else min(year_bound, max(result.bound, objective_value))
    bound = max(bound, objective_value)
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
        details={"rows_in_model": float(n_rows), "years": float(n_years)},
    )
    logger.info("phased roll-out: %d years, %s, %.2f s", n_years, status, solution.seconds)
    return PhasedSolution(solution=solution, opened=opened, covered=covered)


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


def _single_year_bounds(
    reach: sp.csr_matrix,
    weights: FloatArray,
    years: Sequence[YearLimit],
    fixed: npt.NDArray[np.bool_],
    excluded: npt.NDArray[np.bool_],
    year_rows: Sequence[SiteRows],
    settings: SolverSettings,
    names: Sequence[str],
) -> tuple[float, IntArray | None]:
    """Σ_t d_t × single-year bound, and (with a p every year) a start nested backwards.

    Each year's single-year model relaxes the nested plan's year (module
    docstring); an infeasible one makes the plan infeasible.
    """
    from planner.optimise.coverage.model import max_coverage

    n_sites = reach.shape[1]
    bound = 0.0
    all_p = all(limit.p is not None for limit in years)
    opened: IntArray | None = np.full(n_sites, -1, dtype=np.int64) if all_p else None
    allowed = ~excluded
    for t in reversed(range(len(years))):
        cap = _year_cap(years, t)
        p = n_sites if cap is None else cap
        try:
            alone = max_coverage(
                reach,
                weights,
                p,
                fixed=fixed,
                excluded=excluded,
                constraints=year_rows[t],
                settings=settings,
            )
        except InfeasibleError as exc:
            raise InfeasibleError(f"phased roll-out, year {names[t]}: {exc}") from None
        except SolverError:
            # No single-year answer in its share of the time: all reachable demand
            # still bounds the year, and there is no backward start.
            logger.info("phased roll-out, year %s: single-year model unsolved in time", names[t])
            bound += years[t].demand_factor * float(weights[np.diff(reach.indptr) > 0].sum())
            opened = None
            continue
        bound += years[t].demand_factor * alone.bound
        if opened is None:
            continue
        chosen = alone.open_sites
        if t < len(years) - 1:
            try:
                chosen = max_coverage(
                    reach,
                    weights,
                    p,
                    fixed=fixed,
                    excluded=~allowed,
                    constraints=year_rows[t],
                    settings=settings,
                ).open_sites
            except (InfeasibleError, SolverError):
                # The later year's sites cannot meet this year's rows: no backward start.
                opened = None
                continue
        opened[chosen] = t
        allowed = np.zeros(n_sites, dtype=bool)
        allowed[chosen] = True
    return bound, opened


def _nested_greedy(
    rows: sp.csr_matrix,
    weights: FloatArray,
    years: Sequence[YearLimit],
    costs: FloatArray,
    fixed: npt.NDArray[np.bool_],
    excluded: npt.NDArray[np.bool_],
    side: SiteRows,
) -> IntArray:
    """The nested greedy start of the module docstring: repair the side rows, then fill."""
    by_site = sp.csc_matrix(rows)
    n_rows, n_sites = rows.shape
    opened = np.where(fixed, 0, -1).astype(np.int64)
    uncovered = np.ones(n_rows, dtype=bool)
    if fixed.any():
        uncovered &= np.asarray(rows[:, np.flatnonzero(fixed)].sum(axis=1)).ravel() == 0
    coefficients = side.matrix.toarray() if len(side) else np.zeros((0, n_sites))

    def violation(values: FloatArray) -> FloatArray:
        """Summed violation of the side rows for each column of row values."""
        low = np.maximum(side.lower[:, None] - values, 0.0)
        high = np.maximum(values - side.upper[:, None], 0.0)
        return np.asarray(low.sum(axis=0) + high.sum(axis=0), dtype=np.float64)

    for t, limit in enumerate(years):
        spent = float(costs[fixed].sum()) if t == 0 else 0.0
        while True:
            is_open = opened >= 0
            if limit.p is not None and int(is_open.sum()) >= limit.p:
                break
            values = coefficients @ is_open.astype(np.float64)
            now = float(violation(values[:, None])[0]) if len(side) else 0.0
            after = violation(values[:, None] + coefficients) if len(side) else np.zeros(n_sites)
            gains = np.asarray(by_site.T @ (weights * uncovered)).ravel()
            allowed = ~is_open & ~excluded
            if limit.budget is not None:
                allowed &= spent + costs <= limit.budget + 1e-9
            score = gains / np.maximum(costs, 1e-12) if limit.budget is not None else gains
            if now > 1e-9:
                # Repair first: among the sites reducing the violation most, the best cover.
                candidates = allowed & (after < now - 1e-9)
                if not candidates.any():
                    break
                candidates &= after <= after[candidates].min() + 1e-9
            else:
                candidates = allowed & (after <= 1e-9) & (gains > 0)
                if not candidates.any():
                    break
            best = int(np.argmax(np.where(candidates, score, -np.inf)))
            opened[best] = t
            spent += float(costs[best])
            uncovered[by_site[:, best].indices] = False
    return opened


def _feasible(
    opened: IntArray, years: Sequence[YearLimit], costs: FloatArray, side: SiteRows
) -> bool:
    """Whether a nested plan meets every yearly limit and side row."""
    for t, limit in enumerate(years):
        open_now = np.flatnonzero((opened >= 0) & (opened <= t))
        if limit.p is not None and len(open_now) > limit.p:
            return False
        if limit.budget is not None and costs[opened == t].sum() > limit.budget + 1e-9:
            return False
        if side.satisfied(open_now):  # names of violated rows: none when feasible
            return False
    return True


def _place(matrix: sp.spmatrix, column_offset: int, n_columns: int) -> sp.csr_matrix:
    """``matrix`` shifted right by ``column_offset`` inside ``n_columns`` columns."""
    coo = sp.coo_matrix(matrix)
    return sp.csr_matrix(
        (coo.data, (coo.row, coo.col + column_offset)), shape=(coo.shape[0], n_columns)
    )
