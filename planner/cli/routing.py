"""``planner routing``: build a road network from an OpenStreetMap extract, and ask it.

Thin commands over :func:`planner.pipeline.routing.build_routing` and
:func:`planner.pipeline.routing.routing_matrix`; errors reach
:func:`planner.cli.main.main` as :class:`~planner.errors.InputError` and
become one line with exit code 2. Like the main module, this one imports no
numerical library at import time.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from planner._files import path_argument
from planner._text import one_line
from planner.cli._dask import quiet_dask_logs, refuse_workers_with_scheduler
from planner.cli._options import named_as_options
from planner.scenario.travel import SNAP_MAX_M

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Road travel: routing folders built from OpenStreetMap extracts, drive-time matrices.",
)
err = Console(stderr=True, highlight=False, markup=False, emoji=False)
out = Console(highlight=False, markup=False, emoji=False)


@app.command("build", short_help="Build car routing data from an extract (.osm.pbf).")
def build(
    extract: Annotated[
        Path,
        typer.Argument(
            metavar="EXTRACT.osm.pbf",
            help="An OpenStreetMap extract, e.g. from download.geofabrik.de.",
        ),
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="The routing folder (replaced all or nothing); default: NAME-routing beside "
            "the extract.",
            show_default=False,
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option("--threads", metavar="N", help="Threads of the build; default every core."),
    ] = None,
) -> None:
    """Build the routing data for cars (OSRM and Valhalla) from an OpenStreetMap extract.

    Reads the extract's drivable roads, filters a large extract to roads, then
    builds OSRM's contraction hierarchy (drive-time matrices) and Valhalla's
    tiles (isochrones) into one folder, which a scenario names as
    travel.routing with travel.mode = "road". A failed build leaves the
    previous folder as it was. Prints the nodes, edges and km of road built.
    """
    from planner.pipeline.routing import build_routing

    started = time.perf_counter()
    with err.status("reading …") as status, named_as_options({"threads": "--threads"}):
        folder = build_routing(
            extract,
            out_dir,
            progress=lambda line: status.update(one_line(line)),
            threads=threads,
        )
    roads = folder.manifest["roads"]
    source = folder.manifest["extract"]
    out.print(
        f"{one_line(source['file'])} ({source.get('replication_timestamp') or 'date unknown'}): "
        f"{roads['nodes']:,} nodes, {roads['edges']:,} edges, {roads['km']:,.0f} km of "
        "drivable road",
        soft_wrap=True,
    )
    out.print(
        f"wrote {one_line(folder.path)} in {time.perf_counter() - started:.1f} s "
        f"(OSRM {folder.manifest['engines']['osrm-bindings']}, "
        f"Valhalla {folder.manifest['engines']['pyvalhalla']})",
        soft_wrap=True,
    )
    out.print("OpenStreetMap data © OpenStreetMap contributors, ODbL 1.0.", soft_wrap=True)


#: ``routing_matrix``'s argument names, as this command's options, in messages.
_MATRIX_OPTIONS = {
    "snap_max_m": "--snap-max-m",
    "out": "--out",
    "scheduler": "--scheduler",
    "workers": "--workers",
    "routing_matrix": "planner routing matrix",
}


@app.command("matrix", short_help="Drive minutes and road km between two point files.")
def matrix(
    routing: Annotated[
        Path, typer.Argument(metavar="ROUTING_DIR", help="A folder planner routing build wrote.")
    ],
    origins: Annotated[
        Path,
        typer.Option(
            "--from",
            metavar="A.csv",
            help="Origins: a point file (CSV, XLSX, GeoJSON, …) with lon/lat columns or point "
            "geometries; optional name and id (id, demand_id, dealer_id or site_id) columns.",
            show_default=False,
        ),
    ],
    destinations: Annotated[
        Path,
        typer.Option("--to", metavar="B.csv", help="Destinations, as --from.", show_default=False),
    ],
    out_text: Annotated[
        # Text, not a Path: the command line would make '' the working folder.
        str | None,
        typer.Option(
            "--out",
            metavar="M.csv",
            help="Write the matrix here (all or nothing); default: print it.",
            show_default=False,
        ),
    ] = None,
    snap_max_m: Annotated[
        float,
        typer.Option(
            "--snap-max-m",
            metavar="M",
            help="Pairs with a point farther than this from any road (metres) get no minutes "
            "or km, as travel.snap_max_m drops such points from a run.",
        ),
    ] = SNAP_MAX_M,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="Compute on a running Dask cluster (tcp://HOST:8786); its workers must see "
            "ROUTING_DIR at the same path.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            help="Compute on a local Dask cluster of N processes, each loading the engine; "
            "default: in this process.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Drive minutes and road km of every (from, to) pair, one row per pair.

    Columns: from_id, from_name, to_id, to_name, minutes, km (empty where no
    road joins the two), crow_km, from_snap_m, to_snap_m (how far each point
    lies from the road the route starts or ends on). Use it to check the
    travel model against what you know of the roads.
    """
    from planner.errors import InputError, Problem
    from planner.pipeline.routing import routing_matrix

    out_file = None if out_text is None else path_argument(out_text, "--out")
    if out_file is not None and out_file.suffix.lower() != ".csv":
        raise InputError(Problem("--out", f"'{out_file}' is not a .csv file name"))
    if out_file is None and sys.stdout is None:  # started with standard output closed (>&-)
        raise InputError(Problem("--out", "standard output is closed: give --out M.csv"))
    refuse_workers_with_scheduler(scheduler, workers)
    if scheduler is not None or workers is not None:
        quiet_dask_logs()
    with err.status("reading the points …") as status, named_as_options(_MATRIX_OPTIONS):
        result = routing_matrix(
            routing,
            origins,
            destinations,
            snap_max_m=snap_max_m,
            out=out_file,
            scheduler=scheduler,
            workers=workers,
            progress=lambda line: status.update(one_line(line)),
        )
    pairs = len(result.table)
    far_from, far_to = result.far_from_road
    if far_from or far_to:
        err.print(
            f"warning: {far_from:,} origin(s) and {far_to:,} destination(s) lie farther than "
            f"{result.snap_max_m:,g} m from any road of the extract (see from_snap_m, "
            "to_snap_m); their pairs have no minutes or km",
            soft_wrap=True,
        )
    unrouted = int(result.table["minutes"].isna().sum())
    note = f", {unrouted:,} without a road between them" if unrouted else ""
    if out_file is None:
        _print_bytes(result.csv_chunks())
        if unrouted:  # on standard error, apart from the table
            err.print(f"{pairs:,} pairs{note}", soft_wrap=True)
        return
    out.print(f"wrote {one_line(out_file)} ({pairs:,} pairs{note})", soft_wrap=True)


def _print_bytes(pieces: Iterable[bytes]) -> None:
    """Write bytes to standard output as they come, past the console.

    The console renders text line by line: 9 s for a million pairs, against
    1.3 s to format them. A reader that stops early (``| head``) ends the
    output quietly.
    """
    stream = out.file
    sink = getattr(stream, "buffer", None)
    try:
        stream.flush()
        for piece in pieces:
            if sink is None:  # a text-only stream (captured output)
                stream.write(piece.decode("utf-8"))
            else:
                sink.write(piece)
        stream.flush()
    except BrokenPipeError:
        # Python would complain again when it flushes standard output at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
