"""The road network from the Python API: build a routing folder, compute a travel matrix.

:func:`build_routing` is ``planner routing build``: the engines' data are
built into a hidden folder beside the target and swapped in whole
(:func:`planner.outputs.folder.publish_folder`), so a failed or interrupted
build never replaces a good folder, and two builds into one folder are
refused. :func:`routing_matrix` is ``planner routing matrix``: the minutes
and km of every (from, to) pair, the points read by the same table reader as
every other input file.
"""

from __future__ import annotations

import dataclasses
import logging
import numbers
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner._arguments import callback, shown
from planner._atomic import check_writable, write_atomically
from planner._files import path_argument
from planner.errors import InputError, Problem
from planner.inputs.demand_points import read_demand_file, read_demand_frame
from planner.outputs.folder import live_writer, publish_folder, refuse_inside_output
from planner.outputs.spreadsheet import csv_chunks
from planner.pipeline.dask_cluster import check_scheduler, checked_workers
from planner.pipeline.routing_cluster import cluster_table
from planner.scenario.travel import SNAP_LIMIT_M, SNAP_MAX_M, TravelConfig
from planner.travel.road import road_table
from planner.travel.routing_build import build_routing_data
from planner.travel.routing_folder import RoutingFolder, open_routing, routing_path
from planner.travel.sphere import great_circle_km

__all__ = ["RoutingMatrix", "build_routing", "ensure_routing", "routing_matrix"]

logger = logging.getLogger(__name__)


def build_routing(
    extract: str | Path,
    out: str | Path | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    threads: int | None = None,
) -> RoutingFolder:
    """Build the car routing data of an OpenStreetMap extract into a routing folder.

    Parameters
    ----------
    extract
        An OpenStreetMap extract (``.osm.pbf``, e.g. from Geofabrik).
    out
        The routing folder; default: beside the extract, its name without
        ``.osm.pbf`` and ``-routing`` added (``malta-latest-routing``).
    progress
        Called with one line as each step starts.
    threads
        Threads of the engines' build programs; default every core.

    Returns
    -------
    RoutingFolder
        The folder, opened; ``.manifest`` holds the counts and dates.
    """
    extract = path_argument(extract, "extract")
    target = path_argument(out, "out") if out is not None else default_routing_folder(extract)
    callback(progress, "progress")

    def write(folder: Path) -> None:
        build_routing_data(extract, folder, progress=progress, threads=threads)

    publish_folder(target, write, kind="routing")
    return open_routing(target, source="--out")


#: How often a run waiting for another run's build of the same extract looks again (s).
_WAIT_POLL_S = 1.0


def ensure_routing(
    travel: TravelConfig, *, progress: Callable[[str], None] | None = None
) -> RoutingFolder | None:
    """The scenario's routing folder, built first when ``travel.routing`` names an extract.

    ``None`` under the great-circle model. An extract's folder is built once
    into the cache (:func:`planner.travel.routing_folder.routing_path`) and
    reused by later runs until the extract changes.
    """
    if travel.mode != "road" or travel.routing is None:
        return None
    folder = routing_path(travel.routing)
    if folder != travel.routing and not folder.is_dir():
        # Minutes of work on a country's extract: said as progress, not as a warning.
        say = progress or (lambda line: logger.info("%s", line))
        if _wait_for_other_build(folder, travel.routing.name, say):
            return open_routing(travel.routing)
        _check_cache_writable(folder)
        logger.info("building the routing data of %s into %s", travel.routing, folder)
        say(f"building the routing data of {travel.routing.name}")
        build_routing(travel.routing, folder, progress=say)
    return open_routing(travel.routing)


def _wait_for_other_build(folder: Path, name: str, say: Callable[[str], None]) -> bool:
    """Wait while another run builds ``folder`` in the cache; whether it is there now.

    Runs started together on one extract share its build: before, all but
    the first stopped with "is being written by another planner run".
    """
    writer = live_writer(folder)
    if writer is None:
        return False
    say(f"waiting for another run (process {writer}) to build the routing data of {name}")
    while live_writer(folder) is not None:
        time.sleep(_WAIT_POLL_S)
    return folder.is_dir()


def _check_cache_writable(folder: Path) -> None:
    """Refuse, naming the cache and how to move it, a cache where the build cannot be kept."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        probe = folder.parent / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise InputError(
            Problem(
                f"routing cache {folder.parent}",
                f"cannot be written ({exc.strerror or exc}); set PLANNER_CACHE_DIR to a "
                "writable folder, or build the routing data with planner routing build and "
                "name its folder in travel.routing",
                field="travel.routing",
            )
        ) from None


def default_routing_folder(extract: Path) -> Path:
    """``malta-latest.osm.pbf`` → ``malta-latest-routing`` beside it."""
    name = extract.name
    for suffix in (".osm.pbf", ".pbf"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return extract.parent / f"{name}-routing"


#: Pairs one matrix may hold: its table takes about 150 bytes a pair (20,000 ×
#: 20,000 points took 6.6 GB and had not finished in 3 minutes).
MAX_MATRIX_PAIRS = 10_000_000


@dataclass(frozen=True, eq=False)
class RoutingMatrix:
    """Minutes and km of every (from, to) pair, long format.

    Attributes
    ----------
    table
        ``from_id``, ``from_name``, ``to_id``, ``to_name``, ``minutes``,
        ``km`` (empty where no road joins the two), ``crow_km`` (great-circle),
        ``from_snap_m``, ``to_snap_m`` (how far each point is from the road the
        engine started from).
    routing
        What the routing folder says of itself (engine, extract, dates).
    snap_max_m
        The snapping limit: a pair with a point farther than this from any road
        of the extract has no minutes or km (the engine would start it on a
        road kilometres away).
    far_from_road
        How many origins and destinations lie beyond that limit.
    """

    table: pd.DataFrame
    routing: dict[str, Any]
    snap_max_m: float = SNAP_MAX_M
    far_from_road: tuple[int, int] = (0, 0)

    def __repr__(self) -> str:
        # The dataclass repr printed the whole table and the routing manifest.
        table = self.table
        return (
            f"<RoutingMatrix {table['from_id'].nunique()} × {table['to_id'].nunique()} points, "
            f"{len(table):,} pairs, {int(table['minutes'].notna().sum()):,} by road>"
        )

    def csv(self) -> str:
        """The table as CSV text whose cells a spreadsheet opens as data, never formulas."""
        return b"".join(self.csv_chunks()).decode("utf-8")

    def csv_chunks(self) -> Iterator[bytes]:
        """:meth:`csv` as UTF-8 bytes, in pieces of a few hundred thousand rows."""
        return csv_chunks(self.table, decimals=3)

    def save(self, path: str | Path) -> Path:
        """Write the table as CSV, all or nothing (not into a folder planner wrote)."""
        target = path_argument(path, "path")
        refuse_inside_output(target, "path")
        _csv_name(target, "path")
        return write_atomically(target, self.csv_chunks())


def _csv_name(target: Path, name: str) -> None:
    """Refuse ``target`` unless it ends in ``.csv``: CSV text in ``m.xlsx`` opens as garbage."""
    if target.suffix.lower() != ".csv":
        raise InputError(
            Problem(name, f"'{target}': the matrix is written as CSV; give a name ending in .csv")
        )


def routing_matrix(
    routing: str | Path,
    origins: str | Path | pd.DataFrame,
    destinations: str | Path | pd.DataFrame,
    *,
    snap_max_m: float = SNAP_MAX_M,
    out: str | Path | None = None,
    scheduler: Any = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RoutingMatrix:
    """Drive minutes and road km from every origin to every destination.

    Parameters
    ----------
    routing
        A folder ``planner routing build`` wrote.
    origins, destinations
        Point files (CSV, XLSX, GeoJSON, …, with lon/lat columns or a point
        geometry, an optional name column and an optional id column: ``id``,
        ``demand_id``, ``dealer_id`` or ``site_id``, else the file's name and
        row), read like demand files, or DataFrames of the same columns,
        checked row by row in the same way.
    snap_max_m
        Metres: pairs with a point farther than this from any road of the
        extract get no minutes or km (as ``travel.snap_max_m`` drops such
        points from a run).
    out
        A CSV file to write the table to (all or nothing); not one of the
        point files.
    scheduler, workers
        Compute on Dask distributed: ``scheduler`` a running cluster's address
        (or a ``distributed.Client``), else ``workers`` local worker
        processes, each loading the engine once
        (:mod:`planner.pipeline.routing_cluster`). Default: in this process.
    progress
        Called with one line as each step starts (and as each part finishes
        on Dask).

    Raises
    ------
    InputError
        A bad routing folder or point file, naming the file (or ``origins
        table``), row and field; a bad argument by its name (``snap_max_m``).
    """
    # numpy's numbers are numbers too (np.int64(500) was refused).
    number = isinstance(snap_max_m, numbers.Real) and not isinstance(snap_max_m, bool | np.bool_)
    if not (number and 0 < snap_max_m <= SNAP_LIMIT_M):
        raise InputError(
            Problem(
                "snap_max_m",
                f"must be above 0 and at most {SNAP_LIMIT_M:,.0f} m, not {snap_max_m!r}",
            )
        )
    callback(progress, "progress")
    for given, label in ((origins, "origins"), (destinations, "destinations")):
        if not isinstance(given, str | os.PathLike | pd.DataFrame):
            # path_argument would say "give a path", though a table is welcome too.
            raise InputError(
                Problem(label, f"give a point file's path or a DataFrame, not {shown(given)}")
            )
    check_scheduler(scheduler)
    if workers is not None:
        checked_workers(workers)
        if scheduler is not None:
            raise InputError(
                Problem("workers", "sets the size of a local cluster; not with scheduler")
            )
    if out is not None:
        out = path_argument(out, "out")
        refuse_inside_output(out, "out")
        _csv_name(out, "out")
        check_writable(out)
        for given, label in ((origins, "origins"), (destinations, "destinations")):
            if isinstance(given, str | os.PathLike) and _same_file(out, Path(given)):
                raise InputError(
                    Problem(
                        "out", f"'{out}' is the file of the {label}; write the matrix elsewhere"
                    )
                )
    routing = path_argument(routing, "routing")
    built = routing_path(routing)
    if built != routing and not built.is_dir():
        # An extract: runs build its folder in the cache, the matrix does not.
        raise InputError(
            Problem(
                f"routing folder {routing}",
                "is an extract, not a routing folder; build one first with planner "
                f"routing build {routing.name} --out FOLDER",
            )
        )
    folder = open_routing(routing, source="routing folder")
    sources = _points(origins, "origins")
    targets = _points(destinations, "destinations")
    pairs = len(sources) * len(targets)
    if pairs > MAX_MATRIX_PAIRS:
        raise InputError(
            Problem(
                "routing_matrix",
                f"{len(sources):,} × {len(targets):,} points make {pairs:,} pairs; at most "
                f"{MAX_MATRIX_PAIRS:,} in one matrix (one row each): split the origins into parts",
            )
        )
    points = (sources["lon"], sources["lat"], targets["lon"], targets["lat"])
    if scheduler is None and workers is None:
        if progress is not None:
            progress(f"routing {pairs:,} pairs")
        minutes, km, snap_from, snap_to = road_table(folder, *points)
    else:
        coordinates = (column.to_numpy(dtype=np.float64) for column in points)
        minutes, km, snap_from, snap_to = cluster_table(
            folder, *coordinates, scheduler=scheduler, workers=workers, progress=progress
        )
    # The engine snaps a point to the nearest road however far it is (Paris to
    # Monaco's roads): such pairs get no drive at all.
    far_from = ~(snap_from <= snap_max_m)
    far_to = ~(snap_to <= snap_max_m)
    minutes[far_from, :] = np.nan
    minutes[:, far_to] = np.nan
    km[far_from, :] = np.nan
    km[:, far_to] = np.nan
    n, m = len(sources), len(targets)
    rows = np.repeat(np.arange(n), m)
    cols = np.tile(np.arange(m), n)
    table = pd.DataFrame(
        {
            # Taken by the columns' own arrays: text stays in pandas' string
            # storage instead of going through Python objects (2 s at 10 M pairs).
            "from_id": sources["id"].array.take(rows),
            "from_name": sources["name"].array.take(rows),
            "to_id": targets["id"].array.take(cols),
            "to_name": targets["name"].array.take(cols),
            "minutes": minutes.ravel(),
            "km": km.ravel(),
            "crow_km": great_circle_km(
                sources["lon"].to_numpy()[rows],
                sources["lat"].to_numpy()[rows],
                targets["lon"].to_numpy()[cols],
                targets["lat"].to_numpy()[cols],
            ),
            "from_snap_m": snap_from[rows],
            "to_snap_m": snap_to[cols],
        }
    )
    far = (int(far_from.sum()), int(far_to.sum()))
    result = RoutingMatrix(
        table, folder.describe(), snap_max_m=float(snap_max_m), far_from_road=far
    )
    if out is not None:
        if progress is not None:
            progress(f"writing {out}")
        result.save(out)
    return result


#: Headers of a point file's id column, the first found wins: a dealer file,
#: a plan's sites.csv and a demand file each keep their own ids.
POINT_ID_NAMES = ("id", "demand_id", "dealer_id", "site_id")


def _points(source: str | Path | pd.DataFrame, label: str) -> pd.DataFrame:
    """``id``, ``name``, ``lon``, ``lat`` of a point file or table."""
    if isinstance(source, pd.DataFrame):
        # Checked as a point file is: a coordinate that is no number, or out of
        # range, and an id given twice with other data are refused by row.
        read = read_demand_frame(
            source, name=f"{label} table", population_column=None, id_names=POINT_ID_NAMES
        )
    else:
        try:
            read = read_demand_file(
                path_argument(source, label), population_column=None, id_names=POINT_ID_NAMES
            )
        except InputError as exc:
            raise InputError(
                [_without_scenario_advice(p) for p in exc.problems], warnings=exc.warnings
            ) from None
    frame = read.rename(columns={"demand_id": "id"})[["id", "name", "lon", "lat"]]
    if frame.empty:
        raise InputError(
            Problem(
                str(source) if not isinstance(source, pd.DataFrame) else f"{label} table",
                "holds no points",
            )
        )
    return frame.reset_index(drop=True)


def _without_scenario_advice(problem: Problem | str) -> Problem | str:
    """A workbook's "name the sheet in the scenario", said as what a matrix's points can do.

    A matrix has no scenario to name a sheet in.
    """
    if not isinstance(problem, Problem) or problem.field != "sheet":
        return problem
    head, found, _ = problem.message.partition("; name the one to read with")
    if not found:
        return problem
    advice = (
        "; save the sheet of points as a file of its own (CSV, or a workbook of one sheet), "
        "or read it with pandas and pass the table to planner.routing_matrix"
    )
    return dataclasses.replace(problem, message=head + advice)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False
