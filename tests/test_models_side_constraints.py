"""Side constraints in the single-year models: hand-computed cases and brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InfeasibleError
from planner.optimise import Status, evaluate, max_coverage, p_median, set_cover
from planner.optimise._reach import keep_entries
from planner.optimise.constraints import SiteRows, budget_rows, combine, group_rows
from planner.optimise.coverage.phased import YearLimit, phased_coverage
from planner.optimise.instances import complete_reach

SMALL = settings(max_examples=30, deadline=None, derandomize=True)

# Four demand points on a line at km 0, 10, 20, 30 with weights 5, 1, 1, 5 and
# three sites: A at km 0 (France), B at km 15 (Belgium), C at km 30 (France).
# Reach is 10 km.
WEIGHTS = np.array([5.0, 1.0, 1.0, 5.0])
COSTS = np.array(
    [
        [0.0, 15.0, 30.0],
        [10.0, 5.0, 20.0],
        [20.0, 5.0, 10.0],
        [30.0, 15.0, 0.0],
    ]
)
REACH = complete_reach(COSTS)  # every pair, zero costs included
PAIRS_10 = keep_entries(REACH, REACH.data <= 10.0)
FRANCE = np.array([True, False, True])
BELGIUM = ~FRANCE


def test_max_coverage_without_constraints_takes_both_ends() -> None:
    solution = max_coverage(PAIRS_10, WEIGHTS, 2)
    assert solution.open_sites.tolist() == [0, 2]
    assert solution.objective == pytest.approx(12.0)


def test_max_coverage_country_minimum_forces_belgium() -> None:
    # One Belgian site is required: B covers km 10 and 20 (weight 2), so the
    # best plan is B plus one end: A covers 5 + 1, B adds km 20: 7.
    rows = group_rows("BE", BELGIUM, minimum=1)
    solution = max_coverage(PAIRS_10, WEIGHTS, 2, constraints=rows)
    assert solution.status is Status.OPTIMAL
    assert 1 in solution.open_sites.tolist()
    assert solution.objective == pytest.approx(7.0)
    assert solution.bound == pytest.approx(7.0)


def test_max_coverage_budget_replaces_count() -> None:
    # A and C cost 6 each, B costs 2; a budget of 8 affords one end and B.
    rows = budget_rows([6.0, 2.0, 6.0], 8.0)
    solution = max_coverage(PAIRS_10, WEIGHTS, 3, constraints=rows)
    assert sorted(solution.open_sites.tolist()) in ([0, 1], [1, 2])
    assert solution.objective == pytest.approx(7.0)


def test_dominated_site_stays_available_to_a_side_constraint() -> None:
    # Site 1 covers a subset of site 0's rows: without side constraints it is
    # dominated, but it is the only Nissan site and Nissan needs half the sites.
    reach = sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 0.0]]))
    nissan = np.array([False, True])
    rows = group_rows("Nissan", nissan, share=0.5)
    solution = max_coverage(reach, np.array([1.0, 1.0]), 2, constraints=rows)
    assert solution.open_sites.tolist() == [0, 1]
    assert solution.objective == pytest.approx(2.0)


def test_twin_sites_a_minimum_needs_both_stay_available() -> None:
    # Before: the second of two sites covering the same rows was closed as
    # dominated, so "FR sites ≥ 2" was called infeasible, and with a cheap
    # site outside the group set_cover called {A, C} at 101 optimal.
    twins = sp.csr_matrix(np.array([[1.0, 1.0]]))
    both = group_rows("FR", np.array([True, True]), minimum=2)
    solution = max_coverage(twins, np.array([3.0]), 2, constraints=both)
    assert solution.open_sites.tolist() == [0, 1] and solution.status is Status.OPTIMAL
    assert set_cover(twins, constraints=both).open_sites.tolist() == [0, 1]
    phased = phased_coverage(
        twins, np.array([3.0]), [YearLimit(p=2), YearLimit(p=2)], constraints=both
    )
    assert phased.opened.tolist() == [0, 0]
    reach = sp.csr_matrix(np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]))
    reach.eliminate_zeros()
    group = group_rows("Nissan", np.array([True, True, True, False]), minimum=2)
    solution = set_cover(reach, costs=np.array([1.0, 1.0, 100.0, 1.0]), constraints=group)
    assert solution.open_sites.tolist() == [0, 1, 3]
    assert solution.objective == pytest.approx(3.0) and solution.bound == pytest.approx(3.0)


def test_a_twin_a_share_needs_stays_available() -> None:
    # Before: 1.0 "optimal" (site 0 alone) against 11.0 with all three open.
    reach = sp.csr_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    reach.eliminate_zeros()
    nissan = group_rows("Nissan", np.array([True, True, False]), share=2 / 3)
    solution = max_coverage(reach, np.array([1.0, 10.0]), 3, constraints=nissan)
    assert solution.open_sites.tolist() == [0, 1, 2]
    assert solution.objective == pytest.approx(11.0) and solution.bound == pytest.approx(11.0)


def test_set_cover_country_maximum() -> None:
    # Full cover within 10 km needs A and C (km 0 and 30) and one of them or B
    # for km 10 and 20: {A, C} covers all four points (A: 0, 10; C: 20, 30).
    assert set_cover(PAIRS_10).open_sites.tolist() == [0, 2]
    # At most one French site: B must open and one end is missing → infeasible.
    rows = group_rows("FR", FRANCE, maximum=1)
    with pytest.raises(InfeasibleError) as info:
        set_cover(PAIRS_10, constraints=rows)
    assert "FR sites ≤ 1" in str(info.value)
    assert "full coverage" in str(info.value)
    # Km 0 and km 30 only A and C reach, both French: two sites, counted.
    assert "cannot hold: 2 demand points reached only by FR sites" in str(info.value)


def test_p_median_country_maximum_below_what_its_own_rows_need() -> None:
    # Every point must be served within 10 km, and km 0 and km 30 need A and C.
    rows = group_rows("FR", FRANCE, maximum=1)
    with pytest.raises(InfeasibleError) as info:
        p_median(PAIRS_10, WEIGHTS, 2, constraints=rows)
    message = str(info.value)
    assert message.startswith("p_median: no choice of p = 2 sites serves every reachable")
    assert "FR sites ≤ 1 cannot hold: 2 demand points" in message


def test_p_median_brand_share() -> None:
    # p = 2 unconstrained: A and C, cost 1·10 + 1·10 = 20.
    plain = p_median(REACH, WEIGHTS, 2)
    assert plain.open_sites.tolist() == [0, 2]
    assert plain.objective == pytest.approx(20.0)
    # Half the sites must be Belgian: B plus an end, e.g. A and B:
    # 5·0 + 1·5 + 1·5 + 5·15 = 85.
    rows = group_rows("BE", BELGIUM, share=0.5)
    solution = p_median(REACH, WEIGHTS, 2, constraints=rows)
    assert solution.status is Status.OPTIMAL
    assert 1 in solution.open_sites.tolist()
    assert solution.objective == pytest.approx(85.0)


def test_infeasible_side_constraints_are_named() -> None:
    rows = combine([group_rows("FR", FRANCE, maximum=0), group_rows("BE", BELGIUM, maximum=0)], 3)
    with pytest.raises(InfeasibleError) as info:
        p_median(REACH, WEIGHTS, 1, constraints=rows)
    message = str(info.value)
    assert message.startswith("p_median: p = 1 sites")
    assert "FR sites ≤ 0" in message and "BE sites ≤ 0" in message


def _random_case(seed: int) -> tuple[sp.csr_matrix, np.ndarray, SiteRows]:
    rng = np.random.default_rng(seed)
    n_demand, n_sites = int(rng.integers(2, 9)), int(rng.integers(2, 7))
    present = rng.random((n_demand, n_sites)) < 0.5
    costs = rng.integers(0, 5, size=(n_demand, n_sites)).astype(float)
    if rng.random() < 0.5:
        # Twins: a site that covers exactly what another covers, at the same costs.
        twin, of = rng.choice(n_sites, size=2, replace=False)
        present[:, twin], costs[:, twin] = present[:, of], costs[:, of]
    rows, cols = np.nonzero(present)
    reach = sp.csr_matrix((costs[rows, cols], (rows, cols)), shape=(n_demand, n_sites))
    weights = rng.integers(0, 6, size=n_demand).astype(float)
    group = rng.random(n_sites) < 0.5
    # A share of a group without candidates only allows the empty plan, which
    # the models report as infeasible on purpose (see explain_infeasible).
    group[int(rng.integers(0, n_sites))] = True
    side = combine(
        [
            budget_rows(rng.integers(1, 4, size=n_sites).astype(float), float(rng.integers(2, 8))),
            group_rows("G", group, minimum=int(rng.integers(0, 4)), share=0.3),
        ],
        n_sites,
    )
    return reach, weights, side


def _subsets(n_sites: int) -> list[tuple[int, ...]]:
    return [c for k in range(n_sites + 1) for c in itertools.combinations(range(n_sites), k)]


@SMALL
@given(st.integers(0, 10_000), st.integers(1, 4))
def test_max_coverage_with_side_constraints_matches_brute_force(seed: int, p: int) -> None:
    reach, weights, side = _random_case(seed)
    feasible = [c for c in _subsets(reach.shape[1]) if len(c) <= p and not side.satisfied(c)]
    if not feasible:
        with pytest.raises(InfeasibleError):
            max_coverage(reach, weights, p, constraints=side)
        return
    best = max(evaluate.max_coverage_objective(reach, weights, c) for c in feasible)
    solution = max_coverage(reach, weights, p, constraints=side)
    assert side.satisfied(solution.open_sites) == []
    assert solution.objective == pytest.approx(best)
    assert solution.bound >= best - 1e-6


@SMALL
@given(st.integers(0, 10_000), st.integers(1, 4))
def test_p_median_with_side_constraints_matches_brute_force(seed: int, p: int) -> None:
    reach, weights, side = _random_case(seed)
    n_sites = reach.shape[1]
    reachable = evaluate.reachable_rows(reach)
    values = []
    for chosen in itertools.combinations(range(n_sites), min(p, n_sites)):
        if side.satisfied(chosen):
            continue
        _, cost = evaluate.nearest_open(reach, chosen)
        if np.all(np.isfinite(cost[reachable])):
            values.append(evaluate.p_median_objective(reach, weights, chosen))
    if not values:
        with pytest.raises(InfeasibleError):
            p_median(reach, weights, min(p, n_sites), constraints=side)
        return
    solution = p_median(reach, weights, min(p, n_sites), constraints=side)
    assert side.satisfied(solution.open_sites) == []
    assert solution.objective == pytest.approx(min(values))
    assert solution.bound <= min(values) + 1e-6


@SMALL
@given(st.integers(0, 10_000))
def test_set_cover_with_side_constraints_matches_brute_force(seed: int) -> None:
    reach, _, side = _random_case(seed)
    reachable = evaluate.reachable_rows(reach)
    sizes = []
    for chosen in _subsets(reach.shape[1]):
        if side.satisfied(chosen):
            continue
        _, cost = evaluate.nearest_open(reach, chosen)
        if np.all(np.isfinite(cost[reachable])):
            sizes.append(len(chosen))
    if not sizes:
        with pytest.raises(InfeasibleError):
            set_cover(reach, constraints=side)
        return
    solution = set_cover(reach, constraints=side)
    assert side.satisfied(solution.open_sites) == []
    assert solution.objective == pytest.approx(min(sizes))
