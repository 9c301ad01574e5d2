"""The ``[travel]`` section: how far a driver goes to charge, and how that is measured.

Two travel models:

``great_circle`` (the default)
    Travel km = great-circle km × ``circuity``; reach is ``radius_km`` of travel.
``road``
    Drive times and road distances on an OpenStreetMap road network, from a
    routing folder that ``planner routing build`` made (``routing``). Reach is
    ``max_minutes`` of driving or ``max_km`` of road; a demand point or site
    farther than ``snap_max_m`` from a drivable road is dropped, named and
    counted. Travel costs (p-median) are then minutes, or road km.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from planner.scenario.fields import MAX_REACH_KM, FilePath, Number, _Section

__all__ = ["TravelConfig", "TravelMode"]

TravelMode = Literal["great_circle", "road"]


#: Metres a point may lie from the nearest drivable road by default (travel.snap_max_m).
SNAP_MAX_M = 1000.0
#: The most travel.snap_max_m may be: beyond it a point is not on the extract's
#: roads at all (a swapped lat/lon, a point in another country), and snapping
#: it would put it on a road that far away.
SNAP_LIMIT_M = 20_000.0


class TravelConfig(_Section):
    """How far a driver goes to charge."""

    mode: TravelMode = Field(
        "great_circle",
        description="great_circle: travel km = great-circle km × circuity, reach radius_km. "
        "road: drive times on the road network of a routing folder (planner routing build), "
        "reach max_minutes or max_km.",
    )
    radius_km: Number = Field(
        50.0,
        gt=0,
        le=MAX_REACH_KM,
        description="Reach: a demand point is served by sites within this travel distance "
        "(km, at most 1,000).",
    )
    circuity: Number = Field(
        1.3,
        ge=1.0,
        description="Road distance / great-circle distance; 1.3 is typical for European roads.",
    )
    routing: FilePath | None = Field(
        None,
        description="mode = road: the routing folder planner routing build wrote, or an "
        "OpenStreetMap extract (.osm.pbf) whose routing data are then built into the cache on "
        "first use; relative to the scenario file.",
    )
    max_minutes: Number | None = Field(
        None,
        gt=0,
        description="mode = road: reach in minutes of driving (the car profile's free-flow "
        "speeds); travel costs are then minutes. Give this or max_km.",
    )
    max_km: Number | None = Field(
        None,
        gt=0,
        le=MAX_REACH_KM,
        description="mode = road: reach in km of road (the fastest route's length, at most "
        "1,000), instead of max_minutes; travel costs are then road km.",
    )
    snap_max_m: Number = Field(
        SNAP_MAX_M,
        gt=0,
        le=SNAP_LIMIT_M,
        description="mode = road: a demand point or site farther than this from a drivable "
        "road (metres, at most 20 km) is dropped, named in a warning and counted in "
        "report.json.",
    )

    @model_validator(mode="after")
    def _road_needs_a_threshold(self) -> TravelConfig:
        if self.mode != "road":
            return self
        if self.routing is None:
            raise ValueError(
                "routing: mode = 'road' needs the routing folder planner routing build wrote"
            )
        if (self.max_minutes is None) == (self.max_km is None):
            raise ValueError(
                "max_minutes: mode = 'road' needs exactly one of max_minutes (drive time) "
                "and max_km (road distance)"
            )
        return self

    @property
    def road_metric(self) -> Literal["minutes", "km"]:
        """What a road-mode travel cost counts: ``"minutes"`` or ``"km"``."""
        return "km" if self.max_km is not None else "minutes"

    @property
    def road_limit(self) -> float:
        """The road-mode reach, in :attr:`road_metric` units."""
        limit = self.max_km if self.max_km is not None else self.max_minutes
        if limit is None:
            raise ValueError("travel.mode is not 'road'")
        return float(limit)
