"""Car dealers and workshops of the network's brands from an OpenStreetMap extract.

Read with pyosmium in two stages, so that a country extract never needs the
location of every node in memory:

1. One pass over the extract with osmium's key filter (run in C++) hands
   every object with a ``shop`` key to Python. Those whose shop is one of the
   dealer shops (``car``, ``car_repair``; also within a list such as
   ``car;car_repair``) have their brand matched
   (:func:`~planner.inputs.importers.brands.match_brands`). A node of the
   network's brands is done: its location is the dealer's.
2. The ways and relations of the network's brands go to osmium's
   ``BackReferenceWriter``, which writes them to a small temporary extract
   together with the ways and nodes they reference (reading the extract
   again for those). That small file is read with node locations and, when
   relations were found, with osmium's area assembly. A closed way stands
   at the centroid of its polygon, an open one at the centroid of its line,
   a multipolygon relation at the centroid of its area, any other relation
   (``type=site``, a broken multipolygon) at the mean of its members' points.

Dealer ids are OpenStreetMap's own (``node/1417092269``, ``way/45``,
``relation/6``): ``https://www.openstreetmap.org/node/1417092269`` shows the
dealer. The extract's timestamp is its header's
``osmosis_replication_timestamp`` (Geofabrik writes it), else its
``timestamp``; a file with neither has none.

osmium reports an unreadable file (not OSM data, truncated, compressed
otherwise than its name says) as a ``RuntimeError``; it becomes an
:class:`~planner.errors.InputError` naming the file.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely

from planner._files import osm_named
from planner._text import one_line
from planner.errors import InputError, Problem
from planner.inputs.importers.brands import BrandMatch, match_brands
from planner.inputs.importers.dealer_table import DEALER_SHOPS, FoundDealer, SourceScan

logger = logging.getLogger(__name__)

#: File names osmium reads as OpenStreetMap data.
OSM_SUFFIXES = (".pbf", ".osm", ".osm.gz", ".osm.bz2", ".o5m")

#: Tags read from each shop.
_TAG_KEYS = (
    "shop",
    "brand",
    "brand:wikidata",
    "name",
    "addr:full",
    "addr:street",
    "addr:housenumber",
    "addr:postcode",
    "addr:city",
    "addr:country",
)

#: osmium's one-letter object types and the words of OSM ids.
_TYPE_WORDS = {"n": "node", "w": "way", "r": "relation"}

#: Seconds between progress messages while the extract is read.
_PROGRESS_EVERY_S = 0.5

Progress = Callable[[str], None]


@dataclass(frozen=True)
class _Waiting:
    """A way or relation of the network's brands, waiting for its geometry."""

    match: BrandMatch
    tags: dict[str, str]


def looks_like_extract(path: Path) -> bool:
    """Whether a file's name is one osmium reads as OpenStreetMap data."""
    return path.name.lower().endswith(OSM_SUFFIXES)


def read_extract(
    path: Path, *, shops: tuple[str, ...] = DEALER_SHOPS, progress: Progress | None = None
) -> SourceScan:
    """The car dealers and workshops of the network's brands in one extract.

    Parameters
    ----------
    path
        An OpenStreetMap extract (``.osm.pbf``; ``.osm``, ``.osm.gz``,
        ``.osm.bz2``, ``.o5m`` also work).
    shops
        Values of the ``shop`` key read as dealers.
    progress
        Called now and then with a line on what is being read.

    Raises
    ------
    InputError
        The file is missing, empty, not named as OSM data or not readable as it.
    """
    _check_file(path)
    import osmium

    try:
        with osm_named(path, OSM_SUFFIXES) as readable:
            return _read(path, readable, shops, progress or (lambda _: None))
    # A bad coordinate in OSM XML is an InvalidLocationError, not a RuntimeError.
    except (RuntimeError, osmium.InvalidLocationError) as exc:
        raise InputError(
            Problem(str(path), f"is not a readable OpenStreetMap extract: {one_line(exc)}")
        ) from None


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError(Problem(str(path), "no such file"))
    if not path.is_file():
        raise InputError(Problem(str(path), "is not a file"))
    if not looks_like_extract(path):
        raise InputError(
            Problem(
                str(path),
                "is not an OpenStreetMap extract: expected a .osm.pbf file (or .osm, "
                ".osm.gz, .osm.bz2, .o5m); for All The Places GeoJSON use planner dealers "
                "import-atp (kind='atp' in Python)",
            )
        )
    if path.stat().st_size == 0:
        raise InputError(Problem(str(path), "is empty"))


def _read(path: Path, readable: Path, shops: tuple[str, ...], progress: Progress) -> SourceScan:
    """The dealers in ``path``, read through ``readable`` (the same file, see :func:`osm_named`)."""
    import osmium

    header = osmium.FileProcessor(str(readable)).header
    timestamp = header.get("osmosis_replication_timestamp") or header.get("timestamp") or ""
    scan = SourceScan(
        path,
        label=f"OpenStreetMap {path.name}",
        timestamp=timestamp,
        seen_what=f"shops tagged {' or '.join(f'shop={s}' for s in shops)}",
    )
    wanted = {s.lower() for s in shops}
    waiting: dict[tuple[str, int], _Waiting] = {}
    last = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="planner-osm-") as folder:
        selected = Path(folder) / "selected.osm.pbf"
        with ExitStack() as stack:
            writer: Any = None
            shops_read = 0
            objects = osmium.FileProcessor(
                str(readable), osmium.osm.NODE | osmium.osm.WAY | osmium.osm.RELATION
            )
            for obj in objects.with_filter(osmium.filter.KeyFilter("shop")):
                shops_read += 1
                if time.monotonic() - last > _PROGRESS_EVERY_S:
                    last = time.monotonic()
                    progress(
                        f"reading {path.name}: {_TYPE_WORDS[obj.type_str()]}s, {shops_read:,} "
                        f"shops, {scan.seen:,} car shops and workshops so far"
                    )
                shop = obj.tags.get("shop") or ""
                if not wanted.intersection(v.strip().lower() for v in shop.split(";")):
                    continue
                scan.seen += 1
                tags = {key: obj.tags.get(key) or "" for key in _TAG_KEYS}
                match = match_brands(tags)
                if not match.brands:
                    scan.dropped[match.reason] += 1
                    continue
                if isinstance(obj, osmium.osm.Node):
                    point = (obj.location.lon, obj.location.lat) if obj.location.valid() else None
                    scan.found.append(_found(f"node/{obj.id}", match, tags, point))
                    continue
                if writer is None:
                    writer = stack.enter_context(
                        osmium.BackReferenceWriter(
                            str(selected), ref_src=str(readable), overwrite=True
                        )
                    )
                writer.add(obj)
                waiting[(obj.type_str(), obj.id)] = _Waiting(match, tags)
            if waiting:
                progress(f"reading {path.name}: the nodes of {len(waiting):,} ways and relations")
        if waiting:
            progress(f"placing {len(waiting):,} ways and relations")
            found, cut = _place_waiting(selected, waiting)
            scan.found.extend(found)
            if cut:
                scan.warnings.append(
                    f"{path.name}: {len(cut):,} way(s) of the network's brands lack nodes the "
                    f"extract does not hold (cut at its edge?), placed at the nodes it holds: "
                    f"{', '.join(cut[:5])}{' …' if len(cut) > 5 else ''}"
                )
    logger.info("%s: %d dealer shops, %d of the network's brands", path, scan.seen, len(scan.found))
    return scan


def _place_waiting(
    selected: Path, waiting: dict[tuple[str, int], _Waiting]
) -> tuple[list[FoundDealer], list[str]]:
    """The ways and relations of ``waiting`` at their centroids, read from the small extract.

    Also returns the ids of the dealers' ways some of whose nodes the extract
    lacks: placed at the nodes present, which may be off the building.
    """
    import osmium

    processor = osmium.FileProcessor(str(selected)).with_locations()
    if any(kind == "r" for kind, _ in waiting):
        processor = processor.with_areas()
    wkb = osmium.geom.WKBFactory()
    nodes: dict[int, tuple[float, float]] = {}
    ways: dict[int, list[tuple[float, float]]] = {}
    members: dict[int, list[tuple[str, int]]] = {}
    points: dict[tuple[str, int], tuple[float, float] | None] = {}
    cut: list[str] = []
    for obj in processor:
        if isinstance(obj, osmium.osm.Node):
            if obj.location.valid():
                nodes[obj.id] = (obj.location.lon, obj.location.lat)
        elif isinstance(obj, osmium.osm.Way):
            ways[obj.id] = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
            if ("w", obj.id) in waiting:
                points[("w", obj.id)] = _way_centre(ways[obj.id])
                if ways[obj.id] and len(ways[obj.id]) < len(obj.nodes):
                    cut.append(f"way/{obj.id}")
        elif isinstance(obj, osmium.osm.Relation):
            if ("r", obj.id) in waiting:
                members[obj.id] = [(m.type, m.ref) for m in obj.members]
        elif (
            isinstance(obj, osmium.osm.Area)
            and not obj.from_way()
            and ("r", obj.orig_id()) in waiting
        ):
            points[("r", obj.orig_id())] = _area_centre(wkb, obj)
    found = []
    for (kind, osm_id), item in waiting.items():
        point = points.get((kind, osm_id))
        if point is None and kind == "r":
            point = _members_centre(members.get(osm_id, []), nodes, ways)
        found.append(_found(f"{_TYPE_WORDS[kind]}/{osm_id}", item.match, item.tags, point))
    return found, cut


def _way_centre(coords: list[tuple[float, float]]) -> tuple[float, float] | None:
    """A closed way's polygon centroid, else its line's centroid (or its one point)."""
    if not coords:
        return None
    if len(coords) >= 4 and coords[0] == coords[-1]:
        polygon = shapely.Polygon(coords)
        if polygon.is_valid and polygon.area > 0:
            return _xy(polygon.centroid)
    if len(coords) == 1 or len(set(coords)) == 1:
        return coords[0]
    return _xy(shapely.LineString(coords).centroid)


def _area_centre(wkb: Any, area: Any) -> tuple[float, float] | None:
    try:
        geometry = shapely.from_wkb(wkb.create_multipolygon(area))
    except (RuntimeError, shapely.errors.GEOSException):
        # An area osmium could not assemble: the relation's members stand in.
        return None
    return None if geometry.is_empty else _xy(geometry.centroid)


def _members_centre(
    refs: list[tuple[str, int]],
    nodes: dict[int, tuple[float, float]],
    ways: dict[int, list[tuple[float, float]]],
) -> tuple[float, float] | None:
    """The mean of a relation's member nodes and way nodes: a rough centre."""
    coords: list[tuple[float, float]] = []
    for kind, ref in refs:
        if kind == "n" and ref in nodes:
            coords.append(nodes[ref])
        elif kind == "w":
            coords.extend(ways.get(ref, []))
    if not coords:
        return None
    return (
        sum(x for x, _ in coords) / len(coords),
        sum(y for _, y in coords) / len(coords),
    )


def _xy(point: shapely.Point) -> tuple[float, float]:
    return (float(point.x), float(point.y))


def _found(
    dealer_id: str, match: BrandMatch, tags: dict[str, str], point: tuple[float, float] | None
) -> FoundDealer:
    lon, lat = point if point is not None else (None, None)
    return FoundDealer(
        dealer_id=dealer_id,
        match=match,
        name=tags.get("name", "").strip(),
        lon=lon,
        lat=lat,
        shop=tags.get("shop", "").strip(),
        address=address_text(tags),
        addr_country=tags.get("addr:country", ""),
    )


def address_text(tags: dict[str, str]) -> str:
    """``Street 12, 9490 Vaduz`` from ``addr:*`` tags (``addr:full`` when given)."""
    full = tags.get("addr:full", "").strip()
    if full:
        return full
    street = tags.get("addr:street_address", "").strip() or " ".join(
        t
        for t in (tags.get("addr:street", "").strip(), tags.get("addr:housenumber", "").strip())
        if t
    )
    town = " ".join(
        t for t in (tags.get("addr:postcode", "").strip(), tags.get("addr:city", "").strip()) if t
    )
    return ", ".join(t for t in (street, town) if t)
