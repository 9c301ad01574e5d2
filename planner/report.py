"""Key figures of a plan: the content of ``report.json`` and the site tables.

Everything here is recomputed from the plan's tables (chosen flags, coverage
flags, weights), never copied from the solver, so ``report.json`` always
agrees with ``sites.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from planner.optimise import Solution
from planner.scenario import Scenario


def _round(value: float, digits: int = 6) -> float | None:
    """JSON-safe float: None for NaN/inf, rounded so reruns print identically."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole > 0 else 0.0


def coverage_by_country(sites: pd.DataFrame, demand: pd.DataFrame) -> list[dict[str, Any]]:
    """Per country: chosen sites, demand, covered demand and coverage %."""
    chosen = sites[sites["chosen"]]
    site_counts = chosen.groupby("country").size()
    charger_counts = chosen.groupby("country")["chargers"].sum()
    weight = demand.groupby("country")["weight"].sum()
    covered = demand[demand["covered"]].groupby("country")["weight"].sum()
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


def build_report(
    scenario: Scenario,
    sites: pd.DataFrame,
    demand: pd.DataFrame,
    solution: Solution,
    *,
    inputs: Mapping[str, Any],
    seconds: Mapping[str, float],
) -> dict[str, Any]:
    """The ``report.json`` dictionary.

    Parameters
    ----------
    sites, demand
        The plan's tables (see :class:`planner.plan.Plan` for their columns).
    inputs
        Counts of rows read, dropped (by reason) and merged, per input.
    seconds
        Wall-clock seconds per stage; must contain ``"solve"`` and ``"total"``.
    """
    chosen = sites["chosen"]
    demand_total = float(demand["weight"].sum())
    demand_covered = float(demand.loc[demand["covered"], "weight"].sum())
    population_total = float(demand["population"].sum())
    population_covered = float(demand.loc[demand["covered"], "population"].sum())
    chargers_total = int(sites.loc[chosen, "chargers"].sum())
    site_cost = float(sites.loc[chosen, "site_cost_eur"].sum()) if "site_cost_eur" in sites else 0.0
    charger_cost = chargers_total * scenario.chargers.charger_cost_eur
    queue_met = (
        int(sites.loc[chosen, "queue_target_met"].sum()) if "queue_target_met" in sites else None
    )
    return {
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
        "radius_km": scenario.travel.radius_km,
        "circuity": scenario.travel.circuity,
        "p": scenario.model.p if solution.model != "set_cover" else None,
        "sites_candidates": len(sites),
        "sites_selected": int(chosen.sum()),
        "chargers_total": chargers_total,
        "cost_eur": {
            "sites": _round(site_cost, 2),
            "chargers": _round(charger_cost, 2),
            "total": _round(site_cost + charger_cost, 2),
        },
        "queue": {
            "max_wait_probability": scenario.chargers.max_wait_probability,
            "peak_hour_share": scenario.chargers.peak_hour_share,
            "session_minutes": scenario.chargers.session_minutes,
            "sites_meeting_target": queue_met,
        },
        "demand_points": len(demand),
        "demand_total": _round(demand_total),
        "demand_covered": _round(demand_covered),
        "coverage_pct": _round(_pct(demand_covered, demand_total), 4),
        "population_total": _round(population_total),
        "population_covered": _round(population_covered),
        "by_country": coverage_by_country(sites, demand),
        "by_brand": sites_by_brand(sites),
        "inputs": dict(inputs),
    }
