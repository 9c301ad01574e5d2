"""The common result of every model, and the solver settings every model takes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp


class Status(StrEnum):
    """How a solve ended.

    ``OPTIMAL`` only when the solver proved it (bound equals objective within
    the requested gap); ``TIME_LIMIT`` when the time limit stopped it with a
    solution and a valid bound; ``STOPPED`` when it ended before the limit
    with a solution and a valid bound but a gap above the requested one,
    because its methods had nothing left to try (more time alone is unlikely
    to close that gap); ``FEASIBLE`` when a solution exists but no proof was
    sought; ``INFEASIBLE`` when the model has no solution.
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    TIME_LIMIT = "time_limit"
    STOPPED = "stopped"
    INFEASIBLE = "infeasible"


@dataclass(frozen=True)
class SolverSettings:
    """How hard and how long to try.

    Attributes
    ----------
    time_limit_s
        Wall-clock limit for one solve; the best solution found and its bound
        are returned with ``Status.TIME_LIMIT`` when it is reached.
    relative_gap
        Stop when (|objective - bound|) / max(|objective|, 1e-9) is at most this.
    threads
        Worker threads the solver may use.
    seed
        Random seed handed to the solver and to heuristics; never global.
    backend
        OR-Tools backend to use (``"highs"``, ``"scip"`` or ``"sat"``); ``None``
        picks the one measured fastest for the model (see benchmarks/README.md).
    """

    time_limit_s: float = 60.0
    relative_gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    backend: str | None = None


@dataclass(frozen=True, eq=False)
class Solution:
    """The answer of one model.

    Attributes
    ----------
    model
        The model's name, e.g. ``"max_coverage"``.
    sense
        ``"max"`` or ``"min"``: which way the objective goes.
    status
        See :class:`Status`.
    objective
        Objective value of the returned open sites (recomputed, not the solver's echo).
    bound
        A proven bound: an upper bound when maximising, a lower bound when minimising.
    seconds
        Wall-clock seconds of the solve, including reductions and heuristics.
    open_sites
        Sorted indices of the open sites.
    assignment
        For each demand point, the index of the site serving it, or -1 when it is
        not served (not covered, or out of reach). With split demand, the site
        serving the largest share.
    details
        Model-specific figures (sizes before and after reduction, unreachable
        demand, covered weight, ...).
    allocation
        Demand × sites share of each demand point served by each site, for
        models that may split demand (capacitated facility location, sizing);
        ``None`` otherwise.
    chargers
        Chargers at each site (0 at closed sites) for models that size them
        (sizing); ``None`` otherwise.
    """

    model: str
    sense: Literal["max", "min"]
    status: Status
    objective: float
    bound: float
    seconds: float
    open_sites: npt.NDArray[np.int64]
    assignment: npt.NDArray[np.int64]
    details: dict[str, float] = field(default_factory=dict)
    allocation: sp.csr_matrix | None = None
    chargers: npt.NDArray[np.int64] | None = None

    @property
    def gap(self) -> float:
        """Relative gap between objective and bound (0 when proven optimal)."""
        return relative_gap(self.objective, self.bound)

    @property
    def is_optimal(self) -> bool:
        return self.status is Status.OPTIMAL


def relative_gap(objective: float, bound: float) -> float:
    """|objective - bound| / max(|objective|, 1e-9); inf when either is not finite."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    return abs(objective - bound) / max(abs(objective), 1e-9)
