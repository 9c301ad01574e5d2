"""The work of a sweep, as plain functions a Dask worker (or a loop) calls.

Three kinds of task, each a plain value in and out:

- :func:`read_inputs`: sites, demand points and existing stations of the
  runs that share :func:`inputs_key` (everything the inputs depend on but
  the travel setting and the sessions factors), read once;
- :func:`reach_for`: the reach matrix of one travel setting
  (:func:`reach_key`), computed once from those inputs;
- :func:`solve_run`: one run on them. Its sessions per day are recomputed
  from the run's own factors (cheap, per point), so a Monte Carlo over BEV
  shares reads nothing again. It returns a :class:`RunResult`: the key
  figures, the chosen sites and their chargers, not the plan.

A run that fails (an infeasible scenario, a solver failure, anything) is a
result too, with its status and message: the sweep goes on.
"""

from __future__ import annotations

import hashlib
import json
import socket
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.errors import InfeasibleError, InputError, SolverError
from planner.inputs.demand import demand_weight, sessions_per_day
from planner.pipeline.load import Clock, PlanInputs, load_inputs
from planner.pipeline.plan import solve_plan
from planner.scenario.models import MODEL_TRAITS
from planner.scenario.schema import Scenario
from planner.travel.reach import travel_reach

__all__ = [
    "RunResult",
    "candidate_sites",
    "failed_result",
    "inputs_key",
    "reach_for",
    "reach_key",
    "read_inputs",
    "run_inputs",
    "solve_run",
    "warm_up",
]

#: Columns of the candidate sites a sweep keeps (for its tables and map).
SITE_COLUMNS = ("site_id", "name", "brands", "country", "lon", "lat", "n_dealers", "excluded")

#: Statuses of a run that ended without a plan.
FAILED_STATUSES = ("infeasible", "input_error", "solver_error", "error", "worker_lost")


@dataclass(frozen=True)
class RunResult:
    """What a run sends back: key figures, chosen sites, chargers; small.

    ``status`` is the solver's (``optimal``, ``time_limit``, ``stopped``, ``feasible``) or
    one of :data:`FAILED_STATUSES` with ``message`` saying what went wrong.
    ``site_ids`` are the chosen sites and ``chargers`` their chargers, in
    the same order.
    """

    run_id: str
    status: str
    message: str = ""
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    coverage_pct: float | None = None
    sites_selected: int | None = None
    chargers_total: int | None = None
    cost_eur: float | None = None
    solve_seconds: float | None = None
    seconds: float | None = None
    worker: str = ""
    site_ids: tuple[str, ...] = ()
    chargers: tuple[int, ...] = ()

    @property
    def solved(self) -> bool:
        """Whether the run has a plan (its sites count in the robustness table)."""
        return self.status not in FAILED_STATUSES

    def record(self) -> dict[str, Any]:
        """As JSON-ready values."""
        record = asdict(self)
        record["site_ids"] = list(self.site_ids)
        record["chargers"] = list(self.chargers)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> RunResult:
        """The result a :meth:`record` came from."""
        known = {key: record[key] for key in cls.__dataclass_fields__ if key in record}
        known["site_ids"] = tuple(str(s) for s in known.get("site_ids", ()))
        known["chargers"] = tuple(int(c) for c in known.get("chargers", ()))
        return cls(**known)


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def warm_up() -> str:
    """Nothing but loading this module and the solver's on a worker (before its first run)."""
    return _worker_name()


def inputs_key(scenario: Scenario) -> str:
    """What :func:`read_inputs` depends on, as a digest: runs with equal keys share inputs.

    Dealers, demand points (not the sessions factors, which each run
    applies), existing stations and the charger limits that exclude sites;
    the travel setting only where the inputs depend on it: existing stations
    (their reach uses it), a road network (points off its roads are
    dropped) and trips (routed on it).
    """
    dumped = scenario.model_dump(mode="json")
    demand = {k: v for k, v in dumped["demand"].items() if k != "sessions"}
    chargers = {k: dumped["chargers"][k] for k in ("power_kw", "min_per_site", "max_per_site")}
    existing = dumped["existing_chargers"]
    parts = {
        "dealers": dumped["dealers"],
        "demand": demand,
        "chargers": chargers,
        "existing": {k: v for k, v in existing.items() if k != "demand_discount"},
        "travel": dumped["travel"] if _inputs_need_travel(scenario) else None,
    }
    return f"inputs-{_digest(parts)}"


def _inputs_need_travel(scenario: Scenario) -> bool:
    traits = MODEL_TRAITS[scenario.model.name]
    return bool(
        scenario.existing_chargers.files
        or getattr(scenario.travel, "mode", "great_circle") != "great_circle"
        or getattr(traits, "needs_trips", False)
    )


def reach_key(scenario: Scenario) -> str:
    """:func:`inputs_key` and the travel setting: runs with equal keys share reach."""
    travel = scenario.model_dump(mode="json")["travel"]
    return f"reach-{_digest([inputs_key(scenario), travel])}"


def read_inputs(scenario: Scenario) -> PlanInputs:
    """Sites, demand points, existing stations (and the scenario's own reach), read once."""
    return load_inputs(scenario)


def reach_for(inputs: PlanInputs, scenario: Scenario) -> sp.csr_matrix:
    """The reach matrix of the scenario's travel setting on ``inputs``, as a run computes it."""
    reached = travel_reach(
        scenario.travel,
        inputs.demand["lon"],
        inputs.demand["lat"],
        inputs.sites["lon"],
        inputs.sites["lat"],
    )
    return reached.matrix


def candidate_sites(inputs: PlanInputs) -> pd.DataFrame:
    """The candidate sites without geometry: what the sweep's tables and map need."""
    return pd.DataFrame(inputs.sites[list(SITE_COLUMNS)])


def run_inputs(inputs: PlanInputs, reach: sp.csr_matrix, scenario: Scenario) -> PlanInputs:
    """``inputs`` with ``reach`` and the run's own sessions per day and weights."""
    demand = inputs.demand.copy()
    demand["sessions_per_day"] = sessions_per_day(
        demand["population"], demand["country"], scenario.demand.sessions
    )
    existing = inputs.existing
    demand["weight"] = demand_weight(
        demand,
        scenario.demand,
        existing_in_reach=None if existing is None else existing.in_reach,
        existing_discount=0.0 if existing is None else scenario.existing_chargers.demand_discount,
    ).astype(float)
    counts = {**inputs.counts, "reach_pairs": int(reach.nnz)}
    return replace(inputs, demand=demand, reach=reach, counts=counts)


def solve_run(
    run_id: str, scenario: Scenario, inputs: PlanInputs, reach: sp.csr_matrix
) -> RunResult:
    """Solve one run; a failure is a result with its status and message, never an exception."""
    start = time.perf_counter()
    worker = _worker_name()
    try:
        plan = solve_plan(scenario, run_inputs(inputs, reach, scenario), clock=Clock(None))
    except InfeasibleError as exc:
        return failed_result(run_id, "infeasible", str(exc), start=start, worker=worker)
    except InputError as exc:
        return failed_result(run_id, "input_error", str(exc), start=start, worker=worker)
    except SolverError as exc:
        return failed_result(run_id, "solver_error", str(exc), start=start, worker=worker)
    except Exception as exc:  # the sweep goes on; the row says what happened
        message = f"{type(exc).__name__}: {exc}"
        return failed_result(run_id, "error", message, start=start, worker=worker)
    report = plan.report
    chosen = plan.sites[plan.sites["chosen"].to_numpy(dtype=bool)]
    return RunResult(
        run_id=run_id,
        status=str(report["status"]),
        objective=_number(report.get("objective")),
        bound=_number(report.get("bound")),
        gap=_number(report.get("gap")),
        coverage_pct=_number(report.get("coverage_pct")),
        sites_selected=int(report["sites_selected"]),
        chargers_total=int(report["chargers_total"]),
        cost_eur=_number((report.get("cost_eur") or {}).get("total")),
        solve_seconds=_number(report.get("solve_seconds")),
        seconds=time.perf_counter() - start,
        worker=worker,
        site_ids=tuple(str(s) for s in chosen["site_id"]),
        chargers=tuple(int(c) for c in chosen["chargers"]),
    )


def failed_result(
    run_id: str, status: str, message: str, *, start: float | None = None, worker: str = ""
) -> RunResult:
    """A run that ended without a plan."""
    seconds = None if start is None else time.perf_counter() - start
    return RunResult(run_id=run_id, status=status, message=message, seconds=seconds, worker=worker)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def _worker_name() -> str:
    """The Dask worker's address when run on one, else this host's name."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return socket.gethostname()
