"""Europe-scale maximal covering: every stage timed, sizes and peak memory printed.

Usage::

    python benchmarks/europe.py [--radius-km 50] [--p 1000] [--time-limit 110]
                                [--min-population 500] [--gap 0.001]

Demand: GeoNames places with at least ``--min-population`` inhabitants in the
sample network's countries, weighted by population. Sites: every dealer of
the full-scale sample network. Travel cost: great-circle km × 1.3. The script
prints the problem size before and after the model's reductions, the
seconds of each stage (data, reach, solve), the gap reached and the peak
resident memory of the process.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from planner.inputs.geonames import populated_places
from planner.optimise import SolverSettings, max_coverage
from planner.travel.great_circle import reach_matrix

ROOT = Path(__file__).resolve().parents[1]


def peak_memory_gib() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--radius-km", type=float, default=50.0)
    parser.add_argument("--p", type=int, default=1000)
    parser.add_argument("--time-limit", type=float, default=110.0)
    parser.add_argument("--min-population", type=int, default=500)
    parser.add_argument("--gap", type=float, default=1e-3)
    parser.add_argument("--backend", default=None, help="highs, scip or sat (default: model's)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    started = time.perf_counter()

    dealers = pd.read_csv(ROOT / "geodata" / "sample_dealers_full.csv")
    countries = sorted(dealers["country"].unique())
    places = populated_places(countries, min_population=args.min_population)
    weights = places["population"].to_numpy(dtype=np.float64)
    data_s = time.perf_counter() - started
    print(f"demand: {len(places):,} places in {len(countries)} countries; sites: {len(dealers):,}")

    mark = time.perf_counter()
    reach = reach_matrix(
        places["lon"], places["lat"], dealers["lon"], dealers["lat"], radius_km=args.radius_km
    )
    reach_s = time.perf_counter() - mark
    print(f"reach: {reach.nnz:,} pairs within {args.radius_km:g} km")

    mark = time.perf_counter()
    left = max(1.0, args.time_limit - (time.perf_counter() - started))
    solution = max_coverage(
        reach,
        weights,
        args.p,
        settings=SolverSettings(time_limit_s=left, relative_gap=args.gap, backend=args.backend),
    )
    solve_s = time.perf_counter() - mark
    total_s = time.perf_counter() - started
    details = solution.details
    print(
        "model: rows {:,.0f} -> {:,.0f} after merging -> {:,.0f} in the model; "
        "{:,.0f} of {:,} sites dominated".format(
            details.get("rows_before_aggregation", float("nan")),
            details.get("rows_after_aggregation", float("nan")),
            details.get("rows_in_model", float("nan")),
            details.get("sites_dominated", float("nan")),
            reach.shape[1],
        )
    )
    if "kernel_sites" in details:
        print(
            f"kernel MIP: {details['kernel_sites']:,.0f} sites, "
            f"plan covering {details['kernel_objective']:,.0f}"
        )
    if "regional_objective" in details:
        print(f"regions and sweeps: plan covering {details['regional_objective']:,.0f}")
    print(
        f"LP relaxation (PDLP) {details.get('lp_seconds', float('nan')):.1f} s, "
        f"bound {details.get('lp_bound', float('nan')):,.0f}"
    )
    print(
        f"seconds: data {data_s:.1f}, reach {reach_s:.1f}, solve {solve_s:.1f}, total {total_s:.1f}"
    )
    covered = solution.objective / weights.sum()
    print(
        f"status {solution.status}; covered {solution.objective:,.0f} ({covered:.2%}); "
        f"bound {solution.bound:,.0f}; gap {solution.gap:.3%}; sites {solution.open_sites.size}"
    )
    print(f"peak memory: {peak_memory_gib():.2f} GiB")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
