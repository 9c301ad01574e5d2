"""The same facility-location instances solved by PySAL spopt and by planner.

Usage::

    python benchmarks/vs_spopt.py [--candidates N] [--radius-km R] [--p P]
                                  [--median-demand N] [--median-sites N] [--time-limit S]

Instances (GeoNames places of France with at least 500 inhabitants as
demand, weighted by population; candidates are towns of the full-scale
sample network in France, the most populous first):

* ``mclp`` — maximal covering, R km (default 30), p sites (default 100);
* ``lscp`` — location set covering at the same radius, over the places
  that have a candidate in reach (set covering is infeasible otherwise);
* ``p_median`` — the largest places and candidates (defaults 1,500 × 300),
  every pair allowed: spopt builds one assignment variable per pair, so
  the full France instance is out of its reach.

spopt (PuLP + CBC, dense cost matrix) is the optional extra ``bench``
(``pip install -e .[bench]``); without it the script says so and exits.
For each instance it prints build seconds, solve seconds, objective and the
planner/spopt time ratio. Travel cost is great-circle km × 1.3 for both.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.inputs.geonames import populated_places
from planner.optimise import SolverSettings, max_coverage, p_median, set_cover
from planner.optimise.instances import complete_reach
from planner.travel.great_circle import great_circle_km, reach_matrix

ROOT = Path(__file__).resolve().parents[1]
CIRCUITY = 1.3


def france(candidates: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Demand places and candidate towns (most populous sample-network towns first)."""
    places = populated_places(["FR"], min_population=500)
    dealers = pd.read_csv(ROOT / "geodata" / "sample_dealers_full.csv")
    towns = set(dealers.loc[dealers["country"] == "FR", "town_geonameid"])
    sites = places[places["geonameid"].isin(towns)]
    sites = sites.sort_values("population", ascending=False).head(candidates)
    return places.reset_index(drop=True), sites.reset_index(drop=True)


def dense_costs(demand: pd.DataFrame, sites: pd.DataFrame) -> np.ndarray:
    """The dense demand × sites km matrix spopt needs (planner never builds one)."""
    return CIRCUITY * great_circle_km(
        demand["lon"].to_numpy()[:, None],
        demand["lat"].to_numpy()[:, None],
        sites["lon"].to_numpy()[None, :],
        sites["lat"].to_numpy()[None, :],
    )


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = step()
    return value, time.perf_counter() - started


def report(
    name: str, spopt_row: tuple[float, float, float], ours: tuple[float, float, float]
) -> None:
    """One line per solver and the end-to-end ratio."""
    for label, (build, solve, objective) in (("spopt", spopt_row), ("planner", ours)):
        print(
            f"{name:<9} {label:<8} build {build:8.2f} s  solve {solve:8.2f} s  "
            f"total {build + solve:8.2f} s  objective {objective:,.4f}"
        )
    speedup = (spopt_row[0] + spopt_row[1]) / max(ours[0] + ours[1], 1e-9)
    same = abs(spopt_row[2] - ours[2]) <= 1e-6 * max(1.0, abs(ours[2]))
    print(f"{name:<9} spopt/planner time ratio {speedup:,.1f}x; same objective: {same}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=2074)
    parser.add_argument("--radius-km", type=float, default=30.0)
    parser.add_argument("--p", type=int, default=100)
    parser.add_argument("--median-demand", type=int, default=1500)
    parser.add_argument("--median-sites", type=int, default=300)
    parser.add_argument("--median-p", type=int, default=20)
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args(argv)
    if importlib.util.find_spec("spopt") is None or importlib.util.find_spec("pulp") is None:
        print(
            "spopt and pulp are not installed: install the optional extra with "
            "`pip install -e .[bench]` to run this comparison.",
            file=sys.stderr,
        )
        return 1
    import pulp
    from spopt.locate import LSCP, MCLP, PMedian

    def cbc() -> Any:
        return pulp.PULP_CBC_CMD(msg=False, timeLimit=args.time_limit)

    settings = SolverSettings(time_limit_s=args.time_limit, relative_gap=1e-9)
    demand, sites = france(args.candidates)
    weights = demand["population"].to_numpy(dtype=np.float64)
    print(f"France: {len(demand)} places x {len(sites)} candidate towns, {args.radius_km} km")

    # Planner's build is the sparse reach query; spopt's the dense matrix plus its model.
    reach, reach_s = timed(
        lambda: reach_matrix(
            demand["lon"],
            demand["lat"],
            sites["lon"],
            sites["lat"],
            radius_km=args.radius_km,
            circuity=CIRCUITY,
        )
    )
    print(f"planner reach: {reach.nnz} pairs in {reach_s:.2f} s")
    costs, dense_s = timed(lambda: dense_costs(demand, sites))

    mclp, build = timed(
        lambda: MCLP.from_cost_matrix(costs, weights, args.radius_km, p_facilities=args.p)
    )
    _, solve = timed(lambda: mclp.solve(cbc()))
    spopt_cover = float(pulp.value(mclp.problem.objective))
    ours, seconds = timed(lambda: max_coverage(reach, weights, args.p, settings=settings))
    report("mclp", (dense_s + build, solve, spopt_cover), (reach_s, seconds, ours.objective))

    # Set covering needs every demand point coverable: spopt stops with
    # "Infeasible" otherwise, so both get only the places with a town in reach.
    coverable = np.diff(reach.indptr) > 0
    print(f"lscp: {int(coverable.sum())} of {len(demand)} places have a candidate in reach")
    lscp, build = timed(lambda: LSCP.from_cost_matrix(costs[coverable], args.radius_km))
    _, solve = timed(lambda: lscp.solve(cbc()))
    spopt_sites = float(pulp.value(lscp.problem.objective))
    ours, seconds = timed(lambda: set_cover(reach[np.flatnonzero(coverable)], settings=settings))
    report("lscp", (dense_s + build, solve, spopt_sites), (reach_s, seconds, ours.objective))

    big = demand.sort_values("population", ascending=False).head(args.median_demand)
    few = sites.head(args.median_sites)
    median_weights = big["population"].to_numpy(dtype=np.float64)
    median_costs, dense_s = timed(lambda: dense_costs(big, few))
    model, build = timed(
        lambda: PMedian.from_cost_matrix(median_costs, median_weights, p_facilities=args.median_p)
    )
    _, solve = timed(lambda: model.solve(cbc()))
    spopt_median = float(pulp.value(model.problem.objective))
    full: sp.csr_matrix
    full, full_s = timed(lambda: complete_reach(dense_costs(big, few)))
    ours, seconds = timed(lambda: p_median(full, median_weights, args.median_p, settings=settings))
    report("p_median", (dense_s + build, solve, spopt_median), (full_s, seconds, ours.objective))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
