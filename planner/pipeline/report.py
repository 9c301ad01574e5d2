"""Key figures of a plan: the content of ``report.json`` and the site tables.

Everything here is recomputed from the plan's tables (chosen flags, coverage
flags, weights), never copied from the solver, so ``report.json`` always
agrees with ``sites.csv``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.optimise import Solution
from planner.scenario.schema import Scenario

if TYPE_CHECKING:
    from planner.optimise.constraints import SiteRows
    from planner.optimise.coverage.phased import PhasedSolution
    from planner.pipeline.chargers import YearlyChargers
    from planner.pipeline.existing import ExistingLayer


def _round(value: float, digits: int = 6) -> float | None:
    """JSON-safe float: None for NaN/inf, rounded so reruns print identically."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, inf, -inf) turned into ``None``.

    ``report.json`` and ``sites.geojson`` are strict JSON (RFC 8259), which has
    no NaN or Infinity: Python's ``json`` would write them as bare ``NaN`` and
    ``Infinity`` tokens that strict parsers (browsers' ``JSON.parse``, jq, other
    languages) refuse. A missing or unbounded figure is ``null`` instead.
    Numpy scalars become Python numbers; dicts, lists and tuples are walked.
    """
    if isinstance(value, Mapping):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return value


def strict_json(value: Any, **kwargs: Any) -> str:
    """``value`` as strict JSON text: non-finite floats as ``null`` (:func:`json_safe`).

    ``allow_nan=False`` makes any NaN or Infinity left over an error instead
    of an invalid file.
    """
    return json.dumps(json_safe(value), allow_nan=False, **kwargs)


def sizing_report(solution: Solution) -> dict[str, Any]:
    """The sizing model's cost split and coverage, under ``report.json``'s ``sizing``."""
    keys = ("site_cost", "charger_cost", "penalty_cost", "coverage_of_reachable")
    details = solution.details
    return {"sizing": {key: _round(details[key]) for key in keys if key in details}}


def trips_report(solution: Solution) -> dict[str, Any]:
    """The flow model's trips: flow served and in total (round trips/day), under ``trips``."""
    details = solution.details
    served, total = details.get("served_flow", 0.0), details.get("total_flow", 0.0)
    return {
        "trips": {
            "range_km": details.get("range_km"),
            "served_per_day": _round(served),
            "total_per_day": _round(total),
            "served_pct": _round(_pct(served, total)),
            "trips_in_model": int(details.get("trips_in_model", 0)),
            "trips_unservable": int(details.get("trips_unservable", 0)),
            "trip_weight": details.get("trip_weight", 1.0),
            **(
                {"local_covered_pct": _round(100 * details["local_share"])}
                if "local_share" in details
                else {}
            ),
        }
    }


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole > 0 else 0.0


def _served(demand: pd.DataFrame) -> pd.Series:
    """Weight served at each demand point: its weight × served share (covered: 1/0)."""
    share = demand["served_share"] if "served_share" in demand else demand["covered"]
    return demand["weight"] * share.astype(float)


def coverage_by_country(sites: pd.DataFrame, demand: pd.DataFrame) -> list[dict[str, Any]]:
    """Per country: chosen sites and chargers, demand, covered (served) demand and coverage %."""
    chosen = sites[sites["chosen"]]
    site_counts = chosen.groupby("country").size()
    charger_counts = chosen.groupby("country")["chargers"].sum()
    weight = demand.groupby("country")["weight"].sum()
    covered = _served(demand).groupby(demand["country"]).sum()
    countries = sorted(set(weight.index) | set(site_counts.index))
    rows = []
    for country in countries:
        total = float(weight.get(country, 0.0))
        cov = float(covered.get(country, 0.0))
        rows.append(
            {
                "country": country,
                "sites": int(site_counts.get(country, 0)),
                "chargers": int(charger_counts.get(country, 0)),
                "demand": _round(total),
                "covered": _round(cov),
                "coverage_pct": _round(_pct(cov, total), 4),
            }
        )
    return rows


def sites_by_brand(sites: pd.DataFrame) -> list[dict[str, Any]]:
    """Per brand: candidate sites, chosen sites and chargers at sites carrying that brand.

    A dual-brand site counts for both brands, so shares may add up to more than 100 %.
    """
    brands = sites["brands"].str.split(";").explode()
    chosen = sites["chosen"].reindex(brands.index)
    chargers = sites["chargers"].reindex(brands.index)
    n_chosen = int(sites["chosen"].sum())
    rows = []
    for brand in sorted(brands.unique()):
        mask = brands == brand
        n_sites = int((mask & chosen).sum())
        rows.append(
            {
                "brand": brand,
                "candidates": int(mask.sum()),
                "sites": n_sites,
                "chargers": int(chargers[mask & chosen].sum()),
                "share_of_sites_pct": _round(_pct(n_sites, n_chosen), 4),
            }
        )
    return rows


def side_constraints_met(rows: SiteRows, chosen: npt.NDArray[np.bool_]) -> list[dict[str, Any]]:
    """Each side constraint, whether the plan meets it, and whether it is at its limit.

    The constraints are the brand shares, country bounds and corridors. At its
    limit (:meth:`SiteRows.at_limit`), one site fewer or more would break it:
    those are the rows that may shape the plan.

    Met within the tolerance the models check plans with. The figures behind a
    brand share or a country bound are in ``by_brand`` and ``by_country``.
    """
    open_sites = np.flatnonzero(chosen)
    missed = rows.violated(open_sites)
    limit = rows.at_limit(open_sites)
    return [
        {"constraint": name, "met": not bool(bad), "at_limit": bool(tight)}
        for name, bad, tight in zip(rows.names, missed, limit, strict=True)
    ]


def build_report(
    scenario: Scenario,
    sites: pd.DataFrame,
    demand: pd.DataFrame,
    solution: Solution,
    *,
    inputs: Mapping[str, Any],
    seconds: Mapping[str, float],
    opening_cost: npt.NDArray[np.float64] | None = None,
    existing: ExistingLayer | None = None,
    side: SiteRows | None = None,
) -> dict[str, Any]:
    """The ``report.json`` dictionary.

    Parameters
    ----------
    sites, demand
        The plan's tables (see :class:`planner.pipeline.plan.Plan` for their columns).
    inputs
        Counts of rows read, dropped (by reason) and merged, per input.
    seconds
        Wall-clock seconds per stage; must contain ``"solve"`` and ``"total"``.
    opening_cost
        Each site's cost as budgets count it (site + least chargers), to show
        beside the real spend.
    existing
        The existing high-power network, for the demand it already reaches.
    side
        The scenario's side constraints over the sites, for whether the plan
        meets each (``constraints``; absent without any).
    """
    chosen = sites["chosen"].to_numpy(dtype=bool)
    demand_total = float(demand["weight"].sum())
    demand_covered = float(_served(demand).sum())
    population_total = float(demand["population"].sum())
    covered_flags = demand["covered"].to_numpy(dtype=bool)
    population_covered = float(demand.loc[covered_flags, "population"].sum())
    chargers_total = int(sites.loc[chosen, "chargers"].sum())
    site_cost = float(sites.loc[chosen, "site_cost_eur"].sum()) if "site_cost_eur" in sites else 0.0
    charger_cost = chargers_total * scenario.chargers.charger_cost_eur
    phases = scenario.constraints.phases
    used_p = phases[-1].p if phases else scenario.sites_limit()
    cost = {
        "sites": _round(site_cost, 2),
        "chargers": _round(charger_cost, 2),
        "total": _round(site_cost + charger_cost, 2),
        "budget": scenario.constraints.budget_eur,
        "opening_cost_counted": None
        if opening_cost is None
        else _round(float(np.asarray(opening_cost)[chosen].sum()), 2),
    }
    report: dict[str, Any] = {
        "scenario": scenario.name,
        "title": scenario.title,
        "model": solution.model,
        "status": str(solution.status),
        "objective": _round(solution.objective),
        "bound": _round(solution.bound),
        "gap": _round(solution.gap, 9),
        "solve_seconds": _round(seconds["solve"], 3),
        "total_seconds": _round(seconds["total"], 3),
        "seconds_by_stage": {k: _round(v, 3) for k, v in seconds.items()},
        # Great-circle reach only: on roads they were printed though unused.
        "radius_km": scenario.travel.radius_km if scenario.travel.mode != "road" else None,
        "circuity": scenario.travel.circuity if scenario.travel.mode != "road" else None,
        "travel": dict(inputs.get("travel") or {"mode": scenario.travel.mode}),
        "p": used_p,
        "sites_candidates": len(sites),
        "sites_selected": int(chosen.sum()),
        "chargers_total": chargers_total,
        "chargers_required_total": int(sites.loc[chosen, "chargers_required"].sum())
        if "chargers_required" in sites
        else chargers_total,
        "cost_eur": cost,
        "queue": queue_summary(scenario, sites),
        "demand_points": len(demand),
        "sessions_per_day_total": _round(float(demand["sessions_per_day"].sum()))
        if "sessions_per_day" in demand
        else _round(demand_total),
        "demand_total": _round(demand_total),
        "demand_covered": _round(demand_covered),
        "coverage_pct": _round(_pct(demand_covered, demand_total), 4),
        "population_total": _round(population_total),
        "population_covered": _round(population_covered),
        "by_country": coverage_by_country(sites, demand),
        "by_brand": sites_by_brand(sites),
        "inputs": {k: v for k, v in inputs.items() if k != "travel"},
    }
    if existing is not None:
        report["existing_chargers"] = existing_summary(scenario, demand, existing)
    if side is not None and len(side):
        report["constraints"] = side_constraints_met(side, chosen)
    return report


def queue_summary(scenario: Scenario, sites: pd.DataFrame) -> dict[str, Any]:
    """The queueing target and how the chosen sites meet it.

    ``sites_missing_target`` counts chosen sites whose chargers (capped by
    their limit) leave the peak-hour probability of waiting above the target;
    ``sessions_over_capacity`` is the sessions/day those sites get beyond what
    their chargers take within the target.
    """
    config = scenario.chargers
    summary: dict[str, Any] = {
        "max_wait_probability": config.max_wait_probability,
        "peak_hour_share": config.peak_hour_share,
        "session_minutes": config.session_minutes,
    }
    if "queue_target_met" not in sites:
        return summary
    chosen = sites[sites["chosen"].astype(bool)]
    missing = chosen[~chosen["queue_target_met"].astype(bool)]
    summary.update(
        {
            "sites_meeting_target": len(chosen) - len(missing),
            "sites_missing_target": len(missing),
            "chargers_short": int((missing["chargers_required"] - missing["chargers"]).sum()),
            "sessions_over_capacity": _round(float(chosen["sessions_over_capacity"].sum())),
        }
    )
    return summary


def existing_summary(
    scenario: Scenario, demand: pd.DataFrame, existing: ExistingLayer
) -> dict[str, Any]:
    """What the existing high-power network already reaches, in total and by country."""
    config = scenario.existing_chargers
    sessions = demand["sessions_per_day"].astype(float)
    population = demand["population"].astype(float)
    reached = pd.Series(existing.in_reach, index=demand.index)
    rows = []
    for country in sorted(demand["country"].unique()):
        here = demand["country"] == country
        s_all, s_in = float(sessions[here].sum()), float(sessions[here & reached].sum())
        p_all, p_in = float(population[here].sum()), float(population[here & reached].sum())
        rows.append(
            {
                "country": country,
                "sessions_per_day": _round(s_all),
                "sessions_within_reach": _round(s_in),
                "sessions_within_reach_pct": _round(_pct(s_in, s_all), 4),
                "population_within_reach": _round(p_in),
                "population_within_reach_pct": _round(_pct(p_in, p_all), 4),
            }
        )
    s_all, s_in = float(sessions.sum()), float(sessions[reached].sum())
    p_all, p_in = float(population.sum()), float(population[reached].sum())
    return {
        **existing.counts,
        "stations_kept": existing.counts.get("kept"),
        "demand_discount": config.demand_discount,
        "sessions_within_reach": _round(s_in),
        "sessions_within_reach_pct": _round(_pct(s_in, s_all), 4),
        "population_within_reach": _round(p_in),
        "population_within_reach_pct": _round(_pct(p_in, p_all), 4),
        "sessions_discounted": _round(s_in * config.demand_discount),
        "by_country": rows,
    }


def phase_table(
    scenario: Scenario,
    sites: pd.DataFrame,
    demand: pd.DataFrame,
    phased: PhasedSolution,
    yearly: YearlyChargers,
    opening_cost: npt.NDArray[np.float64],
) -> list[dict[str, Any]]:
    """Per year: limits, sites open and opened, coverage, chargers and money.

    ``opening_cost_eur`` is what the year's budget counts (site cost + the
    least chargers of the sites opened that year); ``spend_eur`` is the real
    spend: site costs of the sites opened plus every charger added that year
    (sized on that year's demand). ``sites_missing_queue_target`` counts the
    open sites whose chargers miss the queueing target on that year's demand.
    """
    total = float(demand["weight"].sum())
    factor_last = scenario.constraints.phases[-1].demand_factor
    base_total = total / factor_last if factor_last > 0 else total
    site_cost = sites["site_cost_eur"].to_numpy(dtype=np.float64)
    per_charger = scenario.chargers.charger_cost_eur
    rows = []
    previous = np.zeros(len(sites), dtype=np.int64)
    for t, phase in enumerate(scenario.constraints.phases):
        covered = float(phased.covered[t])
        opened = phased.opened == t
        added = int((yearly.counts[t] - previous).sum())
        open_now = phased.open_in_year(t)
        spend = float(site_cost[opened].sum()) + added * per_charger
        rows.append(
            {
                "year": phase.year,
                "p": phase.p,
                "budget_eur": phase.budget_eur,
                "sites_open": len(open_now),
                "sites_opened": int(opened.sum()),
                "demand_factor": phase.demand_factor,
                "demand_covered": round(covered * phase.demand_factor, 6),
                "coverage_pct": round(100.0 * covered / base_total, 4) if base_total > 0 else 0.0,
                "chargers": int(yearly.counts[t].sum()),
                "chargers_added": added,
                "sites_missing_queue_target": int(
                    np.count_nonzero(~yearly.target_met[t][open_now])
                ),
                "opening_cost_eur": _round(float(opening_cost[opened].sum()), 2),
                "spend_eur": _round(spend, 2),
            }
        )
        previous = yearly.counts[t]
    return rows
