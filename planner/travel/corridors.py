"""Points along a line: where each point projects onto a polyline, and how far off it lies.

Used for corridors (the AFIR check: pools along a motorway) and for trips
(the sites along a path). Each segment is flattened onto a local plane
around it (km east and north), which is exact enough for segments of tens of
km and offsets of a few km; a k-d tree on the sphere finds the candidate
points of each segment first.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from planner.travel.sphere import EARTH_RADIUS_KM, chord_length, great_circle_km, unit_vectors

__all__ = ["line_between", "line_length_km", "project_onto_line"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_KM_PER_DEGREE = np.radians(1.0) * EARTH_RADIUS_KM


def line_length_km(lon: FloatArray, lat: FloatArray) -> float:
    """Great-circle length of a polyline, km."""
    if lon.size < 2:
        return 0.0
    return float(great_circle_km(lon[:-1], lat[:-1], lon[1:], lat[1:]).sum())


def project_onto_line(
    line_lon: FloatArray,
    line_lat: FloatArray,
    lon: FloatArray,
    lat: FloatArray,
    *,
    max_offset_km: float,
    tree: cKDTree | None = None,
    scale: float = 1.0,
) -> tuple[IntArray, FloatArray, FloatArray]:
    """The points within ``max_offset_km`` of the polyline: (index, position km, offset km).

    ``position`` is the distance along the line to the point's projection
    (great circle × ``scale``, e.g. a circuity); a point near several
    segments takes its nearest. ``tree`` is a k-d tree over
    :func:`~planner.travel.sphere.unit_vectors` of the points, when the caller
    has one.
    """
    tree = tree or cKDTree(unit_vectors(lon, lat))
    best: dict[int, tuple[float, float]] = {}
    travelled = 0.0
    for k in range(line_lon.size - 1):
        lon_a, lat_a, lon_b, lat_b = line_lon[k], line_lat[k], line_lon[k + 1], line_lat[k + 1]
        seg_km = float(great_circle_km(lon_a, lat_a, lon_b, lat_b))
        mid = unit_vectors([(lon_a + lon_b) / 2], [(lat_a + lat_b) / 2])[0]
        near = tree.query_ball_point(mid, chord_length(seg_km / 2 + max_offset_km))
        if near:
            idx = np.asarray(near, dtype=np.int64)
            east = np.cos(np.radians((lat_a + lat_b) / 2)) * _KM_PER_DEGREE
            bx, by = (lon_b - lon_a) * east, (lat_b - lat_a) * _KM_PER_DEGREE
            px, py = (lon[idx] - lon_a) * east, (lat[idx] - lat_a) * _KM_PER_DEGREE
            span = bx * bx + by * by
            t = np.clip((px * bx + py * by) / span, 0.0, 1.0) if span > 0 else np.zeros(idx.size)
            offset = np.hypot(px - t * bx, py - t * by)
            for point, off, share in zip(idx.tolist(), offset.tolist(), t.tolist(), strict=True):
                if off <= max_offset_km and (point not in best or off < best[point][0]):
                    best[point] = (off, travelled + share * seg_km * scale)
        travelled += seg_km * scale
    order = sorted(best, key=lambda point: (best[point][1], point))
    return (
        np.asarray(order, dtype=np.int64),
        np.asarray([best[p][1] for p in order], dtype=np.float64),
        np.asarray([best[p][0] for p in order], dtype=np.float64),
    )


def line_between(
    lon: FloatArray, lat: FloatArray, start_km: float, end_km: float
) -> tuple[FloatArray, FloatArray]:
    """The stretch of a polyline from ``start_km`` to ``end_km`` along it (great circle)."""
    steps = great_circle_km(lon[:-1], lat[:-1], lon[1:], lat[1:])
    at = np.concatenate([[0.0], np.cumsum(steps)])
    inner = (at > start_km) & (at < end_km)
    # Linear in degrees within a segment: fine for drawing.
    return (
        np.concatenate([[np.interp(start_km, at, lon)], lon[inner], [np.interp(end_km, at, lon)]]),
        np.concatenate([[np.interp(start_km, at, lat)], lat[inner], [np.interp(end_km, at, lat)]]),
    )
