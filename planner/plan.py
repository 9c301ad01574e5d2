"""Run one scenario end to end and return a :class:`Plan`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd

from planner.optimise import Solution
from planner.scenario import Scenario


@dataclass(frozen=True)
class Plan:
    """The result of one scenario.

    Attributes
    ----------
    scenario
        The resolved scenario.
    sites
        Every candidate site (EPSG:4326) with columns ``site_id``, ``name``,
        ``brands`` (``"Nissan;Renault"``: sorted, ``;``-joined), ``country``,
        ``lon``, ``lat``, ``n_dealers``, ``dealer_ids``, ``chosen`` (bool),
        ``chargers`` (int, 0 when not chosen), ``demand_served`` (weight of the
        demand assigned to it), ``population_in_reach``, ``marginal_population``
        (population only this chosen site covers; 0 when not chosen).
    demand
        Every demand point (EPSG:4326) with ``demand_id``, ``name``, ``country``,
        ``population``, ``weight``, ``covered`` (bool), ``site_id`` (serving
        site or ``""``), ``lon``, ``lat``.
    solution
        The optimiser's answer.
    report
        The content of ``report.json``.
    """

    scenario: Scenario
    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    solution: Solution
    report: dict[str, Any]
