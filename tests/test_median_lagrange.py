"""p-median bounds without the LP: the packing of rows and the Lagrangian relaxation."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import InfeasibleError, SolverError
from planner.optimise import Status, p_median
from planner.optimise._milp import MilpResult, MilpStatus
from planner.optimise._reach import SortedPairs
from planner.optimise.constraints import group_rows, no_site_rows
from planner.optimise.median import model as median_model
from planner.optimise.median._branch import plan_cost
from planner.optimise.median._lagrange import disjoint_rows, lagrangian_bound
from planner.optimise.median._lp import MedianLp, median_lp
from planner.optimise.solution import SolverSettings


def clustered(seed: int, n: int, radius: float) -> sp.csr_matrix:
    """Clustered points, every one a client and a site, pairs within ``radius``."""
    rng = np.random.default_rng(seed)
    centres = rng.random((3, 2)) * 100
    points = centres[rng.integers(0, 3, n)] + rng.normal(0, 12, (n, 2))
    costs = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    rows, cols = np.nonzero(costs <= radius)
    return sp.csr_matrix((costs[rows, cols], (rows, cols)), shape=(n, n))


def best_plan(reach: sp.csr_matrix, weights: np.ndarray, p: int, fixed: np.ndarray) -> float:
    pairs = SortedPairs(reach)
    free = [j for j in range(reach.shape[1]) if not fixed[j]]
    best = math.inf
    for chosen in itertools.combinations(free, p - int(fixed.sum())):
        mask = fixed.copy()
        mask[list(chosen)] = True
        best = min(best, plan_cost(pairs, weights, mask))
    return best


def test_rows_that_share_no_site_are_counted() -> None:
    # Rows 0 and 1 share site 0; rows 2 and 3 reach sites of their own.
    reach = sp.csr_matrix((np.ones(6), ([0, 0, 1, 2, 3, 3], [0, 1, 0, 2, 3, 4])), shape=(4, 5))
    assert disjoint_rows(SortedPairs(reach)) == 3


def test_more_rows_apart_than_sites_is_infeasible_with_the_count() -> None:
    reach = sp.csr_matrix((np.ones(4), ([0, 1, 2, 2], [0, 1, 2, 3])), shape=(3, 4))
    with pytest.raises(InfeasibleError, match="3 of them have no site in reach in common"):
        p_median(reach, np.ones(3), 2)
    assert p_median(reach, np.ones(3), 3).status is Status.OPTIMAL


@pytest.mark.parametrize(("seed", "p", "radius", "fixed_site"), [
    (1, 2, 40.0, None), (2, 3, 40.0, 4), (3, 4, 1e9, None), (4, 3, 30.0, None), (5, 2, 1e9, 0),
])  # fmt: skip
def test_lagrangian_bound_is_below_the_optimum_and_near_the_lp(
    seed: int, p: int, radius: float, fixed_site: int | None
) -> None:
    reach = clustered(seed, 14, radius)
    weights = np.random.default_rng(seed).integers(1, 5, 14).astype(float)
    fixed = np.zeros(14, dtype=bool)
    if fixed_site is not None:
        fixed[fixed_site] = True
    allowed = np.ones(14, dtype=bool)
    optimum = best_plan(reach, weights, p, fixed)
    assert math.isfinite(optimum)
    pairs = SortedPairs(reach)
    bound = lagrangian_bound(
        pairs, weights, p, fixed=fixed, allowed=allowed, upper=optimum,
        deadline=time.perf_counter() + 5.0,
    )  # fmt: skip
    assert bound <= optimum * (1 + 1e-9)
    # Its best value over the multipliers is the LP bound, which the steps approach.
    lp = median_lp(
        pairs, weights, p, fixed=fixed, allowed=allowed, side=no_site_rows(14), seconds=10.0
    )
    assert lp.converged
    assert bound <= lp.bound * (1 + 1e-9)
    assert bound >= lp.bound - 0.02 * abs(lp.bound)
    # More than the trivial bound of every row at its nearest site, unless that is the LP's.
    nearest = float(weights[pairs.owner[pairs.start]] @ pairs.cost[pairs.start])
    assert bound >= nearest


def test_without_the_lp_the_solve_keeps_a_lagrangian_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    # The LP's first round given no time: as when it outlasts its share at scale.
    monkeypatch.setattr(median_model, "_FIRST_ROUND_SHARE", 0.0)
    reach = clustered(7, 40, 35.0)
    weights = np.random.default_rng(7).integers(1, 5, 40).astype(float)
    settings = SolverSettings(time_limit_s=3.0, relative_gap=1e-9)
    solution = p_median(reach, weights, 6, settings=settings)
    assert solution.details["lp_bound"] == -math.inf
    assert math.isfinite(solution.details["lagrangian_bound"])
    monkeypatch.undo()
    exact = p_median(reach, weights, 6, settings=SolverSettings(time_limit_s=30.0))
    assert exact.status is Status.OPTIMAL
    assert solution.bound <= exact.objective * (1 + 1e-9)
    assert solution.bound >= 0.95 * exact.objective
    assert solution.objective >= exact.objective * (1 - 1e-9)


def test_a_first_round_too_large_for_its_time_is_not_started(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Rows that do not reach every site make the master's cover rows; their entries
    # say how long its first round takes. One that would outlast its share of the
    # time is not started at all: at scale those seconds went to nothing.
    reach = clustered(7, 40, 35.0)
    weights = np.random.default_rng(7).integers(1, 5, 40).astype(float)
    pairs = SortedPairs(reach)
    every = np.ones(40, dtype=bool)
    nothing = np.zeros(40, dtype=bool)

    def solve() -> MedianLp:
        return median_lp(
            pairs, weights, 6, fixed=nothing, allowed=every, side=no_site_rows(40),
            seconds=10.0, first_round_seconds=3.0,
        )  # fmt: skip

    solved = solve()
    assert solved.converged and solved.rounds >= 1
    monkeypatch.setattr("planner.optimise.median._lp.FIRST_ROUND_S_PER_ENTRY", 1.0)
    skipped = solve()
    assert not skipped.converged and skipped.rounds == 0
    assert skipped.bound == -math.inf
    np.testing.assert_allclose(skipped.y, 6 / 40)


def test_no_plan_in_time_says_how_many_sites_every_row_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Four rows that share no site need all four of p = 4: a start that misses
    # them and no time to repair it leave no plan, and the error says why.
    def wrong_start(*args: object, **kwargs: object) -> np.ndarray:
        return np.array([4, 5, 6, 7])

    def unchanged(pairs: object, weights: object, start: np.ndarray, **kwargs: object) -> object:
        return start

    monkeypatch.setattr(median_model, "greedy_median", wrong_start)
    monkeypatch.setattr(median_model, "interchange_median", unchanged)
    rows = [0, 1, 2, 3, 0, 1]
    sites = [0, 1, 2, 3, 4, 4]
    reach = sp.csr_matrix((np.ones(6), (rows, sites)), shape=(4, 8))
    monkeypatch.setattr(median_model, "_FIRST_ROUND_SHARE", 0.0)
    with pytest.raises(SolverError) as caught:
        p_median(reach, np.ones(4), 4, settings=SolverSettings(time_limit_s=1e-9))
    message = str(caught.value)
    assert "serves every reachable demand row from one of p = 4 sites in reach" in message
    assert "At least 3 sites are needed" in message
    assert "set_cover" in message and "raise p or the time limit" in message


def test_without_the_lp_a_start_that_breaks_the_side_rows_is_repaired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No LP (as at scale) and no exact model: greedy is the only start, and
    # it breaks the side row. Before, it was dropped and the solve ended with
    # no plan at all (full-scale dealers, p = 400, a Nissan share of 20 %).
    monkeypatch.setattr(median_model, "_FIRST_ROUND_SHARE", 0.0)
    monkeypatch.setattr(median_model, "_EXACT_PAIRS", 0)
    monkeypatch.setattr(median_model, "_EXACT_LIMIT", 0)

    def out_of_time(*_args: object, **_kwargs: object) -> MilpResult:
        # The radius model over every pair, as at scale: no plan in the time.
        return MilpResult(MilpStatus.NO_SOLUTION, np.empty(0), math.nan, math.nan, 0.0)

    monkeypatch.setattr(median_model, "_solve_reduced", out_of_time)
    # Sites 40 and 41 reach one row each, dearer than any other site: no search
    # opens them, and the side row asks for both.
    near = clustered(7, 40, 35.0)
    far = sp.csr_matrix((np.full(2, 500.0), ([0, 1], [0, 1])), shape=(40, 2))
    reach = sp.hstack([near, far], format="csr")
    weights = np.random.default_rng(7).integers(1, 5, 40).astype(float)
    members = np.zeros(42, dtype=bool)
    members[[40, 41]] = True
    group = group_rows("G", members, minimum=2)
    settings = SolverSettings(time_limit_s=3.0, relative_gap=1e-9)
    solution = p_median(reach, weights, 6, constraints=group, settings=settings)
    assert solution.open_sites.size == 6 and not group.satisfied(solution.open_sites)
    assert {40, 41} <= set(solution.open_sites.tolist())
    unconstrained = p_median(reach, weights, 6, settings=SolverSettings(time_limit_s=30.0))
    assert solution.bound <= unconstrained.objective * (1 + 1e-9) + 1e-9
