"""Set cover when the MIP finds nothing in time: the greedy (or searched) cover, not every site."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import planner.optimise.coverage.set_cover as set_cover_module
from planner.optimise import set_cover
from planner.optimise._milp import MilpResult, MilpStatus
from planner.optimise.solution import SolverSettings


def _no_solution(*_args: object, **_kwargs: object) -> MilpResult:
    return MilpResult(MilpStatus.NO_SOLUTION, np.empty(0), float("nan"), float("nan"), 0.0)


def _random_reach(seed: int, n_demand: int, n_sites: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = rng.random((n_demand, n_sites)) < 0.08
    dense[np.arange(n_demand), rng.integers(0, n_sites, n_demand)] = True  # every row reachable
    return sp.csr_matrix(dense.astype(float))


@pytest.mark.parametrize("coverage", [1.0, 0.7])
def test_set_cover_without_a_solver_plan_falls_back_to_a_greedy_cover(
    monkeypatch: pytest.MonkeyPatch, coverage: float
) -> None:
    reach = _random_reach(7, 200, 60)
    weights = np.random.default_rng(8).integers(1, 5, 200).astype(float)
    fixed = np.zeros(60, dtype=bool)
    fixed[3] = True
    excluded = np.zeros(60, dtype=bool)
    excluded[10:15] = True
    exact = set_cover(reach, weights=weights, coverage=coverage, fixed=fixed, excluded=excluded)
    monkeypatch.setattr(set_cover_module, "solve_milp", _no_solution)
    # A full cover by sites of one cost: the local search's, from the greedy cover, for 2 s.
    greedy = set_cover(
        reach,
        weights=weights,
        coverage=coverage,
        fixed=fixed,
        excluded=excluded,
        settings=SolverSettings(time_limit_s=2.0),
    )
    sites = greedy.open_sites
    assert 3 in sites and not np.any(excluded[sites])
    covered = np.asarray(reach[:, sites].sum(axis=1)).ravel() > 0
    assert weights[covered].sum() >= coverage * weights.sum() - 1e-9
    # A cover no smaller than the optimum, and far from every allowed site.
    assert exact.objective <= greedy.objective < 0.8 * np.count_nonzero(~excluded)


def test_greedy_cover_is_none_when_the_allowed_sites_cannot_cover() -> None:
    rows = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]]))
    allowed = np.array([True, False])
    costs = np.ones(2)
    assert set_cover_module.greedy_cover(rows, np.ones(2), costs, allowed) is None
    chosen = set_cover_module.greedy_cover(rows, np.ones(2), costs, allowed, need=1.0)
    assert chosen is not None and chosen.tolist() == [True, False]


def test_set_cover_takes_the_greedy_cover_over_a_dearer_plan_at_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reach = _random_reach(9, 150, 40)

    def every_site(milp: object, *_args: object, **_kwargs: object) -> MilpResult:
        values = np.ones(40)
        return MilpResult(MilpStatus.FEASIBLE, values, 40.0, 5.0, 0.0)

    monkeypatch.setattr(set_cover_module, "solve_milp", every_site)
    found = set_cover(reach, settings=SolverSettings(time_limit_s=2.0))
    covered = np.asarray(reach[:, found.open_sites].sum(axis=1)).ravel() > 0
    assert covered.all() and found.objective < 40
    # The solver's bound of 5 is weak: the Lagrangian one replaces it.
    assert 5.0 < found.bound <= found.objective
