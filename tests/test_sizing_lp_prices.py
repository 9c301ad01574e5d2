"""Row prices for the sizing Lagrangian from its LP relaxation (coverage 1)."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from planner.optimise._milp import MilpStatus, solve_milp
from planner.optimise.constraints import SiteRows
from planner.optimise.sizing import _lp_prices as lp
from planner.optimise.sizing import _search as sizing_search
from planner.optimise.sizing import model as sizing_model
from planner.optimise.sizing._lagrange import Multipliers, SiteKnapsacks, SizingCosts
from planner.optimise.solution import SolverSettings
from tests.test_sizing_lagrange import _assert_feasible, _case, _optimum, _parts, _solve_model

# Cases whose every row some site can serve in full (seeds 1 and 3 cannot).
SEEDS = [2, 4, 5, 6, 7, 8]


def _knapsacks(seed: int, coverage: float = 1.0) -> SiteKnapsacks:
    inst, costs = _parts(_case(seed, coverage=coverage))
    return SiteKnapsacks(inst, costs)  # type: ignore[arg-type]


def _lp_optimum(knapsacks: SiteKnapsacks) -> float:
    relaxation, unit = lp._relaxation(knapsacks)
    result = solve_milp(relaxation, SolverSettings(time_limit_s=30.0), backend="highs")
    assert result.status is MilpStatus.OPTIMAL
    return result.objective * unit


@pytest.mark.parametrize("penalty", [None, 30.0])
@pytest.mark.parametrize("seed", SEEDS)
def test_lp_prices_bound_the_optimum_within_the_lp_tolerance(
    seed: int, penalty: float | None
) -> None:
    case = _case(seed, coverage=1.0, penalty=penalty)
    inst, costs = _parts(case)
    knapsacks = SiteKnapsacks(inst, costs)  # type: ignore[arg-type]
    point = lp.lp_prices(knapsacks, deadline=math.inf)
    assert point is not None
    value = knapsacks.evaluate(point).value
    optimum = _optimum(case)
    assert value <= optimum * (1 + 1e-9)
    # The Lagrangian at the LP's duals is the LP bound, up to PDLP's tolerance,
    # plus the penalty for the demand no site reaches.
    out_of_reach = float(case.demand.sum() - inst.row_demand.sum())  # type: ignore[attr-defined]
    lp_bound = _lp_optimum(knapsacks) + (penalty or 0.0) * out_of_reach
    assert value >= lp_bound - 10 * lp.TOLERANCE * abs(lp_bound)


def _opening_row(seed: int, upper_side: bool) -> SiteRows:
    """A side row the LP without it breaks: the site that LP opens least must open.

    Written as y ≥ 1, or as -y ≤ -1 with ``upper_side``, whose dual has the other sign.
    """
    relaxation, _ = lp._relaxation(_knapsacks(seed))
    result = solve_milp(relaxation, SolverSettings(time_limit_s=30.0), backend="highs")
    n_sites = _case(seed).reach.shape[1]
    row = np.zeros((1, n_sites))
    row[0, int(np.argmin(result.values[:n_sites]))] = -1.0 if upper_side else 1.0
    if upper_side:
        return SiteRows(sp.csr_matrix(row), np.array([-np.inf]), np.array([-1.0]), ("open",))
    return SiteRows(sp.csr_matrix(row), np.array([1.0]), np.array([np.inf]), ("open",))


@pytest.mark.parametrize("upper_side", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_lp_prices_price_the_side_rows_at_their_duals(seed: int, upper_side: bool) -> None:
    side = _opening_row(seed, upper_side)
    case = replace(_case(seed, coverage=1.0), side=side)
    inst, costs = _parts(case)
    knapsacks = SiteKnapsacks(inst, costs)  # type: ignore[arg-type]
    # The LP with the side row, built here from the LP without it.
    relaxation, unit = lp._relaxation(_knapsacks(seed))
    width = relaxation.matrix.shape[1]
    with_row = replace(
        relaxation,
        matrix=sp.vstack(
            [relaxation.matrix, sp.hstack([side.matrix, sp.csr_matrix((1, width - side.n_sites))])],
            format="csr",
        ),
        row_lower=np.append(relaxation.row_lower, side.lower),
        row_upper=np.append(relaxation.row_upper, side.upper),
    )
    settings = SolverSettings(time_limit_s=30.0)
    before = solve_milp(relaxation, settings, backend="highs").objective * unit
    after = solve_milp(with_row, settings, backend="highs").objective * unit
    assert after > before * (1 + 1e-3)  # the row binds
    point = lp.lp_prices(knapsacks, deadline=math.inf)
    assert point is not None
    assert np.all(point.side_lower >= 0) and np.all(point.side_upper >= 0)
    assert (point.side_upper if upper_side else point.side_lower)[0] > 0
    value = knapsacks.evaluate(point).value
    assert value >= after - 10 * lp.TOLERANCE * abs(after)
    assert value <= _optimum(case) * (1 + 1e-9)


def test_lp_prices_even_when_no_plan_meets_the_side_rows() -> None:
    case = _case(4, coverage=1.0)
    n_sites = case.reach.shape[1]
    # No site may open, so no row can be served: only the LP's slack meets this row.
    nothing = SiteRows(
        sp.csr_matrix(np.ones((1, n_sites))), np.array([-np.inf]), np.array([0.0]), ("none",)
    )
    knapsacks = SiteKnapsacks(*_parts(replace(case, side=nothing)))  # type: ignore[arg-type]
    point = lp.lp_prices(knapsacks, deadline=math.inf)
    assert point is not None
    assert point.side_upper[0] > 0
    free = _lp_optimum(_knapsacks(4))
    assert knapsacks.evaluate(point).value >= free * (1 - 10 * lp.TOLERANCE)


@pytest.mark.parametrize("seed", SEEDS)
def test_lp_prices_keep_every_multiplier_non_negative(seed: int) -> None:
    point = lp.lp_prices(_knapsacks(seed), deadline=math.inf)
    assert point is not None
    assert point.coverage >= 0
    assert np.all(point.row >= 0)
    assert point.chargers == 0 and point.budget == 0


def test_lp_prices_only_with_every_row_served() -> None:
    assert lp.lp_prices(_knapsacks(2, coverage=0.9), deadline=math.inf) is None


def test_lp_prices_not_started_without_the_time_for_them() -> None:
    knapsacks = _knapsacks(2)
    assert lp.lp_prices(knapsacks, deadline=time.perf_counter() + 0.5) is None


def _search_watching_ascents(
    inst: object, costs: SizingCosts, monkeypatch: pytest.MonkeyPatch
) -> tuple[sizing_search.Search, list[Multipliers]]:
    """The search from every site for 5 s, PDLP allowed, and where each ascent started."""
    starts: list[Multipliers] = []
    ascend = sizing_search.ascend

    def spy(knapsacks: SiteKnapsacks, point: Multipliers, **kwargs: object) -> object:
        starts.append(point)
        return ascend(knapsacks, point, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sizing_search, "ascend", spy)
    monkeypatch.setattr(lp, "LEAST_PDLP_S", 0.0)
    found = sizing_search.search(
        inst,  # type: ignore[arg-type]
        costs,
        start=np.ones(len(costs.prices), dtype=bool),
        start_cost=math.inf,
        deadline=time.perf_counter() + 5.0,
    )
    return found, starts


def test_search_ascends_from_the_lp_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    case = _case(4, coverage=1.0)
    inst, costs = _parts(case)
    expected = lp.lp_prices(SiteKnapsacks(inst, costs), deadline=math.inf)  # type: ignore[arg-type]
    assert expected is not None
    found, starts = _search_watching_ascents(inst, costs, monkeypatch)
    assert starts
    np.testing.assert_allclose(starts[0].row, expected.row)
    assert starts[0].coverage == pytest.approx(expected.coverage)
    at_start = SiteKnapsacks(inst, costs).evaluate(expected).value  # type: ignore[arg-type]
    assert found.bound >= at_start - 1e-6


def test_search_stops_once_its_bound_passes_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    free = _lp_optimum(_knapsacks(4))
    case = _case(4, coverage=1.0, budget=0.9 * free)
    inst, costs = _parts(case)
    found, starts = _search_watching_ascents(inst, costs, monkeypatch)
    assert found.plan is None
    assert found.bound > 0.9 * free
    assert not starts  # the LP's prices already proved it


def test_search_without_time_for_the_whole_lp_runs_on_the_core(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = _case(4, coverage=1.0)
    inst, costs = _parts(case)
    n_sites = case.reach.shape[1]
    core = np.zeros(n_sites, dtype=bool)
    core[:4] = True
    # The whole instance's LP never fits; a smaller one's does.
    monkeypatch.setattr(
        sizing_search,
        "fits",
        lambda pairs, seconds: pairs < inst.rows.nnz,  # type: ignore[attr-defined]
    )
    kernels: list[np.ndarray] = []
    kernel_plan = sizing_search._kernel_plan

    def spy(whole: object, whole_costs: object, kernel: np.ndarray, *args: object) -> object:
        kernels.append(kernel.copy())
        return kernel_plan(whole, whole_costs, kernel, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sizing_search, "_kernel_plan", spy)
    found = sizing_search.search(
        inst,  # type: ignore[arg-type]
        costs,
        start=np.zeros(n_sites, dtype=bool),
        start_cost=math.inf,
        deadline=time.perf_counter() + 3.0,
        core=core,
    )
    assert len(kernels) == 1 and np.all(kernels[0][core])
    assert found.bound == -math.inf  # no bound of the whole instance from the core
    assert found.plan is not None
    _assert_feasible(case, inst, found.plan)
    assert found.plan.cost >= _optimum(case) * (1 - 1e-9)


@pytest.mark.parametrize(("coverage", "has_core"), [(1.0, True), (0.9, False)])
def test_the_model_hands_the_search_a_core_only_with_every_row_served(
    coverage: float, has_core: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    cores: list[object] = []
    search = sizing_model.search

    def spy(*args: object, core: object = None, **kwargs: object) -> object:
        cores.append(core)
        return search(*args, core=core, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sizing_model, "search", spy)
    case = _case(4, coverage=coverage)
    _solve_model(case, SolverSettings(time_limit_s=2.0))
    assert len(cores) == 1 and (cores[0] is not None) == has_core
