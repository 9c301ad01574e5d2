"""Capacitated facility location at OR-Library's capa/capb/capc size, against the plain MILP.

Usage::

    python benchmarks/capacitated.py [--time-limit 60] [--seeds 1,2]
        [--ratios 1.1,1.5,2,3] [--small-ratios 1.5,3,5] [--only large|small]
        [--opening-scale 15] [--single-source] [--skip-baseline]

Instances come from :func:`planner.optimise.instances.random_capacitated`
(seeded): 100 sites × 1,000 customers at each capacity ratio of
``--ratios`` (total capacity over total demand), and the OR-Library small
shapes 50 × 50 and 25 × 50 at each of ``--small-ratios``, for every seed.
Each is solved by ``facility_location`` (default settings but the time
limit) and, in the same run, by the strong formulation handed whole to
SCIP (what the planner did before: the model builder, no heuristic, same
time limit). One JSON object per instance on stdout (``instance``,
``sites``, ``customers``, ``capacity_ratio``, ``seed``, planner's
``seconds``, ``objective``, ``bound``, ``gap``, ``status``, and the same
figures of the plain model prefixed ``baseline_``), a table on stderr.

The default ratios (1.1–3) are tighter than OR-Library's own 100 × 1,000
files: capa's 100 sites of 8,000–14,000 hold 16–28 times its demand of
50,886, so that 4–7 sites open, and its opening costs (1.4–2.3 million
each) are about half the optimum. ``--ratios 8,16,28 --opening-scale 1500``
makes instances of that kind (4–13 sites open, opening 36–66 % of the
optimum).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from planner.errors import PlannerError
from planner.optimise import SolverSettings, facility_location
from planner.optimise._milp import MilpStatus, solve_milp
from planner.optimise.capacitated._data import Pairs
from planner.optimise.capacitated.model import reduced_milp
from planner.optimise.instances import Instance, random_capacitated
from planner.optimise.solution import relative_gap


def _floats(text: str) -> list[float]:
    return [float(part) for part in text.split(",") if part]


def planner_run(
    instance: Instance, settings: SolverSettings, single_source: bool
) -> dict[str, object]:
    """``facility_location`` on the instance: seconds, objective, bound, gap, status."""
    assert instance.costs is not None
    started = time.perf_counter()
    try:
        solution = facility_location(
            instance.costs,
            instance.reach,
            demand=instance.weights,
            capacities=instance.capacities,
            single_source=single_source,
            settings=settings,
        )
    except PlannerError as error:
        return {"seconds": round(time.perf_counter() - started, 2), "status": f"error: {error}"}
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "objective": solution.objective,
        "bound": solution.bound,
        "gap": solution.gap,
        "status": str(solution.status),
    }


def baseline_run(
    instance: Instance, settings: SolverSettings, single_source: bool
) -> dict[str, object]:
    """The whole strong formulation by SCIP, as before: same figures, objective recomputed."""
    assert instance.costs is not None and instance.capacities is not None
    n_sites = instance.reach.shape[1]
    started = time.perf_counter()
    pairs = Pairs.from_rows(
        instance.reach,
        instance.weights,
        instance.costs,
        instance.capacities,
        np.zeros(n_sites, bool),
        np.zeros(n_sites, bool),
        single_source=single_source,
    )
    milp, _ = reduced_milp(pairs, pairs.fixed, ~pairs.excluded, np.ones(pairs.cost.size))
    result = solve_milp(milp, settings, backend="scip")
    seconds = round(time.perf_counter() - started, 2)
    if result.status not in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
        return {"seconds": seconds, "status": result.status.value, "bound": result.bound}
    opened = result.values[:n_sites] > 0.5
    objective = pairs.objective(opened, np.clip(result.values[n_sites:], 0.0, 1.0))
    bound = min(result.bound, objective)
    gap = relative_gap(objective, bound)
    return {
        "seconds": seconds,
        "objective": objective,
        "bound": bound,
        "gap": gap,
        "status": "optimal" if gap <= settings.relative_gap else "time_limit",
    }


def _cell(record: dict[str, object], key: str) -> str:
    value = record.get(key)
    if isinstance(value, float):
        if key == "gap":
            return f"{value:.2e}" if math.isfinite(value) else "inf"
        return f"{value:,.1f}"
    return "-" if value is None else str(value)


def table(rows: list[dict[str, object]]) -> str:
    """One line per instance: planner and SCIP side by side."""
    head = (
        f"{'instance':<26} {'planner s':>9} {'objective':>13} {'gap':>9} {'status':<11}"
        f" {'SCIP s':>7} {'objective':>13} {'gap':>9} status"
    )
    lines = [head]
    for row in rows:
        baseline = {
            key.removeprefix("baseline_"): value
            for key, value in row.items()
            if key.startswith("baseline_")
        }
        lines.append(
            f"{row['instance']!s:<26} {_cell(row, 'seconds'):>9} "
            f"{_cell(row, 'objective'):>13} {_cell(row, 'gap'):>9} "
            f"{_cell(row, 'status'):<11} {_cell(baseline, 'seconds'):>7} "
            f"{_cell(baseline, 'objective'):>13} {_cell(baseline, 'gap'):>9} "
            f"{_cell(baseline, 'status')}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--seeds", default="1,2", help="instance seeds, comma-separated")
    parser.add_argument("--ratios", default="1.1,1.5,2,3", help="capacity ratios at 100 × 1,000")
    parser.add_argument("--small-ratios", default="1.5,3,5", help="ratios at 50 × 50 and 25 × 50")
    parser.add_argument("--only", choices=("large", "small"), default=None)
    parser.add_argument(
        "--opening-scale",
        type=float,
        default=15.0,
        help="opening cost per √capacity (15: about a fifth of the optimum; 100: about half)",
    )
    parser.add_argument("--single-source", action="store_true", help="binary assignment")
    parser.add_argument("--skip-baseline", action="store_true", help="planner only")
    args = parser.parse_args(argv)
    settings = SolverSettings(time_limit_s=args.time_limit)
    shapes: list[tuple[int, int, float]] = []
    if args.only != "small":
        shapes += [(100, 1000, ratio) for ratio in _floats(args.ratios)]
    if args.only != "large":
        shapes += [(sites, 50, ratio) for sites in (50, 25) for ratio in _floats(args.small_ratios)]
    rows: list[dict[str, object]] = []
    for n_sites, n_customers, ratio in shapes:
        for seed in (int(part) for part in args.seeds.split(",") if part):
            instance = random_capacitated(
                n_sites, n_customers, ratio, seed=seed, opening_scale=args.opening_scale
            )
            row: dict[str, object] = {
                "instance": instance.name,
                "sites": n_sites,
                "customers": n_customers,
                "capacity_ratio": ratio,
                "seed": seed,
                "opening_scale": args.opening_scale,
                "single_source": args.single_source,
                **planner_run(instance, settings, args.single_source),
            }
            if not args.skip_baseline:
                baseline = baseline_run(instance, settings, args.single_source)
                row.update({f"baseline_{key}": value for key, value in baseline.items()})
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(table(rows), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
