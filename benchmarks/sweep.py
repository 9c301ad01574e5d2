"""A sweep of the default scenario on a 2-worker LocalCluster against the same runs in one process.

Usage::

    python benchmarks/sweep.py [--workers 2] [--p 30,60,90,120,150,180] [--radius-km 30,40,50,60]
                               [--full-time-limit 60] [--skip-full]

The grid (p × radius, 24 runs by default) is solved twice with the same task
functions (:mod:`planner.pipeline.sweep_tasks`):

- serially, one run after another in this process: the inputs read once,
  reach computed once per radius;
- on a ``LocalCluster`` of ``--workers`` single-threaded processes, the way
  ``planner sweep`` runs it. The cluster is started and its workers have
  loaded planner before the clock starts (a company's cluster is up already);
  the start-up is printed on its own line.

It prints both times, the per-run overhead of the cluster (the worker-seconds
a run costs on the cluster beyond its share of the serial time), the peak
memory of each worker, checks that both give the same coverage for every
run, and projects a 1,000-run Monte Carlo of the full-scale sample network
from one measured run of it (unless ``--skip-full``). The last line is
``speedup: <serial seconds / cluster seconds>``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import distributed
import scipy.sparse as sp

from planner.geodata import GEODATA_DIR
from planner.pipeline.dask_cluster import dask_client
from planner.pipeline.load import PlanInputs
from planner.pipeline.sweep_cluster import collect_runs, read_sites
from planner.pipeline.sweep_spec import SweepRun, sweep_spec
from planner.pipeline.sweep_tasks import (
    RunResult,
    inputs_key,
    reach_for,
    reach_key,
    read_inputs,
    solve_run,
)
from planner.scenario.build import scenario_from


def peak_memory_mib() -> float:
    """Peak resident set size of the calling process, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _import_planner() -> str:
    importlib.import_module("planner.pipeline.sweep_tasks")
    return "ok"


def serial(runs: list[SweepRun]) -> tuple[float, dict[str, RunResult]]:
    """The runs one after another in this process: inputs once, reach once per travel setting."""
    start = time.perf_counter()
    inputs: dict[str, PlanInputs] = {}
    reach: dict[str, sp.csr_matrix] = {}
    results: dict[str, RunResult] = {}
    for run in runs:
        key = inputs_key(run.scenario)
        if key not in inputs:
            inputs[key] = read_inputs(run.scenario)
        travel = reach_key(run.scenario)
        if travel not in reach:
            reach[travel] = reach_for(inputs[key], run.scenario)
        results[run.run_id] = solve_run(
            run.run_id,
            run.scenario,
            inputs[key],
            reach[travel],
        )
    return time.perf_counter() - start, results


def full_scale_run(time_limit: float) -> tuple[float, float, float]:
    """One run of the full-scale sample network in a fresh process, as a worker would run it.

    Returns seconds to read the inputs, seconds of the run, and the process's peak MiB.
    """
    done = subprocess.run(
        [sys.executable, __file__, "--full-only", "--full-time-limit", str(time_limit)],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.strip().splitlines()
    print(lines[0])
    figures = json.loads(lines[-1])
    return figures["read_s"], figures["run_s"], figures["peak_mib"]


def _full_scale_in_this_process(time_limit: float) -> None:
    import pandas as pd

    path = Path(GEODATA_DIR) / "sample_dealers_full.csv"
    countries = sorted(pd.read_csv(path, usecols=["country"])["country"].unique())
    scenario = scenario_from(
        {
            "name": "full",
            "dealers": {"files": [{"path": str(path)}]},
            "demand": {"countries": countries, "min_population": 500},
            "model": {"p": 1000},
            "solver": {"time_limit_s": time_limit, "relative_gap": 1e-3},
            "output": {"map": False},
        }
    )
    start = time.perf_counter()
    inputs = read_inputs(scenario)
    read_s = time.perf_counter() - start
    result = solve_run("full", scenario, inputs, inputs.reach)
    gap = "n/a" if result.gap is None else f"{100 * result.gap:.2f} %"
    print(
        f"full-scale sample network: {len(inputs.sites):,} sites × {len(inputs.demand):,} "
        f"demand points ({inputs.reach.nnz:,} pairs): read {read_s:.1f} s, run "
        f"{result.seconds or 0:.1f} s ({result.status}, gap {gap}), "
        f"peak {peak_memory_mib() / 1024:.1f} GiB"
    )
    figures = {"read_s": read_s, "run_s": result.seconds or 0.0, "peak_mib": peak_memory_mib()}
    print(json.dumps(figures))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--p", default="30,60,90,120,150,180")
    parser.add_argument("--radius-km", default="30,40,50,60")
    parser.add_argument("--full-time-limit", type=float, default=60.0)
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--full-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger(distributed.__name__).setLevel(logging.ERROR)
    if args.full_only:
        _full_scale_in_this_process(args.full_time_limit)
        return 0

    grid: dict[str, list[Any]] = {
        "model.p": [int(v) for v in args.p.split(",")],
        "travel.radius_km": [float(v) for v in args.radius_km.split(",")],
    }
    spec = sweep_spec(scenario_from(None), grid=grid)
    runs = spec.runs
    print(f"sweep of the default scenario: {len(runs)} runs (p {args.p} × radius {args.radius_km})")

    serial_s, serial_results = serial(runs)
    run_seconds = sum(r.seconds or 0.0 for r in serial_results.values())
    print(
        f"serial, one process: {serial_s:.1f} s (runs {run_seconds:.1f} s, "
        f"{run_seconds / len(runs):.2f} s a run; inputs and reach {serial_s - run_seconds:.1f} s)"
    )

    start = time.perf_counter()
    with dask_client(None, args.workers) as client:
        client.run(_import_planner)
        print(
            f"cluster start-up ({args.workers} workers, planner loaded): "
            f"{time.perf_counter() - start:.1f} s, not in the sweep's time"
        )
        start = time.perf_counter()
        _, graph = read_sites(client, runs)
        results = collect_runs(client, graph, runs, finished={})
        cluster_s = time.perf_counter() - start
        memory = client.run(peak_memory_mib)
    mismatched = [
        run.index + 1
        for run in runs
        if abs(
            (results[run.run_id].coverage_pct or 0) - (serial_results[run.run_id].coverage_pct or 0)
        )
        > 1e-6
    ]
    statuses = sorted({r.status for r in results.values()})
    overhead = (args.workers * cluster_s - serial_s) / len(runs)
    print(
        f"cluster, {args.workers} workers: {cluster_s:.1f} s; statuses {statuses}; "
        f"coverage equal to serial in {len(runs) - len(mismatched)} of {len(runs)} runs"
    )
    print(
        f"overhead of the cluster per run: {overhead:.2f} worker-seconds "
        f"({args.workers} × cluster seconds − serial seconds, over {len(runs)} runs)"
    )
    for address, mib in sorted(memory.items()):
        print(f"peak memory of worker {address}: {mib:,.0f} MiB")

    if not args.skip_full:
        read_s, run_s, peak = full_scale_run(args.full_time_limit)
        per_run = run_s + max(overhead, 0.0)
        print(
            f"projection, 1,000-run Monte Carlo of the full-scale sample network "
            f"({args.full_time_limit:g} s solver limit): {per_run:.0f} worker-seconds a run, "
            f"peak {peak / 1024:.1f} GiB per worker; inputs read once per input setting "
            f"({read_s:.0f} s) and moved to each worker"
        )
        for workers in (2, 8, 32, 128):
            hours = (read_s + 1000 * per_run / workers) / 3600
            print(f"  on {workers:>3} workers: {hours:6.2f} h, {workers * peak / 1024:,.0f} GiB")
        print(
            "  limits: the solver's time limit bounds each run (a continental maximal "
            f"covering stops at it); memory ({peak / 1024:.1f} GiB a worker) bounds the workers "
            "a machine holds; the scheduler's milliseconds per task and the inputs moved "
            "once per worker are small beside that; a drawn radius needs its own reach "
            "(seconds each, computed once per distinct value)"
        )
    print(f"speedup: {serial_s / cluster_s:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
