"""What the scenario needs to know about each model: its name and the fields it reads.

The scenario checks fields against these traits (does the model open a
number of sites, may a budget replace it, does it need a coverage target)
without knowing any model's code. Where a name meets its solve, report and
map is :mod:`planner.pipeline.registry`; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: What ``model.p`` means for a model: an upper limit, an exact count, or nothing.
SitesRule = Literal["at_most", "exactly"]


@dataclass(frozen=True)
class ModelTraits:
    """The scenario fields a model reads, and how.

    Attributes
    ----------
    name
        The value of ``model.name``.
    summary
        One sentence for the scenario reference and ``--help``.
    sites
        What ``model.p`` means (``None``: the model chooses the number).
    budget_replaces_p
        With ``constraints.budget_eur`` and no ``model.p``, the budget alone
        limits the sites.
    needs_coverage
        ``model.coverage_target`` must be above 0.
    within_capacity
        The model keeps every site's load within its chargers' capacity.
    rolls_out
        The model solves a phased roll-out (``constraints.phases``).
    frontier
        The model whose optimum for each number of sites is the coverage
        frontier (``planner frontier`` solves it on the grid).
    needs_trips
        The model serves long-distance trips (the ``[trips]`` section).
    """

    name: str
    summary: str
    sites: SitesRule | None = None
    budget_replaces_p: bool = False
    needs_coverage: bool = False
    within_capacity: bool = False
    rolls_out: bool = False
    frontier: bool = False
    needs_trips: bool = False


MODEL_TRAITS: dict[str, ModelTraits] = {
    traits.name: traits
    for traits in (
        ModelTraits(
            "max_coverage",
            "most demand within reach of p sites (or of the budget)",
            sites="at_most",
            budget_replaces_p=True,
            rolls_out=True,
            frontier=True,
        ),
        ModelTraits(
            "set_cover",
            "fewest sites covering every reachable demand point (or coverage_target of demand)",
            needs_coverage=True,
        ),
        ModelTraits(
            "p_median",
            "least demand-weighted travel to the nearest of p sites",
            sites="exactly",
        ),
        ModelTraits(
            "sizing",
            "sites and chargers of least cost serving coverage_target of the demand within "
            "reach at the queueing target (the one model that respects charger capacity)",
            within_capacity=True,
        ),
        ModelTraits(
            "flow_refuelling",
            "most long-distance trip flow made possible for a car of range_km by p stations "
            "(or the budget) along the trips' paths",
            sites="at_most",
            budget_replaces_p=True,
            needs_trips=True,
        ),
    )
}

#: The model a scenario runs when it names none.
DEFAULT_MODEL = "max_coverage"

#: The model that solves a phased roll-out.
ROLLOUT_MODEL = next(name for name, traits in MODEL_TRAITS.items() if traits.rolls_out)

#: The model that keeps every site within capacity.
CAPACITY_MODEL = next(name for name, traits in MODEL_TRAITS.items() if traits.within_capacity)
