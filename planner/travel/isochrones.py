"""Drive-time isochrones: the area a site reaches, as a polygon for the map.

Valhalla draws each site's isochrone (``max_minutes`` of driving, or a
``max_km`` isodistance) on the routing folder's tiles, in-process, about
0.1 s a site. Its polygons are generalised by Valhalla (Douglas-Peucker at
:data:`GENERALIZE_M`) and rounded to 5 decimals (about 1 m), so a map of
1,000 sites carries a few hundred points per site, not tens of thousands.
A polygon Valhalla cannot draw (a site whose road is cut off from the
network) is an empty list: the map then draws no area for it.

Each polygon is kept in the content-keyed cache of road reach
(:mod:`planner.travel.reach_cache`), one small JSON file per site keyed by
the routing build, the metric and limit and the site's coordinates: a
rerun, a frontier or a sweep that draws the same sites again reads them in
milliseconds instead of asking Valhalla.

Valhalla's isochrone and OSRM's matrix use different speed models; a demand
point just inside the polygon may be just outside the matrix's reach, and
the reverse. The polygon illustrates the reach; coverage is the matrix's.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from planner.travel.reach_cache import cache_dir, reach_key
from planner.travel.routing_folder import RoutingFolder

__all__ = ["GENERALIZE_M", "Polygon", "Ring", "isochrones"]

logger = logging.getLogger(__name__)

#: Tolerance of Valhalla's polygon generalisation, metres.
GENERALIZE_M = 120.0

#: One ring: longitudes and latitudes.
Ring = tuple[list[float], list[float]]
#: One polygon: its outer ring, then its holes.
Polygon = list[Ring]


def isochrones(
    folder: RoutingFolder,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    metric: str,
    limit: float,
) -> list[list[Polygon]]:
    """The polygons (outer ring, then holes) each point reaches within ``limit``.

    Parameters
    ----------
    folder
        An opened routing folder.
    lon, lat
        The sites, WGS 84 degrees.
    metric, limit
        ``"minutes"`` of driving or road ``"km"``, and the reach in that unit.

    Returns
    -------
    list
        Per point, its polygons (several when the area falls apart, as across
        a strait without a ferry); empty when none could be drawn.
    """
    from valhalla import ValhallaError

    contour = {"time": float(limit)} if metric == "minutes" else {"distance": float(limit)}
    shapes: list[list[Polygon]] = []
    start = time.perf_counter()
    failed = cached = 0
    for x, y in zip(np.asarray(lon, float), np.asarray(lat, float), strict=True):
        key = reach_key(
            folder.build_id, ("isochrone", metric, float(limit), GENERALIZE_M), [[x, y]]
        )
        known = _load(key)
        if known is not None:
            shapes.append(known)
            cached += 1
            continue
        request = {
            "locations": [{"lon": float(x), "lat": float(y)}],
            "costing": "auto",
            "contours": [contour],
            "polygons": True,
            "generalize": GENERALIZE_M,
        }
        try:
            answer = folder.valhalla.isochrone(request)
        except (ValhallaError, RuntimeError) as exc:
            logger.info("no isochrone for (%.5f, %.5f): %s", x, y, exc)
            failed += 1
            shapes.append([])
            continue
        shapes.append(_polygons(answer))
        _store(key, shapes[-1])
    logger.info(
        "isochrones: %d sites (%d from the cache), %d without one, %.2f s",
        len(shapes),
        cached,
        failed,
        time.perf_counter() - start,
    )
    return shapes


def _entry(key: str) -> Path:
    return cache_dir() / "isochrones" / f"{key}.json"


def _load(key: str) -> list[Polygon] | None:
    """A cached site's polygons, or ``None`` when absent or unreadable."""
    try:
        stored = json.loads(_entry(key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stored, list):
        return None
    return [[(list(ring[0]), list(ring[1])) for ring in polygon] for polygon in stored]


def _store(key: str, polygons: list[Polygon]) -> None:
    """Keep a site's polygons; a cache that cannot be written is only logged."""
    target = _entry(key)
    staged: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=target.parent, suffix=".tmp", delete=False, encoding="utf-8"
        ) as handle:
            staged = handle.name
            json.dump([[list(ring) for ring in polygon] for polygon in polygons], handle)
        os.replace(handle.name, target)
    except OSError as exc:
        if staged is not None:
            with contextlib.suppress(OSError):
                os.unlink(staged)
        logger.info("isochrone not cached: %s", exc)


def _polygons(answer: dict[str, object]) -> list[Polygon]:
    found: list[Polygon] = []
    features = answer.get("features")
    if not isinstance(features, list):
        return found
    for feature in features:
        geometry = feature.get("geometry") or {}
        kind, parts = geometry.get("type"), geometry.get("coordinates") or []
        polygons = [parts] if kind == "Polygon" else parts if kind == "MultiPolygon" else []
        for polygon in polygons:
            rings: Polygon = []
            for ring in polygon:
                points = np.round(np.asarray(ring, dtype=float), 5)
                if len(points) >= 4:
                    rings.append((points[:, 0].tolist(), points[:, 1].tolist()))
            if rings:
                found.append(rings)
    return found
