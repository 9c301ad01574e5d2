"""Solve standard test instances and compare with their published optima.

Usage::

    python benchmarks/published.py FAMILY PATH... [--p P] [--time-limit S]
        [--capacity 8000,10000,12000,14000]

FAMILY is one of ``pmed``, ``uncap``, ``cap``, ``scp``, ``tsplib``, ``frlm``.
Each PATH is an instance file (for ``frlm``, a flow network's folder); the
published optima are read from ``optima.csv`` in the same folder. One JSON
object per instance goes to stdout (``family``, ``instance``, ``objective``,
``bound``, ``status``, ``seconds``, ``optimum``, ``match``), and a summary
table to stderr. With ``tsplib`` and no ``--p``, every p listed for the file
in ``optima.csv`` is solved; with ``frlm``, every (model, range, p) listed,
or the one given by ``--range`` (none: flow capturing) and ``--p``. A
``cap`` file whose capacities are the word ``capacity`` (OR-Library's
capa, capb, capc) is solved once per capacity of ``--capacity`` or of its
``optima.csv`` rows.

Example::

    python benchmarks/published.py pmed ../shared/bench/pmed/pmed*.txt
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from planner.errors import PlannerError
from planner.optimise import (
    Solution,
    SolverSettings,
    facility_location,
    p_median,
    set_cover,
)
from planner.optimise.flow import flow_refuelling
from planner.optimise.instances import (
    floor_euclidean,
    read_facility,
    read_flow_network,
    read_pmed,
    read_scp,
    read_tsplib,
)

FAMILIES = ("pmed", "uncap", "cap", "scp", "tsplib", "frlm")


@dataclass(frozen=True)
class Run:
    """One instance to solve: its name, and how to solve it under given settings."""

    instance: str
    optima_key: str
    solve: Callable[[SolverSettings], Solution]


def _median(
    reach: sp.csr_matrix, weights: np.ndarray, p: int, settings: SolverSettings
) -> Solution:
    return p_median(reach, weights, p, settings=settings)


def optima_of(path: Path) -> dict[str, dict[str, str]]:
    """Rows of ``optima.csv`` beside ``path`` keyed by instance (empty when absent).

    A flow network (a folder) keys its rows by model, range and p: ``FRLM_R8_p3``.
    """
    table = path / "optima.csv" if path.is_dir() else path.parent / "optima.csv"
    if not table.exists():
        return {}
    with table.open() as handle:
        if path.is_dir():
            return {
                _flow_key(row["model"], row["range"], row["p"]): row
                for row in csv.DictReader(handle)
            }
        rows = list(csv.DictReader(handle))
    keyed = {row["instance"]: row for row in rows}
    # capa, capb, capc: one file, one row per capacity, perhaps under one name.
    keyed.update(
        {f"{row['instance']}@{float(row['capacity']):g}": row for row in _capacity_rows(rows)}
    )
    return keyed


def _capacity_rows(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows that give a numeric capacity."""
    found = []
    for row in rows:
        try:
            float(row.get("capacity") or "")
        except ValueError:
            continue
        found.append(row)
    return found


def _flow_key(model: str, range_km: str | float | None, p: str | int) -> str:
    """``FRLM_R8_p3`` or ``FCLM_p3``: one flow-network run."""
    if range_km in (None, ""):
        return f"FCLM_p{p}"
    return f"{model}_R{float(range_km):g}_p{p}"


def _flow_runs(path: Path, p: int | None, range_km: float | None) -> Iterator[Run]:
    paths, _ = read_flow_network(path)
    if p is not None:
        wanted = [("FRLM" if range_km is not None else "FCLM", range_km, p)]
    else:
        wanted = [
            (row["model"], float(row["range"]) if row["range"] else None, int(row["p"]))
            for row in optima_of(path).values()
        ]
    for model, limit, count in wanted:
        key = _flow_key(model, limit, count)
        yield Run(
            f"{path.name}_{key}",
            key,
            partial(lambda s, r, n: flow_refuelling(paths, r, n, settings=s), r=limit, n=count),
        )


def _has_placeholders(path: Path) -> bool:
    """Whether a cap file writes its capacities as the word ``capacity`` (read as infinite)."""
    capacities = read_facility(path).capacities
    return capacities is None or not bool(np.isfinite(capacities).all())


def _placeholder_runs(path: Path, given: list[float] | None) -> Iterator[Run]:
    """One run per capacity of an OR-Library file whose capacities are the word ``capacity``.

    capa, capb and capc stand for four problems each, one per capacity
    (Beasley 1988, Table 1). The capacities come from ``--capacity`` or else
    from the ``capacity`` column of the ``optima.csv`` rows named after the
    file (``capa``, ``capa_8000``, ``capa1`` ...); each run is named
    ``<file>_<capacity>`` and matched with the row of that capacity.
    """
    facility = read_facility(path)
    opening = facility.costs
    assert opening is not None
    table = path.parent / "optima.csv"
    rows = []
    if table.exists():
        with table.open() as handle:
            rows = [
                row
                for row in _capacity_rows(list(csv.DictReader(handle)))
                if row["instance"].startswith(path.stem)
            ]
    values = given if given is not None else [float(row["capacity"]) for row in rows]
    if not values:
        raise SystemExit(
            f"{path}: the capacities are the word 'capacity' (one file for four problems); "
            "give them with --capacity (capa: 8000,10000,12000,14000) or in optima.csv"
        )
    by_capacity: dict[float, str] = {}
    for row in rows:
        value = float(row["capacity"])
        by_capacity.setdefault(value, f"{row['instance']}@{value:g}")
    for value in values:
        capacities = np.full(opening.size, value)
        name = f"{path.stem}_{value:g}"
        yield Run(
            name,
            by_capacity.get(value, name),
            partial(
                lambda s, u: facility_location(
                    opening, facility.reach, demand=facility.weights, capacities=u, settings=s
                ),
                u=capacities,
            ),
        )


def runs_for(
    family: str,
    path: Path,
    p: int | None,
    range_km: float | None = None,
    capacity: list[float] | None = None,
) -> Iterator[Run]:
    """The solves one file stands for (several for tsplib and frlm: one per p)."""
    if family == "frlm":
        yield from _flow_runs(path, p, range_km)
    elif family == "pmed":
        instance = read_pmed(path)
        chosen = p if p is not None else int(instance.p or 0)
        yield Run(
            path.stem if p is None else f"{path.stem}_p{p}",
            path.stem,
            lambda s: p_median(instance.reach, instance.weights, chosen, settings=s),
        )
    elif family == "cap" and _has_placeholders(path):
        yield from _placeholder_runs(path, capacity)
    elif family in ("uncap", "cap"):
        facility = read_facility(path)
        capacities = facility.capacities if family == "cap" else None
        opening = facility.costs
        assert opening is not None
        yield Run(
            path.stem,
            path.stem,
            lambda s: facility_location(
                opening, facility.reach, demand=facility.weights, capacities=capacities, settings=s
            ),
        )
    elif family == "scp":
        cover = read_scp(path)
        yield Run(
            path.stem, path.stem, lambda s: set_cover(cover.reach, costs=cover.costs, settings=s)
        )
    elif family == "tsplib":
        reach = floor_euclidean(read_tsplib(path))
        weights = np.ones(reach.shape[0])
        listed = [
            int(row["p"])
            for row in optima_of(path).values()
            if row.get("tsp_file", "") == path.stem
        ]
        for each in [p] if p is not None else sorted(listed):
            name = f"{path.stem}_p{each}"
            yield Run(name, name, partial(_median, reach, weights, each))
    else:
        raise SystemExit(f"unknown family {family!r}; choose one of {', '.join(FAMILIES)}")


def matches(objective: float, optimum: float | None) -> bool | None:
    """Objective equals the optimum within 1e-6 relative (None without an optimum)."""
    if optimum is None:
        return None
    return abs(objective - optimum) <= 1e-6 * max(1.0, abs(optimum))


def summarise(records: list[dict[str, object]]) -> str:
    """Per-instance lines and per-family count, matched, median and max seconds."""
    lines = [f"{'instance':<18} {'objective':>14} {'optimum':>14} {'gap':>9} {'s':>8}  status"]
    for record in records:
        optimum = record["optimum"]
        lines.append(
            f"{record['instance']!s:<18} {record['objective']!s:>14} {optimum!s:>14} "
            f"{record['gap']:>9.2e} {record['seconds']:>8.2f}  {record['status']}"
            f"{'' if record['match'] in (True, None) else '  MISMATCH'}"
        )
    families = sorted({str(record["family"]) for record in records})
    lines.append("")
    lines.append(
        f"{'family':<8} {'count':>5} {'matched':>7} {'proven':>6} {'median s':>9} {'max s':>8}"
    )
    for family in families:
        group = [record for record in records if record["family"] == family]
        seconds = [float(str(record["seconds"])) for record in group]
        matched = sum(1 for record in group if record["match"] is True)
        proven = sum(1 for record in group if record["status"] == "optimal")
        lines.append(
            f"{family:<8} {len(group):>5} {matched:>7} {proven:>6} "
            f"{statistics.median(seconds):>9.2f} {max(seconds):>8.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("family", choices=FAMILIES)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--p", type=int, default=None, help="number of sites (pmed, tsplib, frlm)")
    parser.add_argument(
        "--range", type=float, default=None, help="driving range (frlm; none: flow capturing)"
    )
    parser.add_argument(
        "--capacity",
        default=None,
        help="comma-separated capacities for cap files written with the word 'capacity' "
        "(capa: 8000,10000,12000,14000); default: the optima.csv rows of the file",
    )
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per instance")
    args = parser.parse_args(argv)
    try:
        capacity = (
            None
            if args.capacity is None
            else [float(part) for part in args.capacity.split(",") if part.strip()]
        )
    except ValueError:
        parser.error(f"--capacity: not a list of numbers: {args.capacity!r}")
    settings = SolverSettings(time_limit_s=args.time_limit, relative_gap=1e-9)

    records: list[dict[str, object]] = []
    unread = 0
    for path in args.paths:
        try:
            optima = optima_of(path)
            runs = list(runs_for(args.family, path, args.p, args.range, capacity))
        except PlannerError as error:
            # A file that is not of the family: say why, go on with the others.
            print(f"published.py: {error}", file=sys.stderr)
            unread += 1
            continue
        for run in runs:
            started = time.perf_counter()
            try:
                solution = run.solve(settings)
            except PlannerError as error:  # an infeasible instance, say
                print(f"published.py: {run.instance}: {error}", file=sys.stderr)
                unread += 1
                continue
            seconds = time.perf_counter() - started
            row = optima.get(run.optima_key)
            optimum = float(row["optimum"]) if row is not None else None
            record: dict[str, object] = {
                "family": args.family,
                "instance": run.instance,
                "objective": solution.objective,
                "bound": solution.bound,
                "status": str(solution.status),
                "seconds": round(seconds, 3),
                "optimum": optimum,
                "match": matches(solution.objective, optimum),
            }
            print(json.dumps(record), flush=True)
            record["gap"] = solution.gap if math.isfinite(solution.gap) else math.inf
            records.append(record)
    if records:
        print(summarise(records), file=sys.stderr)
    if unread:
        print(f"published.py: {unread} file(s) or instance(s) not solved", file=sys.stderr)
    return 2 if unread else 0


if __name__ == "__main__":
    raise SystemExit(main())
