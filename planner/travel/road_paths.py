"""Trips along real roads: each trip's fastest route, as a line the sites project onto.

With a routing folder (``[travel] mode = "road"``) a trip's path is OSRM's
fastest route from origin to destination (its full geometry), instead of the
town graph's approximation (:mod:`planner.travel.trips`). Positions along
the route, and its length, are great-circle sums along that geometry, so a
site's position never exceeds the trip's length; they match OSRM's own
route length to within the geometry's rounding. A pair without a route (an
island without a ferry) has no path: the trip cannot be served.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from planner.travel.corridors import line_length_km
from planner.travel.routing_folder import RoutingFolder

__all__ = ["ROAD_PATHS", "road_routes"]

FloatArray = npt.NDArray[np.float64]

#: How the trips' paths are made with a routing folder, for the report and the map.
ROAD_PATHS = "road network: each trip follows OSRM's fastest route between its towns"


def road_routes(
    folder: RoutingFolder,
    from_lon: FloatArray,
    from_lat: FloatArray,
    to_lon: FloatArray,
    to_lat: FloatArray,
) -> list[tuple[FloatArray, FloatArray, float] | None]:
    """Per trip, its route's points and length in km, or ``None`` when there is no route."""
    import osrm

    routes: list[tuple[FloatArray, FloatArray, float] | None] = []
    for a, b, c, d in zip(from_lon, from_lat, to_lon, to_lat, strict=True):
        parameters = osrm.RouteParameters(
            coordinates=[(float(a), float(b)), (float(c), float(d))],
            geometries="geojson",
            overview="full",
            generate_hints=False,
        )
        try:
            answer = folder.osrm.Route(parameters)
        except RuntimeError:
            routes.append(None)  # "NoRoute": the engine found no way between the two
            continue
        try:  # the bindings' answer is subscriptable, not a dict
            found = answer["routes"]
            points = np.asarray(found[0]["geometry"]["coordinates"], dtype=np.float64)
        except (KeyError, IndexError, TypeError):
            routes.append(None)
            continue
        if len(points) < 2:
            routes.append(None)
            continue
        lon, lat = points[:, 0], points[:, 1]
        routes.append((lon, lat, line_length_km(lon, lat)))
    return routes
