"""The sizing model's Lagrangian bound, flow heuristic and search against the plain MILP."""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from planner.optimise._milp import MilpStatus, solve_milp
from planner.optimise.constraints import SiteRows, no_site_rows
from planner.optimise.progress import watch
from planner.optimise.sizing import _formulation as formulation
from planner.optimise.sizing import _lagrange as lagrange
from planner.optimise.sizing import _search as sizing_search
from planner.optimise.sizing import model as sizing_model
from planner.optimise.sizing._heuristic import FlowPlan, exchange, flow_plan
from planner.optimise.sizing._lagrange import (
    Multipliers,
    SiteKnapsacks,
    SizingCosts,
    ascend,
    coarse_start,
    cost_step,
    round_up_to,
)
from planner.optimise.sizing._parts import Capacity, reduce_instance, served_demand
from planner.optimise.sizing._search import search
from planner.optimise.sizing.evaluate import evaluate_sizing
from planner.optimise.sizing.model import sizing
from planner.optimise.solution import SolverSettings, Status

EXACT = SolverSettings(time_limit_s=60.0, relative_gap=1e-9)


@dataclass(frozen=True)
class Case:
    reach: sp.csr_matrix
    demand: np.ndarray
    site_cost: np.ndarray
    charger_cost: np.ndarray
    limit: np.ndarray
    capacity: Capacity
    coverage: float
    least: int
    penalty: float | None = None
    side: SiteRows | None = None
    budget: float | None = None
    fixed: np.ndarray | None = None

    def model_arguments(self) -> dict[str, Any]:
        """The keyword arguments ``sizing`` and ``evaluate_sizing`` share."""
        return {
            "site_cost": self.site_cost,
            "charger_cost": self.charger_cost,
            "capacity_per_charger": self.capacity.per_charger,
            "capacity_intercept": self.capacity.intercept,
            "max_chargers": self.limit,
            "coverage": self.coverage,
            "min_chargers": self.least,
        }


def _case(seed: int, **changes: Any) -> Case:
    rng = np.random.default_rng(seed)
    n_rows, n_sites = 24, 7
    reach = sp.csr_matrix((rng.random((n_rows, n_sites)) < 0.35).astype(np.float64))
    case = Case(
        reach=reach,
        demand=rng.uniform(0.2, 2.0, n_rows),
        site_cost=rng.integers(5, 20, n_sites).astype(np.float64),
        charger_cost=rng.integers(1, 4, n_sites).astype(np.float64),
        limit=rng.integers(2, 7, n_sites).astype(np.float64),
        capacity=Capacity(1.0, -0.4 if seed % 2 else 0.0),
        coverage=0.6,
        least=1 + seed % 2,
    )
    return replace(case, **changes)


def _side(n_sites: int) -> SiteRows:
    """At least two of the first three sites open (a brand-share-like row)."""
    row = np.zeros(n_sites)
    row[:3] = 1.0
    return SiteRows(sp.csr_matrix(row[None, :]), np.array([2.0]), np.array([np.inf]), ("two",))


def _parts(case: Case) -> tuple[object, SizingCosts]:
    n_sites = case.reach.shape[1]
    never = np.zeros(n_sites, dtype=bool)
    must = np.zeros(n_sites, dtype=bool) if case.fixed is None else case.fixed
    inst = reduce_instance(case.reach, case.demand, case.limit, case.capacity, never, case.least)
    target = case.coverage * float(inst.row_demand.sum())
    penalty = case.penalty or 0.0
    costs = SizingCosts(
        case.site_cost,
        case.charger_cost,
        case.capacity,
        target,
        math.ceil(target / case.capacity.per_charger - 1e-9),
        penalty,
        penalty * float(case.demand.sum()),
        must,
        case.least,
        case.side or no_site_rows(n_sites),
        case.budget,
    )
    return inst, costs


def _optimum(case: Case) -> float:
    """The plain MILP of the model's docstring, solved to optimality."""
    inst, costs = _parts(case)
    n_sites = case.reach.shape[1]
    milp = formulation.build_milp(
        inst,  # type: ignore[arg-type]
        case.site_cost,
        case.charger_cost,
        case.capacity,
        costs.target,
        case.penalty,
        costs.must,
        np.zeros(n_sites, dtype=bool),
        case.demand,
        case.least,
    )
    milp = formulation.with_side_rows(
        milp, costs.side, case.budget, case.site_cost, case.charger_cost, n_sites
    )
    result = solve_milp(milp, EXACT, backend="scip")
    assert result.status is MilpStatus.OPTIMAL
    return result.objective


CASES = [
    pytest.param(_case(1), id="plain"),
    pytest.param(_case(2), id="no-intercept"),
    pytest.param(_case(3, penalty=30.0), id="penalty"),
    pytest.param(_case(4, coverage=0.0, penalty=25.0), id="penalty-only"),
    pytest.param(_case(5, side=_side(7)), id="side-row"),
    pytest.param(_case(6, budget=200.0), id="budget"),
    pytest.param(_case(7, fixed=np.array([True] + [False] * 6)), id="fixed"),
]


@pytest.mark.parametrize("case", CASES)
def test_lagrangian_value_never_exceeds_the_optimum(case: Case) -> None:
    optimum = _optimum(case)
    inst, costs = _parts(case)
    knapsacks = SiteKnapsacks(inst, costs)  # type: ignore[arg-type]
    tolerance = 1e-7 * max(1.0, abs(optimum))
    start = knapsacks.start()
    assert knapsacks.evaluate(start).value <= optimum + tolerance
    ascent = ascend(knapsacks, start, upper=optimum * 1.05 + 1.0, deadline=math.inf, iterations=300)
    assert ascent.relaxed.value <= optimum + tolerance
    rng = np.random.default_rng(11)
    for _ in range(20):
        point = Multipliers(
            row=rng.uniform(0, 40, knapsacks.n_rows),
            coverage=float(rng.uniform(0, 40)),
            chargers=float(rng.uniform(0, 5)),
            side_lower=rng.uniform(0, 10, start.side_lower.size),
            side_upper=rng.uniform(0, 10, start.side_upper.size),
            budget=float(rng.uniform(0, 1)) if case.budget is not None else 0.0,
        )
        assert knapsacks.evaluate(point).value <= optimum + tolerance


def _plan_from_every_site(case: Case, inst: object, costs: SizingCosts) -> FlowPlan:
    plan = flow_plan(
        inst,  # type: ignore[arg-type]
        case.site_cost,
        case.charger_cost,
        case.capacity,
        costs.target,
        start=np.ones(case.reach.shape[1], dtype=bool),
        must=costs.must,
        least=case.least,
        side=costs.side,
        deadline=math.inf,
    )
    assert plan is not None
    return plan


def _assert_feasible(case: Case, inst: object, plan: FlowPlan) -> None:
    """The evaluator finds no violation and the plan's own cost."""
    n_rows, n_sites = case.reach.shape
    served = sizing_model._expand(inst, plan.shares, n_rows, n_sites)  # type: ignore[arg-type]
    check = evaluate_sizing(
        case.reach,
        case.demand,
        chargers=plan.chargers.astype(np.int64),
        served=served,
        **case.model_arguments(),
        open_sites=np.flatnonzero(plan.is_open),
    )
    assert check.violations == ()
    assert check.objective == pytest.approx(plan.cost)


@pytest.mark.parametrize("seed", [2, 5, 6, 8, 11])
def test_flow_plan_from_a_start_above_an_upper_bound_comes_down_to_it(seed: int) -> None:
    # At most one of the first three sites, and every site in the start: each
    # single drop still leaves the row broken, but closer to holding.
    row = np.zeros(7)
    row[:3] = 1.0
    side = SiteRows(sp.csr_matrix(row[None, :]), np.array([-np.inf]), np.array([1.0]), ("one",))
    case = _case(seed, side=side)
    inst, costs = _parts(case)
    assert costs.side.satisfied(np.arange(7)) == ["one"]
    plan = _plan_from_every_site(case, inst, costs)
    _assert_feasible(case, inst, plan)
    assert plan.is_open[:3].sum() <= 1
    assert plan.cost >= _optimum(case) - 1e-7


@pytest.mark.parametrize("seed", [1, 2, 5, 8])
def test_flow_plan_is_feasible(seed: int) -> None:
    case = _case(seed, side=_side(7) if seed == 5 else None)
    inst, costs = _parts(case)
    plan = _plan_from_every_site(case, inst, costs)
    _assert_feasible(case, inst, plan)
    assert not costs.side.satisfied(np.flatnonzero(plan.is_open))
    assert plan.cost >= _optimum(case) - 1e-7


def _exchanged(case: Case, inst: object, costs: SizingCosts, plan: FlowPlan) -> FlowPlan:
    return exchange(
        inst,  # type: ignore[arg-type]
        case.site_cost,
        case.charger_cost,
        case.capacity,
        costs.target,
        plan,
        must=costs.must,
        least=case.least,
        side=costs.side,
        deadline=math.inf,
    )


def test_exchange_swaps_a_dear_site_for_a_cheap_one() -> None:
    # Sites 0 and 1 reach all four rows, site 2 only two; site 0 costs ten times more.
    reach = sp.csr_matrix(np.array([[1, 1, 1], [1, 1, 1], [1, 1, 0], [1, 1, 0]], dtype=float))
    case = Case(
        reach=reach,
        demand=np.ones(4),
        site_cost=np.array([50.0, 5.0, 5.0]),
        charger_cost=np.ones(3),
        limit=np.full(3, 4.0),
        capacity=Capacity(1.0),
        coverage=0.7,
        least=1,
    )
    inst, costs = _parts(case)
    dear = FlowPlan(np.array([True, False, False]), np.array([4.0, 0.0, 0.0]), np.zeros(12), 54.0)
    better = _exchanged(case, inst, costs, dear)
    assert better.is_open.tolist() == [False, True, False]
    assert better.chargers.tolist() == [0.0, 3.0, 0.0]
    assert better.cost == 8.0 == _optimum(case)


@pytest.mark.parametrize("seed", [1, 2, 5, 7, 8])
def test_exchange_keeps_plans_feasible_and_never_dearer(seed: int) -> None:
    fixed = np.array([True] + [False] * 6) if seed == 7 else None
    case = _case(seed, side=_side(7) if seed == 5 else None, fixed=fixed)
    inst, costs = _parts(case)
    plan = _plan_from_every_site(case, inst, costs)
    better = _exchanged(case, inst, costs, plan)
    _assert_feasible(case, inst, better)
    assert _optimum(case) - 1e-7 <= better.cost <= plan.cost
    assert not costs.side.satisfied(np.flatnonzero(better.is_open))
    assert np.all(better.is_open[costs.must])


@pytest.mark.parametrize("coverage", [0.0, 0.6])
def test_search_with_a_penalty_finds_plans_priced_with_it(coverage: float) -> None:
    case = _case(3, penalty=30.0, coverage=coverage)
    inst, costs = _parts(case)
    n_rows, n_sites = case.reach.shape
    found = search(
        inst,  # type: ignore[arg-type]
        costs,
        start=np.ones(n_sites, dtype=bool),
        start_cost=math.inf,
        deadline=time.perf_counter() + 5.0,
        start_served=0.9 * float(case.demand.sum()),
    )
    assert found.plan is not None
    served = sizing_model._expand(inst, found.plan.shares, n_rows, n_sites)  # type: ignore[arg-type]
    check = evaluate_sizing(
        case.reach,
        case.demand,
        chargers=found.plan.chargers.astype(np.int64),
        served=served,
        **{**case.model_arguments(), "coverage": coverage},
        unserved_penalty=case.penalty,
        open_sites=np.flatnonzero(found.plan.is_open),
    )
    assert check.violations == ()
    assert check.site_cost + check.charger_cost == pytest.approx(found.plan.cost)
    optimum = _optimum(case)
    assert optimum - 1e-7 <= check.objective
    assert found.bound <= optimum + 1e-7 * max(1.0, optimum)


def _force_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sifted rounds and the kernel's search, which only large instances get."""
    monkeypatch.setattr(sizing_search, "_KERNEL_PAIRS", 0)
    monkeypatch.setattr(sizing_search, "_KERNEL_SITES_SHARE", 1.0)


def _solve_model(case: Case, settings: SolverSettings) -> Any:
    return sizing(
        case.reach,
        case.demand,
        **case.model_arguments(),
        unserved_penalty=case.penalty,
        fixed=case.fixed,
        constraints=case.side,
        budget=case.budget,
        settings=settings,
    )


@pytest.mark.parametrize("large", ["", "sample-start", "kernel"])
@pytest.mark.parametrize("case", CASES)
def test_model_reaches_the_plain_milp_optimum(
    case: Case, large: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What only large instances get: the start from every fifth site's prices,
    # or the plans of the search on the sites the minimisers open.
    if large == "sample-start":
        monkeypatch.setattr(lagrange, "_COARSE_PAIRS", 0)
    if large == "kernel":
        _force_kernel(monkeypatch)
    optimum = _optimum(case)
    out = _solve_model(case, EXACT)
    assert out.solution.status is Status.OPTIMAL
    assert out.solution.objective == pytest.approx(optimum, rel=1e-7, abs=1e-7)
    assert out.solution.bound <= optimum + 1e-7 * max(1.0, optimum)


@pytest.mark.parametrize("case", [c for c in CASES if c.id != "penalty-only"])
def test_kernel_plan_is_a_cheaper_plan_of_the_whole_instance(case: Case) -> None:
    inst, costs = _parts(case)
    best = _plan_from_every_site(case, inst, costs)
    # A start priced far above its cost: any plan the kernel's search finds beats it.
    upper = 10 * costs.objective(best.cost, served_demand(inst, best.shares)) + 100  # type: ignore[arg-type]
    # Every site but the dearest free one: the plan found must leave it closed.
    dearest = int(np.argmax(np.where(costs.must, -np.inf, case.site_cost)))
    kernel = np.arange(case.reach.shape[1]) != dearest
    knapsacks = SiteKnapsacks(inst, costs)  # type: ignore[arg-type]
    plan = sizing_search._kernel_plan(
        inst,  # type: ignore[arg-type]
        costs,
        kernel,
        best.is_open,
        served_demand(inst, best.shares),  # type: ignore[arg-type]
        upper,
        knapsacks.start(),
        time.perf_counter() + 5.0,
    )
    assert plan is not None
    assert not plan.is_open[dearest] and plan.chargers[dearest] == 0
    _assert_feasible(case, inst, plan)
    served = served_demand(inst, plan.shares)  # type: ignore[arg-type]
    assert _optimum(case) - 1e-7 <= costs.objective(plan.cost, served) < upper
    if case.budget is not None:
        assert plan.cost <= case.budget
    assert not costs.side.satisfied(np.flatnonzero(plan.is_open))


@pytest.mark.parametrize("case", CASES)
def test_start_values_every_row_at_the_cheapest_full_site(case: Case) -> None:
    inst, costs = _parts(case)
    knapsacks = SiteKnapsacks(inst, costs)  # type: ignore[arg-type]
    start = knapsacks.start()
    limit = knapsacks.inst.limit
    room = case.capacity.room(limit)
    usable = room > 0
    cheapest = float(np.min((case.site_cost + case.charger_cost * limit)[usable] / room[usable]))
    value = start.coverage + costs.penalty - start.row
    assert np.allclose(
        value, cheapest if costs.target > 0 or costs.penalty >= cheapest else costs.penalty
    )
    if costs.penalty == 0:
        assert not start.row.any()


@pytest.mark.parametrize("case", CASES)
def test_coarse_start_prices_the_rows_no_sampled_site_reaches_at_nothing(case: Case) -> None:
    inst, costs = _parts(case)
    knapsacks = SiteKnapsacks(inst, costs)  # type: ignore[arg-type]
    # A small instance is below the size the sample is for.
    assert coarse_start(knapsacks, upper=1e6, deadline=math.inf) is None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lagrange, "_COARSE_PAIRS", 0)
        warm = coarse_start(knapsacks, upper=_optimum(case) * 1.05 + 1.0, deadline=math.inf)
    assert warm is not None
    sampled = np.zeros(knapsacks.n_sites, dtype=bool)
    sampled[:: lagrange._COARSE_STRIDE] = True
    unreached = np.asarray(inst.rows[:, sampled].sum(axis=1)).ravel() == 0  # type: ignore[attr-defined]
    assert unreached.any() and not unreached.all()
    assert np.allclose(warm.row[unreached], warm.coverage + costs.penalty)
    assert np.all(warm.row >= 0) and warm.coverage >= 0 and warm.chargers >= 0
    assert not warm.side_lower.any() and not warm.side_upper.any() and warm.budget == 0
    optimum = _optimum(case)
    assert knapsacks.evaluate(warm).value <= optimum + 1e-7 * max(1.0, abs(optimum))


def test_cost_step_rounds_bounds_to_the_common_divisor() -> None:
    prices = np.array([250_000.0, 300_000.0])
    per_charger = np.array([150_000.0, 150_000.0])
    assert cost_step(prices, per_charger, None) == 50_000.0
    assert cost_step(prices, per_charger, 10.0) == 0.0
    assert cost_step(prices + 0.5, per_charger, None) == 0.0
    # A hair off whole euros adds up over hundreds of chargers: no rounding.
    assert cost_step(prices, per_charger + 1e-5, None) == 0.0
    assert round_up_to(26_040_000.0, 50_000.0) == 26_050_000.0
    assert round_up_to(26_050_000.0, 50_000.0) == 26_050_000.0
    assert round_up_to(1.5, 0.0) == 1.5


def test_expanding_shares_leaves_the_instance_pairs_alone() -> None:
    case = _case(2)
    inst, costs = _parts(case)
    before = inst.rows.copy()  # type: ignore[attr-defined]
    plan = _plan_from_every_site(case, inst, costs)
    assert np.any(plan.shares == 0)  # pairs the plan does not use: dropped from its shares
    n_rows, n_sites = case.reach.shape
    sizing_model._expand(inst, plan.shares, n_rows, n_sites)  # type: ignore[arg-type]
    rows = inst.rows  # type: ignore[attr-defined]
    assert rows.nnz == before.nnz
    assert np.array_equal(rows.indices, before.indices)
    assert np.array_equal(rows.indptr, before.indptr)


@pytest.mark.parametrize("case", CASES)
def test_search_notes_plans_and_bounds_true_to_the_whole_model(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the kernel forced, the search on part of the sites runs too: its plans
    # are the whole model's, its bounds are not and must not be noted.
    _force_kernel(monkeypatch)
    inst, costs = _parts(case)
    with watch(lambda _: None, time_limit_s=10.0) as snapshot:
        assert snapshot is not None
        found = search(
            inst,  # type: ignore[arg-type]
            costs,
            start=np.ones(case.reach.shape[1], dtype=bool),
            start_cost=math.inf,
            deadline=time.perf_counter() + 3.0,
            start_served=float(inst.row_demand.sum()),  # type: ignore[attr-defined]
        )
        seen = snapshot()
    assert found.plan is not None
    served = served_demand(inst, found.plan.shares)  # type: ignore[arg-type]
    assert seen.best == pytest.approx(costs.objective(found.plan.cost, served))
    assert seen.bound == found.bound
    assert found.bound <= _optimum(case) + 1e-7 * max(1.0, abs(_optimum(case)))


def _short_slices(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    # Short slices and one joining site at a time: many rounds of pricing.
    monkeypatch.setattr(lagrange, "SIFT_SLICE_S", seconds)
    monkeypatch.setattr(lagrange, "SIFT_JOINING", 1)


@pytest.mark.parametrize("case", CASES)
def test_sifted_ascent_bounds_the_whole_instance(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    _short_slices(monkeypatch, 0.02)
    inst, costs = _parts(case)
    knapsacks = SiteKnapsacks(inst, costs)  # type: ignore[arg-type]
    start = knapsacks.start()
    optimum = _optimum(case)
    ascent = lagrange.sifted_ascend(
        knapsacks,
        start,
        upper=optimum * 1.05 + 1.0,
        deadline=time.perf_counter() + 1.0,
        factor=2.0,
    )
    # The value reported is the whole instance's at the point reported.
    assert ascent.relaxed.value == pytest.approx(knapsacks.evaluate(ascent.point).value)
    assert knapsacks.evaluate(start).value - 1e-9 <= ascent.relaxed.value
    assert ascent.relaxed.value <= optimum + 1e-7 * max(1.0, abs(optimum))
    assert ascent.opened.shape == (case.reach.shape[1],)
    assert np.all((ascent.opened >= 0) & (ascent.opened <= 1))


@pytest.mark.parametrize("case", CASES)
def test_sifted_working_set_grows_by_the_joining_cap(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a penalty at most SIFT_JOINING sites join per slice; without, up to
    # half the working set may.
    _short_slices(monkeypatch, 0.01)
    sizes: list[int] = []
    restrict = lagrange.on_sites

    def recorded(inst: Any, costs: Any, sites: Any) -> Any:
        sizes.append(int(sites.size))
        return restrict(inst, costs, sites)

    monkeypatch.setattr(lagrange, "on_sites", recorded)
    inst, costs = _parts(case)
    knapsacks = SiteKnapsacks(inst, costs)  # type: ignore[arg-type]
    lagrange.sifted_ascend(
        knapsacks,
        knapsacks.start(),
        upper=_optimum(case) * 1.05 + 1.0,
        deadline=time.perf_counter() + 0.5,
        factor=2.0,
    )
    assert sizes
    for before, after in itertools.pairwise(sizes):
        cap = 1 if costs.penalty > 0 else max(1, before // 2)
        assert before < after <= before + cap


@pytest.mark.parametrize("case", CASES)
def test_kernel_milp_gives_a_plan_of_the_whole_instance(case: Case) -> None:
    inst, costs = _parts(case)
    n_rows, n_sites = case.reach.shape
    # A start where the flow plans give one (not without a target: no start then).
    hint = np.zeros(2 * n_sites + inst.rows.nnz)  # type: ignore[attr-defined]
    if costs.target > 0:
        start = _plan_from_every_site(case, inst, costs)
        hint = np.concatenate([start.is_open, start.chargers, start.shares])
    # Every site but the dearest free one: the plan found must leave it closed.
    dearest = int(np.argmax(np.where(costs.must, -np.inf, case.site_cost)))
    kernel = np.arange(n_sites) != dearest
    found = formulation.kernel_milp(
        inst,  # type: ignore[arg-type]
        costs,
        kernel,
        hint,
        case.penalty,
        case.demand,
        case.budget,
        EXACT,
    )
    assert found is not None
    y, n = found.values[:n_sites], found.values[n_sites : 2 * n_sites]
    assert y[dearest] == 0 and n[dearest] == 0
    chargers = np.round(n).astype(np.int64)
    shares = np.clip(found.values[2 * n_sites :], 0.0, 1.0)
    served = sizing_model._expand(inst, shares, n_rows, n_sites)  # type: ignore[arg-type]
    check = evaluate_sizing(
        case.reach,
        case.demand,
        chargers=chargers,
        served=served,
        **case.model_arguments(),
        unserved_penalty=case.penalty,
        open_sites=np.flatnonzero(np.round(y) > 0),
    )
    assert check.violations == ()
    # The whole model's objective for the plan, and no better than the optimum.
    assert check.objective == pytest.approx(found.objective, rel=1e-6, abs=1e-6)
    assert _optimum(case) - 1e-7 <= found.objective
    if case.budget is not None:
        assert check.site_cost + check.charger_cost <= case.budget * (1 + 1e-9)
    assert not costs.side.satisfied(np.flatnonzero(np.round(y) > 0))


@pytest.mark.parametrize("case", [c for c in CASES if c.id in ("penalty", "penalty-only")])
def test_model_with_a_penalty_takes_the_kernel_milp_plan_only_when_better(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Above _MILP_PAIRS with a penalty, the MILP on the kernel follows the search.
    monkeypatch.setattr(sizing_model, "_MILP_PAIRS", 0)
    kernel_plans: list[float] = []
    original = formulation.kernel_milp

    def recorded(*args: Any) -> Any:
        found = original(*args)
        kernel_plans.append(math.inf if found is None else found.objective)
        return found

    monkeypatch.setattr(formulation, "kernel_milp", recorded)
    settings = SolverSettings(time_limit_s=4.0, relative_gap=1e-9)

    def solve() -> float:
        out = _solve_model(case, settings)
        assert out.solution.bound <= _optimum(case) + 1e-7 * max(1.0, _optimum(case))
        return out.solution.objective

    with_kernel = solve()
    monkeypatch.setattr(sizing_model, "_KERNEL_MILP_PAIRS", -1)
    without = solve()
    assert _optimum(case) - 1e-6 <= with_kernel <= without + 1e-6
    assert kernel_plans  # the search alone leaves both cases unproven
    for objective in kernel_plans:  # a kernel plan is taken when better, and only then
        assert with_kernel <= objective + 1e-6


def test_a_penalty_with_every_row_served_leaves_the_search_its_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # At coverage 1 the penalty is a constant: no kernel MILP choosing how much
    # to serve, and the plan and bound are the search's, as without a penalty.
    monkeypatch.setattr(sizing_model, "_MILP_PAIRS", 0)
    shares: list[float] = []
    search_of = sizing_model.search

    def timed(*args: Any, deadline: float, **kwargs: Any) -> Any:
        shares.append(deadline)
        return search_of(*args, deadline=deadline, **kwargs)

    def no_kernel(*args: Any) -> Any:
        raise AssertionError("the kernel MILP ran")

    monkeypatch.setattr(sizing_model, "search", timed)
    monkeypatch.setattr(formulation, "kernel_milp", no_kernel)
    case = _case(4, coverage=1.0, penalty=30.0)
    started = time.perf_counter()
    out = _solve_model(case, SolverSettings(time_limit_s=4.0, relative_gap=1e-9))
    optimum = _optimum(case)
    assert out.solution.bound <= optimum + 1e-7 * optimum <= out.solution.objective + 2e-7 * optimum
    # The search's deadline is the one without a penalty (0.9 of the limit).
    assert shares and shares[0] - started > 0.75 * 4.0  # 0.6 of it with the kernel MILP


def test_a_search_that_ends_before_its_deadline_is_stopped_not_time_limited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Above _MILP_PAIRS (here every instance) the search's plan is the answer;
    # on this case it ends within a second, its plan optimal, its bound below.
    monkeypatch.setattr(sizing_model, "_MILP_PAIRS", 0)
    case = _case(1)  # "plain"
    settings = SolverSettings(time_limit_s=30.0, relative_gap=1e-9)
    quick = _solve_model(case, settings).solution
    assert quick.gap > settings.relative_gap
    assert quick.status is Status.STOPPED
    assert quick.seconds < settings.time_limit_s
    # The same search held until its deadline: its time was up, so time_limit.
    original = sizing_model.search

    def held(*args: Any, **kwargs: Any) -> Any:
        found = original(*args, **kwargs)
        time.sleep(max(kwargs["deadline"] - time.perf_counter(), 0.0) + 0.01)
        return found

    monkeypatch.setattr(sizing_model, "search", held)
    slow = _solve_model(case, replace(settings, time_limit_s=1.5)).solution
    assert slow.status is Status.TIME_LIMIT
    assert (slow.objective, slow.bound) == (quick.objective, quick.bound)


@pytest.mark.parametrize(("per_pair", "first"), [(0.0, "plan"), (1.0, "ascent")])
def test_the_first_flow_plan_waits_for_a_window_that_holds_it(
    per_pair: float, first: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A flow plan is three maximum flows over its sites' pairs: with more pairs
    # than its window holds it would run past the deadline, so the ascent comes first.
    monkeypatch.setattr(sizing_search, "_PLAN_S_PER_PAIR", per_pair)
    events: list[str] = []
    plan, ascent = sizing_search.flow_plan, sizing_search.ascend

    def planned(*args: Any, **kwargs: Any) -> Any:
        events.append("plan")
        return plan(*args, **kwargs)

    def ascended(*args: Any, **kwargs: Any) -> Any:
        events.append("ascent")
        return ascent(*args, **kwargs)

    monkeypatch.setattr(sizing_search, "flow_plan", planned)
    monkeypatch.setattr(sizing_search, "ascend", ascended)
    case = _case(1)
    inst, costs = _parts(case)
    search(
        inst,  # type: ignore[arg-type]
        costs,
        start=np.ones(case.reach.shape[1], dtype=bool),
        start_cost=math.inf,
        deadline=time.perf_counter() + 3.0,
    )
    assert events[0] == first
