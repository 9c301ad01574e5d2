"""Build a routing folder for cars from an OpenStreetMap extract.

The steps, each announced to a progress callback:

1. **Read the extract** with pyosmium: its header (the replication timestamp
   is the extract's date), then every drivable way with its node locations,
   counting nodes, edges (segments between consecutive nodes) and road km,
   and taking the roads' bounding box. A file osmium cannot read (corrupt,
   truncated, not OSM) and an extract without a drivable road stop here, with
   one line, before any engine runs.
2. **Filter** an extract larger than :data:`FILTER_ABOVE_BYTES` to what cars
   use — ways tagged ``highway`` or ``route=ferry`` and turn restrictions, with
   the nodes they reference (osmium's back-reference writer, in C++) — because
   OSRM's preparation needs about 14 times the ``.pbf``'s size in memory.
3. **OSRM**: ``osrm-extract`` with the car profile, then ``osrm-contract``
   (a contraction hierarchy). The profile is OSRM's own car profile with two
   changes: no exclude classes (each one is a contraction of its own, which
   more than doubles the build for a switch planner never uses), and speeds
   capped at :data:`~planner.travel.routing_folder.MAX_SPEED_KMH`, which makes
   the crow-fly bound of road reach exact.
4. **Valhalla**: ``valhalla_build_tiles`` (isochrone polygons for the map).
5. **Manifest** ``routing.json``: format, engine versions, the extract's name,
   size, SHA-256 and date, the build date, the road counts and bounding box,
   the seconds of each step, and a ``build_id`` digest that keys cached
   matrices.

Why both engines, by measurement on the Malta extract (see
``benchmarks/routing.py``): OSRM's contraction hierarchy answers a 2,000 ×
1,000 matrix in about a second where its multi-level Dijkstra takes 15 s and
Valhalla's matrix about 1 s per 2,500 pairs; Valhalla draws a clean isochrone
polygon in about 0.1 s, which OSRM cannot draw at all.

Everything is written into the folder it is given; the all-or-nothing swap
into place is the caller's (:func:`planner.pipeline.routing.build_routing`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from planner._arguments import whole_number
from planner._files import osm_named
from planner._text import one_line
from planner.errors import InputError, PlannerError, Problem
from planner.travel.routing_folder import (
    MANIFEST,
    MAX_SPEED_KMH,
    OSRM_BASE,
    ROUTING_FORMAT,
    VALHALLA_TILES,
    engine_files,
    engine_versions,
    file_sha256,
)
from planner.travel.sphere import EARTH_RADIUS_KM

#: The most threads a build may ask for.
MAX_THREADS = 256

__all__ = ["DRIVABLE_HIGHWAYS", "FILTER_ABOVE_BYTES", "RoadCounts", "build_routing_data"]

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: Extracts larger than this are filtered to roads before the engines read them.
FILTER_ABOVE_BYTES = 64 * 1024 * 1024

#: ``highway`` values counted as drivable road (those OSRM's car profile routes on).
DRIVABLE_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
    }
)

#: OSRM's car profile, wrapped: see the module docstring. ``{profiles}`` is
#: the folder of the profiles osrm-bindings ships.
_PROFILE = """\
-- planner's car profile: OSRM's car.lua without exclude classes, speeds capped.
package.path = "{profiles}/?.lua;" .. package.path
local car = dofile("{profiles}/car.lua")
local car_setup = car.setup
car.setup = function()
  local profile = car_setup()
  profile.excludable = Sequence {{}}
  profile.vehicle_max_speed = {max_speed}
  return profile
end
return car
"""


@dataclass(frozen=True)
class RoadCounts:
    """The drivable roads of an extract: what ``planner routing build`` prints."""

    ways: int
    nodes: int
    edges: int
    km: float
    bbox: tuple[float, float, float, float]


def build_routing_data(
    extract: Path,
    folder: Path,
    *,
    progress: Progress | None = None,
    filter_above_bytes: int = FILTER_ABOVE_BYTES,
    threads: int | None = None,
) -> dict[str, Any]:
    """Build OSRM and Valhalla data for cars from ``extract`` into ``folder``.

    Parameters
    ----------
    extract
        An OpenStreetMap extract, ``.osm.pbf``.
    folder
        An empty folder to write into (the staging folder of a publish).
    progress
        Called with one line as each step starts.
    filter_above_bytes
        Extracts larger than this are filtered to roads first.
    threads
        Threads of the engines' build programs; default: every core.

    Returns
    -------
    dict
        The manifest written to ``routing.json``.

    Raises
    ------
    InputError
        The extract is missing, not a ``.pbf``, unreadable, or holds no drivable road.
    PlannerError
        An engine's build program failed (its last log line is in the message).
    """
    say = progress or (lambda _line: None)
    if threads is not None:
        # 1.5 reached osrm-extract, whose error named its own option; it takes -t -3
        # and spins without end; the build programs start every thread asked for
        # (100,000 failed with "Resource temporarily unavailable", 2,000 took 1.4 GB).
        threads = whole_number(threads, "threads", least=1, most=MAX_THREADS)
    extract = Path(extract)
    check_extract_name(extract)
    versions = engine_versions()
    threads = threads or os.cpu_count() or 1
    seconds: dict[str, float] = {}
    log = folder / "build.log"

    start = time.perf_counter()
    say(f"reading {extract.name}")
    timestamp, counts = read_roads(extract)
    digest = file_sha256(extract)
    seconds["read"] = time.perf_counter() - start
    say(
        f"{counts.ways:,} drivable ways: {counts.nodes:,} nodes, {counts.edges:,} edges, "
        f"{counts.km:,.0f} km of road"
    )

    # The build programs tell the format by the name's suffix, in lower case only.
    with osm_named(extract, (".pbf",)) as readable:
        source = readable
        filtered = extract.stat().st_size > filter_above_bytes
        if filtered:
            start = time.perf_counter()
            say(f"filtering {extract.name} to roads")
            source = folder / "roads.osm.pbf"
            filter_roads(extract, source)
            seconds["filter"] = time.perf_counter() - start

        try:
            start = time.perf_counter()
            _build_osrm(source, folder, threads, log, say)
            seconds["osrm"] = time.perf_counter() - start
            start = time.perf_counter()
            _build_valhalla(source, folder, threads, log, say)
            seconds["valhalla"] = time.perf_counter() - start
        except PlannerError as exc:
            if "unsorted input data" not in str(exc).lower():
                raise
            raise InputError(
                Problem(
                    str(extract),
                    "its objects are not sorted by type and id, as the build programs need; "
                    f"sort it first: osmium sort {extract.name} -o sorted.osm.pbf",
                )
            ) from None
        if filtered:
            source.unlink()

    built = datetime.now(UTC).replace(microsecond=0).isoformat()
    manifest: dict[str, Any] = {
        "format": ROUTING_FORMAT,
        "written_by": "planner routing build",
        "engines": versions,
        "algorithm": "CH",
        "profile": "car",
        "max_speed_kmh": MAX_SPEED_KMH,
        "extract": {
            "file": extract.name,
            "bytes": extract.stat().st_size,
            "sha256": digest,
            "replication_timestamp": timestamp,
            "filtered_to_roads": filtered,
        },
        "built": built,
        "roads": {
            "ways": counts.ways,
            "nodes": counts.nodes,
            "edges": counts.edges,
            "km": round(counts.km, 1),
            "bbox": [round(v, 6) for v in counts.bbox],
        },
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
        # Opening the folder checks every engine file against its size here: a
        # file missing or cut short made the engines fail with their own words,
        # or crash the process.
        "files": engine_files(folder),
        # ... and, once per change of a file, against its content here: a file
        # overwritten at its own size passed the size check and crashed OSRM.
        "sha256": {name: file_sha256(folder / name) for name in engine_files(folder)},
    }
    identity = json.dumps([ROUTING_FORMAT, versions, digest, built], sort_keys=True)
    manifest["build_id"] = hashlib.sha256(identity.encode()).hexdigest()[:32]
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def check_extract_name(extract: Path) -> None:
    """Refuse a missing, empty or non-``.pbf`` file before anything is read."""
    where = str(extract)
    if not extract.exists():
        raise InputError(Problem(where, "no such file"))
    if not extract.is_file():
        raise InputError(Problem(where, "is not a file"))
    if not extract.name.lower().endswith(".pbf"):
        raise InputError(
            Problem(
                where,
                "is not an OpenStreetMap .pbf extract; download one (e.g. from "
                "download.geofabrik.de) or convert it with osmium cat FILE -o FILE.osm.pbf",
            )
        )
    if extract.stat().st_size == 0:
        raise InputError(Problem(where, "is empty"))


def read_roads(extract: Path) -> tuple[str | None, RoadCounts]:
    """The extract's date and its drivable roads' counts; refuses unreadable or roadless files.

    A way counts as drivable when its ``highway`` is one of
    :data:`DRIVABLE_HIGHWAYS` and it is neither an area nor ``access=no`` or
    ``private``; road km are great-circle lengths of its segments.
    """
    import osmium

    where = str(extract)
    ways = edges = tagged = 0
    km = 0.0
    west = south = np.inf
    east = north = -np.inf
    nodes = osmium.index.IdSet()
    try:
        with osm_named(extract, (".pbf",)) as readable:
            header = osmium.FileProcessor(str(readable)).header
            timestamp = (
                header.get("osmosis_replication_timestamp") or header.get("timestamp") or None
            )
            roads = (
                osmium.FileProcessor(str(readable), osmium.osm.NODE | osmium.osm.WAY)
                .with_locations()
                .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                .with_filter(osmium.filter.TagFilter(*(("highway", v) for v in DRIVABLE_HIGHWAYS)))
            )
            for way in roads:
                if not isinstance(way, osmium.osm.Way):
                    continue
                tags = way.tags
                if tags.get("area") == "yes" or tags.get("access") in ("no", "private"):
                    continue
                tagged += 1
                located = [n for n in way.nodes if n.location.valid()]
                if len(located) < len(way.nodes):
                    _refuse_off_the_globe(way, where)
                if len(located) < 2:
                    continue
                ways += 1
                lon = np.radians([n.location.lon for n in located])
                lat = np.radians([n.location.lat for n in located])
                for n in located:
                    nodes.set(n.ref)
                half = (
                    np.sin(np.diff(lat) / 2) ** 2
                    + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2
                )
                km += float((2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(half))).sum())
                edges += len(located) - 1
                west, east = min(west, float(lon.min())), max(east, float(lon.max()))
                south, north = min(south, float(lat.min())), max(north, float(lat.max()))
    # A bad coordinate in OSM XML is an InvalidLocationError, not a RuntimeError.
    except (RuntimeError, osmium.InvalidLocationError) as exc:
        raise InputError(
            Problem(where, f"is not a readable OpenStreetMap extract: {one_line(exc)}")
        ) from None
    if ways == 0 and tagged:
        # The roads are there, their nodes are not found where a sorted extract has them.
        raise InputError(
            Problem(
                where,
                f"holds {tagged:,} way(s) tagged as drivable roads, but none has two nodes "
                "with a location: are its nodes missing, written after the ways (sort the "
                "file with `osmium sort`), or given negative ids (a file saved by an editor "
                "before upload)?",
            )
        )
    if ways == 0:
        raise InputError(
            Problem(
                where,
                "holds no drivable road (no way tagged highway="
                "motorway/trunk/primary/…/residential/service with nodes); is it the right "
                "extract?",
            )
        )
    bbox = tuple(float(np.degrees(v)) for v in (west, south, east, north))
    return timestamp, RoadCounts(ways, len(nodes), edges, km, bbox)  # type: ignore[arg-type]


#: osmium's coordinate of a node it has no location for.
_UNDEFINED = 2**31 - 1


def _refuse_off_the_globe(way: Any, where: str) -> None:
    """Refuse a node of ``way`` whose location is set but not on the globe.

    The road engine stops on it with "invalid location"; a node without any
    location (missing from the extract) is only left out, as the engine does.
    """
    for node in way.nodes:
        location = node.location
        if not location.valid() and _UNDEFINED not in (location.x, location.y):
            lon, lat = location.lon_without_check(), location.lat_without_check()
            raise InputError(
                Problem(
                    where,
                    f"node {node.ref} of way {way.id} lies at longitude {lon:g}, latitude "
                    f"{lat:g}, off the globe (longitude −180…180, latitude −90…90); "
                    "correct or remove it",
                )
            )


def filter_roads(extract: Path, out: Path) -> None:
    """Write the ways cars use, ferries, turn restrictions and their nodes to ``out``."""
    import osmium

    with (
        osm_named(extract, (".pbf",)) as readable,
        osmium.BackReferenceWriter(
            str(out), ref_src=str(readable), overwrite=True, remove_tags=False
        ) as writer,
    ):
        objects = osmium.FileProcessor(str(readable), osmium.osm.WAY | osmium.osm.RELATION)
        for obj in objects:
            tags = obj.tags
            if isinstance(obj, osmium.osm.Way):
                if "highway" in tags or tags.get("route") == "ferry":
                    writer.add(obj)
            elif tags.get("type") == "restriction":
                writer.add(obj)


def _run(command: list[str], log: Path, what: str) -> None:
    """Run one build program, its output appended to ``log``; one line when it fails."""
    with log.open("a", encoding="utf-8") as sink:
        sink.write(f"$ {' '.join(command)}\n")
        sink.flush()
        result = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        lines = [ln for ln in log.read_text(encoding="utf-8", errors="replace").splitlines() if ln]
        last = one_line(lines[-1]) if lines else "no output"
        if result.returncode < 0:
            # Killed by a signal: SIGXFSZ (a file size limit), SIGKILL (memory)...
            try:
                name = signal.Signals(-result.returncode).name
            except ValueError:
                name = f"signal {-result.returncode}"
            hint = " (the file size limit, ulimit -f)" if name == "SIGXFSZ" else ""
            raise PlannerError(f"{what} was killed by {name}{hint}; its last line: {last}")
        raise PlannerError(f"{what} failed (exit code {result.returncode}): {last}")


def _build_osrm(source: Path, folder: Path, threads: int, log: Path, say: Progress) -> None:
    import osrm

    package = Path(osrm.__file__).parent
    base = folder / OSRM_BASE
    base.parent.mkdir(parents=True)
    profile = base.parent / "car.lua"
    profile.write_text(
        _PROFILE.format(profiles=package / "share" / "profiles", max_speed=MAX_SPEED_KMH),
        encoding="utf-8",
    )
    # osrm-extract names its output after its input: a link named roads.osm.pbf.
    link = base.parent / "roads.osm.pbf"
    link.symlink_to(source.resolve())
    try:
        say("OSRM: extracting the road graph (osrm-extract)")
        _run(
            [str(package / "bin" / "osrm-extract"), "-p", str(profile), "-t", str(threads),
             str(link)],
            log,
            "osrm-extract",
        )  # fmt: skip
    finally:
        link.unlink()
    say("OSRM: contraction hierarchy (osrm-contract)")
    _run(
        [str(package / "bin" / "osrm-contract"), "-t", str(threads), str(base)],
        log,
        "osrm-contract",
    )


def _build_valhalla(source: Path, folder: Path, threads: int, log: Path, say: Progress) -> None:
    import valhalla

    tiles = folder / VALHALLA_TILES
    tiles.mkdir(parents=True)
    config = valhalla.get_config(tile_dir=str(tiles), tile_extract="")
    config_path = folder / "valhalla" / "build.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    say("Valhalla: routing tiles (valhalla_build_tiles)")
    program = Path(valhalla.__file__).parent / "bin" / "valhalla_build_tiles"
    try:
        _run(
            [str(program), "-c", str(config_path), "-j", str(threads), str(source.absolute())],
            log,
            "valhalla_build_tiles",
        )
    finally:
        # It holds absolute paths of the staging folder; the actor's config is
        # made afresh when the folder is opened.
        config_path.unlink()
