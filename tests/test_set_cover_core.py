"""Weighted set covering on a core: a valid Lagrangian bound, a core per row, its MIP's cover."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

import planner.optimise.coverage.set_cover as set_cover_module
from planner.optimise import set_cover
from planner.optimise._milp import Milp, MilpResult, MilpStatus
from planner.optimise.coverage._core import lagrangian_core
from planner.optimise.heuristics import greedy_cover
from planner.optimise.solution import SolverSettings


def _weighted(
    seed: int, n_rows: int, n_sites: int, density: float
) -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    dense = rng.random((n_rows, n_sites)) < density
    dense[np.arange(n_rows), rng.integers(0, n_sites, n_rows)] = True  # every row coverable
    return sp.csr_matrix(dense.astype(float)), rng.integers(1, 101, n_sites).astype(float)


def _covers(rows: sp.csr_matrix, sites: np.ndarray) -> bool:
    return bool(np.all(np.asarray(rows[:, sites].sum(axis=1)).ravel() > 0))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_lagrangian_value_bounds_the_lp_from_below_and_comes_close(seed: int) -> None:
    rows, costs = _weighted(seed, 80, 300, 0.06)
    allowed = np.ones(300, dtype=bool)
    lp = linprog(costs, A_ub=-rows, b_ub=-np.ones(80), bounds=(0, 1), method="highs")
    greedy = greedy_cover(rows, np.ones(80), costs, allowed)
    assert greedy is not None
    core = lagrangian_core(
        rows, costs, allowed, float(costs[greedy].sum()), per_row=3,
        deadline=time.perf_counter() + 10.0,
    )  # fmt: skip
    assert core.bound <= lp.fun + 1e-6
    # The ascent does real work: from the start's value to within 5 % of the LP.
    assert core.bound >= 0.95 * lp.fun
    assert core.steps > 1


def test_core_keeps_the_sites_of_least_reduced_cost_of_every_row_and_no_excluded_one() -> None:
    rows, costs = _weighted(5, 60, 200, 0.1)
    allowed = np.ones(200, dtype=bool)
    allowed[:50] = False
    core = lagrangian_core(
        rows, costs, allowed, float(costs.sum()), per_row=2, deadline=time.perf_counter() + 5.0
    )
    assert not core.sites[~allowed].any()
    kept_per_row = np.asarray(rows[:, core.sites].sum(axis=1)).ravel()
    allowed_per_row = np.asarray(rows[:, allowed].sum(axis=1)).ravel()
    assert np.all(kept_per_row >= np.minimum(2, allowed_per_row))
    # Much smaller than the model: a core is worth solving on its own.
    assert core.sites.sum() < 0.5 * allowed.sum()


def test_set_cover_solves_a_core_first_and_starts_the_whole_model_from_its_cover(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows, costs = _weighted(11, 120, 1500, 0.08)
    calls: list[Milp] = []
    real = set_cover_module.solve_milp

    def spy(milp: Milp, *args: object, **kwargs: object) -> MilpResult:
        calls.append(milp)
        return real(milp, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(set_cover_module, "solve_milp", spy)
    solution = set_cover(rows, costs=costs, settings=SolverSettings(time_limit_s=30.0))
    # Two MIPs: the core's (most sites fixed closed), then the whole model's,
    # started from the core's cover.
    assert len(calls) == 2
    assert np.count_nonzero(calls[0].upper == 0) > 0.5 * costs.size
    assert np.count_nonzero(calls[1].upper == 0) < 0.5 * costs.size
    start = calls[1].hint
    assert start is not None and _covers(rows, np.flatnonzero(start > 0.5))
    # The answer is the whole model's, proven: the same as without the core.
    monkeypatch.setattr(set_cover_module, "_CORE_MOST_SITES", 0.0)
    without = set_cover(rows, costs=costs, settings=SolverSettings(time_limit_s=30.0))
    assert solution.status == without.status == "optimal"
    assert solution.objective == pytest.approx(without.objective)
    assert _covers(rows, solution.open_sites)
    assert solution.objective <= costs[start > 0.5].sum() + 1e-9


def test_set_cover_answers_with_the_cores_cover_when_the_whole_mip_finds_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows, costs = _weighted(12, 120, 1500, 0.08)
    exact = set_cover(rows, costs=costs, settings=SolverSettings(time_limit_s=30.0))
    assert exact.status == "optimal"
    real = set_cover_module.solve_milp
    whole: list[bool] = []

    def core_only(milp: Milp, *args: object, **kwargs: object) -> MilpResult:
        if np.count_nonzero(milp.upper == 0) > 0.5 * milp.upper.size:
            return real(milp, *args, **kwargs)  # type: ignore[arg-type]
        whole.append(True)
        return MilpResult(MilpStatus.NO_SOLUTION, np.empty(0), float("nan"), float("nan"), 0.0)

    monkeypatch.setattr(set_cover_module, "solve_milp", core_only)
    solution = set_cover(rows, costs=costs, settings=SolverSettings(time_limit_s=20.0))
    assert whole == [True]
    assert _covers(rows, solution.open_sites)
    greedy = greedy_cover(rows, np.ones(120), costs, np.ones(1500, dtype=bool))
    assert greedy is not None
    # The core's MIP starts from the greedy cover when that lies in the core,
    # and the answer is the cheaper of the two.
    assert solution.objective <= costs[greedy].sum()
    assert solution.status != "optimal"
    # Without the solver's bound, the Lagrangian one: below the optimum, and
    # well above nothing (the LP of such instances is within a few per cent).
    assert 0.8 * exact.objective <= solution.bound <= exact.objective + 1e-6


# A bound of 0, or of a tenth of the plan: HiGHS's before its root LP ends (every
# dealer of the five default countries: 20 sites against a cover of 198).
@pytest.mark.parametrize("weak", [0.0, 0.1])
def test_sites_of_one_cost_get_a_lagrangian_bound_when_the_solvers_proves_nothing(
    monkeypatch: pytest.MonkeyPatch, weak: float
) -> None:
    rows, _ = _weighted(21, 80, 200, 0.06)
    exact = set_cover(rows, settings=SolverSettings(time_limit_s=30.0))
    assert exact.status == "optimal"
    real = set_cover_module.solve_milp

    def unfinished_root(milp: Milp, *args: object, **kwargs: object) -> MilpResult:
        # The solver's plan as it is, but the bound of a root LP that did not end.
        found = real(milp, *args, **kwargs)  # type: ignore[arg-type]
        bound = weak * found.objective
        return MilpResult(MilpStatus.FEASIBLE, found.values, found.objective, bound, 1.0)

    monkeypatch.setattr(set_cover_module, "solve_milp", unfinished_root)
    solution = set_cover(rows, settings=SolverSettings(time_limit_s=10.0))
    assert _covers(rows, solution.open_sites)
    assert solution.status != "optimal"
    # A whole number of sites, at most the optimum, and far above the 0 it replaces.
    assert solution.bound == int(solution.bound)
    assert 0.8 * exact.objective <= solution.bound <= exact.objective


def test_set_cover_names_a_cap_below_the_sites_its_rows_need() -> None:
    from planner.errors import InfeasibleError
    from planner.optimise.constraints import group_rows

    rows = sp.csr_matrix(np.eye(3))
    capped = group_rows("FR", np.array([True, True, False]), maximum=1)
    with pytest.raises(InfeasibleError, match="FR sites ≤ 1 cannot hold: 2 demand points"):
        set_cover(rows, constraints=capped, settings=SolverSettings(time_limit_s=5.0))
    # Rows may be left uncovered below full coverage: no counting proof then.
    partial = set_cover(
        rows, coverage=0.6, constraints=capped, settings=SolverSettings(time_limit_s=5.0)
    )
    assert partial.open_sites.size == 2
