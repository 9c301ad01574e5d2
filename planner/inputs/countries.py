"""Country outlines of Europe: the offline basemap and a point-in-country check.

The outlines ship in ``geodata/countries_europe.geojson``: Natural Earth
admin-0 countries at 1:10m (public domain): every polygon (mainland or
island) that reaches into a box around Europe (:data:`EUROPE_BBOX`, which
keeps the Canary Islands, Madeira and the Azores but drops the overseas parts
of France, the Netherlands and others), kept whole rather than cut at the box
so that no straight clip edge shows on the map, and simplified as one
coverage so that neighbours keep a common border.
:func:`build_country_outlines` regenerates the file from a Natural Earth
shapefile; ``geodata/README.md`` says where that comes from.

Countries are keyed by ISO 3166-1 alpha-2 code (Natural Earth's ``ISO_A2_EH``,
which gives France ``FR`` and Norway ``NO`` where ``ISO_A2`` has ``-99``;
Kosovo is ``XK``).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner.errors import InputError, Problem
from planner.geodata import COUNTRY_OUTLINES_PATH

logger = logging.getLogger(__name__)


#: (west, south, east, north) in degrees: Europe with the Azores, the Canary
#: Islands and Iceland, and enough of its neighbours to frame a map. Polygons
#: reaching into the box are kept whole (Russia to the Pacific, Algeria to the
#: Sahel), so the box never shows as a straight edge.
EUROPE_BBOX: tuple[float, float, float, float] = (-32.0, 27.0, 45.0, 72.0)

#: Simplification tolerance in degrees (about 3 km; for ``coverage_simplify``
#: roughly the square root of the area of the vertex triangles it removes):
#: coarse enough to keep the file small, fine enough for country zoom.
DEFAULT_TOLERANCE_DEG = 0.03

#: Islands below this area (square degrees; about 3 km² in central Europe) are
#: dropped: thousands of skerries cost file size and show as dots anyway.
DEFAULT_MIN_AREA_DEG2 = 0.0005


def _drop_small_parts(geom: shapely.Geometry, min_area: float) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    if len(parts) <= 1:
        return geom
    areas = shapely.area(parts)
    keep = parts[(areas >= min_area) | (areas == areas.max())]
    return shapely.multipolygons(keep) if len(keep) > 1 else keep[0]


@lru_cache(maxsize=1)
def _all_outlines() -> gpd.GeoDataFrame:
    if not COUNTRY_OUTLINES_PATH.exists():
        raise InputError(
            Problem(
                str(COUNTRY_OUTLINES_PATH),
                "country outlines file is missing; see geodata/README.md to regenerate it",
            )
        )
    outlines = gpd.read_file(COUNTRY_OUTLINES_PATH)
    return outlines[["iso_a2", "name", "geometry"]].reset_index(drop=True)


def country_outlines(countries: list[str] | None = None) -> gpd.GeoDataFrame:
    """Outlines of European countries (EPSG:4326), one (multi)polygon per country.

    Parameters
    ----------
    countries
        ISO 3166-1 alpha-2 codes to keep, in any case; ``None`` for every
        country in the file (Europe and its immediate neighbours).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``iso_a2``, ``name``, ``geometry``, sorted by ``iso_a2``.

    Raises
    ------
    InputError
        When a requested code has no outline in the file.
    """
    outlines = _all_outlines()
    if countries is not None:
        wanted = [c.upper() for c in countries]
        missing = sorted(set(wanted) - set(outlines["iso_a2"]))
        if missing:
            raise InputError(
                Problem(
                    str(COUNTRY_OUTLINES_PATH),
                    f"no country outline for {', '.join(missing)} (the file covers Europe only)",
                )
            )
        outlines = outlines[outlines["iso_a2"].isin(wanted)]
    return outlines.sort_values("iso_a2").reset_index(drop=True).copy()


def country_bounds(countries: list[str] | None = None) -> pd.DataFrame:
    """Bounding box of each country's outline, in degrees.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``iso_a2``, columns ``west``, ``south``, ``east``, ``north``.
    """
    outlines = country_outlines(countries)
    bounds = outlines.geometry.bounds
    bounds.columns = pd.Index(["west", "south", "east", "north"])
    bounds.index = pd.Index(outlines["iso_a2"], name="iso_a2")
    return bounds


def country_of(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    countries: list[str] | None = None,
    tolerance_km: float = 5.0,
) -> npt.NDArray[np.str_]:
    """The country each point lies in, from the shipped outlines.

    A point inside no outline (a harbour or beach the simplified coastline
    cuts off) gets the nearest country within ``tolerance_km``; farther points
    get ``""``.

    Parameters
    ----------
    lon, lat
        Coordinates in degrees (WGS 84), of equal length.
    countries
        Only consider these ISO alpha-2 codes; ``None`` for all.
    tolerance_km
        Largest distance to the nearest outline for points outside all of
        them. Measured in degrees of latitude (1° ≈ 111 km), so it is
        generous east-west at high latitudes; it is a snapping tolerance, not
        a distance to report.

    Returns
    -------
    numpy.ndarray
        ISO alpha-2 codes, ``""`` where no country fits.
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    outlines = country_outlines(countries)
    codes = outlines["iso_a2"].to_numpy()
    geoms = outlines.geometry.to_numpy()
    result = np.full(x.shape, "", dtype=object)
    for code, geom in zip(codes, geoms, strict=True):
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, x, y) & (result == "")
        result[inside] = code
    outside = np.flatnonzero(result == "")
    if outside.size and tolerance_km > 0:
        tree = shapely.STRtree(geoms)
        points = shapely.points(x[outside], y[outside])
        which, nearest = tree.query_nearest(points, max_distance=tolerance_km / 111.0)
        # query_nearest returns every tie; keep the first hit per point.
        _, first = np.unique(which, return_index=True)
        result[outside[which[first]]] = codes[nearest[first]]
    return result.astype(str)


def _parts_in_box(geom: shapely.Geometry, frame: shapely.Geometry) -> shapely.Geometry:
    """The polygons of ``geom`` that reach into ``frame``, whole (an empty polygon if none)."""
    parts = shapely.get_parts(geom)
    keep = parts[shapely.intersects(parts, frame)]
    if len(keep) == 0:
        return shapely.Polygon()
    if len(keep) == 1:
        return keep[0]
    whole: shapely.Geometry = shapely.MultiPolygon(list(keep))
    return whole


def build_country_outlines(
    source: Path,
    out: Path,
    *,
    bbox: tuple[float, float, float, float] = EUROPE_BBOX,
    tolerance_deg: float = DEFAULT_TOLERANCE_DEG,
    min_area_deg2: float = DEFAULT_MIN_AREA_DEG2,
) -> Path:
    """Write simplified outlines of the countries in ``bbox`` as GeoJSON.

    A country's polygons (mainland, islands) that reach into the box are kept
    whole; those entirely outside it are dropped. Cutting them at the box
    instead would draw the box's edges on the map as straight borders.

    Parameters
    ----------
    source
        A Natural Earth admin-0 countries layer (shapefile, or a ``.zip``
        holding one) with the ``ISO_A2_EH`` and ``NAME`` fields.
    out
        The GeoJSON file to write (replaced if it exists).
    bbox
        (west, south, east, north) in degrees: which polygons to keep.
    tolerance_deg
        Simplification tolerance in degrees.
    min_area_deg2
        Islands smaller than this (square degrees) are dropped, unless they
        are the whole country.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    path = f"/vsizip/{source}" if source.suffix == ".zip" else str(source)
    # Natural Earth's shapefiles carry UTF-8 names without a .cpg file.
    world = gpd.read_file(path, encoding="UTF-8", bbox=bbox)
    world = world[world["ISO_A2_EH"].str.fullmatch(r"[A-Z]{2}")]
    frame = shapely.box(*bbox)
    clipped = np.array([_parts_in_box(g, frame) for g in world.geometry.to_numpy()])
    # Simplifying the countries as one coverage keeps shared borders shared:
    # no slivers or gaps between neighbours on the map.
    simplified = shapely.coverage_simplify(shapely.make_valid(clipped), tolerance_deg)
    simplified = np.array([_drop_small_parts(g, min_area_deg2) for g in simplified])
    # 3 decimals (about 100 m) is far below the simplification error.
    simplified = shapely.set_precision(simplified, 1e-3)
    outlines = gpd.GeoDataFrame(
        {"iso_a2": world["ISO_A2_EH"].to_numpy(), "name": world["NAME_EN"].to_numpy()},
        geometry=simplified,
        crs="EPSG:4326",
    )
    outlines = outlines[~outlines.geometry.is_empty].sort_values("iso_a2")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    outlines.to_file(
        out,
        driver="GeoJSON",
        engine="pyogrio",
        layer_options={
            "COORDINATE_PRECISION": "3",
            "RFC7946": "YES",
            "WRITE_NAME": "NO",
        },
    )
    logger.info("wrote %d country outlines to %s", len(outlines), out)
    return out
