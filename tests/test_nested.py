"""The nested roll-out over (site, year) pairs: against SCIP's nested MILP and by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import InfeasibleError
from planner.optimise.constraints import combine, group_rows, no_site_rows
from planner.optimise.coverage._nested import NestedModel, pairs_dual, reduce_nested
from planner.optimise.coverage._nested_search import improve, nested_greedy
from planner.optimise.coverage._nested_solve import solve_pairs
from planner.optimise.coverage.phased import YearLimit, evaluate_phased, phased_coverage
from planner.optimise.solution import SolverSettings

EXACT = SolverSettings(time_limit_s=60.0, relative_gap=1e-9)


def _instance(
    seed: int, *, n_demand: int = 30, n_sites: int = 14
) -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = rng.random((n_demand, n_sites)) < 0.18
    weights = rng.integers(1, 20, size=n_demand).astype(float)
    return sp.csr_matrix(dense.astype(float)), weights


def _years(seed: int, budgets: bool) -> list[YearLimit]:
    rng = np.random.default_rng(seed + 100)
    if budgets:
        return [
            YearLimit(budget=float(rng.integers(2, 6)), demand_factor=0.5),
            YearLimit(budget=float(rng.integers(1, 5)), demand_factor=0.8),
            YearLimit(budget=float(rng.integers(1, 5)), demand_factor=1.0),
        ]
    first = int(rng.integers(1, 3))
    return [
        YearLimit(p=first, demand_factor=0.4),
        YearLimit(p=first + int(rng.integers(1, 3)), demand_factor=0.7),
        YearLimit(p=first + int(rng.integers(3, 5)), demand_factor=1.0),
    ]


def _check_plan(
    reach: sp.csr_matrix,
    weights: np.ndarray,
    opened: np.ndarray,
    years: list[YearLimit],
    costs: np.ndarray,
    rows: object,
) -> None:
    """Nested by construction (one opening year per site); every limit and side row holds."""
    for t, limit in enumerate(years):
        open_now = np.flatnonzero((opened >= 0) & (opened <= t))
        if limit.p is not None:
            assert open_now.size <= limit.p
        if limit.budget is not None:
            assert costs[opened == t].sum() <= limit.budget + 1e-9
        if rows is not None:
            assert rows.satisfied(open_now) == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("budgets", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_pairs_route_matches_the_nested_milp(seed: int, budgets: bool) -> None:
    reach, weights = _instance(seed)
    n_sites = reach.shape[1]
    rng = np.random.default_rng(seed + 7)
    costs = rng.integers(1, 3, size=n_sites).astype(float)
    brand = rng.random(n_sites) < 0.4
    rows = combine(
        [
            group_rows("Nissan", brand, share=0.3),
            group_rows("west", np.arange(n_sites) < 4, minimum=1),
        ],
        n_sites,
    )
    years = _years(seed, budgets)
    excluded = np.zeros(n_sites, dtype=bool)
    excluded[5] = True
    ours = phased_coverage(
        reach, weights, years, site_costs=costs, excluded=excluded, constraints=rows, settings=EXACT
    )
    milp = phased_coverage(
        reach,
        weights,
        years,
        site_costs=costs,
        excluded=excluded,
        constraints=rows,
        settings=SolverSettings(time_limit_s=60.0, relative_gap=1e-9, backend="scip"),
    )
    assert milp.solution.status == "optimal"
    assert ours.solution.status == "optimal"
    assert ours.solution.objective == pytest.approx(milp.solution.objective, rel=1e-9)
    assert ours.solution.bound >= milp.solution.objective - 1e-9
    assert ours.opened[5] == -1
    _check_plan(reach, weights, ours.opened, years, costs, rows)
    value, _ = evaluate_phased(reach, weights, ours.opened, years)
    assert value == pytest.approx(ours.solution.objective)


@pytest.mark.parametrize("seed", range(4))
def test_fixed_sites_open_from_the_first_year(seed: int) -> None:
    reach, weights = _instance(seed, n_sites=10)
    fixed = np.zeros(10, dtype=bool)
    fixed[[1, 6]] = True
    years = [YearLimit(p=3, demand_factor=0.5), YearLimit(p=5, demand_factor=1.0)]
    ours = phased_coverage(reach, weights, years, fixed=fixed, settings=EXACT)
    milp = phased_coverage(
        reach,
        weights,
        years,
        fixed=fixed,
        settings=SolverSettings(time_limit_s=60.0, relative_gap=1e-9, backend="scip"),
    )
    assert ours.opened[[1, 6]].tolist() == [0, 0]
    assert ours.solution.objective == pytest.approx(milp.solution.objective, rel=1e-9)


def _model(seed: int, budgets: bool) -> NestedModel:
    reach, weights = _instance(seed, n_demand=40, n_sites=16)
    years = _years(seed, budgets)
    costs = np.random.default_rng(seed).integers(1, 3, size=16).astype(float)
    model, _ = reduce_nested(
        reach,
        weights,
        factors=np.array([y.demand_factor for y in years]),
        caps=tuple(y.p for y in years),
        budgets=tuple(y.budget for y in years),
        costs=costs,
        fixed=np.zeros(16, dtype=bool),
        excluded=np.zeros(16, dtype=bool),
        side=no_site_rows(16),
    )
    return model


@pytest.mark.parametrize("budgets", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_heuristics_keep_plans_nested_and_feasible(seed: int, budgets: bool) -> None:
    model = _model(seed, budgets)
    start = nested_greedy(model)
    assert model.feasible(start)
    better = improve(model, start)
    assert model.feasible(better)
    assert model.value(better) >= model.value(start) - 1e-9
    result = solve_pairs(model, better, relative_gap=1e-9, seconds=60.0)
    assert result.proven
    assert result.opened is not None and model.feasible(result.opened)
    assert result.value >= model.value(better) - 1e-9
    assert result.bound >= result.value - 1e-9


def test_budget_count_rows_cut_the_lp() -> None:
    # Four equal sites of cost 2 and a budget of 3 a year: one site a year
    # (the LP alone could open 1.5).
    reach = sp.csr_matrix(np.eye(4))
    weights = np.array([4.0, 3.0, 2.0, 1.0])
    model, _ = reduce_nested(
        reach,
        weights,
        factors=np.array([1.0, 1.0]),
        caps=(None, None),
        budgets=(3.0, 3.0),
        costs=np.full(4, 2.0),
        fixed=np.zeros(4, dtype=bool),
        excluded=np.zeros(4, dtype=bool),
        side=no_site_rows(4),
    )
    assert model.new_caps == (1, 1)
    point = pairs_dual(model).solve(dual_simplex=True)
    # Year 1 covers 4, year 2 covers 4 + 3.
    assert point.bound == pytest.approx(11.0)


def test_a_later_smaller_p_limits_the_earlier_years() -> None:
    reach, weights = _instance(3, n_sites=10)
    years = [YearLimit(p=3, demand_factor=0.5), YearLimit(p=2, demand_factor=1.0)]
    ours = phased_coverage(reach, weights, years, settings=EXACT)
    milp = phased_coverage(
        reach,
        weights,
        years,
        settings=SolverSettings(time_limit_s=60.0, relative_gap=1e-9, backend="scip"),
    )
    assert ours.open_in_year(0).size <= 2
    assert ours.solution.objective == pytest.approx(milp.solution.objective, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_the_kernel_plan_leaves_the_optimum_unchanged(seed: int) -> None:
    # Places and sites in the unit square, reach 0.15: the LP leans on a few
    # sites, so the kernel is a strict subset and its plan the search's start.
    rng = np.random.default_rng(seed)
    places, sites = rng.random((200, 2)), rng.random((60, 2))
    distance = np.linalg.norm(places[:, None] - sites[None], axis=2)
    reach = sp.csr_matrix((distance < 0.15).astype(float))
    weights = rng.integers(1, 30, size=200).astype(float)
    costs = rng.integers(1, 3, size=60).astype(float)
    brand = sites[:, 0] < 0.3
    model, _ = reduce_nested(
        reach,
        weights,
        factors=np.array([0.5, 0.8, 1.0]),
        caps=(3, None, 8),
        budgets=(None, 4.0, None),
        costs=costs,
        fixed=np.zeros(60, dtype=bool),
        excluded=np.zeros(60, dtype=bool),
        side=group_rows("west", brand, minimum=1),
    )
    with_kernel = solve_pairs(model, None, relative_gap=1e-9, seconds=60.0)
    without = solve_pairs(model, None, relative_gap=1e-9, seconds=60.0, kernel=False)
    assert with_kernel.details["kernel_sites"] < model.free.sum()
    assert with_kernel.proven and without.proven
    assert with_kernel.opened is not None and model.feasible(with_kernel.opened)
    assert with_kernel.value == pytest.approx(without.value, rel=1e-9)
    assert with_kernel.bound >= without.value - 1e-9
    years = [
        YearLimit(p=3, demand_factor=0.5),
        YearLimit(budget=4.0, demand_factor=0.8),
        YearLimit(p=8, demand_factor=1.0),
    ]
    milp = phased_coverage(
        reach,
        weights,
        years,
        site_costs=costs,
        constraints=group_rows("west", brand, minimum=1),
        settings=SolverSettings(time_limit_s=60.0, relative_gap=1e-9, backend="scip"),
    )
    assert milp.solution.status == "optimal"
    assert with_kernel.value + model.constant == pytest.approx(milp.solution.objective, rel=1e-9)


def test_a_year_infeasible_on_its_own_is_named() -> None:
    # Site 0 is fixed and year 1 allows one site, yet the side row wants site 2 open.
    reach = sp.csr_matrix(np.eye(4))
    rows = group_rows("Nissan", np.array([False, False, True, False]), minimum=1)
    with pytest.raises(InfeasibleError, match=r"year 2026: max_coverage: at most p = 1 sites"):
        phased_coverage(
            reach,
            np.ones(4),
            [YearLimit(p=1), YearLimit(p=2)],
            fixed=np.array([True, False, False, False]),
            constraints=rows,
            year_names=["2026", "2028"],
        )
