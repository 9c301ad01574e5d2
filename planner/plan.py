"""Run one scenario end to end and return a :class:`Plan`.

The stages, each a plain value handed to the next::

    dealers ──> sites ─┐
    demand points ─────┴─> reach (sparse) ─> model ─> sized sites ─> Plan

:func:`run_scenario` does the work and returns a frozen :class:`Plan`;
:func:`write_plan` writes it, all or nothing, into an output folder.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from planner.demand import load_demand
from planner.errors import InputError, Problem
from planner.optimise import Solution, SolverSettings, max_coverage, p_median, set_cover
from planner.optimise.phased import PhasedSolution, YearLimit, phased_coverage
from planner.output import publish_folder
from planner.report import build_report
from planner.scenario import Scenario, scenario_to_toml
from planner.side_constraints import opening_cost, site_constraints
from planner.sites import SiteLoad, load_sites
from planner.sizing import chargers_needed, chargers_within_grid, peak_hour_arrivals
from planner.travel import reach_matrix

if TYPE_CHECKING:
    from planner._map_assets import MapAssets

logger = logging.getLogger(__name__)

#: Called with the name of each stage as it starts.
StageCallback = Callable[[str], None]


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
        and ``marginal_demand`` (population and sessions/day only this chosen
        site covers; 0 when not chosen).
    demand
        Every demand point (EPSG:4326) with ``demand_id``, ``name``, ``country``,
        ``population``, ``weight``, ``covered`` (bool), ``site_id`` (serving
        site or ``""``), ``lon``, ``lat``.
    solution
        The optimiser's answer.
    report
        The content of ``report.json``.
    existing_chargers
        Existing high-power chargers, one row per station (``lon``, ``lat``
        and, as :func:`planner.chargers.load_chargers` gives them,
        ``charger_id`` or ``id``, ``operator``, ``name``, ``power_kw``,
        ``points``), drawn on the map when present; ``None`` when there are none.
    """

    scenario: Scenario
    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    solution: Solution
    report: dict[str, Any]
    existing_chargers: pd.DataFrame | None = None


class _Clock:
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

    def total(self) -> float:
        return time.perf_counter() - self._start


def solver_settings(scenario: Scenario) -> SolverSettings:
    """The scenario's solver section as the optimiser's settings."""
    return SolverSettings(
        time_limit_s=scenario.solver.time_limit_s,
        relative_gap=scenario.solver.relative_gap,
        threads=scenario.solver.threads,
        seed=scenario.solver.seed,
    )


def solve_model(scenario: Scenario, inputs: PlanInputs) -> Solution:
    """Solve the scenario's (single-year) model on the shared inputs."""
    config = scenario.model
    settings = solver_settings(scenario)
    reach = inputs.reach
    weights = inputs.demand["weight"].to_numpy(dtype=np.float64)
    fixed = inputs.sites["fixed"].to_numpy(dtype=bool)
    excluded = inputs.sites["excluded"].to_numpy(dtype=bool)
    if config.name == "max_coverage":
        return max_coverage(
            reach, weights, config.p, fixed=fixed, excluded=excluded, settings=settings
        )
    if config.name == "set_cover":
        return set_cover(
            reach,
            weights=weights,
            coverage=config.coverage_target,
            fixed=fixed,
            excluded=excluded,
            settings=settings,
        )
    return p_median(reach, weights, config.p, fixed=fixed, excluded=excluded, settings=settings)


def solve_phases(scenario: Scenario, inputs: PlanInputs) -> PhasedSolution:
    """Solve the phased roll-out: one nested plan over the scenario's years."""
    if scenario.model.name != "max_coverage":
        raise InputError(
            Problem(
                "scenario",
                f"a phased roll-out is solved with max_coverage, not {scenario.model.name}",
                field="constraints.phases",
            )
        )
    years = [
        YearLimit(p=phase.p, budget=phase.budget_eur, demand_factor=phase.demand_factor)
        for phase in scenario.constraints.phases
    ]
    return phased_coverage(
        inputs.reach,
        inputs.demand["weight"].to_numpy(dtype=np.float64),
        years,
        site_costs=opening_cost(inputs.sites, scenario),
        fixed=inputs.sites["fixed"].to_numpy(dtype=bool),
        excluded=inputs.sites["excluded"].to_numpy(dtype=bool),
        constraints=site_constraints(inputs.sites, scenario),
        settings=solver_settings(scenario),
    )


def phase_table(
    scenario: Scenario, inputs: PlanInputs, phased: PhasedSolution
) -> list[dict[str, Any]]:
    """Per year: sites open, sites opened that year, covered demand and coverage."""
    total = float(inputs.demand["weight"].sum())
    rows = []
    for t, phase in enumerate(scenario.constraints.phases):
        covered = float(phased.covered[t])
        rows.append(
            {
                "year": phase.year,
                "sites_open": len(phased.open_in_year(t)),
                "sites_opened": int(np.sum(phased.opened == t)),
                "demand_factor": phase.demand_factor,
                "demand_covered": round(covered * phase.demand_factor, 6),
                "coverage_pct": round(100.0 * covered / total, 4) if total > 0 else 0.0,
            }
        )
    return rows


def coverage_tables(
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    reach: sp.csr_matrix,
    solution: Solution,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Add the chosen/covered flags and per-site figures to copies of the tables."""
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
    served = np.zeros(n_sites)
    assigned = assignment >= 0
    np.add.at(served, assignment[assigned], weights[assigned])
    site_ids = sites["site_id"].to_numpy(dtype=object)

    demand = demand.copy()
    demand["covered"] = covered
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


def site_charger_limits(sites: gpd.GeoDataFrame, scenario: Scenario) -> npt.NDArray[np.int64]:
    """Most chargers per site: the file's ``max_chargers`` (else the scenario's), within grid."""
    config = scenario.chargers
    per_site = sites["max_chargers"].to_numpy(dtype=np.float64)
    per_site = np.where(np.isnan(per_site), config.max_per_site, np.floor(per_site))
    return chargers_within_grid(
        sites["grid_kw"].to_numpy(dtype=np.float64),
        charger_power_kw=config.power_kw,
        max_chargers=per_site.astype(np.int64),
    )


def size_sites(sites: gpd.GeoDataFrame, scenario: Scenario) -> gpd.GeoDataFrame:
    """Chargers per chosen site from the sessions it serves (Erlang C at the peak hour)."""
    config = scenario.chargers
    chosen = sites["chosen"].to_numpy(dtype=bool)
    arrivals = peak_hour_arrivals(
        sites["demand_served"].to_numpy(dtype=np.float64), peak_hour_share=config.peak_hour_share
    )
    sizing = chargers_needed(
        arrivals,
        config.session_minutes,
        max_wait_probability=config.max_wait_probability,
        max_chargers=site_charger_limits(sites, scenario),
        min_chargers=config.min_per_site,
    )
    limits = site_charger_limits(sites, scenario)
    sites = sites.copy()
    sites["max_chargers_allowed"] = limits
    costs = sites["site_cost_eur"].to_numpy(dtype=np.float64)
    sites["site_cost_eur"] = np.where(np.isnan(costs), config.site_cost_eur, costs)
    sites["peak_arrivals_per_hour"] = np.where(chosen, arrivals, 0.0)
    sites["chargers"] = np.where(chosen, sizing.chargers, 0)
    sites["wait_probability"] = np.where(chosen, sizing.wait_probability, np.nan)
    sites["queue_target_met"] = np.where(chosen, sizing.target_met, False)
    return sites


@dataclass(frozen=True)
class PlanInputs:
    """What every solve of a scenario shares: sites, demand points and reach.

    Attributes
    ----------
    sites
        Candidate sites (see :class:`planner.sites.SiteLoad`), index 0..n-1.
    demand
        Demand points (see :func:`planner.demand.load_demand`), index 0..m-1.
    reach
        Travel cost of every (demand, site) pair within reach, CSR.
    counts
        Rows read, dropped and merged per input, for ``report.json``.
    """

    sites: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    reach: sp.csr_matrix
    counts: dict[str, Any]


def load_inputs(scenario: Scenario, *, clock: _Clock | None = None) -> PlanInputs:
    """Read dealers and demand and compute reach, once for any number of solves."""
    clock = clock or _Clock(None)
    with clock.stage("reading dealers"):
        site_load: SiteLoad = load_sites(
            scenario.dealers, countries=list(scenario.demand.countries)
        )
        sites = site_load.sites.reset_index(drop=True)
    with clock.stage("reading demand"):
        demand = load_demand(scenario.demand)
        demand_counts = dict(demand.attrs.get("counts", {}))
        demand = demand.reset_index(drop=True)
    with clock.stage("computing reach"):
        reach = reach_matrix(
            demand["lon"],
            demand["lat"],
            sites["lon"],
            sites["lat"],
            radius_km=scenario.travel.radius_km,
            circuity=scenario.travel.circuity,
        )
    counts = {
        "dealers": site_load.counts,
        "demand": demand_counts,
        "reach_pairs": int(reach.nnz),
        "warnings": [str(w) for w in site_load.warnings],
    }
    return PlanInputs(sites=sites, demand=demand, reach=reach, counts=counts)


def run_scenario(scenario: Scenario, *, on_stage: StageCallback | None = None) -> Plan:
    """Run a scenario end to end.

    Parameters
    ----------
    scenario
        A resolved scenario (see :func:`planner.scenario.load_scenario`).
    on_stage
        Called with a short description as each stage starts (progress display).

    Raises
    ------
    planner.errors.InputError
        Bad input files or scenario fields (every problem listed).
    planner.errors.InfeasibleError
        The constraints cannot all hold.
    planner.errors.SolverError
        The solver failed.
    """
    clock = _Clock(on_stage)
    inputs = load_inputs(scenario, clock=clock)
    if scenario.constraints.phases:
        stage = f"solving {len(scenario.constraints.phases)}-year roll-out"
        with clock.stage(stage):
            phased = solve_phases(scenario, inputs)
        return assemble_plan(
            scenario,
            inputs,
            phased.solution,
            clock=clock,
            solve_seconds=clock.seconds[stage],
            phased=phased,
        )
    stage = f"solving {scenario.model.name}"
    with clock.stage(stage):
        solution = solve_model(scenario, inputs)
    return assemble_plan(
        scenario, inputs, solution, clock=clock, solve_seconds=clock.seconds[stage]
    )


def assemble_plan(
    scenario: Scenario,
    inputs: PlanInputs,
    solution: Solution,
    *,
    clock: _Clock,
    solve_seconds: float,
    phased: PhasedSolution | None = None,
) -> Plan:
    """Turn a solution into a :class:`Plan`: coverage flags, sized sites, report."""
    sites, demand = coverage_tables(inputs.sites, inputs.demand, inputs.reach, solution)
    sites = size_sites(sites, scenario)
    years = [phase.year for phase in scenario.constraints.phases]
    sites["opening_year"] = (
        [years[t] if t >= 0 else None for t in phased.opened] if phased is not None else None
    )
    seconds = {**clock.seconds, "solve": solve_seconds, "total": clock.total()}
    report = build_report(scenario, sites, demand, solution, inputs=inputs.counts, seconds=seconds)
    if phased is not None:
        report["phases"] = phase_table(scenario, inputs, phased)
    return Plan(scenario=scenario, sites=sites, demand=demand, solution=solution, report=report)


SITE_COLUMNS = [
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
    "max_chargers_allowed",
    "demand_served",
    "peak_arrivals_per_hour",
    "wait_probability",
    "queue_target_met",
    "site_cost_eur",
    "opening_year",
    "population_in_reach",
    "marginal_population",
    "marginal_demand",
]


def site_table(plan: Plan) -> gpd.GeoDataFrame:
    """The sites as written to ``sites.csv`` / ``sites.geojson``: stable columns, rounded."""
    table = plan.sites[[*SITE_COLUMNS, "geometry"]].copy()
    # Rounded so that reruns write byte-identical files: 1e-6 degrees is 0.1 m.
    for column in (
        "lon",
        "lat",
        "demand_served",
        "peak_arrivals_per_hour",
        "wait_probability",
        "population_in_reach",
        "marginal_population",
        "marginal_demand",
    ):
        table[column] = table[column].round(6)
    return table


def write_plan(
    plan: Plan,
    out_dir: Path,
    *,
    on_stage: StageCallback | None = None,
    extra: Callable[[Path], None] | None = None,
    map_assets: MapAssets = "inline",
) -> Path:
    """Write map, tables, report and resolved scenario into ``out_dir``, all or nothing.

    ``extra`` writes further files (a frontier, say) into the same folder
    before the map is rendered, so the map can show them: a ``frontier.png``
    is embedded in the map. ``map_assets`` is ``"inline"`` (a map that needs
    no network) or ``"cdn"`` (Leaflet linked from public CDNs).
    """
    from planner.countries import country_outlines
    from planner.maps import write_map

    def write(folder: Path) -> None:
        table = site_table(plan)
        table.drop(columns="geometry").to_csv(folder / "sites.csv", index=False)
        (folder / "sites.geojson").write_text(table.to_json(drop_id=True), encoding="utf-8")
        (folder / "report.json").write_text(
            json.dumps(plan.report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (folder / "scenario.toml").write_text(scenario_to_toml(plan.scenario), encoding="utf-8")
        if extra is not None:
            extra(folder)
        if plan.scenario.output.map:
            if on_stage is not None:
                on_stage("rendering map")
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

    return publish_folder(out_dir, write)
