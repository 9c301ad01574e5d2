"""Reach under the scenario's travel model: the one entry every stage calls.

``travel.mode = "great_circle"`` gives :func:`planner.travel.great_circle.reach_matrix`
(km = great-circle km × circuity, within ``radius_km``); ``"road"`` gives
:func:`planner.travel.road.road_reach` on the scenario's routing folder
(drive minutes within ``max_minutes``, or road km within ``max_km``). Sites,
demand points and existing stations all go through here, so every model,
the chargers per site, the existing-charger discount and p-median's costs
use the same travel model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy.typing as npt
import scipy.sparse as sp

from planner.scenario.travel import TravelConfig
from planner.travel.great_circle import reach_matrix
from planner.travel.road import road_reach
from planner.travel.routing_folder import RoutingFolder, open_routing

__all__ = ["TravelReach", "cost_unit", "routing_of", "travel_reach"]


@dataclass(frozen=True)
class TravelReach:
    """Reach and what ``report.json`` says of how it was computed."""

    matrix: sp.csr_matrix
    counts: dict[str, Any] = field(default_factory=dict)


def routing_of(travel: TravelConfig) -> RoutingFolder | None:
    """The opened routing folder of a road-mode scenario, else ``None``."""
    if travel.mode != "road" or travel.routing is None:
        return None
    return open_routing(travel.routing)


def cost_unit(travel: TravelConfig) -> str:
    """The unit of a travel cost: ``"km"`` or ``"minutes"``."""
    return travel.road_metric if travel.mode == "road" else "km"


def travel_reach(
    travel: TravelConfig,
    demand_lon: npt.ArrayLike,
    demand_lat: npt.ArrayLike,
    site_lon: npt.ArrayLike,
    site_lat: npt.ArrayLike,
    *,
    radius_km: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> TravelReach:
    """Travel cost of every (demand point, site) pair within reach, CSR.

    Parameters
    ----------
    travel
        The scenario's ``[travel]`` section.
    demand_lon, demand_lat, site_lon, site_lat
        WGS 84 degrees; in road mode points are expected on the network
        (dropped beforehand when farther than ``snap_max_m`` from a road).
    radius_km
        A reach in travel km instead of the scenario's (existing stations'
        own radius): great-circle km × circuity, or road km in road mode.
    progress
        Called now and then with a line on the engine's progress.
    """
    folder = routing_of(travel)
    if folder is None:
        matrix = reach_matrix(
            demand_lon,
            demand_lat,
            site_lon,
            site_lat,
            radius_km=radius_km if radius_km is not None else travel.radius_km,
            circuity=travel.circuity,
        )
        return TravelReach(matrix, {"mode": "great_circle", "pairs_in_reach": int(matrix.nnz)})
    metric, limit = (
        ("km", radius_km) if radius_km is not None else (travel.road_metric, travel.road_limit)
    )
    road = road_reach(
        folder,
        demand_lon,
        demand_lat,
        site_lon,
        site_lat,
        metric="km" if metric == "km" else "minutes",
        limit=float(limit),
        snap_max_m=travel.snap_max_m,
        progress=progress,
    )
    counts = {
        "mode": "road",
        "metric": metric,
        "limit": limit,
        "pairs_in_reach": int(road.matrix.nnz),
        "candidate_pairs": road.candidate_pairs,
        "no_route_pairs": road.no_route_pairs,
        "from_cache": road.from_cache,
        "seconds": round(road.seconds, 3),
    }
    return TravelReach(road.matrix, counts)
