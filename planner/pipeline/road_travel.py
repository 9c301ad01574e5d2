"""Road travel in a run: points no car reaches are dropped, named and counted.

In road mode every site and demand point is snapped to the routing folder's
road network before anything else uses them
(:func:`planner.travel.road.snap_points`). A point farther than
``travel.snap_max_m`` from a drivable road is dropped: outside the extract's
area (beyond the roads' bounding box) or off-road (inside it). Each kind is
counted in ``report.json`` (``travel.dropped``) and the points are named in
a warning; a fixed site that no car reaches, or a scenario left with no site
or no demand point, is an input error.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np

from planner.errors import InputError, Problem
from planner.scenario.schema import Scenario
from planner.travel.road import Snapped, snap_points
from planner.travel.routing_folder import RoutingFolder

__all__ = ["drop_unroutable"]

logger = logging.getLogger(__name__)

#: Points named in one warning; the rest are counted.
_NAMED = 10


def drop_unroutable(
    scenario: Scenario,
    folder: RoutingFolder,
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any], list[str]]:
    """Sites and demand points within ``snap_max_m`` of a road, and what was dropped.

    Returns
    -------
    sites, demand
        The points kept, index 0..n-1.
    counts
        ``travel`` section of ``report.json``: the routing folder's engine,
        extract and dates, points snapped and dropped by reason.
    warnings
        One line per kind of point dropped, naming them.

    Raises
    ------
    InputError
        A fixed site is dropped, or no site or no demand point is left.
    """
    limit = scenario.travel.snap_max_m
    snapped_sites = snap_points(folder, sites["lon"], sites["lat"], snap_max_m=limit)
    snapped_demand = snap_points(folder, demand["lon"], demand["lat"], snap_max_m=limit)
    where = f"travel.routing {folder.path}"
    problems = [
        Problem(
            "dealers",
            f"site '{sites['site_id'].iat[i]}' is fixed but {snapped_sites.distance_m[i]:,.0f} m "
            f"from the nearest road of {folder.manifest['extract']['file']} (more than "
            f"travel.snap_max_m = {limit:g}); no car reaches it",
            field="fixed",
        )
        for i in np.flatnonzero(snapped_sites.dropped & sites["fixed"].to_numpy(dtype=bool))
    ]
    for what, snapped, total in (
        ("site", snapped_sites, len(sites)),
        ("demand point", snapped_demand, len(demand)),
    ):
        if total and snapped.dropped.all():
            problems.append(
                Problem(
                    where,
                    f"every {what} ({total}) is more than travel.snap_max_m = {limit:g} m from "
                    f"a road of {folder.manifest['extract']['file']}: is it the extract of "
                    "the scenario's countries?",
                )
            )
    if problems:
        raise InputError(problems)
    warnings = [
        *_warnings("sites", sites, "site_id", snapped_sites, limit),
        *_warnings("demand points", demand, "name", snapped_demand, limit),
    ]
    for line in warnings:
        logger.warning(line)
    counts = {
        "mode": "road",
        **folder.describe(),
        "snap_max_m": limit,
        "snapped": {
            "sites": int((~snapped_sites.dropped).sum()),
            "demand": int((~snapped_demand.dropped).sum()),
        },
        "dropped": {
            "sites_outside_extract": int(snapped_sites.outside.sum()),
            "sites_off_road": int(snapped_sites.off_road.sum()),
            "demand_outside_extract": int(snapped_demand.outside.sum()),
            "demand_off_road": int(snapped_demand.off_road.sum()),
            "population_dropped": float(
                demand["population"].to_numpy()[snapped_demand.dropped].sum()
            )
            if "population" in demand
            else 0.0,
        },
        "snap_m_median": {
            "sites": _median(snapped_sites.distance_m[~snapped_sites.dropped]),
            "demand": _median(snapped_demand.distance_m[~snapped_demand.dropped]),
        },
    }
    kept_sites = sites.loc[~snapped_sites.dropped].reset_index(drop=True)
    kept_demand = demand.loc[~snapped_demand.dropped].reset_index(drop=True)
    return kept_sites, kept_demand, counts, warnings


def _warnings(
    what: str, points: gpd.GeoDataFrame, label: str, snapped: Snapped, limit: float
) -> list[str]:
    lines = []
    for mask, why in (
        (snapped.outside, "lie outside the routing extract's area"),
        (snapped.off_road, f"are more than {limit:g} m from a drivable road"),
    ):
        index = np.flatnonzero(mask)
        if not len(index):
            continue
        names = ", ".join(
            f"{points[label].iat[i]} ({_distance(snapped.distance_m[i])})" for i in index[:_NAMED]
        )
        more = f" and {len(index) - _NAMED} more" if len(index) > _NAMED else ""
        lines.append(f"{len(index)} {what} {why} and were dropped: {names}{more}")
    return lines


def _distance(metres: float) -> str:
    if not np.isfinite(metres):
        return "no road"
    return f"{metres / 1000:,.1f} km" if metres >= 1000 else f"{metres:,.0f} m"


def _median(values: np.ndarray) -> float | None:
    return round(float(np.median(values)), 1) if len(values) else None
