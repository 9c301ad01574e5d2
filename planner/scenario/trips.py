"""The ``[trips]`` section: long-distance trips for the flow-refuelling model.

Trips/day between towns come from a gravity model calibrated on the brands'
cars (:mod:`planner.travel.trips`): the scenario's population × cars per
inhabitant × BEV share × brand share (``[demand.sessions]``) gives the
brands' BEVs, and each makes ``long_trips_per_car_per_year`` trips of at
least ``min_km``. Every default is a rough European figure to replace with
the user's own survey data; the report says which were used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from planner.scenario.fields import Count, Number, _Section


class TripsConfig(_Section):
    """Long-distance trips between towns (model flow_refuelling)."""

    source: Literal["gravity"] | Path = Field(
        "gravity",
        description="'gravity' for trips from the gravity model below, or an "
        "origin-destination file (CSV, XLSX, Parquet) with columns origin, destination "
        "(demand_id or unique name of a demand place) and trips_per_day (round trips).",
    )

    beta: Number = Field(
        2.0,
        gt=0,
        description="Gravity model: trips between two towns fall with distance^beta. 2 is the "
        "usual value for car trips between regions; the flow-refuelling literature's test "
        "network uses 1.5.",
    )
    min_km: Number = Field(
        150.0,
        ge=0,
        description="Gravity model: shortest trip counted, km (great circle × circuity): shorter "
        "round trips are made on the home charge. An origin-destination file's trips are "
        "taken as given.",
    )
    max_km: Number = Field(
        1000.0,
        gt=0,
        description="Gravity model: longest trip counted, km: longer journeys go mostly by "
        "other modes.",
    )
    min_population: Count = Field(
        50_000,
        ge=0,
        description="Gravity model: towns of at least this population are the trips' origins "
        "and destinations.",
    )
    long_trips_per_car_per_year: Number = Field(
        12.0,
        ge=0,
        description="Gravity model: round trips longer than min_km each of the brands' BEVs "
        "makes per year (about 1 % of car trips in national travel surveys); calibrates "
        "trips/day.",
    )
    max_trips: Count = Field(
        2000,
        ge=1,
        description="Gravity model: the strongest origin-destination pairs kept (the report "
        "gives their share of all trip flow); an origin-destination file is read whole.",
    )
    detour_km: Number = Field(
        5.0,
        ge=0,
        description="A candidate site serves a trip when it lies within this distance of the "
        "trip's path, km.",
    )
    graph_neighbours: Count = Field(
        6,
        ge=2,
        description="Without a road network, trips follow a graph joining every demand place "
        "to this many nearest places (great circle × circuity).",
    )
