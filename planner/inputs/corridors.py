"""Corridor lines (for the AFIR check) read from GeoJSON or GeoPackage, in WGS 84."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString

from planner._files import NOT_REGULAR, is_special
from planner.errors import InputError, Problem
from planner.inputs.raw import reason
from planner.travel.corridors import line_length_km

__all__ = ["Corridor", "load_corridors"]


@dataclass(frozen=True)
class Corridor:
    """One corridor line: its name, its points and its length."""

    name: str
    lon: np.ndarray
    lat: np.ndarray
    length_km: float


def load_corridors(path: Path) -> list[Corridor]:
    """The corridor lines of a GeoJSON or GeoPackage file, in WGS 84.

    Read once per file version (path, size, modification time): the check
    before the solve, the covering rows, the report and the map all ask for
    the same lines.

    Raises
    ------
    planner.errors.InputError
        The file cannot be read, holds no line, or has coordinates that are
        not longitudes and latitudes without stating its CRS.
    """
    try:
        stat = path.stat()
    except OSError:
        return list(_read_corridors(path, None))
    return list(_read_corridors(path, (stat.st_size, stat.st_mtime_ns)))


@functools.lru_cache(maxsize=8)
def _read_corridors(path: Path, version: tuple[int, int] | None) -> tuple[Corridor, ...]:
    """The lines of one version of the file (``version`` keys the cache only)."""
    field = "afir.corridors"
    if is_special(path):
        raise InputError(Problem(str(path), NOT_REGULAR, field=field))
    try:
        # NaN coordinates are refused below, by feature, without numpy's warning first.
        with np.errstate(invalid="ignore"):
            frame = gpd.read_file(path)
    except Exception as exc:  # the GIS drivers raise many kinds
        raise InputError(
            Problem(str(path), f"cannot be read as corridor lines: {reason(exc)}", field=field)
        ) from None
    no_corridor = Problem(
        str(path), "holds no LineString or MultiLineString: no corridor", field=field
    )
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise InputError(no_corridor)  # a table without geometry (a CSV read by the same driver)
    kinds = frame.geometry.geom_type.to_numpy()
    missing = (frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    is_line = np.isin(kinds, ["LineString", "MultiLineString"]) & ~missing
    xy, owner = shapely.get_coordinates(frame.geometry.to_numpy(), return_index=True)
    unnumbered = np.zeros(len(frame), dtype=bool)
    unnumbered[owner[~np.isfinite(xy).all(axis=1)]] = True
    unnumbered &= is_line

    def what_is_wrong(k: int) -> str:
        if unnumbered[k]:
            return "coordinates are not numbers (NaN or infinite)"
        if missing[k]:
            return "no geometry"
        return f"a {kinds[k]} is not a corridor line (LineString or MultiLineString)"

    if is_line.any() and not (is_line & ~unnumbered).all():
        # Every feature is a corridor; one that is not a line is not silently left out.
        raise InputError(
            [
                Problem(str(path), f"feature {k + 1}: {what_is_wrong(int(k))}", field=field)
                for k in np.flatnonzero(~is_line | unnumbered)[:50]
            ]
        )
    lines = frame[is_line]
    if lines.empty:
        raise InputError(no_corridor)
    if lines.crs is not None and not lines.crs.equals("EPSG:4326"):
        lines = lines.to_crs("EPSG:4326")
    xmin, ymin, xmax, ymax = lines.total_bounds
    # GeoJSON is WGS 84 unless it says otherwise, so a projected file that
    # states no CRS shows up as impossible longitudes and latitudes.
    if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
        raise InputError(
            Problem(
                str(path),
                "coordinates are not longitudes and latitudes (a projected CRS?) and the file "
                "states no CRS: export it in WGS 84 or with its CRS",
                field=field,
            )
        )
    names = (
        lines["name"].astype(str)
        if "name" in lines
        else pd.Series([f"corridor {k + 1}" for k in range(len(lines))], index=lines.index)
    )
    corridors = []
    for name, geometry in zip(names, lines.geometry, strict=True):
        parts = geometry.geoms if isinstance(geometry, MultiLineString) else [geometry]
        for k, part in enumerate(parts):
            assert isinstance(part, LineString)
            xy = np.asarray(part.coords, dtype=np.float64)
            if len(xy) < 2:
                continue
            label = name if len(parts) == 1 else f"{name} ({k + 1})"
            lon, lat = xy[:, 0], xy[:, 1]
            corridors.append(Corridor(label, lon, lat, line_length_km(lon, lat)))
    return tuple(corridors)
