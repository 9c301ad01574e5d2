"""Reach drawn on the map under the road model: each chosen site's isochrone.

Computed when the map is rendered, by the routing folder's Valhalla
(:func:`planner.travel.isochrones.isochrones`), and embedded in the page as
delta-coded rings, so the map stays offline. Polygons are generalised by the
engine, so 1,000 sites stay a few MB of page and draw quickly.
"""

from __future__ import annotations

from typing import Any

from planner.maps.data import delta_coords
from planner.scenario.schema import Scenario, TravelConfig
from planner.travel.isochrones import isochrones
from planner.travel.reach import routing_of

__all__ = [
    "REACH_LAYER_NAME",
    "isochrone_shapes",
    "reach_label",
    "travel_isochrones",
    "travel_reach_label",
]

#: The layer control's name of the isochrones.
REACH_LAYER_NAME = "Reach (drive-time isochrones)"


def isochrone_shapes(scenario: Scenario, chosen: list[dict[str, Any]]) -> list[Any]:
    """Per chosen site, its reach as polygons of delta-coded rings (``[]``: none drawn)."""
    return travel_isochrones(scenario.travel, chosen)


def travel_isochrones(travel: TravelConfig, chosen: list[dict[str, Any]]) -> list[Any]:
    """As :func:`isochrone_shapes`, from the scenario's travel section alone."""
    folder = routing_of(travel)
    if folder is None or not chosen:
        return [[] for _ in chosen]
    shapes = isochrones(
        folder,
        [row["lon"] for row in chosen],
        [row["lat"] for row in chosen],
        metric=travel.road_metric,
        limit=travel.road_limit,
    )
    return [
        [[delta_coords(lat, lon) for lon, lat in polygon] for polygon in polygons]
        for polygons in shapes
    ]


def reach_label(scenario: Scenario) -> str | None:
    """The legend's words for road reach, or ``None`` under the great-circle model."""
    return travel_reach_label(scenario.travel)


def travel_reach_label(travel: TravelConfig) -> str | None:
    """As :func:`reach_label`, from the scenario's travel section alone."""
    if travel.mode != "road":
        return None
    if travel.road_metric == "minutes":
        what = f"{travel.road_limit:g}-minute drive"
    else:
        what = f"{travel.road_limit:g} km of road"
    # The outline is the engine's smoothed isochrone; coverage is decided by each
    # point's own drive time, so a point near the edge may fall on either side.
    return (
        f"Reach: {what} from the site (isochrone, OpenStreetMap roads; an outline only: "
        "each point's own drive time decides its coverage)"
    )
