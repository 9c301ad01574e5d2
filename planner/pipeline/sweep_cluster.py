"""A sweep's tasks on Dask distributed: a local cluster of processes, or an existing scheduler.

Dask does the scheduling, the data movement between workers, the retries of
the tasks of a lost worker and the dashboard; this module only says what the
tasks are (:mod:`planner.pipeline.sweep_tasks`) and collects what they return.

The task graph of a sweep::

    read_inputs(inputs key) ──> reach_for(travel setting) ──> solve_run(run) ...
                           └──> candidate_sites

One ``read_inputs`` per distinct :func:`~planner.pipeline.sweep_tasks.inputs_key`,
one ``reach_for`` per distinct travel setting, one ``solve_run`` per distinct
run scenario (two draws that give the same scenario are solved once). The
inputs are built on a worker and moved by Dask to the others as their runs
need them; a worker lost with them is no loss, since Dask rebuilds a task's
result from its inputs (the scenario), where scattered data would be gone.
Each key is a digest of what the task reads, so equal work has equal keys.

The inputs are read before any run is submitted: a bad input file stops the
sweep with its one-line message (exit code 2) and no run starts. A worker
lost mid-sweep costs only its runs in progress, which Dask runs again on
another worker (``distributed.scheduler.allowed-failures`` times; after that
the run is recorded as ``worker_lost`` and the sweep goes on). Waiting is
done in short steps, so Ctrl-C stops a sweep at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from planner.pipeline.dask_cluster import dashboard_link
from planner.pipeline.sweep_spec import SweepRun
from planner.pipeline.sweep_tasks import (
    FAILED_STATUSES,
    RunResult,
    candidate_sites,
    failed_result,
    inputs_key,
    reach_for,
    reach_key,
    read_inputs,
    solve_run,
    warm_up,
)

if TYPE_CHECKING:
    from distributed import Client, Future

__all__ = ["SweepProgress", "collect_runs", "read_sites"]

logger = logging.getLogger(__name__)

#: Seconds between looks at the futures (and between progress reports).
_POLL_S = 0.1
_REPORT_S = 0.5


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep stands, in runs (rows of ``sweep.csv``).

    ``phase`` is ``"reading inputs"`` (the cluster is up; the inputs are read,
    nothing is solved yet) or ``"solving"``.

    ``running`` counts the distinct runs the workers are solving now;
    ``seconds_left`` is estimated from the rate so far (``None`` until a run
    has finished).
    """

    phase: str
    total: int
    done: int
    running: int
    failed: int
    workers: int
    seconds: float
    seconds_left: float | None
    dashboard: str | None = None


#: Called with the sweep's progress, about twice a second.
ProgressCallback = Callable[[SweepProgress], None]


@dataclass
class _Graph:
    """The futures of a sweep's inputs, reach and runs, by key."""

    inputs: dict[str, Future]
    reach: dict[str, Future]
    runs: dict[str, Future]


def _submit_inputs(client: Client, runs: Sequence[SweepRun]) -> _Graph:
    inputs: dict[str, Future] = {}
    reach: dict[str, Future] = {}
    for run in runs:
        key = inputs_key(run.scenario)
        if key not in inputs:
            inputs[key] = client.submit(read_inputs, run.scenario, key=key)
        travel = reach_key(run.scenario)
        if travel not in reach:
            reach[travel] = client.submit(reach_for, inputs[key], run.scenario, key=travel)
    return _Graph(inputs=inputs, reach=reach, runs={})


def read_sites(
    client: Client, runs: Sequence[SweepRun], *, progress: ProgressCallback | None = None
) -> tuple[pd.DataFrame, _Graph]:
    """Read every distinct inputs of ``runs`` on the cluster; their candidate sites.

    Raises
    ------
    PlannerError
        What reading the inputs raised (an :class:`InputError` naming the
        file and row, say): no run has been submitted.
    """
    if progress is not None:
        progress(
            SweepProgress(
                "reading inputs",
                len(runs),
                0,
                0,
                0,
                len(client.nthreads()),
                0.0,
                None,
                dashboard_link(client),
            )
        )
    # Every worker loads the solver while one reads the inputs: its first
    # run then starts as soon as the inputs arrive.
    warming: list[Future] = [
        client.submit(warm_up, key=f"warm-up-{index}-{address}", workers=[address], pure=False)
        for index, address in enumerate(client.nthreads())
    ]
    graph = _submit_inputs(client, runs)
    site_futures = [
        client.submit(candidate_sites, future, key=f"sites-{key}")
        for key, future in graph.inputs.items()
    ]
    _wait([*graph.inputs.values(), *site_futures])
    for future in [*graph.inputs.values(), *site_futures]:
        if future.status == "error":
            exception = future.exception()
            _release(graph, site_futures)
            assert isinstance(exception, BaseException)
            raise exception
    tables = client.gather(site_futures)
    for done in [*site_futures, *warming]:
        done.release()
    sites = pd.concat(tables, ignore_index=True).drop_duplicates("site_id", ignore_index=True)
    return sites, graph


def collect_runs(
    client: Client,
    graph: _Graph,
    runs: Sequence[SweepRun],
    *,
    finished: dict[str, RunResult],
    on_result: Callable[[RunResult], None] | None = None,
    progress: ProgressCallback | None = None,
) -> dict[str, RunResult]:
    """Solve the runs not in ``finished`` on the cluster; every run's result, by run id.

    ``on_result`` is called with each new result as it arrives (to keep it on
    disk); ``progress`` about twice a second.
    """
    from distributed import as_completed

    results = dict(finished)
    rows_of: dict[str, int] = {}
    for run in runs:
        rows_of[run.run_id] = rows_of.get(run.run_id, 0) + 1
    for run in runs:
        if run.run_id in results or run.run_id in graph.runs:
            continue
        inputs = graph.inputs[inputs_key(run.scenario)]
        reach = graph.reach[reach_key(run.scenario)]
        graph.runs[run.run_id] = client.submit(
            solve_run, run.run_id, run.scenario, inputs, reach, key=f"run-{run.run_id}"
        )
    # The runs hold what they need: the inputs and reach are freed as the
    # last run using them finishes.
    _release(graph, [])
    keys: dict[Any, str] = {future.key: run_id for run_id, future in graph.runs.items()}
    pending = as_completed(list(graph.runs.values()), loop=client.loop)
    total = len(runs)
    started = time.perf_counter()
    tasks_done = 0
    reported = 0.0
    try:
        while not pending.is_empty():
            ready = pending.next_batch(block=False) if pending.has_ready() else []
            for future in ready:
                if future.status not in ("finished", "error", "cancelled"):
                    # Done on a worker lost since: its result went with it, and
                    # Dask runs it again for the future still held here.
                    logger.info("run %s: its worker was lost, running it again", keys[future.key])
                    pending.add(future)
                    continue
                result = _result_of(future, keys[future.key])
                results[result.run_id] = result
                tasks_done += 1
                future.release()
                if on_result is not None:
                    on_result(result)
            now = time.perf_counter()
            if progress is not None and (ready or now - reported >= _REPORT_S):
                reported = now
                progress(
                    _progress(client, results, rows_of, keys, total, now - started, tasks_done)
                )
            if not ready:
                time.sleep(_POLL_S)
    finally:
        for future in graph.runs.values():
            future.release()
    if progress is not None:
        seconds = time.perf_counter() - started
        progress(_progress(client, results, rows_of, keys, total, seconds, tasks_done))
    return results


def _result_of(future: Future, run_id: str) -> RunResult:
    """A finished future's result; a lost worker or a cancelled task as a failed run."""
    from distributed.scheduler import KilledWorker

    if future.status == "finished":
        result = future.result()
        assert isinstance(result, RunResult)
        return result
    if future.status == "cancelled":
        return failed_result(run_id, "error", "cancelled (the scheduler dropped the task)")
    exception = future.exception()
    if isinstance(exception, KilledWorker):
        return failed_result(
            run_id,
            "worker_lost",
            "the workers running it were lost too often (distributed.scheduler.allowed-failures)",
        )
    return failed_result(run_id, "error", f"{type(exception).__name__}: {exception}")


def _progress(
    client: Client,
    results: dict[str, RunResult],
    rows_of: dict[str, int],
    keys: dict[Any, str],
    total: int,
    seconds: float,
    tasks_done: int,
) -> SweepProgress:
    done = sum(rows_of.get(run_id, 0) for run_id in results)
    failed = sum(
        rows_of.get(run_id, 0) for run_id, r in results.items() if r.status in FAILED_STATUSES
    )
    running = 0
    workers = 0
    if keys:
        try:
            processing = client.processing()
            workers = len(processing)
            running = sum(1 for tasks in processing.values() for key in tasks if key in keys)
        except (OSError, TimeoutError):  # a report is not worth failing the sweep for
            pass
    left = None
    if tasks_done and keys:
        remaining = sum(1 for run_id in set(keys.values()) if run_id not in results)
        left = seconds / tasks_done * remaining
    elif not keys:
        left = 0.0
    dashboard = dashboard_link(client)
    return SweepProgress("solving", total, done, running, failed, workers, seconds, left, dashboard)


def _wait(futures: Sequence[Future]) -> None:
    """Wait for ``futures`` in short steps, so that Ctrl-C is taken at once."""
    while not all(future.done() for future in futures):
        time.sleep(_POLL_S)


def _release(graph: _Graph, others: Sequence[Future]) -> None:
    for future in [*graph.inputs.values(), *graph.reach.values(), *others]:
        future.release()
