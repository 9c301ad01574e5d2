"""The scenario's side constraints as rows over the site table.

The thin adapter between the scenario (brands, countries, euros) and
:mod:`planner.optimise.constraints` (masks and coefficient rows): it knows
which sites carry which brand and lie in which country, and what a site
costs to open.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.errors import InputError, Problem
from planner.optimise.constraints import SiteRows, budget_rows, combine, group_rows
from planner.pipeline.afir import corridor_rows
from planner.scenario.schema import Scenario


def opening_cost(sites: pd.DataFrame, scenario: Scenario) -> npt.NDArray[np.float64]:
    """Cost of opening each site as budgets count it: site cost plus the least chargers.

    The chargers sized afterwards for the demand a site serves may be more
    than ``chargers.min_per_site``; the report shows that spend beside the
    budget. (The sizing model counts its own chargers against the budget.)
    """
    config = scenario.chargers
    site_cost = sites["site_cost_eur"].to_numpy(dtype=np.float64)
    site_cost = np.where(np.isnan(site_cost), config.site_cost_eur, site_cost)
    return site_cost + config.min_per_site * config.charger_cost_eur


def brand_mask(sites: pd.DataFrame, brand: str) -> npt.NDArray[np.bool_]:
    """Sites carrying ``brand`` (dual-brand sites carry both)."""
    return np.asarray(sites["brands"].str.split(";").apply(lambda b: brand in b), dtype=bool)


def _empty_plan_problems(sites: pd.DataFrame, scenario: Scenario) -> list[Problem]:
    """Budgets and country bounds under which no site can open: every plan would be empty.

    Refused before solving, where the sites are known: a solver would call an
    empty plan optimal. The budget counts as in :func:`opening_cost` (the
    sizing model, which counts its own chargers, installs at least
    ``chargers.min_per_site`` too, so the same floor holds for it).
    """
    config = scenario.constraints
    problems: list[Problem] = []
    available = np.ones(len(sites), dtype=bool)
    if "excluded" in sites:
        available &= ~sites["excluded"].to_numpy(dtype=bool)
    if not available.any():
        return problems
    costs = opening_cost(sites, scenario)[available]
    cheapest = float(costs.min())
    chargers = scenario.chargers.min_per_site * scenario.chargers.charger_cost_eur
    counted = (
        f"site cost {cheapest - chargers:,.0f} EUR + chargers.min_per_site "
        f"{scenario.chargers.min_per_site} × chargers.charger_cost_eur "
        f"{scenario.chargers.charger_cost_eur:,.0f} EUR"
    )
    if config.budget_eur is not None and config.budget_eur < cheapest:
        problems.append(
            Problem(
                "scenario",
                f"budget {config.budget_eur:,.0f} EUR is below the cheapest site's opening "
                f"cost of {cheapest:,.0f} EUR ({counted}): no site can open",
                field="constraints.budget_eur",
            )
        )
    for phase in config.phases:
        # A budget of 0 is a deliberate pause year; a budget above 0 that buys
        # nothing is a slip (a unit, a digit).
        if phase.budget_eur is not None and 0 < phase.budget_eur < cheapest:
            problems.append(
                Problem(
                    "scenario",
                    f"year {phase.year}: budget {phase.budget_eur:,.0f} EUR is below the "
                    f"cheapest site's opening cost of {cheapest:,.0f} EUR ({counted}): no "
                    "site can open that year",
                    field="constraints.phases",
                )
            )
    most = config.country_max_sites
    country = sites["country"].to_numpy()[available]
    if most and all(most.get(str(c)) == 0 for c in country):
        problems.append(
            Problem(
                "scenario",
                "every candidate site lies in a country allowed 0 sites "
                f"({', '.join(sorted({str(c) for c in country}))}): no site can open",
                field="constraints.country_max_sites",
            )
        )
    return problems


def site_constraints(
    sites: pd.DataFrame, scenario: Scenario, *, include_budget: bool = True
) -> SiteRows:
    """Every side constraint of the scenario, as rows over the sites' open indicators.

    ``include_budget=False`` leaves the budget out, for a model that counts
    the budget itself (sizing: sites and the chargers it installs).
    """
    config = scenario.constraints
    n_sites = len(sites)
    parts: list[SiteRows] = []
    problems: list[Problem] = []
    problems.extend(_empty_plan_problems(sites, scenario))
    if config.budget_eur is not None and include_budget:
        parts.append(budget_rows(opening_cost(sites, scenario), config.budget_eur))
    if scenario.afir.enforce and scenario.afir.corridors is not None:
        parts.append(corridor_rows(sites, scenario))

    brands = sorted({b for value in sites["brands"] for b in str(value).split(";")})
    shares = dict.fromkeys(brands, 0.0)
    for brand, share in config.brand_min_share.items():
        if brand not in shares:
            problems.append(
                Problem(
                    "scenario",
                    f"brand '{brand}' has no candidate site (brands: {', '.join(brands)})",
                    field="constraints.brand_min_share",
                )
            )
            continue
        shares[brand] = max(shares[brand], share)
    if config.brand_share_proportional > 0 and n_sites:
        for brand in brands:
            own = float(brand_mask(sites, brand).mean())
            shares[brand] = max(shares[brand], config.brand_share_proportional * own)
    for brand, share in shares.items():
        if share > 0:
            parts.append(group_rows(brand, brand_mask(sites, brand), share=share))

    countries = set(sites["country"])
    bounded = sorted(set(config.country_min_sites) | set(config.country_max_sites))
    for country in bounded:
        if country not in countries and config.country_min_sites.get(country, 0) > 0:
            problems.append(
                Problem(
                    "scenario",
                    f"country '{country}' has no candidate site",
                    field="constraints.country_min_sites",
                )
            )
            continue
        parts.append(
            group_rows(
                country,
                sites["country"].to_numpy() == country,
                minimum=config.country_min_sites.get(country, 0),
                maximum=config.country_max_sites.get(country),
            )
        )
    if problems:
        raise InputError(problems)
    return combine(parts, n_sites)
