"""HiGHS through ``solve_milp``: a stop by a limit keeps plan and bound; the hint is its start."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from planner.optimise import progress
from planner.optimise._milp import Milp, MilpStatus, solve_milp
from planner.optimise.solution import SolverSettings

SETTINGS = SolverSettings(time_limit_s=30.0, relative_gap=0.0, seed=3)


def _set_cover(seed: int) -> Milp:
    """A weighted set cover whose root leaves a gap: min c·y, every row covered."""
    rng = np.random.default_rng(seed)
    matrix = sp.random(600, 120, density=0.04, random_state=seed, format="csr")
    matrix.data[:] = 1.0
    matrix = sp.csr_matrix(matrix[np.diff(matrix.indptr) > 0])
    n_rows, n_sites = matrix.shape
    return Milp(
        objective=rng.integers(1, 10, n_sites).astype(np.float64),
        matrix=matrix,
        row_lower=np.ones(n_rows),
        row_upper=np.full(n_rows, np.inf),
        lower=np.zeros(n_sites),
        upper=np.ones(n_sites),
        integer=np.ones(n_sites, dtype=bool),
    )


def test_a_stop_by_a_limit_keeps_the_plan_and_the_bound() -> None:
    milp = _set_cover(3)
    optimum = solve_milp(milp, SETTINGS)
    assert optimum.status is MilpStatus.OPTIMAL
    # Stop at the first plan found: a limit, like the time limit, not the optimum proven.
    stopped = solve_milp(milp, SETTINGS, extra_parameters="mip_max_improving_sols=1")
    assert stopped.status is MilpStatus.FEASIBLE
    assert np.all(milp.matrix @ stopped.values >= 1 - 1e-9)
    assert np.all(np.abs(stopped.values - np.round(stopped.values)) <= 1e-9)
    assert stopped.objective == pytest.approx(float(milp.objective @ stopped.values))
    assert stopped.bound < stopped.objective
    assert stopped.bound <= optimum.objective + 1e-9 <= stopped.objective + 2e-9


def test_the_hint_is_highs_start_and_survives_a_stop_before_the_root() -> None:
    milp = _set_cover(4)
    optimum = solve_milp(milp, SETTINGS)
    no_nodes = "mip_max_nodes=0"
    assert solve_milp(milp, SETTINGS, extra_parameters=no_nodes).status is MilpStatus.NO_SOLUTION
    started = solve_milp(replace(milp, hint=optimum.values), SETTINGS, extra_parameters=no_nodes)
    assert started.status is MilpStatus.FEASIBLE
    assert started.objective == pytest.approx(optimum.objective)
    assert np.array_equal(np.round(started.values), np.round(optimum.values))


def test_maximising_with_an_offset_and_an_infeasible_model() -> None:
    # max 5a + 4b + 3c with 2a + 3b + c ≤ 4 (integers in [0, 1]) + 10: a and c, 18.
    knapsack = Milp(
        objective=np.array([5.0, 4.0, 3.0]),
        matrix=sp.csr_matrix(np.array([[2.0, 3.0, 1.0]])),
        row_lower=np.array([-np.inf]),
        row_upper=np.array([4.0]),
        lower=np.zeros(3),
        upper=np.ones(3),
        integer=np.ones(3, dtype=bool),
        maximise=True,
        offset=10.0,
    )
    result = solve_milp(knapsack, SETTINGS)
    assert result.status is MilpStatus.OPTIMAL
    assert np.round(result.values).tolist() == [1.0, 0.0, 1.0]
    assert result.objective == pytest.approx(18.0)
    assert result.bound == pytest.approx(18.0)
    impossible = replace(knapsack, row_lower=np.array([7.0]), row_upper=np.array([np.inf]))
    assert solve_milp(impossible, SETTINGS).status is MilpStatus.INFEASIBLE


def test_an_lp_stopped_by_a_limit_gives_no_answer() -> None:
    # Its callers need the LP's optimum: a point short of it could pass for the most
    # that can be served and turn into a false "cannot be met". Packing the rows
    # (max c·y, every row at most once) keeps every simplex point feasible.
    cover = _set_cover(5)
    packing = replace(
        cover,
        row_lower=np.full(cover.matrix.shape[0], -np.inf),
        row_upper=np.ones(cover.matrix.shape[0]),
        integer=np.zeros(cover.matrix.shape[1], dtype=bool),
        maximise=True,
    )
    solved = solve_milp(packing, SETTINGS)
    assert solved.status is MilpStatus.OPTIMAL
    assert solved.bound == pytest.approx(solved.objective)
    limit = "presolve=off\nsimplex_strategy=4\nsimplex_iteration_limit=2"
    stopped = solve_milp(packing, SETTINGS, extra_parameters=limit)
    assert stopped.status is MilpStatus.NO_SOLUTION


def test_highs_log_is_read_while_a_watch_is_open() -> None:
    milp = _set_cover(3)
    heard: list[tuple[float | None, float | None]] = []
    with progress.watch(lambda _: None, time_limit_s=30.0):
        result = solve_milp(milp, SETTINGS, report=lambda best, bound: heard.append((best, bound)))
    assert result.status is MilpStatus.OPTIMAL
    assert any(best == pytest.approx(result.objective) for best, _ in heard)
    bounds = [bound for _, bound in heard if bound is not None]
    assert bounds and max(bounds) <= result.objective + 1e-9


@pytest.mark.parametrize(
    ("row_lower", "status"), [(0.0, MilpStatus.OPTIMAL), (1.0, MilpStatus.INFEASIBLE)]
)
def test_a_model_without_columns_is_answered_not_refused(
    row_lower: float, status: MilpStatus
) -> None:
    # Every site fixed or excluded by the reductions can leave no column at all.
    empty = Milp(
        objective=np.empty(0),
        matrix=sp.csr_matrix((2, 0)),
        row_lower=np.full(2, row_lower),
        row_upper=np.full(2, np.inf),
        lower=np.empty(0),
        upper=np.empty(0),
        integer=np.empty(0, dtype=bool),
        offset=7.0,
    )
    for backend in ("highs", "scip"):
        result = solve_milp(empty, SETTINGS, backend=backend)
        assert result.status is status
        if status is MilpStatus.OPTIMAL:
            assert result.objective == pytest.approx(7.0)
            assert result.bound == pytest.approx(7.0)


def test_bounded_after_stops_at_the_first_bound_once_its_seconds_have_passed() -> None:
    milp = _set_cover(3)
    optimum = solve_milp(milp, SETTINGS)
    assert optimum.status is MilpStatus.OPTIMAL
    early = solve_milp(milp, SETTINGS, bounded_after_s=0.0)
    # Stopped as a limit stops it: a plan and a valid bound, short of the proof.
    assert early.status is MilpStatus.FEASIBLE
    assert early.bound <= optimum.objective + 1e-9 <= early.objective + 1e-9
    assert np.isfinite(early.bound)
    # With seconds to spare the solve runs to its proof as before.
    patient = solve_milp(milp, SETTINGS, bounded_after_s=SETTINGS.time_limit_s)
    assert patient.status is MilpStatus.OPTIMAL and patient.objective == optimum.objective


def test_scip_stopped_before_its_root_gives_no_bound_not_its_infinity() -> None:
    # Before: SCIP's infinity came back as the bound (-1e20 here; 1e20 on a
    # flow plan whose gap then read 2e22 %).
    stopped = solve_milp(
        _set_cover(3), SETTINGS, backend="scip", extra_parameters="limits/solutions = 1"
    )
    assert stopped.status is MilpStatus.FEASIBLE
    assert stopped.bound == -np.inf


@pytest.mark.parametrize("backend", ["highs", "scip"])
def test_the_gap_sought_is_relative_to_the_objective_with_its_offset(backend: str) -> None:
    # A penalty's constant kept from the solver made its relative gap one of
    # the wrong objective (sizing: 1.9e8 against 1.1e6): SCIP stopped at 1 %.
    milp = _set_cover(3)
    optimum = solve_milp(milp, SETTINGS, backend=backend).objective
    shifted = replace(milp, offset=1.0 - optimum)  # the optimum becomes 1
    loose = replace(SETTINGS, relative_gap=0.05)
    result = solve_milp(shifted, loose, backend=backend)
    assert result.objective - result.bound <= 0.05 * abs(result.objective) + 1e-9
    assert result.objective == pytest.approx(1.0)
