"""Branch and bound on the dual-form LP of maximal covering: bounds, plans and hand-off."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from planner.optimise import SolverSettings, Status, evaluate
from planner.optimise.constraints import (
    SiteRows,
    budget_rows,
    combine,
    group_rows,
    no_site_rows,
)
from planner.optimise.coverage import _bnb as bnb
from planner.optimise.coverage import model as coverage
from planner.optimise.coverage._dual import CoverageDual, LpOutcome

SMALL = settings(max_examples=40, deadline=None, derandomize=True)
EXACT = SolverSettings(relative_gap=1e-9)
#: Side rows ``lower ≤ matrix @ y ≤ upper`` as the dual LP takes them.
Side = tuple[sp.csr_matrix, np.ndarray, np.ndarray]


def random_instance(
    seed: int, max_rows: int = 10, max_sites: int = 7
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Up to 10 rows × 7 sites (every row reached), weights, and site weights a_j."""
    rng = np.random.default_rng(seed)
    n_rows, n_sites = int(rng.integers(1, max_rows + 1)), int(rng.integers(1, max_sites + 1))
    present = rng.random((n_rows, n_sites)) < 0.4
    present[np.arange(n_rows), rng.integers(0, n_sites, size=n_rows)] = True
    weights = rng.integers(1, 20, size=n_rows).astype(float)
    site_weight = np.where(rng.random(n_sites) < 0.3, rng.integers(0, 10, size=n_sites), 0)
    return sp.csr_matrix(present.astype(float)), weights, site_weight.astype(float)


def random_side(seed: int, n_sites: int, p: int) -> Side:
    """The cardinality row and, for odd seeds, a group minimum and a budget."""
    rng = np.random.default_rng(seed + 7)
    matrix = [np.ones(n_sites)]
    lower, upper = [-np.inf], [float(p)]
    if seed % 2:
        group = rng.random(n_sites) < 0.5
        matrix.append(group.astype(float))
        lower.append(1.0)
        upper.append(np.inf)
        costs = rng.integers(1, 5, size=n_sites).astype(float)
        matrix.append(costs)
        lower.append(-np.inf)
        upper.append(float(rng.integers(2, 9)))
    return sp.csr_matrix(np.vstack(matrix)), np.array(lower), np.array(upper)


def value(rows: sp.csr_matrix, weights: np.ndarray, site_weight: np.ndarray, plan: tuple) -> float:
    chosen = np.zeros(rows.shape[1])
    chosen[list(plan)] = 1.0
    return float(weights[(rows @ chosen) > 0].sum() + site_weight[list(plan)].sum())


def brute_force(
    rows: sp.csr_matrix,
    weights: np.ndarray,
    site_weight: np.ndarray,
    side: Side,
    lower: np.ndarray,
    upper: np.ndarray,
) -> float:
    """Best plan with ``lower ≤ y ≤ upper`` meeting the side rows (-inf if none)."""
    matrix, row_lower, row_upper = side
    best = -np.inf
    n_sites = rows.shape[1]
    for size in range(n_sites + 1):
        for plan in itertools.combinations(range(n_sites), size):
            y = np.zeros(n_sites)
            y[list(plan)] = 1.0
            if np.any(y < lower) or np.any(y > upper):
                continue
            activity = matrix @ y
            if np.any(activity < row_lower - 1e-9) or np.any(activity > row_upper + 1e-9):
                continue
            best = max(best, value(rows, weights, site_weight, plan))
    return best


def dual_of(
    rows: sp.csr_matrix, weights: np.ndarray, site_weight: np.ndarray, side: Side
) -> CoverageDual:
    """The dual LP with every site a candidate and none fixed."""
    n_sites = rows.shape[1]
    matrix, lower, upper = side
    return CoverageDual(
        rows,
        weights,
        site_weight,
        matrix,
        lower,
        upper,
        np.ones(n_sites, dtype=bool),
        np.zeros(n_sites, dtype=bool),
    )


@SMALL
@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(0, 2**16))
def test_bound_holds_for_any_multipliers_and_fixings(seed: int, p: int, draw: int) -> None:
    rows, weights, site_weight = random_instance(seed)
    n_sites = rows.shape[1]
    side = random_side(seed, n_sites, p)
    dual = dual_of(rows, weights, site_weight, side)
    rng = np.random.default_rng(draw)
    lower = (rng.random(n_sites) < 0.2).astype(np.int8)
    upper = np.where(lower == 1, 1, rng.random(n_sites) > 0.2).astype(np.int8)
    dual.set_fixings(lower, upper)
    best = brute_force(rows, weights, site_weight, side, lower, upper)
    # Multipliers anywhere, also outside [0, W]: the bound clips them.
    n_columns = rows.shape[0] + n_sites + int(np.isfinite(side[2]).sum())
    n_columns += int(np.isfinite(side[1]).sum())
    for _ in range(5):
        values = rng.normal(0.0, 10.0, size=n_columns)
        bound, _ = dual.bound(values)
        assert bound >= best - 1e-9
    point = dual.solve(dual_simplex=True)
    if point.outcome is LpOutcome.INFEASIBLE:
        assert best == -np.inf
    else:
        assert point.bound >= best - 1e-9


@SMALL
@given(st.integers(0, 10_000), st.integers(1, 4))
def test_dual_lp_equals_the_primal_lp(seed: int, p: int) -> None:
    rows, weights, site_weight = random_instance(seed)
    n_rows, n_sites = rows.shape
    side = random_side(seed, n_sites, p)
    point = dual_of(rows, weights, site_weight, side).solve(dual_simplex=True)
    # Primal LP: y then z; z_k ≤ Σ y, side rows both ways.
    matrix, row_lower, row_upper = side
    has_upper, has_lower = np.isfinite(row_upper), np.isfinite(row_lower)
    no_z_upper = sp.csr_matrix((int(has_upper.sum()), n_rows))
    no_z_lower = sp.csr_matrix((int(has_lower.sum()), n_rows))
    a_ub = sp.vstack(
        [
            sp.hstack([-rows, sp.identity(n_rows)]),
            sp.hstack([matrix[np.flatnonzero(has_upper)], no_z_upper]),
            sp.hstack([-matrix[np.flatnonzero(has_lower)], no_z_lower]),
        ]
    )
    b_ub = np.concatenate([np.zeros(n_rows), row_upper[has_upper], -row_lower[has_lower]])
    primal = linprog(
        -np.concatenate([site_weight, weights]), A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs"
    )
    if primal.status == 2:
        assert point.outcome is LpOutcome.INFEASIBLE
        return
    assert point.outcome is LpOutcome.OPTIMAL
    assert point.bound == pytest.approx(-primal.fun, abs=1e-6)
    assert point.site_values.sum() <= p + 1e-6


def test_fixing_a_site_changes_the_lp_as_a_bound_change_would() -> None:
    # Rows {0}, {0, 1}, {1}: weights 3, 5, 4; p = 1. Site 0 covers 8, site 1 covers 9.
    rows = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]))
    weights = np.array([3.0, 5.0, 4.0])
    side = (sp.csr_matrix(np.ones((1, 2))), np.array([-np.inf]), np.array([1.0]))
    dual = dual_of(rows, weights, np.zeros(2), side)
    assert dual.solve(dual_simplex=True).bound == pytest.approx(9.0)
    dual.set_fixings(np.array([0, 0], np.int8), np.array([1, 0], np.int8))
    assert dual.solve().bound == pytest.approx(8.0)
    dual.set_fixings(np.array([1, 0], np.int8), np.array([1, 1], np.int8))
    assert dual.solve().bound == pytest.approx(8.0)
    dual.set_fixings(np.array([1, 1], np.int8), np.array([1, 1], np.int8))
    assert dual.solve().outcome is LpOutcome.INFEASIBLE


def test_a_time_limit_counts_from_the_solve_not_from_the_first_one() -> None:
    # HiGHS's clock adds up every solve of an instance: a limit of 0.2 s must
    # still let a solve finish after the instance has run for longer than that.
    rng = np.random.default_rng(3)
    present = rng.random((300, 60)) < 0.08
    present[np.arange(300), rng.integers(0, 60, size=300)] = True
    rows = sp.csr_matrix(present.astype(float))
    side = (sp.csr_matrix(np.ones((1, 60))), np.array([-np.inf]), np.array([8.0]))
    dual = dual_of(rows, rng.integers(1, 100, size=300).astype(float), np.zeros(60), side)
    dual.solve(dual_simplex=True)
    opened = np.zeros(60, dtype=np.int8)
    everywhere = np.ones(60, dtype=np.int8)
    started = time.perf_counter()
    site = 0
    while time.perf_counter() - started < 0.5:
        closed = everywhere.copy()
        closed[site % 60] = 0
        dual.set_fixings(opened, closed)
        dual.solve(dual_simplex=True)
        site += 1
    dual.set_fixings(opened, everywhere)
    assert dual.solve(seconds=0.2, dual_simplex=True).outcome is LpOutcome.OPTIMAL


def coverage_optimum(rows: sp.csr_matrix, weights: np.ndarray, p: int, side: SiteRows) -> float:
    n_sites = rows.shape[1]
    best = -np.inf
    for size in range(min(p, n_sites) + 1):
        for plan in itertools.combinations(range(n_sites), size):
            if not side.satisfied(plan):
                best = max(best, evaluate.max_coverage_objective(rows, weights, list(plan)))
    return best


def side_rows(seed: int, n_sites: int) -> SiteRows:
    rng = np.random.default_rng(seed + 3)
    parts = [group_rows("A", rng.random(n_sites) < 0.5, minimum=1)]
    if seed % 3 == 0:
        parts.append(budget_rows(rng.integers(1, 5, size=n_sites).astype(float), 6.0))
    return combine(parts, n_sites)


@pytest.mark.parametrize("route", ["strong branching", "scip takes over", "backend named"])
def test_every_route_reaches_the_brute_force_optimum(route: str) -> None:
    # Strong branching stopped after a single pivot, SCIP taking over after
    # the root, or a backend named by the caller solving the whole model: each
    # must still prove the optimum with a valid bound.
    solver = replace(EXACT, backend="scip") if route == "backend named" else EXACT
    with pytest.MonkeyPatch.context() as patch:
        if route == "strong branching":
            patch.setattr(bnb, "STRONG_ITERATIONS", 1)
        else:
            # No strong branching either, so that trees outgrow the root.
            patch.setattr(bnb, "STRONG_CANDIDATES", 0)
            patch.setattr(coverage, "BNB_NODES", 1)
        handed_over = 0
        for seed, p in itertools.product(range(60), (2, 3)):
            # Larger than elsewhere, so that some trees outgrow the root.
            rows, weights, _ = random_instance(seed, max_rows=40, max_sites=12)
            n_sites = rows.shape[1]
            side = side_rows(seed, n_sites) if seed % 2 else None
            best = coverage_optimum(rows, weights, p, side or no_site_rows(n_sites))
            if not np.isfinite(best):
                continue
            solution = coverage.max_coverage(rows, weights, p, constraints=side, settings=solver)
            assert solution.status is Status.OPTIMAL, (seed, p)
            assert solution.objective == pytest.approx(best), (seed, p)
            assert solution.bound >= best - 1e-9
            handed_over += "scip_after_nodes" in solution.details
            assert ("bnb_nodes" in solution.details) == (route != "backend named")
    if route == "scip takes over":
        assert handed_over >= 10


def test_a_stopped_search_reports_a_valid_bound() -> None:
    # 300 rows × 60 sites, p = 8, stopped by the clock at several points of the
    # search: the bound must hold against the proven optimum, and never be
    # weaker than the root LP (HiGHS's own clock counts all earlier solves).
    rng = np.random.default_rng(5)
    present = rng.random((300, 60)) < 0.08
    present[np.arange(300), rng.integers(0, 60, size=300)] = True
    rows = sp.csr_matrix(present.astype(float))
    weights = rng.integers(1, 100, size=300).astype(float)
    optimum = coverage.max_coverage(rows, weights, 8, settings=EXACT).objective
    side = (sp.csr_matrix(np.ones((1, 60))), np.array([-np.inf]), np.array([8.0]))
    root = dual_of(rows, weights, np.zeros(60), side).solve(dual_simplex=True).bound
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(coverage, "BNB_NODES", 10**6)  # no hand-off: the search itself stops
        for limit in (1e-4, 0.05, 0.2, 0.5):
            quick = coverage.max_coverage(
                rows, weights, 8, settings=SolverSettings(time_limit_s=limit, relative_gap=1e-9)
            )
            assert quick.objective <= optimum + 1e-9
            assert quick.bound >= optimum - 1e-9
            if limit >= 0.2:
                # The root LP (milliseconds) finished: nothing later may weaken it.
                # (At 0.05 s it did not always: on a loaded 2-core machine the
                # reductions before it took most of the 50 ms.)
                assert quick.bound <= root + 1e-6, limit
            assert quick.status in (Status.OPTIMAL, Status.TIME_LIMIT)


def test_highs_prints_nothing() -> None:
    # HiGHS prints a banner on its first instance in a process; output of the
    # command line must stay clean, so a fresh interpreter is used.
    code = (
        "import numpy as np, scipy.sparse as sp\n"
        "from planner.optimise.coverage._dual import CoverageDual\n"
        "d = CoverageDual(sp.csr_matrix(np.ones((1, 1))), np.ones(1), np.zeros(1),"
        " sp.csr_matrix(np.ones((1, 1))), np.array([-np.inf]), np.ones(1),"
        " np.ones(1, bool), np.zeros(1, bool))\n"
        "d.solve(dual_simplex=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == ""


def test_a_failing_lp_hands_the_model_to_scip() -> None:
    from planner.errors import SolverError

    def fail(*args: object, **kwargs: object) -> None:
        raise SolverError("HiGHS ended the coverage LP with status Solve error")

    rows, weights, _ = random_instance(11, max_rows=30, max_sites=10)
    best = coverage_optimum(rows, weights, 3, no_site_rows(rows.shape[1]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CoverageDual, "solve", fail)
        solution = coverage.max_coverage(rows, weights, 3, settings=EXACT)
    assert solution.status is Status.OPTIMAL
    assert solution.objective == pytest.approx(best)
    assert solution.bound >= best - 1e-9
