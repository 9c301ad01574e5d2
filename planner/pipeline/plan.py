"""Run one scenario end to end and return a :class:`Plan`.

The stages, each a plain value handed to the next::

    dealers ──> sites ─────────────┐
    demand points ─┬───────────────┴─> reach (sparse) ─> model ─> sized sites ─> Plan
    existing chargers ─> discount ─┘

Demand within reach of an existing high-power station is discounted (see
``existing_chargers.demand_discount``) before any model sees it; the
model comes from the registry (:mod:`planner.pipeline.registry`), the chargers
per chosen site from :mod:`planner.pipeline.chargers`.

:func:`solve_plan` solves a scenario's inputs (:mod:`planner.pipeline.load`)
into a frozen :class:`Plan`; :meth:`Plan.save` (:func:`write_plan`) writes
it, all or nothing, into an output folder.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner._arguments import callback, shown
from planner._files import path_argument
from planner.errors import InputError, Problem
from planner.inputs.countries import country_outlines
from planner.maps.assets import MapAssets, checked_assets
from planner.maps.plan_map import plan_folium_map, write_map
from planner.optimise import Solution
from planner.optimise.coverage.phased import PhasedSolution
from planner.optimise.flow.charge import charging_stops
from planner.optimise.progress import watch
from planner.outputs.folder import publish_folder
from planner.outputs.spreadsheet import write_csv
from planner.outputs.written import report_agreement, report_problems
from planner.pipeline.afir import afir_report
from planner.pipeline.chargers import (
    YearlyChargers,
    phase_chargers,
    site_charger_limits,
    size_sites,
)
from planner.pipeline.constraints import opening_cost, site_constraints
from planner.pipeline.load import Clock, PlanInputs, StageCallback
from planner.pipeline.registry import model_of
from planner.pipeline.report import build_report, phase_table, strict_json
from planner.pipeline.trips import trip_table
from planner.scenario.schema import Scenario, scenario_to_toml

__all__ = [
    "Plan",
    "assemble_plan",
    "check_plan_tables",
    "default_output_folder",
    "site_table",
    "solve_plan",
    "write_plan",
    "write_tables",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
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
        ``chargers`` (int, 0 when not chosen), ``chargers_required`` (least
        count meeting the queueing target, no cap), ``wait_probability``,
        ``queue_target_met``, ``sessions_over_capacity``, ``demand_served``
        (sessions/day assigned to it), ``population_in_reach``,
        ``marginal_population`` and ``marginal_demand`` (population and
        sessions/day only this chosen site covers; 0 when not chosen),
        ``opening_year`` (nullable integer; phased plans), ``chargers_<year>``
        (phased plans: chargers installed by the end of each phase's year, 0
        where the site is not open yet; the last year's equals ``chargers``),
        and in a flow plan
        ``trip_sessions`` (long-distance drivers' charging stops per day,
        sized with the local sessions).
    demand
        Every demand point (EPSG:4326) with ``demand_id``, ``name``, ``country``,
        ``population``, ``sessions_per_day``, ``weight`` (sessions/day left
        after the existing-charger discount), ``existing_in_reach`` (bool),
        ``covered`` (bool: within reach of a chosen site), ``served_share``
        (share of its weight served: 1/0, or split by the sizing model),
        ``site_id`` (main serving site or ``""``), ``lon``, ``lat``.
    solution
        The optimiser's answer.
    report
        The content of ``report.json``.
    existing_chargers
        The existing stations kept (at least ``existing_chargers.min_power_kw``),
        columns ``id``, ``operator``, ``power_kw``, ``points``, ``lon``,
        ``lat``; ``None`` when the scenario names no file.
    trips
        A flow model's long-distance trips: ``origin``, ``destination``
        (place names), ``trips_per_day`` (round trips), ``km``, ``served``
        (refuelled by the plan), ``stations_on_path`` (candidate sites and existing
        fast stations), and the path's points
        ``path_lon`` / ``path_lat``; ``None`` for other models.
    """

    scenario: Scenario
    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    solution: Solution
    report: dict[str, Any]
    existing_chargers: pd.DataFrame | None = None
    trips: pd.DataFrame | None = None

    def save(
        self,
        folder: str | Path,
        *,
        map_assets: MapAssets = "inline",
        on_stage: StageCallback | None = None,
    ) -> Path:
        """Write the plan into ``folder`` all or nothing, exactly as ``planner run`` does.

        ``map.html``, ``sites.csv``, ``sites.geojson``, ``report.json`` and
        ``scenario.toml``; a folder holding files planner did not write is
        refused (:class:`planner.InputError`) and an earlier output stays as it
        was when writing fails. Returns the folder.
        """
        return write_plan(self, folder, on_stage=on_stage, map_assets=map_assets)

    def map(self, *, assets: MapAssets = "inline") -> Any:
        """The plan's review map as a ``folium.Map``; a notebook shows it inline."""
        check_plan_tables(self)
        return plan_folium_map(
            self, outlines=country_outlines(), assets=checked_assets(assets, "assets")
        )

    def _repr_html_(self) -> str:
        """A short summary for notebooks: model, status, sites, chargers, coverage, cost."""
        try:
            return self._summary_html()
        except (KeyError, TypeError, ValueError, AttributeError):
            # A report edited past reading: the one-line repr still says what it can.
            return f"<pre>{escape(repr(self))}</pre>"

    def _summary_html(self) -> str:
        report = self.report
        cost = report.get("cost_eur", {}).get("total")
        rows = [
            ("scenario", self.scenario.name),
            ("model", f"{report['model']} ({report['status']}, gap {_percent(report['gap'])})"),
            ("sites", f"{report['sites_selected']:,} of {len(self.sites):,} candidates"),
            ("chargers", f"{report['chargers_total']:,}"),
            ("coverage", f"{report['coverage_pct']:.2f} % of demand"),
            ("cost", "–" if cost is None else f"{cost:,.0f} EUR"),
        ]
        cells = "".join(
            f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(str(v))}</td></tr>"
            for k, v in rows
        )
        return f"<table class='planner-plan'>{cells}</table>"

    def __repr__(self) -> str:
        # Never raises: a notebook shows a plan whose report was edited, too.
        report = self.report if isinstance(self.report, dict) else {}
        coverage = report.get("coverage_pct")
        shown = f"{coverage:.2f} %" if isinstance(coverage, int | float) else "?"
        return (
            f"<Plan {self.scenario.name!r}: {report.get('model', '?')} "
            f"{report.get('status', '?')}, {report.get('sites_selected', '?')} sites, "
            f"{report.get('chargers_total', '?')} chargers, coverage {shown}>"
        )


def _percent(gap: float | None) -> str:
    return "unknown" if gap is None else f"{100 * gap:.3g} %"


def coverage_tables(
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    reach: sp.csr_matrix,
    solution: Solution,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Add the chosen/covered flags and per-site figures to copies of the tables.

    A demand point's weight goes to the site the solution assigns it to; with
    a split allocation (sizing) each site gets its shares.
    """
    n_sites = len(sites)
    chosen = np.zeros(n_sites, dtype=bool)
    chosen[solution.open_sites] = True
    # Structure only: explicit zero-cost pairs count as in reach.
    in_reach = sp.csr_matrix((np.ones(reach.nnz), reach.indices, reach.indptr), shape=reach.shape)
    population = demand["population"].to_numpy(dtype=np.float64)
    weights = demand["weight"].to_numpy(dtype=np.float64)
    covering = np.asarray(in_reach @ chosen.astype(np.float64)).ravel()
    covered = covering > 0
    only_one = (covering == 1).astype(np.float64)

    assignment = solution.assignment
    assigned = assignment >= 0
    if solution.allocation is not None:
        shares = sp.csr_matrix(solution.allocation)
        served = np.asarray(shares.T @ weights).ravel()
        served_share = np.minimum(1.0, np.asarray(shares.sum(axis=1)).ravel())
    else:
        served = np.zeros(n_sites)
        np.add.at(served, assignment[assigned], weights[assigned])
        served_share = assigned.astype(np.float64)
    site_ids = sites["site_id"].to_numpy(dtype=object)

    demand = demand.copy()
    demand["covered"] = covered
    demand["served_share"] = served_share
    demand["site_id"] = np.where(assigned, site_ids[np.maximum(assignment, 0)], "")

    sites = sites.copy()
    sites["chosen"] = chosen
    sites["chargers"] = np.zeros(n_sites, dtype=np.int64)
    sites["demand_served"] = served
    sites["population_in_reach"] = np.asarray(in_reach.T @ population).ravel()
    sites["marginal_population"] = np.where(
        chosen, np.asarray(in_reach.T @ (population * only_one)).ravel(), 0.0
    )
    sites["marginal_demand"] = np.where(
        chosen, np.asarray(in_reach.T @ (weights * only_one)).ravel(), 0.0
    )
    return sites, demand


def solve_plan(scenario: Scenario, inputs: PlanInputs, *, clock: Clock) -> Plan:
    """Solve the scenario's model (a phased roll-out, or the single-year model) into a plan."""
    model = model_of(scenario)
    if model.solve_rollout is not None and scenario.constraints.phases:
        stage = f"solving {len(scenario.constraints.phases)}-year roll-out"
        with _watched(scenario, clock), clock.stage(stage):
            phased = model.solve_rollout(scenario, inputs)
        return assemble_plan(
            scenario,
            inputs,
            phased.solution,
            clock=clock,
            solve_seconds=clock.seconds[stage],
            phased=phased,
        )
    stage = f"solving {scenario.model.name}"
    # The stage inside the watch: its time ends with the solve, not after a
    # progress callback still running when the solver returned.
    with _watched(scenario, clock), clock.stage(stage):
        solution = model.solve(scenario, inputs)
    return assemble_plan(
        scenario, inputs, solution, clock=clock, solve_seconds=clock.seconds[stage]
    )


def _watched(scenario: Scenario, clock: Clock) -> AbstractContextManager[object]:
    """The solve's progress, every few seconds, to the clock's callback."""
    return watch(clock.on_progress, time_limit_s=scenario.solver.time_limit_s)


def assemble_plan(
    scenario: Scenario,
    inputs: PlanInputs,
    solution: Solution,
    *,
    clock: Clock,
    solve_seconds: float,
    phased: PhasedSolution | None = None,
) -> Plan:
    """Turn a solution into a :class:`Plan`: coverage flags, sized sites, report.

    Timed as its own stage, so the solve's time on screen is the solve alone
    and agrees with ``solve_seconds`` in the report; the report's stage times
    and total include this stage.
    """
    with clock.stage("sizing chargers"):
        plan = _assembled(
            scenario, inputs, solution, clock=clock, solve_seconds=solve_seconds, phased=phased
        )
    if scenario.afir.corridors is not None:
        # Its own stage: at scale the table takes seconds (200 corridors: 0.4 s).
        with clock.stage("reporting corridors"):
            plan.report["afir"] = {
                "max_gap_km": scenario.afir.max_gap_km,
                "max_offset_km": scenario.afir.max_offset_km,
                "enforced": scenario.afir.enforce,
                "corridors": afir_report(plan.sites, plan.existing_chargers, scenario),
            }
    plan.report.update(
        with_seconds(plan.report, {**clock.seconds, "solve": solve_seconds}, total=clock.total())
    )
    return plan


def with_seconds(
    report: dict[str, Any], stages: dict[str, float], *, total: float | None = None
) -> dict[str, Any]:
    """``report``'s timing fields with ``stages`` added (and ``total`` or the added time)."""
    by_stage = dict(report.get("seconds_by_stage", {}))
    before = float(by_stage.pop("total", report.get("total_seconds", 0.0)))
    added = sum(v for k, v in stages.items() if k not in by_stage and k != "solve")
    by_stage.update({name: round(value, 3) for name, value in stages.items()})
    by_stage["total"] = round(before + added if total is None else total, 3)
    return {"seconds_by_stage": by_stage, "total_seconds": by_stage["total"]}


def _assembled(
    scenario: Scenario,
    inputs: PlanInputs,
    solution: Solution,
    *,
    clock: Clock,
    solve_seconds: float,
    phased: PhasedSolution | None,
) -> Plan:
    sites, demand = coverage_tables(inputs.sites, inputs.demand, inputs.reach, solution)
    yearly: YearlyChargers | None = None
    if phased is not None:
        factors = [phase.demand_factor for phase in scenario.constraints.phases]
        yearly = phase_chargers(
            inputs.reach,
            inputs.demand["weight"].to_numpy(dtype=np.float64),
            phased.opened,
            factors,
            site_charger_limits(inputs.sites, scenario),
            scenario,
        )
        # The plan's last year: demand at its factor, chargers as installed by then.
        sites["demand_served"] = sites["demand_served"] * factors[-1]
        demand["weight"] = demand["weight"] * factors[-1]
        sites = size_sites(sites, scenario, installed=yearly.counts[-1])
    else:
        if inputs.trips is not None:
            # Long-distance drivers charge here too: their stops join the local sessions.
            sites["trip_sessions"] = charging_stops(
                inputs.trips.paths, solution.open_sites, scenario.model.range_km
            )
        sites = size_sites(sites, scenario, installed=solution.chargers)
    years = [phase.year for phase in scenario.constraints.phases]
    sites["opening_year"] = pd.array(
        [years[t] if t >= 0 else None for t in phased.opened]
        if phased is not None
        else [None] * len(sites),
        dtype="Int64",
    )
    if yearly is not None:
        # Which chargers go in when: a planner orders them year by year, not only at the end.
        # And whether each site's queue holds that year: the map's year filter rings those
        # that miss it then, not in the last year only.
        for t, phase in enumerate(scenario.constraints.phases):
            sites[phase.chargers_column] = yearly.counts[t]
            sites[phase.queue_column] = yearly.target_met[t]
    seconds = {**clock.seconds, "solve": solve_seconds, "total": clock.total()}
    report = build_report(
        scenario,
        sites,
        demand,
        solution,
        inputs=inputs.counts,
        seconds=seconds,
        opening_cost=opening_cost(sites, scenario),
        existing=inputs.existing,
        # The budget is in the report's costs, as the model counts it.
        side=site_constraints(sites, scenario, include_budget=False),
    )
    extras = model_of(scenario).report_extras
    if extras is not None:
        report.update(extras(solution))
    if phased is not None and yearly is not None:
        report["phases"] = phase_table(
            scenario, sites, demand, phased, yearly, opening_cost(sites, scenario)
        )
    table = inputs.existing.table if inputs.existing is not None else None
    return Plan(
        scenario=scenario,
        sites=sites,
        demand=demand,
        solution=solution,
        report=report,
        existing_chargers=table,
        trips=trip_table(inputs, solution, scenario) if inputs.trips is not None else None,
    )


#: The columns of ``sites.csv`` and ``sites.geojson``, in order.
WRITTEN_SITE_COLUMNS = [
    "site_id",
    "name",
    "brands",
    "country",
    "lon",
    "lat",
    "n_dealers",
    "dealer_ids",
    "fixed",
    "excluded",
    "chosen",
    "chargers",
    "chargers_required",
    "max_chargers_allowed",
    "demand_served",
    "peak_arrivals_per_hour",
    "wait_probability",
    "queue_target_met",
    "sessions_over_capacity",
    "site_cost_eur",
    "opening_year",
    "population_in_reach",
    "marginal_population",
    "marginal_demand",
]


#: The demand columns a run makes and the map reads (see :class:`Plan`).
DEMAND_COLUMNS = [
    "demand_id",
    "name",
    "country",
    "population",
    "sessions_per_day",
    "weight",
    "existing_in_reach",
    "covered",
    "served_share",
    "site_id",
    "lon",
    "lat",
]


def check_plan_tables(plan: Plan, argument: str = "plan") -> None:
    """Refuse a plan whose tables lost what its files and map are made of.

    A plan's tables are pandas frames, open to edits: columns may be added or
    values changed, but one dropped or renamed would fail deep in the writing.

    Raises
    ------
    InputError
        A table is not a GeoDataFrame or lacks columns, named with the table.
    """
    for table_name, columns in (
        ("sites", WRITTEN_SITE_COLUMNS),
        ("demand", DEMAND_COLUMNS),
    ):
        table = getattr(plan, table_name)
        where = f"{argument}.{table_name}"
        if not isinstance(table, gpd.GeoDataFrame) or table.geometry.name not in table:
            raise InputError(
                Problem(where, "is no longer a GeoDataFrame with its geometry, as the run made it")
            )
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise InputError(
                Problem(
                    where,
                    f"lacks the column(s) {', '.join(map(repr, missing))} a run makes, "
                    "which its files and map are written from; add columns freely, "
                    "but keep these",
                )
            )
        problems = _edited_values(table, where)
        if problems:
            raise InputError(problems)
        if table.crs is None:
            raise InputError(
                Problem(where, "has no CRS; the run's is EPSG:4326 (longitude, latitude)")
            )
    if not isinstance(plan.scenario, Scenario):
        raise InputError(
            Problem(
                f"{argument}.scenario",
                f"is {shown(plan.scenario)}, not the Scenario the plan was made with",
            )
        )
    if not isinstance(plan.report, dict):
        raise InputError(
            Problem(f"{argument}.report", f"is {shown(plan.report)}, not the dict the run made")
        )
    problems = report_problems(plan.report, f"{argument}.report", keys_needed=True)
    # Chosen sites or chargers edited in the table would be written beside a
    # report, a map summary and a comparison of the solve's own plan.
    problems += report_agreement(
        plan.report,
        plan.sites,
        f"{argument}.sites",
        named=f"{argument}.report",
        why=EDITED_CHOICE,
    )
    if problems:
        raise InputError(problems)


#: Why an edited choice of sites is refused, and what to do instead.
EDITED_CHOICE = (
    "a plan's report and map are of the sites its solve chose; to choose sites yourself, "
    "give the dealer file a fixed (or excluded) column and run again"
)


def _edited_values(table: pd.DataFrame, where: str) -> list[Problem]:
    """Values a plan's files and map cannot hold: flags not true/false, coordinates off the globe.

    The same values read back from ``sites.csv`` are refused by ``compare``;
    here they are named before anything is written.
    """
    problems = []
    for column, bound in (("lon", 180.0), ("lat", 90.0)):
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~(np.abs(values) <= bound))
        if bad.size:
            problems.append(
                Problem(
                    where,
                    f"{bad.size:,} row(s) with no {column} within ±{bound:g} "
                    # The table's own index label, not a file's 1-based row.
                    f"(first: index {table.index[bad[0]]!r})",
                    field=column,
                )
            )
    for column in (c for c in ("chosen", "covered") if c in table):
        flag = pd.Series(table[column])
        if not pd.api.types.is_bool_dtype(flag) or bool(flag.isna().any()):
            problems.append(
                Problem(
                    where,
                    f"holds {flag.dtype} values, not only True and False",
                    field=column,
                )
            )
    if "chargers" in table:
        chargers = pd.to_numeric(table["chargers"], errors="coerce")
        bad_count = ~((chargers >= 0) & (chargers == chargers.round()))
        if bad_count.any():
            problems.append(
                Problem(
                    where, "holds values that are no whole number of 0 or more", field="chargers"
                )
            )
    return problems


def site_table(plan: Plan) -> gpd.GeoDataFrame:
    """The sites as written to ``sites.csv`` / ``sites.geojson``: stable columns, rounded."""
    # A flow plan's sites also take long-distance drivers' stops, beside local demand.
    trips = ["trip_sessions"] if "trip_sessions" in plan.sites else []
    columns = list(WRITTEN_SITE_COLUMNS)
    if trips:
        columns.insert(columns.index("demand_served") + 1, "trip_sessions")
    phases = plan.scenario.constraints.phases
    yearly = [
        column
        for column in [phase.chargers_column for phase in phases]
        + [phase.queue_column for phase in phases]
        if column in plan.sites
    ]
    at = columns.index("opening_year") + 1
    columns[at:at] = yearly
    table = plan.sites[[*columns, "geometry"]].copy()
    if table.crs is not None and table.crs.to_epsg() != 4326:
        # GeoJSON is longitude and latitude (RFC 7946): a table reprojected in a
        # notebook is written back in degrees, as its lon/lat columns are.
        table = table.to_crs(4326)
    # Rounded so that reruns write byte-identical files: 1e-6 degrees is 0.1 m.
    for column in (
        "lon",
        "lat",
        "demand_served",
        "peak_arrivals_per_hour",
        "wait_probability",
        "sessions_over_capacity",
        "population_in_reach",
        "marginal_population",
        "marginal_demand",
        *trips,
    ):
        table[column] = table[column].round(6)
    return table


def default_output_folder(scenario: Scenario, *, suffix: str = "") -> Path:
    """Where a scenario's outputs go without ``--out``: ``maps/<name><suffix>``.

    Under the working folder, or the scenario's ``output.dir`` (plus
    ``suffix``) when it names one.

    Raises
    ------
    InputError
        ``output.dir`` lies outside the working folder: writing there (and
        replacing what is there) needs an explicit ``--out``.
    """
    if scenario.output.dir is None:
        return Path.cwd() / "maps" / f"{scenario.name}{suffix}"
    folder = scenario.output.dir.resolve()
    if not folder.is_relative_to(Path.cwd().resolve()):
        raise InputError(
            Problem(
                "scenario",
                f"output folder {folder} is outside the working folder; "
                "give it explicitly with --out to write there",
                field="output.dir",
            )
        )
    return folder.with_name(f"{folder.name}{suffix}")


def write_tables(plan: Plan, folder: Path, *, stages: dict[str, float] | None = None) -> None:
    """Write ``sites.csv``, ``sites.geojson``, ``report.json``, ``scenario.toml``, ``trips.csv``.

    ``stages`` (rendering the map, say) are added to the report's times and total.
    """
    table = site_table(plan)
    # Names from dealer files may start like formulas: written as text for spreadsheets.
    write_csv(table.drop(columns="geometry"), folder / "sites.csv")
    # Both JSON files are strict JSON: NaN and Infinity are written as null
    # (report.strict_json), never as the bare tokens strict parsers refuse.
    (folder / "sites.geojson").write_text(
        strict_json(table.to_geo_dict(drop_id=True)), encoding="utf-8"
    )
    report = {**plan.report, **with_seconds(plan.report, stages)} if stages else plan.report
    (folder / "report.json").write_text(
        strict_json(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / "scenario.toml").write_text(scenario_to_toml(plan.scenario), encoding="utf-8")
    if plan.trips is not None:
        write_csv(plan.trips.drop(columns=["path_lon", "path_lat"]), folder / "trips.csv")


def write_plan(
    plan: Plan,
    out_dir: str | os.PathLike[str],
    *,
    on_stage: StageCallback | None = None,
    extra: Callable[[Path], None] | None = None,
    map_assets: MapAssets = "inline",
) -> Path:
    """Write map, tables, report and resolved scenario into ``out_dir``, all or nothing.

    ``extra`` writes further files (a frontier, say) into the same folder
    before the map is rendered, so the map can show them: a ``frontier.png``
    is embedded in the map. ``map_assets`` is ``"inline"`` (a map that needs
    no network) or ``"cdn"`` (Leaflet linked from public CDNs). The report is
    written last, with the map's rendering time in its stage times and total.
    """
    # Checked before anything is written: a notebook may pass anything.
    out_dir = path_argument(out_dir, "folder")
    on_stage = callback(on_stage, "on_stage")
    check_plan_tables(plan)
    map_assets = checked_assets(map_assets, "map_assets")

    def write(folder: Path) -> None:
        stages: dict[str, float] = {}
        if extra is not None:
            extra(folder)
        if plan.scenario.output.map:
            if on_stage is not None:
                on_stage("rendering map")
            started = time.perf_counter()
            # Every European outline, not only the plan's countries: neighbours
            # give the reader their bearings.
            frontier = folder / "frontier.png"
            write_map(
                plan,
                folder / "map.html",
                outlines=country_outlines(),
                assets=map_assets,
                frontier_png=frontier.read_bytes() if frontier.exists() else None,
            )
            stages["rendering map"] = time.perf_counter() - started
        if on_stage is not None:
            # Else the tables' seconds (3 s for 76,000 sites) show as the map's.
            on_stage("writing tables")
        write_tables(plan, folder, stages=stages)

    return publish_folder(out_dir, write, kind="plan")
