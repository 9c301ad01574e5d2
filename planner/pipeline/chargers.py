"""Chargers per chosen site: the queueing check every plan goes through.

Whatever model chose the sites, each chosen site gets the chargers the
sessions it serves need at the peak hour (Erlang C, :mod:`planner.optimise.sizing.queueing`),
within its limit (``max_chargers``, else ``chargers.max_per_site``, and the
grid connection ``grid_kw`` / ``chargers.power_kw``). The coverage models and
p-median send every demand point to its nearest chosen site whatever the
load, so a site can need more chargers than it may have: the table says so
per site (``chargers_required`` above ``chargers``, ``queue_target_met``
false, ``sessions_over_capacity``) rather than hide it. The sizing model
respects the capacity itself; its charger counts are kept and checked.

A phased plan is sized year by year on that year's demand (the demand
factor of the year, each point at its nearest site open that year); a
charger once installed stays, so a site's count never falls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from planner.optimise import evaluate
from planner.optimise.sizing.queueing import (
    chargers_needed,
    chargers_within_grid,
    erlang_c,
    max_arrivals_per_hour,
    offered_load,
    peak_hour_arrivals,
)
from planner.scenario.schema import Scenario

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Tolerance on the probability of waiting when checking the target. Plans
#: filled to the sizing model's capacity line sit on the target, and the
#: solvers' feasibility tolerance (about 1e-6 of a row) or the sizing search's
#: flow units can put a site's load a few millionths over it: 0.20001 against
#: 0.2 is not a queue anyone would notice, 0.2001 is reported.
_TARGET_TOLERANCE = 1e-5


def site_charger_limits(sites: pd.DataFrame, scenario: Scenario) -> IntArray:
    """Most chargers per site: the file's ``max_chargers`` (else the scenario's), within grid."""
    config = scenario.chargers
    per_site = sites["max_chargers"].to_numpy(dtype=np.float64)
    per_site = np.where(np.isnan(per_site), config.max_per_site, np.floor(per_site))
    return chargers_within_grid(
        sites["grid_kw"].to_numpy(dtype=np.float64),
        charger_power_kw=config.power_kw,
        max_chargers=per_site.astype(np.int64),
    )


def without_charger_room(sites: pd.DataFrame, scenario: Scenario) -> npt.NDArray[np.bool_]:
    """Sites whose limits allow fewer than ``chargers.min_per_site`` chargers (at least 1).

    Such a site can never be chosen: a chosen site without a charger serves no one.
    """
    least = max(1, int(scenario.chargers.min_per_site))
    return np.asarray(site_charger_limits(sites, scenario) < least, dtype=bool)


def site_costs(sites: pd.DataFrame, scenario: Scenario) -> FloatArray:
    """Cost of opening each site: the file's ``site_cost_eur``, else the scenario's."""
    costs = sites["site_cost_eur"].to_numpy(dtype=np.float64)
    return np.where(np.isnan(costs), scenario.chargers.site_cost_eur, costs)


def size_sites(
    sites: pd.DataFrame, scenario: Scenario, *, installed: IntArray | None = None
) -> pd.DataFrame:
    """Chargers per chosen site from its ``demand_served`` (sessions/day), plus the
    charging stops of long-distance trips (``trip_sessions``) when the table has them.

    Parameters
    ----------
    sites
        The site table with ``chosen``, ``demand_served``, ``max_chargers``,
        ``grid_kw`` and ``site_cost_eur``.
    installed
        Charger counts decided by the model (sizing), one per site; ``None``
        to size every chosen site by Erlang C within its limit.

    Returns
    -------
    pandas.DataFrame
        A copy with ``max_chargers_allowed``, ``site_cost_eur`` (defaults
        filled in), ``peak_arrivals_per_hour``, ``chargers_required`` (least
        count meeting the target, no cap), ``chargers``, ``wait_probability``
        (with ``chargers``, at the peak hour), ``queue_target_met`` and
        ``sessions_over_capacity`` (sessions/day beyond what ``chargers``
        take within the target); zeros / NaN / False at sites not chosen.
    """
    config = scenario.chargers
    chosen = sites["chosen"].to_numpy(dtype=bool)
    served = sites["demand_served"].to_numpy(dtype=np.float64)
    if "trip_sessions" in sites:
        served = served + sites["trip_sessions"].to_numpy(dtype=np.float64)
    limits = site_charger_limits(sites, scenario)
    arrivals = peak_hour_arrivals(served, peak_hour_share=config.peak_hour_share)
    sizing = chargers_needed(
        arrivals,
        config.session_minutes,
        max_wait_probability=config.max_wait_probability,
        max_chargers=limits,
        min_chargers=config.min_per_site,
    )
    count = sizing.chargers if installed is None else np.asarray(installed, dtype=np.int64)
    wait = erlang_c(count, offered_load(arrivals, config.session_minutes))
    sites = sites.copy()
    sites["max_chargers_allowed"] = limits
    sites["site_cost_eur"] = site_costs(sites, scenario)
    sites["peak_arrivals_per_hour"] = np.where(chosen, arrivals, 0.0)
    sites["chargers_required"] = np.where(chosen, sizing.required, 0)
    sites["chargers"] = np.where(chosen, count, 0)
    sites["wait_probability"] = np.where(chosen, wait, np.nan)
    sites["queue_target_met"] = chosen & (wait <= config.max_wait_probability + _TARGET_TOLERANCE)
    sites["sessions_over_capacity"] = np.where(
        chosen, sessions_over_capacity(served, count, scenario), 0.0
    )
    return sites


def sessions_over_capacity(
    sessions_per_day: FloatArray, chargers: IntArray, scenario: Scenario
) -> FloatArray:
    """Sessions/day a site gets beyond what its chargers take within the waiting target.

    c chargers take λ*(c) arrivals per hour at the peak hour
    (:func:`planner.optimise.sizing.queueing.max_arrivals_per_hour`), that is λ*(c) / h sessions
    a day with peak-hour share h.
    """
    config = scenario.chargers
    count = np.asarray(chargers, dtype=np.int64)
    capacity = max_arrivals_per_hour(
        count, config.session_minutes, max_wait_probability=config.max_wait_probability
    )
    per_day = capacity / config.peak_hour_share
    return np.maximum(0.0, np.asarray(sessions_per_day, dtype=np.float64) - per_day)


@dataclass(frozen=True)
class YearlyChargers:
    """A phased plan's chargers year by year (years × sites).

    Attributes
    ----------
    counts
        Chargers installed at each site by the end of each year (0 before it opens).
    target_met
        Whether each site meets the queueing target that year with those
        chargers and that year's sessions (False where it is not open yet).
    """

    counts: IntArray
    target_met: npt.NDArray[np.bool_]


def phase_chargers(
    reach: sp.csr_matrix,
    weights: FloatArray,
    opened: IntArray,
    demand_factors: list[float],
    limits: IntArray,
    scenario: Scenario,
) -> YearlyChargers:
    """Chargers per site at the end of each year of a phased plan, and the queue then.

    Year t: every demand point goes to its nearest site open that year, with
    its weight × the year's demand factor; each open site gets the chargers
    Erlang C asks for within its limit, and never fewer than the year before.
    A site capped by its limit may miss the target in one year and not in
    another (its demand moves to sites opened later).
    """
    config = scenario.chargers
    n_sites = reach.shape[1]
    counts = np.zeros((len(demand_factors), n_sites), dtype=np.int64)
    met = np.zeros((len(demand_factors), n_sites), dtype=bool)
    previous = np.zeros(n_sites, dtype=np.int64)
    for t, factor in enumerate(demand_factors):
        open_sites = np.flatnonzero((opened >= 0) & (opened <= t)).astype(np.int64)
        assignment, _ = evaluate.nearest_open(reach, open_sites)
        served = np.zeros(n_sites)
        assigned = assignment >= 0
        np.add.at(served, assignment[assigned], weights[assigned] * factor)
        arrivals = peak_hour_arrivals(served, peak_hour_share=config.peak_hour_share)
        sizing = chargers_needed(
            arrivals,
            config.session_minutes,
            max_wait_probability=config.max_wait_probability,
            max_chargers=limits,
            min_chargers=config.min_per_site,
        )
        is_open = np.zeros(n_sites, dtype=bool)
        is_open[open_sites] = True
        previous = np.where(is_open, np.maximum(previous, sizing.chargers), 0)
        counts[t] = previous
        wait = erlang_c(previous, offered_load(arrivals, config.session_minutes))
        met[t] = is_open & (wait <= config.max_wait_probability + _TARGET_TOLERANCE)
    return YearlyChargers(counts, met)
