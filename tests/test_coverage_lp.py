"""The maximal-covering LP bound from PDLP's duals: valid, tight, and its rounding."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from planner.optimise import SolverSettings, evaluate
from planner.optimise.constraints import SiteRows, budget_rows, combine, group_rows
from planner.optimise.coverage import model as coverage
from planner.optimise.coverage._lagrange import lagrangian_value
from planner.optimise.coverage._lp import coverage_lp, rounded_sites

SMALL = settings(max_examples=40, deadline=None, derandomize=True)


def random_rows(seed: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Up to 12 rows × 7 sites, every row reached by at least one site."""
    rng = np.random.default_rng(seed)
    n_rows, n_sites = int(rng.integers(1, 13)), int(rng.integers(1, 8))
    present = rng.random((n_rows, n_sites)) < 0.4
    present[np.arange(n_rows), rng.integers(0, n_sites, size=n_rows)] = True
    weights = rng.integers(1, 20, size=n_rows).astype(float)
    return sp.csr_matrix(present.astype(float)), weights


def lp_bound(rows: sp.csr_matrix, weights: np.ndarray, p: int, fixed: np.ndarray) -> float:
    """The LP relaxation's optimum by HiGHS (an independent solver)."""
    n_rows, n_sites = rows.shape
    matrix = sp.vstack(
        [
            sp.hstack([-rows, sp.identity(n_rows)]),
            sp.csr_matrix(np.concatenate([np.ones(n_sites), np.zeros(n_rows)])[None, :]),
        ]
    )
    bounds = [(float(f), 1.0) for f in fixed] + [(0.0, 1.0)] * n_rows
    result = linprog(
        -np.concatenate([np.zeros(n_sites), weights]),
        A_ub=matrix,
        b_ub=np.concatenate([np.zeros(n_rows), [p]]),
        bounds=bounds,
        method="highs",
    )
    assert result.status == 0
    return float(-result.fun)


@SMALL
@given(st.integers(0, 10_000), st.integers(1, 4), st.booleans())
def test_bound_is_valid_and_close_to_the_lp(seed: int, p: int, with_fixed: bool) -> None:
    rows, weights = random_rows(seed)
    n_sites = rows.shape[1]
    fixed = np.zeros(n_sites, dtype=bool)
    if with_fixed:
        fixed[0] = True
    allowed = np.ones(n_sites, dtype=bool)
    lp = coverage_lp(rows, weights, p, fixed=fixed, allowed=allowed, seconds=10.0)
    assert lp is not None
    optimum = max(
        evaluate.max_coverage_objective(rows, weights, np.asarray(chosen, dtype=np.int64))
        for k in range(min(p, n_sites) + 1)
        for chosen in itertools.combinations(range(n_sites), k)
        if not with_fixed or 0 in chosen
    )
    assert lp.bound >= optimum - 1e-9
    # PDLP stops at a 1e-3 relative tolerance; the exactly evaluated bound is near the LP.
    assert lp.bound <= lp_bound(rows, weights, p, fixed) * (1 + 5e-3) + 1e-6
    chosen = rounded_sites(lp.site_values, p, fixed=fixed, allowed=allowed)
    assert chosen.size == min(p, n_sites)
    assert set(np.flatnonzero(fixed)) <= set(chosen.tolist())


def lp_bound_with_side(rows: sp.csr_matrix, weights: np.ndarray, p: int, side: SiteRows) -> float:
    """The LP relaxation with side rows by HiGHS (an independent solver)."""
    n_rows, n_sites = rows.shape
    cover = sp.hstack([-rows, sp.identity(n_rows)])
    limit = sp.csr_matrix(np.concatenate([np.ones(n_sites), np.zeros(n_rows)])[None, :])
    extra = sp.hstack([side.matrix, sp.csr_matrix((len(side), n_rows))])
    finite_up, finite_low = np.isfinite(side.upper), np.isfinite(side.lower)
    result = linprog(
        -np.concatenate([np.zeros(n_sites), weights]),
        A_ub=sp.vstack([cover, limit, extra[finite_up], -extra[finite_low]]),
        b_ub=np.concatenate(
            [np.zeros(n_rows), [p], side.upper[finite_up], -side.lower[finite_low]]
        ),
        bounds=[(0.0, 1.0)] * (n_sites + n_rows),
        method="highs",
    )
    assert result.status == 0
    return float(-result.fun)


@SMALL
@given(st.integers(0, 10_000), st.integers(1, 4))
def test_bound_with_side_rows_is_valid_and_close_to_their_lp(seed: int, p: int) -> None:
    # A budget in euros (site costs in the hundreds of thousands) and a group
    # minimum: the bound must hold for the plans that keep both, and come
    # near the LP with both rows.
    rows, weights = random_rows(seed)
    n_sites = rows.shape[1]
    rng = np.random.default_rng(seed)
    costs = rng.integers(2, 9, n_sites) * 100_000.0
    budget = float(np.sort(costs)[: max(1, p - 1)].sum())
    side = combine(
        [budget_rows(costs, budget), group_rows("odd", np.arange(n_sites) % 2 == 1, minimum=1)],
        n_sites,
    )
    plans = [
        np.asarray(chosen, dtype=np.int64)
        for k in range(min(p, n_sites) + 1)
        for chosen in itertools.combinations(range(n_sites), k)
        if not side.satisfied(chosen)
    ]
    none = np.zeros(n_sites, dtype=bool)
    lp = coverage_lp(rows, weights, p, fixed=none, allowed=~none, seconds=10.0, side=side)
    if not plans:
        return  # no plan keeps the side rows; nothing to bound
    assert lp is not None
    optimum = max(evaluate.max_coverage_objective(rows, weights, plan) for plan in plans)
    assert lp.bound >= optimum - 1e-9
    assert lp.bound <= lp_bound_with_side(rows, weights, p, side) * (1 + 5e-3) + 1e-6


def test_bound_on_a_hand_instance() -> None:
    # Sites A, B, C; rows {A} 10, {A, B} 6, {B} 5, {C} 4. With p = 1 the best
    # site is A (16); the LP cannot split either: its optimum is 16 too.
    rows = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=float))
    weights = np.array([10.0, 6.0, 5.0, 4.0])
    none = np.zeros(3, dtype=bool)
    lp = coverage_lp(rows, weights, 1, fixed=none, allowed=~none, seconds=10.0)
    assert lp is not None
    assert lp.bound == pytest.approx(16.0, rel=5e-3) and lp.bound >= 16.0 - 1e-9
    assert rounded_sites(lp.site_values, 1, fixed=none, allowed=~none).tolist() == [0]
    # Excluding A: B covers 11.
    allowed = np.array([False, True, True])
    lp = coverage_lp(rows, weights, 1, fixed=none, allowed=allowed, seconds=10.0)
    assert lp is not None
    assert lp.bound == pytest.approx(11.0, rel=5e-3) and lp.bound >= 11.0 - 1e-9


def test_any_multipliers_within_the_weights_bound_the_optimum() -> None:
    rows = sp.csr_matrix(np.array([[1, 0], [1, 1], [0, 1]], dtype=float))
    weights = np.array([3.0, 2.0, 4.0])
    none = np.zeros(2, dtype=bool)
    # Optimum with p = 1: site 1 covers 6.
    for multipliers in ([0.0, 0.0, 0.0], [3.0, 2.0, 4.0], [1.0, 0.5, 2.0]):
        bound, _ = lagrangian_value(
            rows, weights, np.zeros(2), np.asarray(multipliers), 1, fixed=none, allowed=~none
        )
        assert bound >= 6.0
    # λ = (3, 0, 4): scores 3 and 4, row 1 keeps W - λ = 2; L = 2 + 4 = 6, the optimum,
    # and the inner problem opens site 1.
    bound, sites = lagrangian_value(
        rows, weights, np.zeros(2), np.array([3.0, 0.0, 4.0]), 1, fixed=none, allowed=~none
    )
    assert bound == pytest.approx(6.0)
    assert sites.tolist() == [1]


def test_continental_routes_keep_the_optimum_and_a_valid_bound() -> None:
    # Every instance is sent down the continental path: regions without side
    # constraints, the kernel MIP with a group minimum. Their plans are only
    # starts, so SCIP on the full model must still reach the brute-force optimum.
    routes = {"regional_objective": 0, "kernel_sites": 0}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(coverage, "KERNEL_FROM_PAIRS", -1)
        for seed, p in itertools.product(range(240), (2, 3)):
            rows, weights = random_rows(seed)
            n_sites = rows.shape[1]
            fixed = np.zeros(n_sites, dtype=bool)
            fixed[0] = seed % 2 == 1
            with_side = seed % 3 == 0
            side = group_rows("A", np.arange(n_sites) % 2 == 1, minimum=1) if with_side else None
            plans = [
                np.asarray(chosen, dtype=np.int64)
                for k in range(min(p, n_sites) + 1)
                for chosen in itertools.combinations(range(n_sites), k)
                if (not fixed[0] or 0 in chosen) and (side is None or not side.satisfied(chosen))
            ]
            if not plans:
                continue
            solution = coverage.max_coverage(
                rows,
                weights,
                p,
                fixed=fixed,
                constraints=side,
                settings=SolverSettings(relative_gap=1e-9),
            )
            optimum = max(evaluate.max_coverage_objective(rows, weights, plan) for plan in plans)
            assert solution.objective == pytest.approx(optimum), (seed, p)
            assert solution.bound >= optimum - 1e-9
            assert solution.status == "optimal"
            for key in routes:
                routes[key] += key in solution.details
    # Most small instances are proven by the LP alone; enough must take each route.
    assert min(routes.values()) >= 5, routes
