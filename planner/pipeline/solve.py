"""From a scenario and its inputs to the optimiser's answer.

The adapter between the scenario (brands, countries, euros, sessions per
day) and the models of :mod:`planner.optimise` (arrays and sparse matrices):
it builds the side-constraint rows, the sites' costs and charger limits and
the peak-hour demand, and calls the model the scenario names with them.
Every single-year model gets the side constraints; a scenario with phases is
solved as one nested plan (:func:`solve_phases`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from planner.errors import InfeasibleError, InputError, Problem
from planner.optimise import (
    Solution,
    SolverSettings,
    evaluate,
    max_coverage,
    p_median,
    set_cover,
)
from planner.optimise.coverage.phased import PhasedSolution, YearLimit, phased_coverage
from planner.optimise.flow import LocalDemand, flow_refuelling
from planner.optimise.sizing.model import SizingSolution, sizing
from planner.optimise.sizing.queueing import capacity_line, peak_hour_arrivals
from planner.pipeline.chargers import site_charger_limits, site_costs
from planner.pipeline.constraints import opening_cost, site_constraints
from planner.pipeline.load import PlanInputs
from planner.scenario.schema import Scenario

__all__ = [
    "solve_flow_refuelling",
    "solve_max_coverage",
    "solve_p_median",
    "solve_phases",
    "solve_set_cover",
    "solve_sizing",
    "solver_settings",
]


def solver_settings(scenario: Scenario) -> SolverSettings:
    """The scenario's solver section as the optimiser's settings."""
    return SolverSettings(
        time_limit_s=scenario.solver.time_limit_s,
        relative_gap=scenario.solver.relative_gap,
        threads=scenario.solver.threads,
        seed=scenario.solver.seed,
    )


def _site_flags(inputs: PlanInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand weights and the fixed and excluded flags of the sites, as arrays."""
    return (
        inputs.demand["weight"].to_numpy(dtype=np.float64),
        inputs.sites["fixed"].to_numpy(dtype=bool),
        inputs.sites["excluded"].to_numpy(dtype=bool),
    )


def solve_max_coverage(scenario: Scenario, inputs: PlanInputs) -> Solution:
    """Maximal covering with the side constraints.

    With a budget but no ``model.p`` the budget alone limits the sites (see
    :meth:`planner.scenario.Scenario.sites_limit`).
    """
    weights, fixed, excluded = _site_flags(inputs)
    limit = scenario.sites_limit()
    return max_coverage(
        inputs.reach,
        weights,
        len(inputs.sites) if limit is None else limit,
        fixed=fixed,
        excluded=excluded,
        constraints=site_constraints(inputs.sites, scenario),
        settings=solver_settings(scenario),
    )


def solve_set_cover(scenario: Scenario, inputs: PlanInputs) -> Solution:
    """Set cover (or partial cover at ``model.coverage_target``) with the side constraints."""
    weights, fixed, excluded = _site_flags(inputs)
    return set_cover(
        inputs.reach,
        weights=weights,
        coverage=scenario.model.coverage_target,
        fixed=fixed,
        excluded=excluded,
        constraints=site_constraints(inputs.sites, scenario),
        settings=solver_settings(scenario),
    )


def solve_flow_refuelling(scenario: Scenario, inputs: PlanInputs) -> Solution:
    """Flow refuelling of the scenario's trips at ``model.range_km`` with the side constraints.

    With a budget but no ``model.p`` the budget alone limits the sites.
    """
    if inputs.trips is None:
        raise ValueError("flow_refuelling needs the scenario's trips (load_inputs loads them)")
    weights, fixed, excluded = _site_flags(inputs)
    limit = scenario.sites_limit()
    trip_weight = scenario.model.trip_weight
    local = None if trip_weight >= 1 else LocalDemand(inputs.reach, weights, trip_weight)
    solution = flow_refuelling(
        inputs.trips.paths,
        scenario.model.range_km,
        len(inputs.sites) if limit is None else limit,
        fixed=fixed,
        excluded=excluded,
        constraints=site_constraints(inputs.sites, scenario),
        settings=solver_settings(scenario),
        local=local,
    )
    solution.details["range_km"] = scenario.model.range_km
    # The plan's tables and map show local demand too: each place's nearest
    # open site within reach, as for the coverage models.
    nearest, _ = evaluate.nearest_open(inputs.reach, solution.open_sites)
    return replace(solution, assignment=nearest)


def solve_p_median(scenario: Scenario, inputs: PlanInputs) -> Solution:
    """p-median with the side constraints."""
    weights, fixed, excluded = _site_flags(inputs)
    limit = scenario.sites_limit()
    assert limit is not None  # p_median always has a number of sites
    return p_median(
        inputs.reach,
        weights,
        limit,
        fixed=fixed,
        excluded=excluded,
        constraints=site_constraints(inputs.sites, scenario),
        settings=solver_settings(scenario),
    )


def sizing_capacity(scenario: Scenario, limits: np.ndarray) -> tuple[float, float]:
    """Linear capacity of a site for the sizing model: μ per charger and a (≤ 0) per site.

    The secant of the Erlang-C capacity through the site's least two counts
    (:func:`planner.optimise.sizing.queueing.capacity_line`): exact for sites of
    ``chargers.min_per_site`` and one more charger, and on the safe side for
    larger sites, so every site the model sizes meets the queueing target.
    """
    config = scenario.chargers
    finite = limits[np.isfinite(limits)]
    most = int(min(finite.max(), 10_000)) if finite.size else config.max_per_site
    return capacity_line(
        config.session_minutes,
        max_wait_probability=config.max_wait_probability,
        least_chargers=config.min_per_site,
        most_chargers=max(most, config.min_per_site + 1),
    )


def solve_sizing(scenario: Scenario, inputs: PlanInputs) -> Solution:
    """The sizing model on the scenario: sites and chargers of least cost.

    Demand enters as peak-hour arrivals (sessions/day × peak-hour share); the
    penalty per session/day left unserved becomes a penalty per arrival/hour
    by dividing by that share. The budget counts sites and the chargers the
    model installs. The answer carries the charger counts and the served
    shares (``Solution.chargers``, ``Solution.allocation``).
    """
    config = scenario.chargers
    weights = inputs.demand["weight"].to_numpy(dtype=np.float64)
    arrivals = peak_hour_arrivals(weights, peak_hour_share=config.peak_hour_share)
    penalty = scenario.model.unserved_penalty_eur
    if scenario.model.coverage_target == 0 and penalty is None:
        raise InputError(
            Problem(
                "scenario",
                "sizing with coverage_target = 0 needs unserved_penalty_eur, else nothing "
                "is worth serving",
                field="model.coverage_target",
            )
        )
    limits = site_charger_limits(inputs.sites, scenario).astype(np.float64)
    per_charger, per_site = sizing_capacity(scenario, limits)
    try:
        answer = _sizing(scenario, inputs, arrivals, limits, per_charger, per_site, penalty)
    except InfeasibleError as exc:
        raise InfeasibleError(str(exc) + _sizing_remedy(scenario, exc)) from None
    return replace(answer.solution, chargers=answer.chargers, allocation=answer.served)


def _sizing_remedy(scenario: Scenario, exc: InfeasibleError) -> str:
    """What to change in the scenario so that sizing can find a plan, as a closing clause."""
    target = scenario.model.coverage_target
    coverage = exc.remedy.get("coverage_at_most")
    if coverage is not None and coverage <= 0:
        return ". Let sites take chargers (chargers.max_per_site and the sites' grid_kw)"
    if coverage is not None:
        return (
            f". Either lower model.coverage_target (now {target:g}) to {coverage:g} or below "
            "(no higher target can work), or let sites take more chargers "
            f"(chargers.max_per_site, now {scenario.chargers.max_per_site}, and the sites' "
            "grid_kw)"
        )
    if exc.remedy.get("caps_short"):
        return (
            f". To make it feasible, raise those caps or lower model.coverage_target "
            f"(now {target:g}); more chargers a site would not help"
        )
    budget = exc.remedy.get("budget")
    if budget is not None:
        return (
            f". To make it feasible, raise constraints.budget_eur to {budget:,.0f} or lower "
            f"model.coverage_target (now {target:g})"
        )
    if "side constraints" in str(exc):
        return (
            ". To make it feasible, loosen one of those constraints, lower "
            f"model.coverage_target (now {target:g}) or let sites take more chargers "
            f"(chargers.max_per_site, now {scenario.chargers.max_per_site})"
        )
    return ""


def _sizing(
    scenario: Scenario,
    inputs: PlanInputs,
    arrivals: np.ndarray,
    limits: np.ndarray,
    per_charger: float,
    per_site: float,
    penalty: float | None,
) -> SizingSolution:
    config = scenario.chargers
    return sizing(
        inputs.reach,
        arrivals,
        site_cost=site_costs(inputs.sites, scenario),
        charger_cost=config.charger_cost_eur,
        capacity_per_charger=per_charger,
        capacity_intercept=per_site,
        max_chargers=limits,
        coverage=scenario.model.coverage_target,
        unserved_penalty=None if penalty is None else penalty / config.peak_hour_share,
        min_chargers=config.min_per_site,
        fixed=inputs.sites["fixed"].to_numpy(dtype=bool),
        excluded=inputs.sites["excluded"].to_numpy(dtype=bool),
        constraints=site_constraints(inputs.sites, scenario, include_budget=False),
        budget=scenario.constraints.budget_eur,
        settings=solver_settings(scenario),
    )


def year_limits(scenario: Scenario) -> list[YearLimit]:
    """The scenario's phases as the optimiser's yearly limits."""
    return [
        YearLimit(p=phase.p, budget=phase.budget_eur, demand_factor=phase.demand_factor)
        for phase in scenario.constraints.phases
    ]


def solve_phases(scenario: Scenario, inputs: PlanInputs) -> PhasedSolution:
    """Solve the phased roll-out: one nested plan over the scenario's years."""
    return phased_coverage(
        inputs.reach,
        inputs.demand["weight"].to_numpy(dtype=np.float64),
        year_limits(scenario),
        site_costs=opening_cost(inputs.sites, scenario),
        fixed=inputs.sites["fixed"].to_numpy(dtype=bool),
        excluded=inputs.sites["excluded"].to_numpy(dtype=bool),
        constraints=site_constraints(inputs.sites, scenario),
        settings=solver_settings(scenario),
        year_names=[str(phase.year) for phase in scenario.constraints.phases],
    )
