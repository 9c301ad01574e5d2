"""The local search for set covering: its bookkeeping, its covers, and its place in set_cover."""

from __future__ import annotations

import itertools
import time
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

import planner.optimise.coverage._cover_search as cover_search_module
import planner.optimise.coverage.set_cover as set_cover_module
from planner.optimise import set_cover
from planner.optimise._milp import Milp, MilpResult, MilpStatus
from planner.optimise.coverage._cover_search import _Cover, search_cover, shrink_partial_cover
from planner.optimise.heuristics import greedy_cover
from planner.optimise.solution import SolverSettings


def _disc_reach(seed: int, n_rows: int, n_sites: int, radius: float) -> sp.csr_matrix:
    """Rows and sites at random in the unit square, in reach within ``radius``; none left out."""
    rng = np.random.default_rng(seed)
    rows, sites = rng.random((n_rows, 2)), rng.random((n_sites, 2))
    distance = np.linalg.norm(rows[:, None, :] - sites[None, :, :], axis=2)
    near = distance <= radius
    near[np.arange(n_rows), distance.argmin(axis=1)] = True
    return sp.csr_matrix(near.astype(float))


def _covers(reach: sp.csr_matrix, chosen: np.ndarray) -> bool:
    return bool(np.all(reach @ chosen.astype(float) >= 1))


def _smallest_cover(reach: sp.csr_matrix) -> int:
    n_sites = reach.shape[1]
    for size in range(1, n_sites + 1):
        for subset in itertools.combinations(range(n_sites), size):
            chosen = np.zeros(n_sites, dtype=bool)
            chosen[list(subset)] = True
            if _covers(reach, chosen):
                return size
    raise AssertionError("every site together covers every row")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scores_kept_by_the_moves_equal_scores_from_scratch(seed: int) -> None:
    reach = _disc_reach(seed, 120, 40, 0.25)
    rng = np.random.default_rng(seed)
    start = greedy_cover(reach, np.ones(120), np.ones(40), np.ones(40, dtype=bool))
    assert start is not None
    cover = _Cover(reach, start)
    for step in range(1, 400):
        site = int(rng.integers(40))
        (cover.close if cover.open[site] else cover.add)(site, step)
        if step % 3 == 0:
            cover.raise_weights(np.flatnonzero(cover.count == 0))
        assert cover.count.tolist() == (reach @ cover.open.astype(float)).astype(int).tolist()
    np.testing.assert_allclose(cover.score, cover._scores())


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_search_finds_the_smallest_cover_of_a_small_instance(seed: int) -> None:
    reach = _disc_reach(seed, 60, 14, 0.3)
    start = np.ones(14, dtype=bool)  # every site: the largest cover there is
    found = search_cover(
        reach, start, deadline=time.perf_counter() + 60.0, seed=seed, max_steps=3000
    )
    assert _covers(reach, found)
    assert found.sum() == _smallest_cover(reach)


def test_search_reports_each_cheaper_cover_and_never_a_dearer_one() -> None:
    reach = _disc_reach(8, 300, 80, 0.15)
    start = greedy_cover(reach, np.ones(300), np.ones(80), np.ones(80, dtype=bool))
    assert start is not None
    heard: list[float] = []
    found = search_cover(
        reach,
        start,
        deadline=time.perf_counter() + 60.0,
        seed=0,
        on_better=heard.append,
        max_steps=2000,
    )
    assert _covers(reach, found)
    assert heard == sorted(heard, reverse=True) and len(set(heard)) == len(heard)
    assert found.sum() == (heard[-1] if heard else start.sum()) <= start.sum()


def test_set_cover_leaves_the_search_time_and_its_plan_when_the_solver_stops_early(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reach = _disc_reach(9, 400, 120, 0.12)
    fixed = np.zeros(120, dtype=bool)
    fixed[5] = True
    excluded = np.zeros(120, dtype=bool)
    excluded[[1, 2, 3]] = True
    exact = set_cover(reach, fixed=fixed, excluded=excluded)
    assert exact.status.value == "optimal" and "search_sites" not in exact.details

    limits: list[tuple[float, object]] = []

    def stopped(milp: Milp, settings: SolverSettings, **kwargs: object) -> MilpResult:
        # The solver's plan at its limit: every allowed site, no bound.
        limits.append((settings.time_limit_s, kwargs.get("bounded_after_s")))
        return MilpResult(MilpStatus.FEASIBLE, milp.upper.copy(), float(milp.upper.sum()), 0.0, 0.0)

    monkeypatch.setattr(set_cover_module, "solve_milp", stopped)
    found = set_cover(
        reach, fixed=fixed, excluded=excluded, settings=SolverSettings(time_limit_s=4.0)
    )
    ((limit, bounded_after),) = limits
    # The solver leaves the search at least a tenth, and 40 % once it has a bound.
    assert isinstance(bounded_after, float)
    assert bounded_after <= 0.6 * 4.0 + 1e-9 and limit <= 0.9 * 4.0 + 1e-9
    sites = found.open_sites
    assert 5 in sites and not np.any(excluded[sites])
    assert _covers(reach, np.isin(np.arange(120), sites))
    assert found.objective == found.details["search_sites"] == sites.size
    greedy = greedy_cover(reach, np.ones(400), np.ones(120), ~excluded)
    assert greedy is not None and exact.objective <= found.objective <= greedy.sum() + 1


def test_set_cover_keeps_the_search_cover_when_the_solver_finds_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reach = _disc_reach(10, 300, 90, 0.15)

    def nothing(*_args: object, **_kwargs: object) -> MilpResult:
        return MilpResult(MilpStatus.NO_SOLUTION, np.empty(0), float("nan"), float("nan"), 0.0)

    monkeypatch.setattr(set_cover_module, "solve_milp", nothing)
    found = set_cover(reach, settings=SolverSettings(time_limit_s=1.0))
    assert _covers(reach, np.isin(np.arange(90), found.open_sites))
    assert found.objective == found.details["search_sites"]
    greedy = greedy_cover(reach, np.ones(300), np.ones(90), np.ones(90, dtype=bool))
    assert greedy is not None and found.objective <= greedy.sum()


def test_set_cover_leaves_out_the_search_when_sites_differ_in_cost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reach = _disc_reach(11, 300, 90, 0.15)
    costs = np.random.default_rng(11).integers(1, 5, 90).astype(float)
    limits: list[tuple[float, object]] = []

    def stopped(milp: Milp, settings: SolverSettings, **kwargs: object) -> MilpResult:
        limits.append((settings.time_limit_s, kwargs.get("bounded_after_s")))
        return MilpResult(MilpStatus.FEASIBLE, milp.upper.copy(), float(costs.sum()), 0.0, 0.0)

    monkeypatch.setattr(set_cover_module, "solve_milp", stopped)
    found = set_cover(reach, costs=costs, settings=SolverSettings(time_limit_s=4.0))
    assert "search_sites" not in found.details
    # The whole time is the solver's (after a core's MIP, when the core is
    # small), none of it held back for a search.
    assert all(bounded_after is None for _, bounded_after in limits)
    core_shares = set_cover_module._CORE_SHARE + set_cover_module._CORE_LAGRANGE_SHARE
    assert limits[-1][0] > 0.9 * (1 - core_shares) * 4.0 - 0.5


def test_search_stops_at_a_cover_of_the_proven_least_size(monkeypatch: pytest.MonkeyPatch) -> None:
    reach = _disc_reach(12, 60, 14, 0.3)
    least = _smallest_cover(reach)
    ticks: list[int] = []

    def clock() -> float:
        ticks.append(1)
        return 0.0  # the deadline never passes

    monkeypatch.setattr(cover_search_module, "time", SimpleNamespace(perf_counter=clock))
    found = search_cover(
        reach, np.ones(14, dtype=bool), deadline=1.0, seed=0, max_steps=50_000, least=least
    )
    assert found.sum() == least and len(ticks) < 50_000


def _covered_weight(reach: sp.csr_matrix, weights: np.ndarray, sites: np.ndarray) -> float:
    return float(weights[np.asarray(reach[:, sites].sum(axis=1)).ravel() > 0].sum())


def _fewest_sites_for(reach: sp.csr_matrix, weights: np.ndarray, need: float) -> int:
    n_sites = reach.shape[1]
    for size in range(1, n_sites + 1):
        for subset in itertools.combinations(range(n_sites), size):
            if _covered_weight(reach, weights, np.asarray(subset)) >= need:
                return size
    raise AssertionError("every site together covers the weight needed")


@pytest.mark.parametrize("seed", [0, 5, 12, 16])
def test_partial_cover_shrinks_to_the_fewest_sites_of_a_small_instance(seed: int) -> None:
    reach = _disc_reach(seed, 60, 14, 0.3)
    weights = np.random.default_rng(seed).integers(1, 9, 60).astype(float)
    need = 0.9 * weights.sum()
    fewest = _fewest_sites_for(reach, weights, need)
    heard: list[int] = []
    found = shrink_partial_cover(
        reach,
        weights,
        need,
        np.arange(14),
        deadline=time.perf_counter() + 5.0,
        seed=seed,
        least=fewest,
        on_better=heard.append,
    )
    assert _covered_weight(reach, weights, found) >= need
    assert found.size == fewest and heard[-1] == fewest
    assert heard == sorted(heard, reverse=True)


def test_partial_set_cover_takes_the_shrunk_cover_when_the_solver_stops_early(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reach = _disc_reach(13, 400, 120, 0.12)
    weights = np.random.default_rng(13).integers(1, 9, 400).astype(float)
    fixed = np.zeros(120, dtype=bool)
    fixed[7] = True
    exact = set_cover(reach, weights=weights, coverage=0.8, fixed=fixed)

    def stopped(milp: Milp, settings: SolverSettings, **_kwargs: object) -> MilpResult:
        # The solver's plan at its limit: every allowed site, no bound.
        return MilpResult(MilpStatus.FEASIBLE, milp.upper.copy(), float(milp.upper.sum()), 0.0, 0.0)

    monkeypatch.setattr(set_cover_module, "solve_milp", stopped)
    settings = SolverSettings(time_limit_s=2.0)
    found = set_cover(reach, weights=weights, coverage=0.8, fixed=fixed, settings=settings)
    assert 7 in found.open_sites
    assert _covered_weight(reach, weights, found.open_sites) >= 0.8 * weights.sum() - 1e-9
    assert found.objective == found.details["search_sites"] == found.open_sites.size
    greedy = greedy_cover(reach, weights, np.ones(120), ~fixed, 0.8 * weights.sum())
    assert greedy is not None
    assert exact.objective <= found.objective <= greedy.sum() + 1


def test_search_starts_from_the_greedy_cover_when_the_solvers_is_dearer() -> None:
    rng = np.random.default_rng(3)
    dense = rng.random((200, 300)) < 0.03
    dense[np.arange(200), rng.integers(0, 300, 200)] = True
    rows = sp.csr_matrix(dense.astype(float))
    allowed = np.ones(300, dtype=bool)
    greedy = greedy_cover(rows, np.ones(200), np.ones(300), allowed)
    assert greedy is not None and greedy.sum() < 300
    # Every site open is a cover, but a far dearer start than the greedy one;
    # with no time to search, the answer is the start it chose.
    found = set_cover_module._searched_cover(
        rows, np.ones(200), None, allowed, np.arange(300),
        deadline=time.perf_counter() - 1.0, seed=0, least=0, on_better=lambda count: None,
    )  # fmt: skip
    assert found is not None
    assert found.size == greedy.sum()
    assert np.all(np.asarray(rows[:, found].sum(axis=1)).ravel() > 0)
