"""Whether dealers lie in the countries their rows state.

Two sources, the finer one wherever it covers a point:

* the country outlines shipped for the map (``geodata/countries_europe.geojson``:
  Natural Earth 1:10m, simplified to about 3 km, for Europe and its
  neighbours inside :data:`planner.inputs.countries.EUROPE_BBOX`; see
  ``geodata/README.md``);
* the GeoNames boxes of :mod:`planner.inputs.extents` everywhere else: outside that
  frame, for a country without an outline, for a point in the sea (small
  islands are missing from the simplified outlines) and when the outlines
  file is not installed.

A point inside its own country's outline is in place. A point inside another
country's outline is judged by how deep it lies there, its distance to its
own country's outline (in km, on the ETRS89 Lambert azimuthal equal-area
projection, EPSG:3035):

* up to :data:`BORDER_SLACK_KM` — in place: within the simplification error;
* up to :data:`CLEARLY_OUTSIDE_KM` — in place, but worth a warning: a dealer
  in Arlon (BE) labelled LU lies 1.9 km inside Belgium, as deep as some real
  border towns do on these outlines;
* deeper — in the wrong country (Geneva labelled FR lies 3.8 km inside
  Switzerland, Barcelona labelled FR 108 km inside Spain).

The thresholds come from the 95,104 GeoNames places of 500 or more
inhabitants of 47 European countries: 335 lie inside a neighbour's outline,
101 of them more than 1 km deep, 23 more than 2 km, one more than 3 km and
none more than 4 km.

All points are tested at once with prepared geometries, so checking the
25,960 dealers of the full-scale sample takes a few tens of milliseconds
after the outlines are read (once per process).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from planner.inputs.extents import country_box, in_box

logger = logging.getLogger(__name__)

#: Depth (km) inside a neighbour's outline that the simplified outlines cannot tell
#: from a dealer at the border.
BORDER_SLACK_KM = 1.0
#: Depth (km) beyond which a dealer is plainly in the other country.
CLEARLY_OUTSIDE_KM = 3.0

#: Verdicts of :func:`place`.
IN_PLACE, NEAR_BORDER, OUTSIDE = 0, 1, 2


@dataclass(frozen=True)
class Placement:
    """Where each point lies compared with its stated country.

    Attributes
    ----------
    verdict
        :data:`IN_PLACE`, :data:`NEAR_BORDER` (inside a neighbour, but by less
        than :data:`CLEARLY_OUTSIDE_KM`) or :data:`OUTSIDE`.
    lies_in
        The country whose outline holds the point when it is not its own;
        ``""`` when none does or it is its own.
    depth_km
        How far inside ``lies_in`` the point lies (NaN where ``lies_in`` is empty).
    """

    verdict: npt.NDArray[np.int8]
    lies_in: npt.NDArray[np.object_]
    depth_km: npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Outlines:
    codes: list[str]
    index: dict[str, int]
    geometries: npt.NDArray[np.object_]
    projected: npt.NDArray[np.object_]
    tree: shapely.STRtree
    frame: tuple[float, float, float, float]


@lru_cache(maxsize=1)
def _outlines() -> _Outlines | None:
    import pyogrio

    from planner.inputs.countries import COUNTRY_OUTLINES_PATH, EUROPE_BBOX

    if not COUNTRY_OUTLINES_PATH.exists():
        logger.info("no %s: countries are checked with boxes only", COUNTRY_OUTLINES_PATH)
        return None
    frame = pyogrio.read_dataframe(COUNTRY_OUTLINES_PATH, columns=["iso_a2"])
    codes = [str(c) for c in frame["iso_a2"]]
    geometries = frame.geometry.to_numpy()
    shapely.prepare(geometries)
    projected = shapely.transform(geometries, lambda xy: np.column_stack(_metres(*xy.T)))
    return _Outlines(
        codes=codes,
        index={code: i for i, code in enumerate(codes)},
        geometries=geometries,
        projected=projected,
        tree=shapely.STRtree(geometries),
        frame=EUROPE_BBOX,
    )


def place(lon: npt.ArrayLike, lat: npt.ArrayLike, countries: npt.ArrayLike) -> Placement:
    """Judge every point against its stated country (ISO alpha-2, upper case).

    Parameters
    ----------
    lon, lat
        Degrees (WGS 84), finite and in range.
    countries
        The country each point's row states.
    """
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    stated = np.asarray(countries, dtype=object)
    n = len(x)
    verdict = np.full(n, IN_PLACE, dtype=np.int8)
    lies_in = np.full(n, "", dtype=object)
    depth = np.full(n, np.nan)
    outlines = _outlines()
    by_outline = np.zeros(n, dtype=bool)
    if outlines is not None:
        west, south, east, north = outlines.frame
        in_frame = (x >= west) & (x <= east) & (y >= south) & (y <= north)
        own = np.array([outlines.index.get(c, -1) for c in stated], dtype=np.int64)
        candidates = in_frame & (own >= 0)
        inside_own = np.zeros(n, dtype=bool)
        for code_index in np.unique(own[candidates]).tolist():
            members = np.flatnonzero(candidates & (own == code_index))
            inside_own[members] = shapely.contains_xy(
                outlines.geometries[code_index], x[members], y[members]
            )
        by_outline = candidates & inside_own
        rest = np.flatnonzero(candidates & ~inside_own)
        if rest.size:
            points = shapely.points(x[rest], y[rest])
            hits, holders = outlines.tree.query(points, predicate="within")
            holder = np.full(rest.size, -1, dtype=np.int64)
            holder[hits] = holders
            abroad = holder >= 0
            # In the sea (no outline holds it): judged by the box below.
            rest, holder = rest[abroad], holder[abroad]
            by_outline[rest] = True
            if rest.size:
                projected = _project(x[rest], y[rest])
                depth_km = shapely.distance(outlines.projected[own[rest]], projected) / 1000.0
                lies_in[rest] = [outlines.codes[h] for h in holder.tolist()]
                depth[rest] = depth_km
                verdict[rest] = np.where(
                    depth_km <= BORDER_SLACK_KM,
                    IN_PLACE,
                    np.where(depth_km <= CLEARLY_OUTSIDE_KM, NEAR_BORDER, OUTSIDE),
                )
                lies_in[rest[depth_km <= BORDER_SLACK_KM]] = ""
                depth[rest[depth_km <= BORDER_SLACK_KM]] = np.nan
    for i in np.flatnonzero(~by_outline).tolist():
        box = country_box(str(stated[i]))
        if box is not None and not in_box(box, float(x[i]), float(y[i])):
            verdict[i] = OUTSIDE
    return Placement(verdict=verdict, lies_in=lies_in, depth_km=depth)


@lru_cache(maxsize=1)
def _to_metres() -> Any:
    import pyproj

    return pyproj.Transformer.from_crs(4326, 3035, always_xy=True)


def _metres(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> tuple[Any, Any]:
    """Degrees to metres on the ETRS89 Lambert azimuthal equal-area projection."""
    return _to_metres().transform(lon, lat)


def _project(lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]) -> npt.NDArray[np.object_]:
    return shapely.points(*_metres(lon, lat))
