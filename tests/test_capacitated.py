"""Capacitated facility location: bound, plans and fixings against brute force and plain MILP."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import InfeasibleError
from planner.optimise import Solution, SolverSettings, Status, evaluate, facility_location
from planner.optimise._milp import MilpResult, MilpStatus, solve_milp
from planner.optimise.capacitated import _branch as branch
from planner.optimise.capacitated import _enumerate as enumerate_sets
from planner.optimise.capacitated import _heuristic as heuristic
from planner.optimise.capacitated import _lagrange as lagrange
from planner.optimise.capacitated import model as capacitated_model
from planner.optimise.capacitated._data import Pairs, cheapest_cover
from planner.optimise.capacitated.model import reduced_milp
from planner.optimise.instances import Instance, random_capacitated

EXACT = SolverSettings(relative_gap=1e-9, time_limit_s=60.0)
DEFAULT = SolverSettings()


def sparse_instance(seed: int, n_sites: int = 5, n_customers: int = 8) -> Instance:
    """A small instance where each customer reaches only some sites (and at least one)."""
    full = random_capacitated(n_sites, n_customers, 1.6, seed=seed)
    rng = np.random.default_rng(seed + 100)
    keep = rng.random((n_customers, n_sites)) < 0.6
    keep[np.arange(n_customers), rng.integers(0, n_sites, n_customers)] = True
    dense = full.reach.toarray()
    rows, cols = np.nonzero(keep)
    reach = sp.csr_matrix((dense[rows, cols], (rows, cols)), shape=dense.shape)
    assert full.costs is not None and full.capacities is not None
    # Unequal capacities exercise the cover knapsack's dynamic programme.
    capacities = full.capacities * rng.uniform(0.7, 1.6, n_sites).round(1)
    return Instance(full.name, reach, full.weights, costs=full.costs, capacities=capacities)


def pairs_of(instance: Instance, *, single_source: bool = False) -> Pairs:
    assert instance.costs is not None and instance.capacities is not None
    n_sites = instance.reach.shape[1]
    return Pairs.from_rows(
        sp.csr_matrix(instance.reach),
        instance.weights,
        instance.costs,
        instance.capacities,
        np.zeros(n_sites, bool),
        np.zeros(n_sites, bool),
        single_source=single_source,
    )


def plain_optimum(pairs: Pairs) -> float:
    """The strong formulation handed whole to HiGHS at gap 1e-9."""
    milp, _ = reduced_milp(pairs, pairs.fixed, ~pairs.excluded, np.ones(pairs.cost.size))
    result = solve_milp(milp, EXACT)
    if result.status is MilpStatus.INFEASIBLE:
        return math.inf
    assert result.status is MilpStatus.OPTIMAL
    return result.objective


def single_source_brute_force(pairs: Pairs) -> float:
    """Every assignment of customers to a site in reach that fits the capacities."""
    options = [np.flatnonzero(pairs.owner == i) for i in range(pairs.n_customers)]
    best = math.inf
    for choice in itertools.product(*options):
        picked = np.asarray(choice)
        load = np.bincount(
            pairs.site[picked], weights=pairs.demand[pairs.owner[picked]], minlength=pairs.n_sites
        )
        if np.any(load > pairs.capacity + 1e-9):
            continue
        opened = np.zeros(pairs.n_sites, bool)
        opened[pairs.site[picked]] = True
        best = min(best, float(pairs.opening[opened].sum() + pairs.cost[picked].sum()))
    return best


def solve(
    instance: Instance,
    *,
    single_source: bool = False,
    fixed: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    settings: SolverSettings = DEFAULT,
) -> Solution:
    assert instance.costs is not None
    return facility_location(
        instance.costs,
        instance.reach,
        demand=instance.weights,
        capacities=instance.capacities,
        single_source=single_source,
        fixed=fixed,
        excluded=excluded,
        settings=settings,
    )


def check_plan(instance: Instance, solution: Solution) -> None:
    """The returned allocation serves everyone within capacity and costs the objective."""
    assert instance.costs is not None and instance.capacities is not None
    assert solution.allocation is not None
    cost = evaluate.capacitated_objective(
        instance.costs,
        sp.csr_matrix(instance.reach),
        instance.weights,
        instance.capacities,
        solution.open_sites,
        solution.allocation,
    )
    assert cost == pytest.approx(solution.objective, rel=1e-9)


def check_optimum(instance: Instance, solution: Solution, optimum: float) -> None:
    """A valid plan at ``optimum``, with a bound that does not pass it."""
    check_plan(instance, solution)
    assert solution.objective == pytest.approx(optimum, rel=1e-7)
    assert solution.bound <= optimum * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_split_demand_matches_the_plain_model(seed: int) -> None:
    instance = random_capacitated(6, 12, 1.2 + 0.25 * (seed % 4), seed=seed)
    optimum = plain_optimum(pairs_of(instance))
    solution = solve(instance, settings=EXACT)
    check_optimum(instance, solution, optimum)
    assert solution.status is Status.OPTIMAL


@pytest.mark.parametrize("seed", range(6))
def test_split_demand_with_sparse_reach_and_unequal_capacities(seed: int) -> None:
    instance = sparse_instance(seed)
    optimum = plain_optimum(pairs_of(instance))
    if not math.isfinite(optimum):
        with pytest.raises(InfeasibleError):
            solve(instance)
        return
    solution = solve(instance, settings=EXACT)
    check_optimum(instance, solution, optimum)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("split_first", [False, True])
def test_single_source_matches_brute_force(
    seed: int, split_first: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both ways: by way of split demand, and the single-sourcing model alone.
    monkeypatch.setattr(capacitated_model, "_CUSTOMERS_PER_SITE", 0 if split_first else math.inf)
    instance = random_capacitated(4, 6, 1.5 + 0.3 * (seed % 3), seed=seed)
    optimum = single_source_brute_force(pairs_of(instance, single_source=True))
    if not math.isfinite(optimum):
        with pytest.raises(InfeasibleError):
            solve(instance, single_source=True)
        return
    solution = solve(instance, single_source=True, settings=EXACT)
    check_optimum(instance, solution, optimum)
    allocation = solution.allocation
    assert allocation is not None
    assert set(np.unique(allocation.data).tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("seed", range(4))
def test_lagrangian_bound_holds_for_any_multipliers(seed: int) -> None:
    instance = random_capacitated(5, 10, 1.4, seed=seed)
    pairs = pairs_of(instance)
    optimum = plain_optimum(pairs)
    rng = np.random.default_rng(seed)
    everything = np.ones(pairs.n_sites, bool)
    for _ in range(20):
        multipliers = lagrange.initial_multipliers(pairs) * rng.uniform(0.0, 3.0, pairs.n_customers)
        relaxed = lagrange.relax(pairs, multipliers, ~everything, everything)
        assert relaxed.bound <= optimum * (1 + 1e-9)


def test_relaxation_over_the_cheapest_pairs_equals_the_full_one() -> None:
    pairs = pairs_of(sparse_instance(5, n_sites=12, n_customers=60))
    order = lagrange.CostOrder(pairs)
    everything = np.ones(pairs.n_sites, bool)
    rng = np.random.default_rng(5)
    for _ in range(10):
        multipliers = lagrange.initial_multipliers(pairs) * rng.uniform(0.5, 4.0, pairs.n_customers)
        full = lagrange.relax(pairs, multipliers, ~everything, everything)
        fast = lagrange.relax(pairs, multipliers, ~everything, everything, order)
        assert fast.bound == pytest.approx(full.bound, rel=1e-12)
        assert sorted(fast.taken.tolist()) == sorted(full.taken.tolist())


def ascend(pairs: Pairs, target: float, iterations: int) -> lagrange.Dual:
    """The Lagrangian ascent over every site towards ``target``, without a time limit."""
    return lagrange.maximise(
        pairs,
        np.zeros(pairs.n_sites, bool),
        np.ones(pairs.n_sites, bool),
        upper_bound=lambda: target,
        on_relaxation=lambda relaxation, iteration: None,
        deadline=math.inf,
        relative_gap=0.0,
        max_iterations=iterations,
    )


@pytest.mark.parametrize("seed", range(4))
def test_fixings_keep_the_optimum(seed: int) -> None:
    instance = random_capacitated(8, 16, 1.5, seed=seed)
    pairs = pairs_of(instance)
    optimum = plain_optimum(pairs)
    lower, upper = np.zeros(pairs.n_sites, bool), np.ones(pairs.n_sites, bool)
    dual = ascend(pairs, optimum, 300)
    assert dual.relaxation.bound <= optimum * (1 + 1e-9)
    fixings = lagrange.fix_sites(pairs, dual, lower, upper, optimum)
    milp, _ = reduced_milp(pairs, fixings.open, ~fixings.closed, fixings.pair_upper)
    result = solve_milp(milp, EXACT)
    assert result.objective == pytest.approx(optimum, rel=1e-7)


@pytest.mark.parametrize("seed", range(6))
def test_heuristic_plans_are_feasible(seed: int) -> None:
    instance = sparse_instance(seed, n_sites=6, n_customers=15)
    rng = np.random.default_rng(seed)
    for single_source in (False, True):
        pairs = pairs_of(instance, single_source=single_source)
        for _ in range(5):
            opened = rng.random(pairs.n_sites) < 0.7
            served = heuristic.serve(pairs, opened)
            if served is None:
                continue
            cost, shares = served
            assert np.all(shares[~opened[pairs.site]] == 0)
            total = np.bincount(pairs.owner, weights=shares, minlength=pairs.n_customers)
            np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-9)
            load = np.bincount(
                pairs.site, weights=shares * pairs.demand[pairs.owner], minlength=pairs.n_sites
            )
            assert np.all(load <= pairs.capacity * (1 + 1e-9))
            assert cost == pytest.approx(pairs.objective(opened, shares))


@pytest.mark.parametrize("seed", range(6))
def test_candidate_sets_are_every_cheap_cover(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 9
    values = rng.uniform(-3.0, 10.0, n).round(2)
    capacity = rng.integers(1, 6, n).astype(float)
    lower = rng.random(n) < 0.15
    upper = ~(rng.random(n) < 0.15) | lower
    requirement = float(capacity.sum()) * 0.45
    limit = 12.0
    found = enumerate_sets.candidate_sets(
        values, capacity, requirement, lower, upper, limit, deadline=math.inf
    )
    assert found.complete
    expected = set()
    for picks in itertools.product((False, True), repeat=n):
        chosen = np.asarray(picks)
        if np.any(lower & ~chosen) or np.any(chosen & ~upper):
            continue
        if capacity[chosen].sum() >= requirement and values[chosen].sum() <= limit:
            expected.add(tuple(np.flatnonzero(chosen).tolist()))
    assert {tuple(sorted(each.tolist())) for each in found.sets} == expected
    assert np.all(np.diff(found.sums) >= 0)
    for total, each in zip(found.sums, found.sets, strict=True):
        assert total == pytest.approx(values[each].sum())


def opening_heavy(seed: int, n_sites: int = 9, n_customers: int = 40) -> Instance:
    """Opening costs about half the optimum, as in OR-Library's capa: few sites open."""
    return random_capacitated(n_sites, n_customers, 2.5, seed=seed, opening_scale=150.0)


def brute_force_split(pairs: Pairs) -> float:
    """Every open set served by the transportation problem."""
    best = math.inf
    for picks in itertools.product((False, True), repeat=pairs.n_sites):
        served = heuristic.serve(pairs, np.asarray(picks))
        if served is not None:
            best = min(best, served[0])
    return best


@pytest.mark.parametrize("seed", range(4))
def test_set_enumeration_finds_and_proves_the_optimum(seed: int) -> None:
    pairs = pairs_of(opening_heavy(seed))
    optimum = brute_force_split(pairs)
    lower, upper = np.zeros(pairs.n_sites, bool), np.ones(pairs.n_sites, bool)
    dual = ascend(pairs, optimum * 1.05, 200)
    # Any plan above the optimum as the incumbent: the enumeration must find a better one.
    listed = enumerate_sets.best_of_sets(
        pairs, dual, lower, upper, optimum * 1.05, deadline=math.inf
    )
    assert listed.cost == pytest.approx(optimum, rel=1e-7)
    assert listed.opened is not None and listed.shares is not None
    assert pairs.objective(listed.opened, listed.shares) == pytest.approx(listed.cost)
    assert math.isfinite(listed.proven_bound)
    assert listed.proven_bound <= optimum * (1 + 1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_swap_search_improves_and_respects_fixed_and_allowed_sites(seed: int) -> None:
    pairs = pairs_of(opening_heavy(seed))
    rng = np.random.default_rng(seed)
    fixed = np.zeros(pairs.n_sites, bool)
    fixed[rng.integers(pairs.n_sites)] = True
    allowed = rng.random(pairs.n_sites) < 0.8
    allowed |= fixed
    start = allowed.copy()
    served = heuristic.serve(pairs, start)
    assert served is not None
    opened, cost, shares = heuristic.improve(
        pairs,
        start,
        *served,
        values=pairs.opening - pairs.capacity,
        fixed=fixed,
        allowed=allowed,
        deadline=math.inf,
    )
    assert cost <= served[0]
    assert np.all(opened[fixed]) and not np.any(opened & ~allowed)
    assert pairs.objective(opened, shares) == pytest.approx(cost)
    # A local optimum: no single close, open or swap pays.
    for out, into in itertools.product(
        [-1, *np.flatnonzero(opened & ~fixed)], [-1, *np.flatnonzero(~opened & allowed)]
    ):
        trial = opened.copy()
        if out >= 0:
            trial[out] = False
        if into >= 0:
            trial[into] = True
        other = heuristic.serve(pairs, trial)
        assert other is None or other[0] >= cost * (1 - 1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_opening_heavy_instances_are_proven(seed: int) -> None:
    instance = opening_heavy(seed, n_sites=10, n_customers=60)
    optimum = brute_force_split(pairs_of(instance))
    solution = solve(instance, settings=EXACT)
    check_optimum(instance, solution, optimum)
    assert solution.status is Status.OPTIMAL


def test_whole_and_fractional_demand_give_the_same_transport_cost() -> None:
    # Whole numbers go through the min-cost flow, fractions through the LP.
    pairs = pairs_of(random_capacitated(10, 40, 1.5, seed=3))
    opened = np.ones(pairs.n_sites, bool)
    flow = heuristic.serve(pairs, opened)
    fractional = Pairs(**{**pairs.__dict__, "demand": pairs.demand + 1e-3})
    lp = heuristic.serve(fractional, opened)
    assert flow is not None and lp is not None
    assert flow[0] == pytest.approx(lp[0], rel=1e-3)


@pytest.mark.parametrize("seed", range(30))
def test_cheapest_cover_is_a_lower_bound_and_exact_for_whole_capacities(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 8))
    values = rng.normal(1.0, 2.0, n)
    capacity = rng.integers(1, 9, n).astype(float)
    requirement = float(rng.integers(1, int(capacity.sum()) + 3))
    lower = rng.random(n) < 0.2
    upper = ~(rng.random(n) < 0.2) | lower
    best = math.inf
    for bits in itertools.product([False, True], repeat=n):
        chosen = np.asarray(bits, dtype=bool)
        if np.any(chosen < lower) or np.any(chosen > upper):
            continue
        if capacity[chosen].sum() >= requirement:
            best = min(best, float(values[chosen].sum()))
    value, chosen = cheapest_cover(values, capacity, requirement, lower, upper)
    if math.isinf(best):
        assert math.isinf(value)
        return
    assert value == pytest.approx(best)
    assert capacity[chosen].sum() >= requirement
    # Huge capacities force the rounded relaxation: still a lower bound.
    scaled, _ = cheapest_cover(values, capacity * 1e5 + 0.5, requirement * 1e5, lower, upper)
    assert scaled <= best + 1e-9


def test_infeasible_capacity_is_reported() -> None:
    instance = random_capacitated(5, 20, 0.8, seed=1)
    with pytest.raises(InfeasibleError):
        solve(instance)


def test_capacity_out_of_reach_is_reported() -> None:
    # Enough capacity in total, but customer 0 reaches only a site too small for it.
    reach = sp.csr_matrix(([1.0, 1.0, 2.0], ([0, 1, 1], [0, 0, 1])), shape=(2, 2))
    with pytest.raises(InfeasibleError):
        facility_location(
            np.ones(2), reach, demand=np.array([5.0, 1.0]), capacities=np.array([4.0, 10.0])
        )


def test_fixed_and_excluded_sites_are_respected() -> None:
    instance = random_capacitated(8, 30, 2.5, seed=4)
    free = solve(instance, settings=EXACT)
    opened = set(free.open_sites.tolist())
    closed = next(j for j in range(8) if j not in opened)
    shut = next(iter(opened))
    fixed = np.zeros(8, bool)
    fixed[closed] = True
    excluded = np.zeros(8, bool)
    excluded[shut] = True
    solution = solve(instance, fixed=fixed, excluded=excluded, settings=EXACT)
    check_plan(instance, solution)
    assert closed in solution.open_sites
    assert shut not in solution.open_sites
    assert solution.objective >= free.objective - 1e-6


def test_a_plan_comes_back_even_without_time_to_prove_it() -> None:
    instance = random_capacitated(30, 300, 1.3, seed=2)
    solution = solve(instance, settings=SolverSettings(time_limit_s=0.01))
    check_plan(instance, solution)
    assert solution.bound <= solution.objective
    if solution.status is Status.OPTIMAL:
        assert solution.gap <= 1e-4
    else:
        assert solution.status is Status.TIME_LIMIT


def test_generator_is_seeded_and_sized() -> None:
    first = random_capacitated(10, 40, 1.5, seed=7)
    again = random_capacitated(10, 40, 1.5, seed=7)
    other = random_capacitated(10, 40, 1.5, seed=8)
    assert first.costs is not None and first.capacities is not None
    assert (first.reach != again.reach).nnz == 0
    assert (first.reach != other.reach).nnz > 0
    assert first.reach.shape == (40, 10)
    ratio = first.capacities.sum() / first.weights.sum()
    assert 1.5 <= ratio < 1.5 + 10 / first.weights.sum()


def tree_search(
    pairs: Pairs,
    dual: lagrange.Dual,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    deadline: float = math.inf,
) -> tuple[branch.Tree, list[np.ndarray], float]:
    """The tree from no plan at all; also every set it served and the best cost."""
    served: list[np.ndarray] = []
    best = [math.inf]

    def try_plan(opened: np.ndarray) -> None:
        served.append(opened.copy())
        result = heuristic.serve(pairs, opened)
        if result is not None:
            best[0] = min(best[0], result[0])

    tree = branch.branch_and_bound(
        pairs,
        dual,
        lower,
        upper,
        incumbent=lambda: best[0],
        try_plan=try_plan,
        serve_leaf=try_plan,
        deadline=deadline,
        relative_gap=1e-9,
    )
    return tree, served, best[0]


def test_tree_finds_and_proves_the_optimum_within_the_fixings() -> None:
    branched = 0
    for seed in range(4):
        pairs = pairs_of(random_capacitated(10, 40, 1.3, seed=seed, opening_scale=150.0))
        fixed, excluded = np.random.default_rng(seed).choice(pairs.n_sites, 2, replace=False)
        lower = np.zeros(pairs.n_sites, bool)
        lower[fixed] = True
        upper = np.ones(pairs.n_sites, bool)
        upper[excluded] = False
        # The optimum over the sets the fixings allow.
        optimum = plain_optimum(replace(pairs, fixed=lower, excluded=~upper))
        assert math.isfinite(optimum)
        # Five steps only: the root is far from the optimum.
        dual = lagrange.maximise(
            pairs,
            lower,
            upper,
            upper_bound=partial(float, optimum * 1.05),
            on_relaxation=lambda relaxation, iteration: None,
            deadline=math.inf,
            relative_gap=1e-9,
            max_iterations=5,
        )
        assert dual.relaxation.bound < optimum * (1 - 1e-3)
        tree, served, best = tree_search(pairs, dual, lower, upper)
        assert tree.open_nodes == 0
        assert best == pytest.approx(optimum, rel=1e-7)
        assert optimum * (1 - 1e-9) <= tree.bound <= optimum * (1 + 1e-9)
        for opened in served:
            assert opened[fixed] and not opened[excluded]
        branched += tree.nodes > 1
    assert branched >= 2


@pytest.mark.parametrize("seed", range(3))
def test_tree_stopped_early_bounds_the_optimum(seed: int) -> None:
    pairs = pairs_of(random_capacitated(10, 40, 1.3, seed=seed, opening_scale=150.0))
    optimum = brute_force_split(pairs)
    everything = np.ones(pairs.n_sites, bool)
    dual = ascend(pairs, optimum * 1.05, 3)
    tree, _, best = tree_search(pairs, dual, ~everything, everything, deadline=0.0)
    # Nothing searched: the bound is the root's, not the (absent) plan's.
    assert tree.nodes == 0 and tree.open_nodes == 1 and best == math.inf
    assert tree.bound == pytest.approx(dual.relaxation.bound)
    assert tree.bound <= optimum * (1 + 1e-9)


def test_a_named_backend_proves_split_demand_on_the_reduced_model() -> None:
    instance = opening_heavy(1, n_sites=10, n_customers=60)
    optimum = brute_force_split(pairs_of(instance))
    solution = solve(instance, settings=replace(EXACT, backend="scip"))
    check_optimum(instance, solution, optimum)
    assert solution.status is Status.OPTIMAL


@pytest.mark.parametrize("seed", range(3))
def test_exact_service_is_the_transportation_optimum(seed: int) -> None:
    pairs = pairs_of(random_capacitated(10, 40, 1.5, seed=seed))
    opened = np.random.default_rng(seed).random(pairs.n_sites) < 0.8
    flow, exact = heuristic.serve(pairs, opened), heuristic.serve_exactly(pairs, opened)
    if flow is None:
        assert exact is None
        return
    assert exact is not None
    assert exact[0] == pytest.approx(flow[0], rel=1e-7)
    assert pairs.objective(opened, exact[1]) == pytest.approx(exact[0])
    restricted = replace(pairs, fixed=opened, excluded=~opened)
    assert exact[0] == pytest.approx(plain_optimum(restricted), rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_the_tree_proves_split_demand_through_the_solver(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Instances this small go to SCIP; let the tree have them.
    monkeypatch.setattr(capacitated_model, "_TREE_FROM_PAIRS", 0)
    instance = random_capacitated(10, 60, 1.3, seed=seed, opening_scale=150.0)
    optimum = brute_force_split(pairs_of(instance))
    solution = solve(instance, settings=EXACT)
    check_optimum(instance, solution, optimum)
    assert solution.status is Status.OPTIMAL


def test_tree_past_its_memory_cap_still_proves(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every child starts from the root's multipliers instead of its parent's.
    monkeypatch.setattr(branch, "_MAX_STORED_MULTIPLIERS", 0)
    pairs = pairs_of(random_capacitated(10, 40, 1.3, seed=1, opening_scale=150.0))
    optimum = brute_force_split(pairs)
    everything = np.ones(pairs.n_sites, bool)
    tree, _, best = tree_search(pairs, ascend(pairs, optimum * 1.05, 5), ~everything, everything)
    assert tree.nodes > 1 and tree.open_nodes == 0
    assert best == pytest.approx(optimum, rel=1e-7)
    assert optimum * (1 - 1e-9) <= tree.bound <= optimum * (1 + 1e-9)


def test_fine_grained_single_sourcing_goes_by_way_of_split_demand() -> None:
    # 1,000 customers and sites of 40 × the mean demand: a site holds 40 of them.
    instance = random_capacitated(20, 1000, 0.8, seed=1)
    assert instance.capacities is not None
    mean = instance.weights.sum() / 1000
    pairs = pairs_of(replace(instance, capacities=np.full(20, 40 * mean)), single_source=True)
    assert capacitated_model._fine_grained(pairs)
    coarse = pairs_of(replace(instance, capacities=np.full(20, 39 * mean)), single_source=True)
    assert not capacitated_model._fine_grained(coarse)


def test_single_sourcing_is_proven_by_split_demand_when_the_split_optimum_is_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Unit demands and whole capacities: the transportation optimum is whole,
    # so the split optimum assigns every customer whole and bounds single sourcing.
    base = random_capacitated(8, 40, 1.5, seed=5, opening_scale=150.0)
    assert base.capacities is not None
    instance = replace(
        base, weights=np.ones(40), capacities=np.ceil(base.capacities / base.weights.mean())
    )
    monkeypatch.setattr(capacitated_model, "_CUSTOMERS_PER_SITE", 0)
    models: list[bool] = []
    solve_model = capacitated_model._solve

    def counted(pairs: Pairs, settings: SolverSettings, **kwargs: Any) -> MilpResult:
        models.append(pairs.single_source)
        return solve_model(pairs, settings, **kwargs)

    monkeypatch.setattr(capacitated_model, "_solve", counted)
    single = solve(instance, single_source=True, settings=EXACT)
    assert models == [False]  # The single-sourcing model itself was not needed.
    split = solve(instance, settings=EXACT)
    assert single.status is Status.OPTIMAL
    check_optimum(instance, single, split.objective)
    assert single.allocation is not None
    assert set(np.unique(single.allocation.data).tolist()) <= {0.0, 1.0}
