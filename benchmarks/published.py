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

from planner.errors import InputError, PlannerError, Problem
from planner.optimise import (
    Solution,
    SolverSettings,
    facility_location,
    p_median,
    set_cover,
)
from planner.optimise.flow import flow_refuelling
from planner.optimise.instances import (
    Instance,
    complete_reach,
    euclidean,
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
    A name given to several rows with different optima (capa, once per
    capacity) keys none of them by the name alone, only by ``name@capacity``;
    an optimum left empty (a best-known value not yet found) reads as none.
    """
    table = path / "optima.csv" if path.is_dir() else path.parent / "optima.csv"
    if not table.exists():
        return {}
    # utf-8-sig: a table saved from a spreadsheet starts with a byte-order mark.
    with table.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if path.is_dir():
        return _flow_optima(table, rows)
    keyed: dict[str, dict[str, str]] = {}
    ambiguous: set[str] = set()
    for row in rows:
        name = row.get("instance") or ""
        if name in keyed and keyed[name].get("optimum") != row.get("optimum"):
            ambiguous.add(name)
        keyed[name] = row
    for name in ambiguous:
        del keyed[name]
    # capa, capb, capc: one file, one row per capacity, perhaps under one name.
    keyed.update(
        {f"{row['instance']}@{float(row['capacity']):g}": row for row in _capacity_rows(rows)}
    )
    return keyed


def _flow_optima(table: Path, rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """A flow network's rows by run key; a key listed for several variants keys none.

    The files describe one variant of a network; ``optima.csv`` may list
    others (another weight, another choice among tied paths), whose optima
    are not those of the files: a run is compared only with an optimum that
    no other variant of the same key contradicts (see ``--variant``).
    """
    keyed: dict[str, dict[str, str]] = {}
    variants: dict[str, set[str]] = {}
    for row in rows:
        model = (row.get("model") or "").strip().upper()
        if model not in ("FRLM", "FCLM"):
            raise InputError(
                Problem(str(table), f"model {row.get('model')!r} is neither FRLM nor FCLM")
            )
        try:
            key = _flow_key(model, row.get("range"), _whole(row.get("p")))
        except ValueError:
            raise InputError(
                Problem(
                    str(table),
                    f"range {row.get('range')!r} or p {row.get('p')!r} is not a number",
                )
            ) from None
        variants.setdefault(key, set()).add(row.get("variant") or "")
        keyed[f"{key}#{row.get('variant') or ''}"] = row
        keyed[key] = row
    for key, names in variants.items():
        if len(names) > 1:
            del keyed[key]
    return keyed


def _whole(text: str | None) -> int:
    """A count written ``3`` or ``3.0``; ``ValueError`` for anything else."""
    value = float(text or "")
    if not value.is_integer() or value < 1:
        raise ValueError(text)
    return int(value)


def _optimum(row: dict[str, str] | None) -> float | None:
    """A row's optimum, or none when the row is absent or leaves it empty."""
    text = (row or {}).get("optimum") or ""
    try:
        value = float(text)
    except ValueError:
        if text.strip():
            raise InputError(Problem("optima.csv", f"optimum {text!r} is not a number")) from None
        return None
    return value if math.isfinite(value) else None


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
    """``FRLM_R8_p3`` or ``FCLM_p3``: one flow-network run (flow capturing has no range)."""
    if model.upper() == "FCLM" or range_km in (None, ""):
        return f"FCLM_p{p}"
    return f"{model.upper()}_R{float(range_km):g}_p{p}"


def _flow_runs(
    path: Path,
    optima: dict[str, dict[str, str]],
    p: int | None,
    range_km: float | None,
    variant: str | None = None,
) -> Iterator[Run]:
    paths, _ = read_flow_network(path)
    if p is not None:
        wanted = {_flow_key("FRLM" if range_km is not None else "FCLM", range_km, p)}
    else:
        wanted = {key.partition("#")[0] for key in optima}
    for key in sorted(wanted):
        limit = None if key.startswith("FCLM") else float(key.split("_R")[1].split("_p")[0])
        count = int(key.rpartition("_p")[2])
        yield Run(
            f"{path.name}_{key}",
            key if variant is None else f"{key}#{variant}",
            partial(lambda s, r, n: flow_refuelling(paths, r, n, settings=s), r=limit, n=count),
        )


#: The four capacities each of OR-Library's capa, capb and capc stands for
#: (Beasley 1988, Table 1), used when neither --capacity nor optima.csv gives them.
BEASLEY_CAPACITIES = {
    "capa": (8000.0, 10000.0, 12000.0, 14000.0),
    "capb": (5000.0, 6000.0, 7000.0, 8000.0),
    "capc": (5000.0, 5750.0, 6500.0, 7250.0),
}


def _placeholder_runs(
    path: Path,
    facility: Instance,
    optima: dict[str, dict[str, str]],
    given: list[float] | None,
) -> Iterator[Run]:
    """One run per capacity of an OR-Library file whose capacities are the word ``capacity``.

    capa, capb and capc stand for four problems each, one per capacity
    (Beasley 1988, Table 1). The capacities come from ``--capacity``, else
    from the ``capacity`` column of the ``optima.csv`` rows named after the
    file (``capa``, ``capa_8000``, ``capa1`` ...), else from Beasley's table
    for a file named capa, capb or capc; each run is named
    ``<file>_<capacity>`` and matched with the row of that capacity.
    """
    opening = facility.costs
    assert opening is not None
    # The rows that give a capacity are keyed "name@capacity" (see optima_of).
    rows = [row for key, row in optima.items() if "@" in key and key.startswith(path.stem)]
    values = given if given is not None else [float(row["capacity"]) for row in rows]
    values = values or list(BEASLEY_CAPACITIES.get(path.stem.lower(), ()))
    if not values:
        raise InputError(
            Problem(
                str(path),
                "the capacities are the word 'capacity' (one file for four problems); give "
                "them with --capacity (capa: 8000,10000,12000,14000) or in optima.csv",
            )
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
    optima: dict[str, dict[str, str]],
    p: int | None,
    range_km: float | None = None,
    capacity: list[float] | None = None,
    variant: str | None = None,
) -> Iterator[Run]:
    """The solves one file stands for (several for tsplib and frlm: one per p).

    ``optima`` is :func:`optima_of` the file: which runs a file stands for
    may depend on it.
    """
    if family == "frlm":
        yield from _flow_runs(path, optima, p, range_km, variant)
    elif family == "pmed":
        instance = read_pmed(path)
        chosen = p if p is not None else int(instance.p or 0)
        # The file's optimum is for its own p; another p is compared only with a row of its own.
        own = p is None or p == instance.p
        yield Run(
            path.stem if own else f"{path.stem}_p{p}",
            path.stem if own else f"{path.stem}_p{p}",
            lambda s: p_median(instance.reach, instance.weights, chosen, settings=s),
        )
    elif family in ("uncap", "cap"):
        facility = read_facility(path)
        capacities = facility.capacities if family == "cap" else None
        if capacities is not None and not np.isfinite(capacities).any():
            # Every capacity the word "capacity": capa, capb, capc.
            yield from _placeholder_runs(path, facility, optima, capacity)
            return
        opening = facility.costs
        assert opening is not None
        key = path.stem
        if capacities is not None and np.ptp(capacities) == 0:
            # capa written out with one capacity: the row of that capacity.
            by_capacity = f"{path.stem}@{float(capacities[0]):g}"
            key = by_capacity if by_capacity in optima else key
        yield Run(
            path.stem,
            key,
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
        points = read_tsplib(path)
        weights = np.ones(points.shape[0])
        rows: dict[int, dict[str, str]] = {}
        for row in optima.values():
            if (row.get("tsp_file") or row.get("instance", "").rpartition("_p")[0]) != path.stem:
                continue
            try:
                rows[_whole(row.get("p"))] = row
            except ValueError:
                raise InputError(
                    Problem(
                        "optima.csv",
                        f"{row.get('instance')}: p {row.get('p')!r} is not a whole number ≥ 1",
                    )
                ) from None
        if p is None and not rows:
            raise InputError(
                Problem(
                    str(path),
                    f"no p to solve for {path.stem}: give --p, or list it in optima.csv "
                    "(columns instance, optimum, tsp_file, p)",
                )
            )
        reaches: dict[str, sp.csr_matrix] = {}
        for each in [p] if p is not None else sorted(rows):
            name = f"{path.stem}_p{each}"
            convention = _distance_convention((rows.get(each) or {}).get("distance"))
            if convention not in reaches:
                reaches[convention] = TSPLIB_DISTANCES[convention](points)
            yield Run(name, name, partial(_median, reaches[convention], weights, each))
    else:
        raise InputError(Problem(family, f"unknown family; choose one of {', '.join(FAMILIES)}"))


def _rounded_euclidean(points: np.ndarray) -> sp.csr_matrix:
    return complete_reach(np.floor(euclidean(points) + 0.5))


#: The distance conventions of TSPLIB p-median optima, by their ``distance``
#: column in ``optima.csv``: most published optima (and those shipped) take the
#: Euclidean distance rounded down; some papers keep it real, or round it to
#: the nearest integer as TSPLIB's own EUC_2D does.
TSPLIB_DISTANCES: dict[str, Callable[[np.ndarray], sp.csr_matrix]] = {
    "floor(euclidean)": floor_euclidean,
    "euclidean": lambda points: complete_reach(euclidean(points)),
    "round(euclidean)": _rounded_euclidean,
}


def _distance_convention(text: str | None) -> str:
    """The convention a row's ``distance`` names (empty: the rounded-down one)."""
    given = (text or "").strip().lower().replace(" ", "")
    aliases = {
        "": "floor(euclidean)",
        "floor": "floor(euclidean)",
        "real": "euclidean",
        "nint": "round(euclidean)",
        "euc_2d": "round(euclidean)",
    }
    convention = aliases.get(given, given)
    if convention not in TSPLIB_DISTANCES:
        raise InputError(
            Problem("optima.csv", f"distance {text!r} is none of {', '.join(TSPLIB_DISTANCES)}")
        )
    return convention


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
    parser.add_argument(
        "--variant",
        default=None,
        help="frlm: the optima.csv variant the network's files describe, when it lists several",
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
            runs = list(
                runs_for(args.family, path, optima, args.p, args.range, capacity, args.variant)
            )
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
            optimum = _optimum(optima.get(run.optima_key))
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
