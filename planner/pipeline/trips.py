"""The scenario's long-distance trips: towns, gravity flows, paths and the sites along them.

Calibration (see :class:`planner.scenario.trips.TripsConfig`): the brands'
BEVs in the plan's countries (population × cars per inhabitant × BEV share ×
brand share, per country as for sessions) each make
``long_trips_per_car_per_year`` long round trips a year, spread over the
towns' pairs by the gravity model. Paths follow the town graph of
:mod:`planner.travel.trips` (an approximation the report names).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.errors import InputError, Problem
from planner.inputs.demand import session_factors
from planner.inputs.od_file import read_od_file
from planner.optimise import Solution
from planner.optimise.flow import served_trips
from planner.scenario.schema import Scenario
from planner.travel.reach import routing_of
from planner.travel.road_paths import ROAD_PATHS, road_routes
from planner.travel.trips import (
    TRIP_APPROXIMATION,
    Trips,
    gravity_pairs,
    town_graph,
    trips_along_paths,
    trips_along_roads,
)

if TYPE_CHECKING:
    from planner.pipeline.load import PlanInputs

__all__ = ["FAST_KW", "brand_bevs", "load_trips", "trip_table"]

#: Existing stations of at least this power serve long-distance trips, kW.
FAST_KW = 150.0


def brand_bevs(demand: gpd.GeoDataFrame, scenario: Scenario) -> float:
    """The brands' BEVs in the demand's population (cars × BEV share × brand share)."""
    sessions = scenario.demand.sessions
    total = 0.0
    for country, people in demand.groupby("country")["population"].sum().items():
        factors = session_factors(sessions, str(country))
        total += float(people) * (
            factors["cars_per_inhabitant"]
            * factors["bev_share_of_fleet"]
            * factors["brand_share_of_bev"]
        )
    return total


def load_trips(
    scenario: Scenario,
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    existing: pd.DataFrame | None = None,
) -> Trips:
    """The scenario's trips (gravity model or O-D file), routed, with the sites along each path.

    ``existing`` stations of at least :data:`FAST_KW` count as stations on the
    paths they pass, open in every plan.

    Raises
    ------
    planner.errors.InputError
        Fewer than two towns reach ``trips.min_population``, or no pair of
        towns lies within the trip length band; or the problems of the O-D
        file (:func:`planner.inputs.od_file.read_od_file`).
    """
    config = scenario.trips
    circuity = scenario.travel.circuity
    if isinstance(config.source, Path):
        first, second, flows, counts = read_od_file(config.source, demand)
        return _routed(scenario, demand, sites, existing, first, second, flows, counts)
    population = demand["population"].to_numpy(dtype=np.float64)
    towns = np.flatnonzero(population >= config.min_population)
    if towns.size < 2:
        raise InputError(
            Problem(
                "scenario",
                f"{towns.size} demand place(s) have at least {config.min_population:,} people: "
                "trips need two towns; lower trips.min_population",
                field="trips.min_population",
            )
        )
    lon = demand["lon"].to_numpy(dtype=np.float64)
    lat = demand["lat"].to_numpy(dtype=np.float64)
    per_day = brand_bevs(demand, scenario) * config.long_trips_per_car_per_year / 365.0
    first, second, flows, counts = gravity_pairs(
        lon[towns],
        lat[towns],
        population[towns],
        beta=config.beta,
        min_km=config.min_km,
        max_km=config.max_km,
        circuity=circuity,
        trips_per_day=per_day,
        max_trips=config.max_trips,
    )
    if first.size == 0:
        raise InputError(
            Problem(
                "scenario",
                f"no two of the {towns.size} towns lie {config.min_km:g}-{config.max_km:g} km "
                "apart: widen trips.min_km / trips.max_km",
                field="trips.min_km",
            )
        )
    return _routed(
        scenario,
        demand,
        sites,
        existing,
        towns[first],
        towns[second],
        flows,
        {**counts, "towns": float(towns.size)},
    )


def _routed(
    scenario: Scenario,
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    existing: pd.DataFrame | None,
    origin: np.ndarray,
    destination: np.ndarray,
    flows: np.ndarray,
    counts: dict[str, float],
) -> Trips:
    """The trips between demand places routed (roads, else the town graph), with their stops."""
    config = scenario.trips
    circuity = scenario.travel.circuity
    lon = demand["lon"].to_numpy(dtype=np.float64)
    lat = demand["lat"].to_numpy(dtype=np.float64)
    fast = (
        existing[existing["power_kw"] >= FAST_KW]
        if existing is not None and len(existing)
        else pd.DataFrame({"lon": [], "lat": []})
    )
    site_lon = np.concatenate(
        [sites["lon"].to_numpy(dtype=np.float64), fast["lon"].to_numpy(float)]
    )
    site_lat = np.concatenate(
        [sites["lat"].to_numpy(dtype=np.float64), fast["lat"].to_numpy(float)]
    )
    folder = routing_of(scenario.travel)
    if folder is not None:
        routes = road_routes(folder, lon[origin], lat[origin], lon[destination], lat[destination])
        trips = trips_along_roads(
            routes,
            origin,
            destination,
            flows,
            site_lon,
            site_lat,
            detour_km=config.detour_km,
            n_candidates=len(sites),
            counts={**counts, "existing_stations": float(len(fast))},
        )
        trips.counts["paths"] = ROAD_PATHS  # type: ignore[assignment]
        return trips
    graph = town_graph(lon, lat, neighbours=config.graph_neighbours, circuity=circuity)
    trips = trips_along_paths(
        lon,
        lat,
        origin,
        destination,
        flows,
        site_lon,
        site_lat,
        graph=graph,
        detour_km=config.detour_km,
        circuity=circuity,
        counts={**counts, "existing_stations": float(len(fast))},
        n_candidates=len(sites),
    )
    trips.counts["paths"] = TRIP_APPROXIMATION  # type: ignore[assignment]
    return trips


def trip_table(inputs: PlanInputs, solution: Solution, scenario: Scenario) -> pd.DataFrame:
    """The plan's trips as a table (see :attr:`planner.Plan.trips`), strongest first."""
    trips = inputs.trips
    assert trips is not None
    served = served_trips(trips.paths, solution.open_sites, scenario.model.range_km)
    # A trip without a path has length 0; one between two places never has.
    routed = trips.km > 0
    names = inputs.demand["name"].astype(str).to_numpy()
    lon = inputs.demand["lon"].to_numpy(dtype=np.float64)
    lat = inputs.demand["lat"].to_numpy(dtype=np.float64)
    table = pd.DataFrame(
        {
            "origin": names[trips.origin],
            "destination": names[trips.destination],
            # As given: a trip without a path keeps its flow, its km left empty.
            "trips_per_day": trips.paths.flows if trips.flows is None else trips.flows,
            "km": np.where(routed, np.round(trips.km, 1), np.nan),
            "served": served,
            "stations_on_path": np.diff(trips.paths.indptr),
            "path_lon": [line.round(5).tolist() for line, _ in _lines(trips, lon, lat)],
            "path_lat": [line.round(5).tolist() for _, line in _lines(trips, lon, lat)],
        }
    )
    return table.sort_values("trips_per_day", ascending=False, kind="stable").reset_index(drop=True)


def _lines(trips: Trips, lon: np.ndarray, lat: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each trip's path as points: its road route, else its towns."""
    if trips.lines is not None:
        return trips.lines
    return [(lon[nodes], lat[nodes]) for nodes in trips.nodes]
