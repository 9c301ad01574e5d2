"""Trips on the default sample network: flow refuelling alone, blended, and coverage alone.

Usage::

    python benchmarks/trips.py [--p 60] [--range-km 300] [--max-trips 2000] [--time-limit 60]
                               [--dealers geodata/sample_dealers_full.csv]

Reads the default scenario's inputs once, builds the gravity trips, and
solves in one run: flow refuelling (trip weight 1), trips and local demand
blended (trip weight 0.5), and plain maximal covering, the plan a user would
otherwise make. For each it prints the model's size, seconds, status,
objective, bound and gap, the share of trip flow refuelled and the share of
demand covered, so the trade-off is measured on the same trips. ``--dealers``
swaps the sample dealers for another file (the full-scale sample network:
``geodata/sample_dealers_full.csv``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from planner.optimise import SolverSettings, evaluate, max_coverage
from planner.optimise.flow import LocalDemand, flow_refuelling, served_trips
from planner.pipeline.api import check
from planner.pipeline.trips import load_trips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--p", type=int, default=60)
    parser.add_argument("--range-km", type=float, default=300.0)
    parser.add_argument("--max-trips", type=int, default=2000)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument(
        "--dealers", type=Path, default=None, help="dealer file instead of the demo's"
    )
    args = parser.parse_args()
    overrides: dict[str, object] = {
        "model.name": "flow_refuelling",
        "trips.max_trips": args.max_trips,
    }
    if args.dealers is not None:
        overrides["dealers.files"] = [{"path": str(args.dealers.resolve())}]
    checked = check(overrides=overrides)
    inputs, scenario = checked.inputs, checked.scenario
    started = time.perf_counter()
    trips = load_trips(scenario, inputs.demand, inputs.sites)
    paths = trips.paths
    print(
        f"trips: {paths.n_trips:,} paths × {paths.n_sites:,} sites, "
        f"{paths.sites.size:,} (trip, site) pairs, {trips.counts['trips_per_day']:,.0f} round "
        f"trips/day ({100 * trips.counts['share_of_flow_kept']:.1f} % of the gravity flow); "
        f"built in {time.perf_counter() - started:.1f} s"
    )
    weights = inputs.demand["weight"].to_numpy(dtype=np.float64)
    within = float(weights[np.diff(inputs.reach.indptr) > 0].sum())
    settings = SolverSettings(time_limit_s=args.time_limit)

    def shares(open_sites: np.ndarray) -> tuple[float, float]:
        served = served_trips(paths, open_sites, args.range_km)
        trip_share = float(paths.flows[served].sum() / paths.flows.sum())
        covered = evaluate.covered_weight(inputs.reach, weights, open_sites) / within
        return 100 * trip_share, 100 * covered

    print(
        f"{'plan':<26} {'rows':>7} {'seconds':>8} {'status':>11} {'objective':>12} "
        f"{'bound':>12} {'gap':>9} {'trips %':>8} {'local %':>8}"
    )
    for name, trip_weight in (("flow_refuelling", 1.0), ("trips + local (λ = 0.5)", 0.5)):
        local = None if trip_weight >= 1 else LocalDemand(inputs.reach, weights, trip_weight)
        tick = time.perf_counter()
        solution = flow_refuelling(paths, args.range_km, args.p, settings=settings, local=local)
        seconds = time.perf_counter() - tick
        trip_pct, local_pct = shares(solution.open_sites)
        rows = int(
            solution.details["rows_in_model"] + solution.details.get("local_rows_in_model", 0)
        )
        print(
            f"{name:<26} {rows:>7,} {seconds:>8.2f} {solution.status!s:>11} "
            f"{solution.objective:>12.6g} {solution.bound:>12.6g} "
            f"{solution.gap:>9.2e} {trip_pct:>8.2f} {local_pct:>8.2f}"
        )
    tick = time.perf_counter()
    coverage = max_coverage(inputs.reach, weights, args.p, settings=settings)
    seconds = time.perf_counter() - tick
    trip_pct, local_pct = shares(coverage.open_sites)
    print(
        f"{'max_coverage (local only)':<26} {'':>7} {seconds:>8.2f} {coverage.status!s:>11} "
        f"{coverage.objective:>12.6g} {coverage.bound:>12.6g} "
        f"{coverage.gap:>9.2e} {trip_pct:>8.2f} {local_pct:>8.2f}"
    )


if __name__ == "__main__":
    main()
