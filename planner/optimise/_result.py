"""Turning a backend's answer into the common :class:`Solution`."""

from __future__ import annotations

import logging
import math
import time
from typing import Literal

import numpy as np
import numpy.typing as npt

from planner.errors import SolverError
from planner.optimise._milp import MilpResult, MilpStatus
from planner.optimise.solution import Solution, SolverSettings, Status, relative_gap

logger = logging.getLogger(__name__)


def sites_from_values(values: npt.NDArray[np.float64], n_sites: int) -> npt.NDArray[np.int64]:
    """Open sites from the first ``n_sites`` (binary) variables of a solution vector."""
    return np.flatnonzero(values[:n_sites] > 0.5).astype(np.int64)


def finish(
    *,
    model: str,
    sense: Literal["max", "min"],
    result: MilpResult | None,
    objective: float,
    open_sites: npt.NDArray[np.int64],
    assignment: npt.NDArray[np.int64],
    settings: SolverSettings,
    started: float,
    details: dict[str, float],
    proven: bool = False,
    exhausted: bool = False,
) -> Solution:
    """Build the :class:`Solution` from the evaluated objective and the backend's bound.

    ``objective`` is the evaluator's value of ``open_sites``. The bound comes
    from ``result`` (or equals ``objective`` when ``proven`` says the
    reductions alone solved the instance). A bound that the solver's
    tolerances left marginally on the wrong side of the objective is moved
    onto it: the optimum lies between the two, so the objective is then the
    tightest proven bound. A bound on its side of the objective within the
    gap sought makes the plan optimal, whatever stopped the solver.
    ``exhausted`` says that the model ended before its time limit with
    nothing left to try: a gap left is then ``STOPPED``, not ``TIME_LIMIT``.
    """
    if proven:
        bound = objective
        status = Status.OPTIMAL
    elif result is None or result.status is MilpStatus.NO_SOLUTION:
        bound = math.inf if sense == "max" else -math.inf
        if result is not None and math.isfinite(result.bound):
            bound = result.bound
        status = Status.TIME_LIMIT
    else:
        bound = result.bound
        status = Status.OPTIMAL if result.status is MilpStatus.OPTIMAL else Status.TIME_LIMIT
    # A bound on its proper side within the gap sought proves the plan optimal,
    # whoever found the two (a Lagrangian bound after a solver's time limit).
    closed = (bound >= objective if sense == "max" else bound <= objective) and relative_gap(
        objective, bound
    ) <= settings.relative_gap
    bound = max(bound, objective) if sense == "max" else min(bound, objective)
    if status is Status.TIME_LIMIT and closed:
        status = Status.OPTIMAL
    if status is Status.TIME_LIMIT and exhausted and math.isfinite(bound):
        status = Status.STOPPED
    if status is Status.OPTIMAL and relative_gap(objective, bound) > settings.relative_gap * (
        1 + 1e-6
    ):
        # The backend stopped believing it was optimal but the recomputed
        # objective does not back that up: do not call it optimal.
        logger.warning(
            "%s: solver reported optimal but gap %.3g exceeds %.3g",
            model,
            relative_gap(objective, bound),
            settings.relative_gap,
        )
        status = Status.FEASIBLE
    if not math.isfinite(objective):
        raise SolverError(f"{model}: the solver returned no usable solution")
    return Solution(
        model=model,
        sense=sense,
        status=status,
        objective=objective,
        bound=bound,
        seconds=time.perf_counter() - started,
        open_sites=np.sort(open_sites).astype(np.int64),
        assignment=assignment,
        details=details,
    )
