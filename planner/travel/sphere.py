"""Great-circle geometry on a spherical Earth, shared by travel costs and input cleaning.

Every distance in the planner is measured on one sphere of radius
:data:`EARTH_RADIUS_KM` (the IUGG mean radius), so that reach, dealer merging
and the city-section rule agree on what "within d km" means. Neighbour
searches place points on the unit sphere (:func:`unit_vectors`) and query a
k-d tree with the straight-line chord of the arc (:func:`chord_length`): a
chord radius returns exactly the points within the great-circle radius, with
no map projection.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Mean Earth radius (IUGG), km.
EARTH_RADIUS_KM = 6371.0088
#: The same radius in metres, for callers that measure in metres.
EARTH_RADIUS_M = 6_371_008.8


def unit_vectors(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Points on the unit sphere for WGS 84 longitudes and latitudes in degrees.

    Parameters
    ----------
    lon, lat
        Coordinates in degrees, one per point.

    Returns
    -------
    numpy.ndarray
        Shape (n, 3): x, y, z of each point.
    """
    lon_r = np.radians(np.asarray(lon, dtype=np.float64))
    lat_r = np.radians(np.asarray(lat, dtype=np.float64))
    cos_lat = np.cos(lat_r)
    return np.column_stack((cos_lat * np.cos(lon_r), cos_lat * np.sin(lon_r), np.sin(lat_r)))


def chord_length(distance: float, radius: float = EARTH_RADIUS_KM) -> float:
    """Straight-line length, on the unit sphere, of a great-circle arc.

    Parameters
    ----------
    distance
        Arc length, in the unit of ``radius``; arcs beyond half the globe give
        the diameter (2).
    radius
        Sphere radius: :data:`EARTH_RADIUS_KM` for km, :data:`EARTH_RADIUS_M` for metres.

    Returns
    -------
    float
        Chord length for a k-d tree over :func:`unit_vectors`.
    """
    return float(2.0 * np.sin(min(distance / radius, np.pi) / 2.0))


def great_circle_distance(
    lon1: npt.ArrayLike,
    lat1: npt.ArrayLike,
    lon2: npt.ArrayLike,
    lat2: npt.ArrayLike,
    radius: float = EARTH_RADIUS_KM,
) -> npt.NDArray[np.float64]:
    """Great-circle distance (haversine), element-wise, in the unit of ``radius``.

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        WGS 84 coordinates in degrees; broadcast against each other.
    radius
        Sphere radius: :data:`EARTH_RADIUS_KM` for km, :data:`EARTH_RADIUS_M` for metres.

    Returns
    -------
    numpy.ndarray
        Distances, shaped as the broadcast inputs (0-d for scalars).
    """
    lon1_r, lat1_r, lon2_r, lat2_r = (
        np.radians(np.asarray(x, dtype=np.float64)) for x in (lon1, lat1, lon2, lat2)
    )
    h = (
        np.sin((lat2_r - lat1_r) / 2) ** 2
        + np.cos(lat1_r) * np.cos(lat2_r) * np.sin((lon2_r - lon1_r) / 2) ** 2
    )
    # Rounding can push h a hair outside [0, 1] for (near-)antipodal points.
    return np.asarray(2 * radius * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def great_circle_km(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distance in km (haversine), element-wise.

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        WGS 84 coordinates in degrees; broadcast against each other.

    Returns
    -------
    numpy.ndarray
        Distances in km.
    """
    return great_circle_distance(lon1, lat1, lon2, lat2, EARTH_RADIUS_KM)
