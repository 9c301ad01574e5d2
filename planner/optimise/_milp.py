"""A mixed-integer programme held as arrays, and its solution by an OR-Tools backend.

Models build a :class:`Milp` from numpy arrays and one CSR constraint matrix
(never a Python loop over coefficients) and hand it to :func:`solve_milp`,
which loads it into OR-Tools' model builder in one call, sets the solver's
gap, time and thread parameters, and maps the solver's status to ours.
HiGHS is called through its own Python interface instead: OR-Tools' model
builder reports a HiGHS solve stopped by the time limit as of unknown status
and drops its plan and bound with it (OR-Tools 9.15; the full-scale set
cover lost a plan of 1,505 sites and a bound of 176.6 that way), and it
cannot take a starting plan for HiGHS without crashing.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from ortools.linear_solver.python import model_builder as mb

from planner.errors import SolverError
from planner.optimise import progress
from planner.optimise._highs import highs_lp, quiet_highs
from planner.optimise._solver_log import BoundsCallback, backend_log
from planner.optimise.solution import SolverSettings

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Milp:
    """min (or max) c·x subject to row_lower ≤ A x ≤ row_upper, lower ≤ x ≤ upper.

    Attributes
    ----------
    objective
        Cost vector ``c``.
    matrix
        Constraint matrix ``A`` in CSR form.
    row_lower, row_upper
        Row bounds (``±inf`` for one-sided rows).
    lower, upper
        Variable bounds.
    integer
        Which variables are integral.
    maximise
        Direction of the objective.
    offset
        Constant added to the objective (kept outside the solver).
    hint
        Optional starting values (a feasible solution) for every variable.
    """

    objective: FloatArray
    matrix: sp.csr_matrix
    row_lower: FloatArray
    row_upper: FloatArray
    lower: FloatArray
    upper: FloatArray
    integer: BoolArray
    maximise: bool = False
    offset: float = 0.0
    hint: FloatArray | None = None


class MilpStatus(Enum):
    """How the backend ended, reduced to what the models need to know."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"


@dataclass(frozen=True)
class MilpResult:
    """Values of the variables, objective (with offset) and proven bound (with offset)."""

    status: MilpStatus
    values: FloatArray
    objective: float
    bound: float
    seconds: float


def _parameters(backend: str, settings: SolverSettings) -> str:
    """The OR-Tools backends' parameter text: gap, threads and seed set on purpose.

    HiGHS, called directly, takes :func:`_highs_options` instead.
    """
    gap = settings.relative_gap
    if backend == "scip":
        return "\n".join(
            [
                f"limits/gap = {gap}",
                "limits/absgap = 1e-9",
                f"randomization/randomseedshift = {settings.seed}",
                f"parallel/maxnthreads = {max(1, settings.threads)}",
                # Ctrl-C belongs to the command line, which then writes nothing;
                # SCIP would otherwise catch it and return as if time ran out.
                "misc/catchctrlc = FALSE",
                # Restarting after root fixings re-solves the root LP from
                # scratch: on the France maximal covering (15k places, 2k
                # sites) p = 100 took 17 s with restarts and 6 s without,
                # p = 200 100 s against 38 s (benchmarks/README.md).
                "presolving/maxrestarts = 0",
            ]
        )
    if backend == "sat":
        # One worker with full linearisation proves facility-location optima far
        # faster on few cores than the default portfolio (measured on pmed).
        workers = max(1, settings.threads)
        level = 2 if workers == 1 else 1
        return (
            f"num_workers:{workers},linearization_level:{level},"
            f"relative_gap_limit:{gap},random_seed:{settings.seed},"
            "catch_sigint_signal:false"
        )
    raise ValueError(f"unknown backend {backend!r}")


def _model_of(milp: Milp, *, integral: bool, hint: bool) -> mb.Model:
    """``milp`` loaded into the model builder in one call; its LP relaxation unless ``integral``."""
    model = mb.Model()
    helper: Any = model.helper  # the pybind stubs mistype numpy arguments
    arrays: list[Any] = [milp.lower, milp.upper, milp.objective, milp.row_lower, milp.row_upper]
    helper.fill_model_from_sparse_data(
        *[np.ascontiguousarray(array, dtype=np.float64) for array in arrays],
        milp.matrix.astype(np.float64),
    )
    if integral:
        for column in np.flatnonzero(milp.integer).tolist():
            helper.set_var_integrality(column, True)
    if milp.maximise:
        helper.set_maximize(True)
    # The solver knows the constant, so that its relative gap is the model's:
    # without it a penalty's constant (sizing: 1.9e8 against an objective of
    # 1.1e6) made SCIP stop at a gap of 1 %.
    helper.set_objective_offset(float(milp.offset))
    if hint and milp.hint is not None:
        for index, value in enumerate(milp.hint.tolist()):
            helper.add_hint(index, float(value))
    return model


def solve_relaxation_pdlp(
    milp: Milp, *, seconds: float, parameters: str
) -> tuple[FloatArray, FloatArray] | None:
    """Values and row duals of ``milp``'s LP relaxation by PDLP; ``None`` unless it converged.

    PDLP (first-order) is accurate only to its tolerance: callers turn its
    answer into bounds that hold whatever that accuracy. Building the model
    counts against ``seconds`` (3.8 s of a 10 s limit on 143,000 sites).
    """
    started = time.perf_counter()
    model = _model_of(milp, integral=False, hint=False)
    solver = mb.Solver("pdlp")
    if not solver.solver_is_supported():
        return None
    left = seconds - (time.perf_counter() - started)
    if left <= 0:
        logger.debug("pdlp not started: building its model took the %.1f s given", seconds)
        return None
    solver.set_time_limit_in_seconds(left)
    solver.set_solver_specific_parameters(parameters)
    status = solver.solve(model)
    logger.debug("pdlp ended with %s after %.3f s", status.name, solver.wall_time)
    if status != mb.SolveStatus.OPTIMAL:
        return None
    values = np.asarray(solver.values(model.get_variables()), dtype=np.float64)
    duals = np.asarray(solver.dual_values(model.get_linear_constraints()), dtype=np.float64)
    if not (np.all(np.isfinite(values)) and np.all(np.isfinite(duals))):
        return None
    return values, duals


@contextlib.contextmanager
def _backend_progress(backend: str, report: BoundsCallback | None) -> Iterator[bool]:
    """Read the backend's log into ``report`` while a watch is open; yields whether it does."""
    if report is None or backend == "sat" or not progress.reporting():
        yield False
        return

    # The backends' logs show the objective with the model's offset (which they are given).
    with backend_log(report) as reading:
        yield reading


def solve_milp(
    milp: Milp,
    settings: SolverSettings,
    *,
    backend: str = "highs",
    report: BoundsCallback | None = None,
    extra_parameters: str = "",
    bounded_after_s: float | None = None,
) -> MilpResult:
    """Solve ``milp`` with ``settings.backend``, or else the model's ``backend`` default.

    Backends are ``highs``, ``scip`` and ``sat`` (CP-SAT). ``report``, when a
    progress watch is open, hears the backend's best plan and bound (offset
    included) as its log prints them; only a caller whose ``milp`` is the
    whole model passes one (see :mod:`planner.optimise.progress`).
    ``extra_parameters`` are appended to the backend's parameter text (in its
    own syntax), for a model that needs more than the shared settings.
    ``bounded_after_s`` (HiGHS only) ends the solve early, as a limit does, at
    the first moment after that many seconds at which it has a bound: a
    caller that wants the rest of the time for its own search, but not at
    the price of the bound, whose root LP may take most of the limit.

    Raises
    ------
    SolverError
        When the backend is unavailable or ends abnormally (not infeasible).
    """
    backend = settings.backend or backend
    if backend == "highs":
        with _backend_progress(backend, report) as reading:
            return _solve_highs(
                milp,
                settings,
                log=reading,
                extra_parameters=extra_parameters,
                bounded_after_s=bounded_after_s,
            )
    model = _model_of(milp, integral=True, hint=True)

    solver = mb.Solver(backend)
    if not solver.solver_is_supported():
        raise SolverError(f"the OR-Tools backend {backend!r} is not available in this build")
    solver.set_time_limit_in_seconds(max(settings.time_limit_s, 0.01))
    with _backend_progress(backend, report) as reading:
        parameters = _parameters(backend, settings)
        if extra_parameters:
            parameters += "\n" + extra_parameters
        solver.set_solver_specific_parameters(parameters)
        solver.enable_output(reading)
        status = solver.solve(model)
    seconds = float(solver.wall_time)
    logger.debug("%s ended with %s after %.3f s", backend, status.name, seconds)

    if status == mb.SolveStatus.INFEASIBLE:
        return MilpResult(MilpStatus.INFEASIBLE, np.empty(0), math.nan, math.nan, seconds)
    if status not in (mb.SolveStatus.OPTIMAL, mb.SolveStatus.FEASIBLE):
        if status in (mb.SolveStatus.NOT_SOLVED, mb.SolveStatus.UNKNOWN_STATUS):
            # Stopped by the time limit before finding any solution.
            return MilpResult(MilpStatus.NO_SOLUTION, np.empty(0), math.nan, math.nan, seconds)
        raise SolverError(f"{backend} ended with status {status.name}: {solver.status_string}")

    values = np.asarray(solver.values(model.get_variables()), dtype=np.float64)
    objective = float(solver.objective_value)  # the offset included
    bound = _solver_bound(float(solver.best_objective_bound), milp)
    kind = MilpStatus.OPTIMAL if status == mb.SolveStatus.OPTIMAL else MilpStatus.FEASIBLE
    return MilpResult(kind, values, objective, bound, seconds)


#: Bounds at or beyond this are a solver's infinity (SCIP's and HiGHS's is 1e20).
_SOLVER_INFINITY = 1e20

#: How HiGHS ends when a limit stops it: its plan (if it has one) and bound stand.
_HIGHS_LIMITS = frozenset(
    {
        highspy.HighsModelStatus.kTimeLimit,
        highspy.HighsModelStatus.kIterationLimit,
        highspy.HighsModelStatus.kSolutionLimit,
        highspy.HighsModelStatus.kInterrupt,
        highspy.HighsModelStatus.kObjectiveBound,
        highspy.HighsModelStatus.kObjectiveTarget,
    }
)
#: HiGHS reports a feasible primal solution with this solution status.
_FEASIBLE_POINT = 2


def _highs_options(settings: SolverSettings, *, log: bool) -> dict[str, bool | int | float]:
    """Gap, threads, seed and time set on purpose; ``log`` turns on the progress table
    (read by :mod:`._solver_log`)."""
    return {
        "output_flag": log,
        "mip_rel_gap": settings.relative_gap,
        "mip_abs_gap": 1e-9,
        "threads": max(1, settings.threads),
        "random_seed": settings.seed,
        "time_limit": max(settings.time_limit_s, 0.01),
    }


def _highs_model(milp: Milp) -> highspy.HighsLp:
    """``milp`` as HiGHS's own model."""
    model = highs_lp(
        sp.csr_matrix(milp.matrix, dtype=np.float64),
        *[
            np.ascontiguousarray(array, dtype=np.float64)
            for array in (milp.objective, milp.lower, milp.upper, milp.row_lower, milp.row_upper)
        ],
    )
    if milp.maximise:
        model.sense_ = highspy.ObjSense.kMaximize
    model.offset_ = float(milp.offset)
    if np.any(milp.integer):
        model.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in milp.integer.tolist()
        ]
    return model


def _solve_highs(
    milp: Milp,
    settings: SolverSettings,
    *,
    log: bool,
    extra_parameters: str,
    bounded_after_s: float | None = None,
) -> MilpResult:
    """``milp`` by HiGHS: its plan and bound kept when a limit stops it, ``hint`` as its start."""
    if milp.objective.size == 0:
        # HiGHS rejects a model without columns ("Empty"); its rows are then
        # constants 0, met or not, as SCIP and CP-SAT answer.
        met = bool(np.all((milp.row_lower <= 0.0) & (milp.row_upper >= 0.0)))
        if not met:
            return MilpResult(MilpStatus.INFEASIBLE, np.empty(0), math.nan, math.nan, 0.0)
        return MilpResult(MilpStatus.OPTIMAL, np.empty(0), milp.offset, milp.offset, 0.0)
    highs = quiet_highs()
    for name, value in _highs_options(settings, log=log).items():
        highs.setOptionValue(name, value)
    for line in extra_parameters.splitlines():
        if line.strip():
            name, text = line.split("=", 1)
            highs.setOptionValue(name.strip(), _option_value(text.strip()))
    highs.passModel(_highs_model(milp))
    integral = bool(np.any(milp.integer))
    if milp.hint is not None and integral:
        start = highspy.HighsSolution()
        start.col_value = np.ascontiguousarray(milp.hint, dtype=np.float64)
        highs.setSolution(start)
    if bounded_after_s is not None and integral:
        began = time.perf_counter()

        def settle(event: highspy.HighsCallbackEvent) -> None:
            # The MIP's interrupt points come after its root LP, not during it.
            bounded = math.isfinite(event.data_out.mip_dual_bound)
            if bounded and time.perf_counter() - began >= bounded_after_s:
                event.interrupt()

        highs.cbMipInterrupt += settle
    highs.run()
    seconds = float(highs.getRunTime())
    status = highs.getModelStatus()
    info = highs.getInfo()
    logger.debug("highs ended with %s after %.3f s", highs.modelStatusToString(status), seconds)
    if status in (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ) and np.all(np.isfinite(milp.lower) & np.isfinite(milp.upper)):
        # With every variable bounded, "unbounded or infeasible" can only be infeasible.
        return MilpResult(MilpStatus.INFEASIBLE, np.empty(0), math.nan, math.nan, seconds)
    optimal = status == highspy.HighsModelStatus.kOptimal
    # An LP's callers need its optimum: a point a limit stopped is no answer.
    has_plan = info.primal_solution_status == _FEASIBLE_POINT and (optimal or integral)
    if not optimal and not (status in _HIGHS_LIMITS or status == highspy.HighsModelStatus.kUnknown):
        raise SolverError(f"highs ended with status {highs.modelStatusToString(status)}")
    if not has_plan:
        # Stopped by a limit before finding any solution (or an LP's optimum).
        return MilpResult(MilpStatus.NO_SOLUTION, np.empty(0), math.nan, math.nan, seconds)
    values = np.asarray(highs.getSolution().col_value, dtype=np.float64)
    objective = float(info.objective_function_value)
    # An optimal LP's value is its bound.
    bound = _solver_bound(float(info.mip_dual_bound) if integral else objective, milp)
    kind = MilpStatus.OPTIMAL if optimal else MilpStatus.FEASIBLE
    return MilpResult(kind, values, objective, bound, seconds)


def _solver_bound(raw: float, milp: Milp) -> float:
    """A solver's bound (the offset included), ±inf when it has none.

    SCIP stopped before its root LP gives its infinity (1e20) as the bound,
    shifted by the offset or not: no bound, not a proven one (a flow plan's
    gap read 2e22 %).
    """
    if not math.isfinite(raw) or abs(raw) >= _SOLVER_INFINITY / 10:
        return math.inf if milp.maximise else -math.inf
    return raw


def _option_value(text: str) -> bool | int | float | str:
    """A HiGHS option's value from its text: HiGHS checks each option's type."""
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
