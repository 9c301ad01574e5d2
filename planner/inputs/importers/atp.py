"""Dealers of the network's brands from All The Places GeoJSON files.

All The Places (https://www.alltheplaces.xyz) crawls store locators and
publishes one GeoJSON FeatureCollection per spider (``renault.geojson``,
``nissan.geojson``, ...): ``dataset_attributes`` holds the spider's name
(``@spider``) and the crawl time (``spider:collection_time``); each feature
has an ``id`` (a hash of spider and ref), a point geometry (or ``null`` for a
location the locator gave no coordinates for) and OpenStreetMap-style
properties: ``ref``, ``brand``, ``brand:wikidata``, ``name``, ``addr:*`` and the
spider's category tags. The Renault and Nissan spiders write a dealer that
sells and services as two items, ``shop=car`` (ref ``…-renault``) and
``shop=car_repair`` (ref ``…-renault_service``), at one point; both are kept,
with their ``shop``, and reported as near-duplicates.

A feature is kept when its ``shop`` is a dealer shop (``car``, ``car_repair``)
or missing (a spider without categories), and its brand tags name a brand of
the network (:func:`~planner.inputs.importers.brands.match_brands`); another
category (``shop=car_parts``, ``amenity=charging_station``) is left out and
counted. Dealer ids are ``<spider>/<ref>`` (the feature id when there is no
ref, the feature's position in the file when there is neither).

Whole-file problems stop the import with one line naming the file: not UTF-8
text, not JSON, JSON that is not a FeatureCollection (a single Feature, a
list, an object without ``features``). Problems of single features only drop
them, counted: a feature that is not an object (``not a feature``), a missing
or broken geometry or non-finite coordinates (``no location``, see
:mod:`~planner.inputs.importers.dealer_table`).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shapely
import shapely.geometry

from planner._text import one_line
from planner.errors import InputError, Problem
from planner.inputs.importers.brands import match_brands
from planner.inputs.importers.dealer_table import DEALER_SHOPS, FoundDealer, SourceScan
from planner.inputs.importers.osm import address_text

logger = logging.getLogger(__name__)

#: File names read as GeoJSON.
GEOJSON_SUFFIXES = (".geojson", ".json")

DROP_NOT_FEATURE = "not a feature"
DROP_OTHER_CATEGORY = "not a car dealer or workshop"

#: Property keys that put a feature in a category other than a dealer shop.
_CATEGORY_KEYS = ("shop", "amenity", "craft", "office")

Progress = Callable[[str], None]


def looks_like_geojson(path: Path) -> bool:
    """Whether a file's name says GeoJSON."""
    return path.name.lower().endswith(GEOJSON_SUFFIXES)


def read_atp(
    path: Path, *, shops: tuple[str, ...] = DEALER_SHOPS, progress: Progress | None = None
) -> SourceScan:
    """The dealers of the network's brands in one All The Places GeoJSON file.

    Raises
    ------
    InputError
        The file is missing, empty, not GeoJSON or not a FeatureCollection.
    """
    collection = _collection(path)
    if progress is not None:
        progress(f"reading {path.name}: {len(collection['features']):,} features")
    attributes = collection.get("dataset_attributes")
    attributes = attributes if isinstance(attributes, dict) else {}
    spider = _text(attributes.get("@spider")) or path.name.split(".")[0]
    scan = SourceScan(
        path,
        label=f"All The Places {spider}",
        timestamp=_text(attributes.get("spider:collection_time")),
        seen_what="features",
    )
    wanted = {s.lower() for s in shops}
    for position, feature in enumerate(collection["features"], start=1):
        scan.seen += 1
        if not isinstance(feature, dict):
            scan.dropped[DROP_NOT_FEATURE] += 1
            continue
        raw = feature.get("properties")
        tags = {str(k): _text(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        shop = tags.get("shop", "")
        if (shop and not wanted.intersection(v.strip().lower() for v in shop.split(";"))) or (
            not shop and any(tags.get(k) for k in _CATEGORY_KEYS)
        ):
            scan.dropped[DROP_OTHER_CATEGORY] += 1
            continue
        match = match_brands(tags)
        if not match.brands:
            scan.dropped[match.reason] += 1
            continue
        lon, lat = _point(feature.get("geometry"))
        own_spider = tags.get("@spider") or spider
        ref = tags.get("ref", "")
        key = ref or _text(feature.get("id")) or f"#{position}"
        scan.found.append(
            FoundDealer(
                dealer_id=f"{own_spider}/{key}",
                match=match,
                name=tags.get("name", "").strip(),
                lon=lon,
                lat=lat,
                shop=shop,
                address=address_text(tags),
                addr_country=tags.get("addr:country", ""),
            )
        )
    logger.info("%s: %d features, %d dealers", path, scan.seen, len(scan.found))
    return scan


def _collection(path: Path) -> dict[str, Any]:
    """The file's FeatureCollection, or an InputError naming what is wrong with it."""
    source = str(path)
    if not path.exists():
        raise InputError(Problem(source, "no such file"))
    if not path.is_file():
        raise InputError(Problem(source, "is not a file"))
    if not looks_like_geojson(path):
        raise InputError(
            Problem(
                source,
                "is not a GeoJSON file: expected .geojson (or .json); for an OpenStreetMap "
                "extract use planner dealers import-osm (kind='osm' in Python)",
            )
        )
    data = path.read_bytes()
    if not data.strip():
        # All The Places publishes an empty file for a spider that failed.
        raise InputError(
            Problem(source, "is empty (All The Places leaves a failed spider's file empty)")
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            Problem(source, f"is not GeoJSON: not UTF-8 text (byte {exc.start})")
        ) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            Problem(source, f"is not GeoJSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
        ) from None
    except RecursionError:
        raise InputError(Problem(source, "is not GeoJSON: nested too deeply")) from None
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "FeatureCollection" and not isinstance(document.get("features"), list):
        raise InputError(
            Problem(source, "is a GeoJSON FeatureCollection without a list of features")
        )
    if kind != "FeatureCollection":
        if isinstance(kind, str):
            shown = f"a GeoJSON {one_line(kind, limit=40)}"
        else:
            shown = f"a JSON {type(document).__name__.replace('dict', 'object')}"
        raise InputError(
            Problem(
                source,
                f"is {shown}, not a GeoJSON FeatureCollection (the form All The Places publishes)",
            )
        )
    return document


def _point(geometry: Any) -> tuple[float | None, float | None]:
    """A feature's lon/lat: a Point's coordinates, another geometry's centroid."""
    if not isinstance(geometry, dict):
        return None, None
    if geometry.get("type") == "Point":
        coords = geometry.get("coordinates")
        if isinstance(coords, list) and len(coords) >= 2 and all(_is_number(c) for c in coords[:2]):
            return float(coords[0]), float(coords[1])
        return None, None
    try:
        shape = shapely.geometry.shape(geometry)
        centre = shape.centroid
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        OverflowError,
        shapely.errors.ShapelyError,
    ):
        return None, None
    if centre.is_empty:
        return None, None
    return float(centre.x), float(centre.y)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        # A JSON integer too large for a float.
        return False


def _text(value: Any) -> str:
    """A property as text: lists joined with ``;`` (OSM's way), objects and null as ``""``."""
    if value is None or isinstance(value, dict):
        return ""
    if isinstance(value, list):
        return ";".join(_text(v) for v in value if _text(v))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()
