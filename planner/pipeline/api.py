"""The public API: what ``import planner`` offers a script or a notebook.

Every entry point takes a scenario as a path, a :class:`~planner.scenario.Scenario`,
a mapping or ``None`` (the built-in default on the sample network), with
``overrides`` as a mapping of dotted field names to values::

    import planner

    plan = planner.run(overrides={"model.p": 30})
    plan.report["coverage_pct"]
    plan.save("maps/p30")          # exactly what `planner run` writes
    plan.map()                     # a folium.Map, shown inline in Jupyter

The command line is a thin layer over these same functions.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner._arguments import callback, shown
from planner.errors import InputError, Problem
from planner.optimise.constraints import SiteRows
from planner.pipeline.compare import Comparison
from planner.pipeline.constraints import site_constraints
from planner.pipeline.frontier import FrontierPlan, frontier_plan, parse_p_range
from planner.pipeline.load import Clock, PlanInputs, StageCallback, load_inputs
from planner.pipeline.plan import Plan, solve_plan
from planner.scenario.build import Overrides, ScenarioLike, scenario_from
from planner.scenario.schema import Scenario

__all__ = ["Checked", "check", "compare", "frontier", "run", "validate"]

logger = logging.getLogger(__name__)

#: Dealer tables given in place of the scenario's dealer files: one table, or
#: several (one per brand, say), each optionally named for messages.
DealerTables = pd.DataFrame | Sequence[pd.DataFrame] | dict[str, pd.DataFrame] | None


def run(
    scenario: ScenarioLike = None,
    *,
    overrides: Overrides = None,
    time_limit: float | None = None,
    dealers: DealerTables = None,
    demand: pd.DataFrame | None = None,
    progress: StageCallback | None = None,
) -> Plan:
    """Run a scenario end to end and return its :class:`~planner.Plan`.

    Parameters
    ----------
    scenario
        A scenario file, a :class:`~planner.Scenario`, a mapping shaped like
        the TOML file, or ``None`` for the built-in default (the sample network).
    overrides
        Dotted field names and values applied on top: ``{"model.p": 80}``.
    time_limit
        Solver time limit in seconds.
    dealers
        Dealer tables (pandas or GeoPandas) used instead of the scenario's
        dealer files: one table, a list, or a dict of name → table. They are
        checked exactly as files are, and messages name the table.
    demand
        A demand table used instead of the scenario's demand source.
    progress
        Called with the name of each stage as it starts and, while the model
        solves, every few seconds with a :class:`~planner.SolveProgress`:
        elapsed and remaining seconds, the best plan so far, the proven bound
        and the gap (``progress=print`` prints one line each).

    Raises
    ------
    planner.InputError
        Bad input or scenario (every problem listed).
    planner.InfeasibleError
        The constraints cannot all hold.
    planner.SolverError
        The solver failed.
    """
    resolved = scenario_from(scenario, overrides=overrides, time_limit=time_limit)
    clock = Clock(callback(progress, "progress"))
    inputs = load_inputs(
        resolved, clock=clock, dealer_tables=_dealer_frames(dealers), demand_table=demand
    )
    return solve_plan(resolved, inputs, clock=clock)


@dataclass(frozen=True)
class Checked:
    """A scenario's inputs read and its side constraints built, as ``planner validate`` does."""

    scenario: Scenario
    inputs: PlanInputs
    side_constraints: SiteRows

    def __repr__(self) -> str:
        # The dataclass repr printed every table and the reach matrix (4 kB and more).
        reach = self.inputs.reach
        return (
            f"<Checked {self.scenario.name!r}: {len(self.inputs.sites):,} candidate sites, "
            f"{len(self.inputs.demand):,} demand points, {reach.nnz:,} pairs within reach, "
            f"{len(self.side_constraints)} side constraint(s)>"
        )


def check(
    scenario: ScenarioLike = None,
    *,
    overrides: Overrides = None,
    dealers: DealerTables = None,
    demand: pd.DataFrame | None = None,
) -> Checked:
    """Read every input a run reads and build the side constraints; solve nothing.

    Raises
    ------
    planner.InputError
        With every problem found (and the warnings that would remain).
    """
    resolved = scenario_from(scenario, overrides=overrides)
    inputs = load_inputs(resolved, dealer_tables=_dealer_frames(dealers), demand_table=demand)
    return Checked(resolved, inputs, site_constraints(inputs.sites, resolved))


def validate(
    scenario: ScenarioLike = None,
    *,
    overrides: Overrides = None,
    dealers: DealerTables = None,
    demand: pd.DataFrame | None = None,
) -> list[Problem | str]:
    """Every problem that would stop a run of the scenario; empty when it would start solving.

    Warnings (dealer rows that a run drops, say) are logged, not returned.
    """
    try:
        checked = check(scenario, overrides=overrides, dealers=dealers, demand=demand)
    except InputError as exc:
        for warning in exc.warnings:
            logger.warning("%s", warning)
        return list(exc.problems)
    for warning in checked.inputs.counts["warnings"]:
        logger.warning("%s", warning)
    return []


def frontier(
    scenario: ScenarioLike = None,
    *,
    p: str | Sequence[int] = "10:100:10",
    overrides: Overrides = None,
    time_limit: float | None = None,
    dealers: DealerTables = None,
    demand: pd.DataFrame | None = None,
    progress: StageCallback | None = None,
) -> FrontierPlan:
    """Coverage against the number of sites, and the scenario's own plan.

    Parameters
    ----------
    p
        Numbers of sites: ``"START:STOP[:STEP]"``, ``"5,10,40"`` or a list of ints.
        Values above the number of candidate sites that can open (not
        excluded) are dropped and said, in a warning and in ``.notes``; that
        number becomes the last point. The scenario's own p is always solved.
    time_limit
        Solver time limit per point, seconds.

    Returns
    -------
    FrontierPlan
        ``.table`` (coverage, proven bound, gap and seconds per p, and
        ``same_as_previous``), ``.plan``, ``.notes``, ``.figure()`` and
        ``.save(folder)`` (what ``planner frontier`` writes;
        :func:`~planner.pipeline.frontier.default_frontier_folder` is its
        default folder).
    """
    p_values = parse_p_range(p, option="p") if isinstance(p, str) else _p_list(p)
    resolved = scenario_from(scenario, overrides=overrides, time_limit=time_limit)
    clock = Clock(callback(progress, "progress"))
    inputs = load_inputs(
        resolved, clock=clock, dealer_tables=_dealer_frames(dealers), demand_table=demand
    )
    return frontier_plan(resolved, inputs, p_values, clock=clock)


def compare(
    a: Plan | str | os.PathLike[str],
    b: Plan | str | os.PathLike[str],
) -> Comparison:
    """Compare two plans (in memory, or folders written by ``planner run``).

    Returns a :class:`Comparison`: ``.diff`` (sites kept, added and removed,
    key figures), ``.record()`` (``diff.json``), ``.site_changes()``,
    ``.country_changes()`` and ``.save(folder)`` (what ``planner compare`` writes).
    """
    return Comparison.of(a, b)


def _p_list(values: Sequence[int]) -> Sequence[int]:
    """The numbers of sites of a frontier, each a whole number of 1 or more."""
    if isinstance(values, range):
        if len(values) and values.step > 0 and values.start >= 1:
            return values
        raise InputError(Problem("p", f"{values!r} gives no number of sites of 1 or more"))
    # Bytes would be read as character codes, a mapping as its keys, a 0-d array not at all.
    if (
        not isinstance(values, Iterable)
        or isinstance(values, bytes | bytearray | Mapping)
        or (isinstance(values, np.ndarray) and values.ndim != 1)
    ):
        raise InputError(
            Problem(
                "p",
                f"give a list of numbers of sites or 'START:STOP[:STEP]', not {shown(values)}",
            )
        )
    listed = list(values)
    whole = [
        v
        for v in listed
        if isinstance(v, numbers.Real)
        and not isinstance(v, bool | np.bool_)
        # 10**400 is whole but no float: math.isfinite would overflow on it.
        and (isinstance(v, numbers.Integral) or (math.isfinite(v) and float(v).is_integer()))
    ]
    if len(whole) < len(listed) or not listed or min(whole) < 1:
        raise InputError(
            Problem(
                "p", f"numbers of sites must be whole numbers of 1 or more, got {shown(listed)}"
            )
        )
    seen: set[int] = set()
    for v in whole:
        if int(v) in seen:
            # As 'START:STOP' text and sweep grids say: a value given twice is a slip.
            raise InputError(Problem("p", f"{int(v)} is given twice; give each number once"))
        seen.add(int(v))
    return sorted(seen)


def _dealer_frames(dealers: DealerTables) -> list[tuple[str, pd.DataFrame]] | None:
    """Dealer tables with the names messages give them."""
    if dealers is None:
        return None
    if isinstance(dealers, pd.DataFrame):
        return [("dealers table", dealers)]
    if isinstance(dealers, dict):
        return [(f"dealers table '{name}'", table) for name, table in dealers.items()]
    if not isinstance(dealers, list | tuple):
        # A path or a Series would be taken apart item by item, each "not a DataFrame".
        raise InputError(
            Problem(
                "dealers",
                f"give a DataFrame, or a list or dict of them, not {shown(dealers)} "
                "(dealer files go in the scenario's dealers.files)",
            )
        )
    frames = list(dealers)
    if len(frames) == 1:
        return [("dealers table", frames[0])]
    return [(f"dealers table {i}", table) for i, table in enumerate(frames, 1)]
