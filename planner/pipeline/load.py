"""Read a scenario's inputs once: sites, demand points, existing stations and reach.

:func:`load_inputs` returns the :class:`PlanInputs` that every solve of the
scenario shares (a run solves once, a frontier many times); :class:`Clock`
times each stage and announces it to a progress display.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.errors import InputError, Problem
from planner.inputs.demand import demand_weight, load_demand
from planner.inputs.sites import SiteLoad, load_sites
from planner.optimise.progress import SolveProgress
from planner.pipeline.afir import check_corridors
from planner.pipeline.chargers import without_charger_room
from planner.pipeline.existing import ExistingLayer, load_existing
from planner.pipeline.road_travel import drop_unroutable
from planner.pipeline.routing import ensure_routing
from planner.pipeline.trips import load_trips
from planner.scenario.models import MODEL_TRAITS
from planner.scenario.schema import Scenario
from planner.travel.reach import travel_reach
from planner.travel.trips import Trips

__all__ = ["Clock", "PlanInputs", "StageCallback", "load_inputs"]

logger = logging.getLogger(__name__)

#: Called with the name of each stage as it starts and, while the model
#: solves, with a :class:`~planner.optimise.progress.SolveProgress` every few
#: seconds (elapsed, time left, best plan, bound, gap; ``str()`` gives one line).
StageCallback = Callable[[str | SolveProgress], None]


class Clock:
    """Wall-clock seconds per stage, announced to an optional callback."""

    def __init__(self, on_stage: StageCallback | None) -> None:
        self.seconds: dict[str, float] = {}
        self._on_stage = on_stage
        self._start = time.perf_counter()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self._on_stage is not None:
            self._on_stage(name)
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start
        logger.info("%s: %.2f s", name, self.seconds[name])

    def announce(self, line: str) -> None:
        """A step inside the current stage (a routing build's), shown as a stage of its own."""
        if self._on_stage is not None:
            self._on_stage(line)
        logger.info("%s", line)

    def total(self) -> float:
        return time.perf_counter() - self._start

    @property
    def on_progress(self) -> Callable[[SolveProgress], None] | None:
        """Where a solve's progress goes (the stage callback), or ``None``."""
        return self._on_stage


@dataclass(frozen=True)
class PlanInputs:
    """What every solve of a scenario shares: sites, demand points and reach.

    Attributes
    ----------
    sites
        Candidate sites (see :class:`planner.inputs.sites.SiteLoad`), index 0..n-1.
    demand
        Demand points (see :func:`planner.inputs.demand.load_demand`), index 0..m-1.
    reach
        Travel cost of every (demand, site) pair within reach, CSR.
    counts
        Rows read, dropped and merged per input, for ``report.json``.
    existing
        The existing high-power stations and the demand they reach, or
        ``None`` when the scenario names no charger file.
    trips
        Long-distance trips and the sites along their paths, for a model
        that serves trips (``None`` otherwise).
    """

    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    reach: sp.csr_matrix
    counts: dict[str, Any]
    existing: ExistingLayer | None = None
    trips: Trips | None = None


def _about_a_column(warning: Problem | str) -> bool:
    """Whether a dealer-file warning is about a whole column (no row), such as how it was read."""
    return isinstance(warning, Problem) and warning.row is None and warning.field is not None


def _exclude_sites_without_room(
    sites: gpd.GeoDataFrame, scenario: Scenario
) -> tuple[gpd.GeoDataFrame, int, list[str]]:
    """Sites whose limits allow no charger (fewer than chargers.min_per_site) excluded.

    A fixed site among them is an input error: it must be chosen and cannot be.
    """
    no_room = without_charger_room(sites, scenario)
    fixed = sites["fixed"].to_numpy(dtype=bool)
    least = max(1, scenario.chargers.min_per_site)
    why = (
        f"its max_chargers and grid_kw (at {scenario.chargers.power_kw:g} kW per charger) "
        f"allow fewer than {least} charger(s)"
    )
    problems = [
        Problem(
            "dealers",
            f"site '{sites['site_id'].iat[i]}' (dealers {sites['dealer_ids'].iat[i]}) is fixed "
            f"but {why}; raise its limits or unset fixed",
            field="fixed",
        )
        for i in np.flatnonzero(no_room & fixed)
    ]
    if problems:
        raise InputError(problems)
    newly = no_room & ~sites["excluded"].to_numpy(dtype=bool)
    count = int(newly.sum())
    if not count:
        return sites, 0, []
    sites = sites.copy()
    sites["excluded"] = sites["excluded"].to_numpy(dtype=bool) | no_room
    names = ", ".join(str(s) for s in sites["site_id"].to_numpy()[newly][:10])
    more = f" and {count - 10} more" if count > 10 else ""
    warning = f"{count} site(s) excluded because {why}: {names}{more}"
    logger.warning(warning)
    return sites, count, [warning]


def _unused_road_fields(scenario: Scenario) -> list[str]:
    """A warning for road fields set while the scenario travels by great circle: they do nothing."""
    travel = scenario.travel
    if travel.mode == "road":
        return []
    given = [
        name
        for name, value in (
            ("routing", travel.routing),
            ("max_minutes", travel.max_minutes),
            ("max_km", travel.max_km),
        )
        if value is not None
    ]
    if not given:
        return []
    warning = (
        f"travel.{', travel.'.join(given)} set, but travel.mode is 'great_circle': reach is "
        f"radius_km = {travel.radius_km:g} km; set travel.mode = 'road' to use "
        f"{'it' if len(given) == 1 else 'them'}"
    )
    logger.warning(warning)
    return [warning]


def _unused_model_fields(scenario: Scenario) -> list[str]:
    """A warning for ``model.p`` given to a model that chooses the number of sites itself."""
    model = scenario.model
    if model.p is None or MODEL_TRAITS[model.name].sites is not None:
        return []
    warning = (
        f"model.p = {model.p} set, but {model.name} chooses the number of sites itself "
        "(by model.coverage_target): p is not used"
    )
    logger.warning(warning)
    return [warning]


def _refuse_no_open_site(sites: gpd.GeoDataFrame, no_room: int) -> None:
    """Refuse sites of which none may open: every model would return an empty plan.

    Before, every dealer marked ``excluded`` gave an "optimal" plan of 0 sites.
    """
    excluded = sites["excluded"].to_numpy(dtype=bool)
    if len(sites) == 0 or not excluded.all():
        return
    marked = len(sites) - no_room
    why = [f"{marked:,} marked excluded"] if marked else []
    why += [f"{no_room:,} whose limits leave no room for a charger"] if no_room else []
    raise InputError(
        Problem(
            "dealers",
            f"no candidate site may open: all {len(sites):,} are excluded ({', '.join(why)})",
            field="excluded",
        )
    )


def load_inputs(
    scenario: Scenario,
    *,
    clock: Clock | None = None,
    dealer_tables: Sequence[tuple[str, pd.DataFrame]] | None = None,
    demand_table: pd.DataFrame | None = None,
) -> PlanInputs:
    """Read dealers and demand and compute reach, once for any number of solves.

    ``dealer_tables`` (named tables) and ``demand_table`` replace the scenario's files
    when given; they are checked exactly as files are.
    """
    clock = clock or Clock(None)
    with clock.stage("reading dealers"):
        site_load: SiteLoad = load_sites(
            scenario.dealers, countries=list(scenario.demand.countries), frames=dealer_tables
        )
        sites = site_load.sites.reset_index(drop=True)
        sites, no_room, room_warnings = _exclude_sites_without_room(sites, scenario)
        _refuse_no_open_site(sites, no_room)
    with clock.stage("reading demand"):
        demand = load_demand(scenario.demand, frame=demand_table)
        demand_counts = dict(demand.attrs.get("counts", {}))
        demand = demand.reset_index(drop=True)
    travel: dict[str, Any] = {"mode": "great_circle"}
    travel_warnings: list[str] = _unused_road_fields(scenario)
    routing = None
    if scenario.travel.mode == "road":
        # Builds the extract's routing data first when the scenario names an extract.
        with clock.stage("opening the road network"):
            routing = ensure_routing(scenario.travel, progress=clock.announce)
    if routing is not None:
        with clock.stage("snapping to roads"):
            sites, demand, travel, travel_warnings = drop_unroutable(
                scenario, routing, sites, demand
            )
    existing = None
    demand["existing_in_reach"] = False
    if scenario.existing_chargers.files:
        with clock.stage("reading existing chargers"):
            existing = load_existing(scenario, demand)
        demand["existing_in_reach"] = existing.in_reach
        demand["weight"] = demand_weight(
            demand,
            scenario.demand,
            existing_in_reach=existing.in_reach,
            existing_discount=scenario.existing_chargers.demand_discount,
        )
    with clock.stage("computing reach"):
        reached = travel_reach(
            scenario.travel, demand["lon"], demand["lat"], sites["lon"], sites["lat"]
        )
        reach = reached.matrix
    # A warning about a whole column of a dealer file (how its numbers were read)
    # comes first and is counted: a run shows those in full, and counts the rest.
    column_warnings = [str(w) for w in site_load.warnings if _about_a_column(w)]
    other_warnings = [str(w) for w in site_load.warnings if not _about_a_column(w)]
    warnings = (
        column_warnings
        + other_warnings
        + room_warnings
        + travel_warnings
        + _unused_model_fields(scenario)
    )
    counts = {
        "dealers": {
            **site_load.counts,
            "no_charger_room": no_room,
            "column_warnings": len(column_warnings),
        },
        "demand": demand_counts,
        "reach_pairs": int(reach.nnz),
        "travel": {**travel, **reached.counts},
        "warnings": warnings,
    }
    if existing is not None:
        counts["existing_chargers"] = existing.counts
    if scenario.afir.corridors is not None:
        # A bad corridor file stops the run here. Its own stage: its seconds
        # (5 s for 200 corridors) showed as the reach's.
        with clock.stage("checking corridors"):
            warnings += check_corridors(sites, scenario)
    trips = None
    if MODEL_TRAITS[scenario.model.name].needs_trips:
        with clock.stage("routing trips"):
            trips = load_trips(
                scenario, demand, sites, existing.table if existing is not None else None
            )
        counts["trips"] = trips.counts
    return PlanInputs(
        sites=sites, demand=demand, reach=reach, counts=counts, existing=existing, trips=trips
    )
