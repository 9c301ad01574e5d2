"""The status a solve ends with: optimal only with a bound that proves it."""

from __future__ import annotations

import time

import numpy as np
import pytest

from planner.optimise._milp import MilpResult, MilpStatus
from planner.optimise._result import finish
from planner.optimise.solution import SolverSettings, Status


def _finished(sense: str, objective: float, bound: float, *, exhausted: bool = False) -> Status:
    stopped = MilpResult(MilpStatus.FEASIBLE, np.ones(3), objective, bound, 1.0)
    solution = finish(
        model="test",
        sense=sense,  # type: ignore[arg-type]
        result=stopped,
        objective=objective,
        open_sites=np.arange(3),
        assignment=np.zeros(4, dtype=np.int64),
        settings=SolverSettings(relative_gap=1e-4),
        started=time.perf_counter(),
        details={},
        exhausted=exhausted,
    )
    return solution.status


@pytest.mark.parametrize("exhausted", [False, True])
@pytest.mark.parametrize(
    ("sense", "objective", "bound"),
    [("min", 17.0, 17.0), ("min", 10_000.0, 9_999.5), ("max", 10_000.0, 10_000.5)],
)
def test_a_plan_stopped_by_a_limit_is_optimal_when_a_bound_closes_the_gap(
    sense: str, objective: float, bound: float, exhausted: bool
) -> None:
    # A Lagrangian bound after the solver's time limit (set covering: 17 sites
    # against a solver's bound of 5) proves the plan.
    assert _finished(sense, objective, bound, exhausted=exhausted) is Status.OPTIMAL


@pytest.mark.parametrize(
    ("sense", "objective", "bound", "status"),
    [
        ("min", 100.0, 90.0, Status.TIME_LIMIT),
        ("max", 100.0, 110.0, Status.TIME_LIMIT),
        # A bound on the wrong side is no proof, however close.
        ("min", 100.0, 100.001, Status.TIME_LIMIT),
        ("max", 100.0, 99.999, Status.TIME_LIMIT),
    ],
)
def test_a_gap_or_a_bound_on_the_wrong_side_proves_nothing(
    sense: str, objective: float, bound: float, status: Status
) -> None:
    assert _finished(sense, objective, bound) is status
