"""Mid-size maximal covering: planner's default route against SCIP on the whole model.

Usage::

    python benchmarks/coverage.py [--time-limit 90] [--gap 1e-9] [--only NAME]

Instances (every one below the continental threshold, so the default route
is the branch and bound on the dual-form LP, handing over to SCIP after
``coverage.BNB_NODES`` nodes):

* ``default`` — the built-in default scenario (sample network, five
  countries, sessions per day as weights), p = 30, 60, 120;
* ``france`` — GeoNames places of France (≥ 500 inhabitants, population
  weights) × the 2,074 most populous French towns of the full-scale sample network, 30 km
  (the instance of ``vs_spopt.py``), p = 50, 100, 150, 200, 400;
* ``italy``, ``germany`` — the same construction at 50 km over every dealer
  of the full-scale sample network in the country, p = 32, 64 and 30.

For each it prints seconds, status, objective, bound and gap of both routes
(``--backend scip`` for the second) and the totals. Distances are
great-circle km × 1.3.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.inputs.geonames import populated_places
from planner.optimise import Solution, SolverSettings, max_coverage
from planner.pipeline.load import load_inputs
from planner.scenario.schema import load_scenario
from planner.travel.great_circle import reach_matrix

ROOT = Path(__file__).resolve().parents[1]
Instance = tuple[sp.csr_matrix, np.ndarray]


def default_scenario() -> Instance:
    inputs = load_inputs(load_scenario(None))
    return inputs.reach, inputs.demand["weight"].to_numpy(dtype=np.float64)


def country(code: str, radius_km: float, *, towns: int | None) -> Instance:
    """GeoNames places of a country × its sample-network dealers, or its ``towns``
    most populous dealer towns (as in ``vs_spopt.py``)."""
    places = populated_places([code], min_population=500)
    dealers = pd.read_csv(ROOT / "geodata" / "sample_dealers_full.csv")
    dealers = dealers[dealers["country"] == code]
    if towns is not None:
        sites = places[places["geonameid"].isin(set(dealers["town_geonameid"]))]
        sites = sites.sort_values("population", ascending=False).head(towns)
    else:
        sites = dealers
    reach = reach_matrix(
        places["lon"], places["lat"], sites["lon"], sites["lat"], radius_km=radius_km
    )
    return reach, places["population"].to_numpy(dtype=np.float64)


INSTANCES: dict[str, tuple[Callable[[], Instance], tuple[int, ...]]] = {
    "default": (default_scenario, (30, 60, 120)),
    "france": (lambda: country("FR", 30.0, towns=2074), (50, 100, 150, 200, 400)),
    "italy": (lambda: country("IT", 50.0, towns=None), (32, 64)),
    "germany": (lambda: country("DE", 50.0, towns=None), (30,)),
}


def runs(names: list[str]) -> Iterator[tuple[str, int, Instance]]:
    for name in names:
        build, sizes = INSTANCES[name]
        instance = build()
        for p in sizes:
            yield name, p, instance


def line(label: str, solution: Solution, seconds: float) -> str:
    nodes = solution.details.get("bnb_nodes")
    route = "" if nodes is None else f"  nodes {nodes:.0f}"
    if "scip_after_nodes" in solution.details:
        route += ", then SCIP"
    return (
        f"  {label:<8} {seconds:7.2f} s  {solution.status:<10} objective "
        f"{solution.objective:,.4f}  bound {solution.bound:,.4f}  gap {solution.gap:.2e}{route}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=90.0)
    parser.add_argument("--gap", type=float, default=1e-9)
    parser.add_argument("--only", choices=sorted(INSTANCES), action="append")
    args = parser.parse_args(argv)
    totals = {"planner": [0.0, 0], "scip": [0.0, 0]}
    for name, p, (reach, weights) in runs(args.only or list(INSTANCES)):
        print(f"{name} p = {p}: {reach.shape[0]:,} demand × {reach.shape[1]:,} sites")
        for label, backend in (("planner", None), ("scip", "scip")):
            settings = SolverSettings(
                time_limit_s=args.time_limit, relative_gap=args.gap, backend=backend
            )
            started = time.perf_counter()
            solution = max_coverage(reach, weights, p, settings=settings)
            seconds = time.perf_counter() - started
            totals[label][0] += seconds
            totals[label][1] += solution.is_optimal
            print(line(label, solution, seconds))
        sys.stdout.flush()
    for label, (seconds, proven) in totals.items():
        print(f"total {label:<8} {seconds:8.1f} s, {proven} proven optimal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
