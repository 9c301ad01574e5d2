"""The coverage frontier: best coverage for each number of sites.

For p = p_1 < p_2 < ... the maximal-covering model is solved on the same
sites, demand and reach (read and computed once, and shared by every solve).
Each point carries the solver's proven upper bound, so the frontier is exact
where the status is optimal and bracketed [objective, bound] elsewhere. The
curve answers the planner's first question — how much does the next site
buy? — and marks the scenario's own p, which is solved too when it is not on
the grid, and solved once when it is (its solution is the scenario's plan).

``max_coverage`` takes no starting solution, so each p starts from its own
greedy and swap heuristic and Lagrangian bound; what the solves share is the
inputs and the reach matrix.

The grid stops at the number of sites that can open (not excluded): a p
beyond it would only solve the same plan again, so those values are
dropped, said in one warning, and p = that number becomes the last point
(the scenario's own p is solved whatever it is). A point that can cover
nothing more than the one before it — that one already reaches all the
demand within reach of a site — is marked ``same_as_previous``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.errors import InputError, Problem
from planner.maps.assets import MapAssets
from planner.maps.data import is_sample
from planner.maps.panels import plan_title
from planner.optimise import Solution, SolverSettings, max_coverage
from planner.outputs.spreadsheet import write_csv
from planner.pipeline.constraints import site_constraints
from planner.pipeline.figures import figure_html, png_bytes
from planner.pipeline.load import Clock, PlanInputs
from planner.pipeline.plan import (
    Plan,
    StageCallback,
    assemble_plan,
    default_output_folder,
    solve_plan,
    write_plan,
)
from planner.pipeline.solve import solver_settings
from planner.scenario.models import MODEL_TRAITS
from planner.scenario.schema import Scenario

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrontierPoint:
    """The best coverage found with ``p`` sites, and its proven bound.

    ``scenario`` marks the scenario's own p; ``same_as_previous`` a point
    that covers no more than the point before it, because that one already
    covered all the demand within reach of a site that can open, or chose the
    same sites.
    """

    p: int
    sites_selected: int
    demand_covered: float
    coverage_pct: float
    bound_pct: float
    gap: float
    status: str
    seconds: float
    scenario: bool = False
    same_as_previous: bool = False


def parse_p_range(text: str, *, option: str = "--p") -> Sequence[int]:
    """``"10:200:10"`` → 10, 20, ..., 200 (the stop is included); ``"5,10,40"`` → a list.

    A range stays a :class:`range`: ``1:1000000000`` costs nothing until
    :func:`frontier_grid` cuts it at the sites that can open. ``option`` names
    the argument in messages (``--p`` on the command line, ``p`` in Python).
    """

    def whole(part: str) -> int:
        # int() also takes "1_0" and other scripts' digits ("１"); a count is plain digits.
        if not re.fullmatch(r"\s*[+-]?[0-9]+\s*", part):
            raise ValueError(part)
        return int(part)

    try:
        if ":" in text:
            parts = [whole(x) for x in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else 1
            # The form is right: say which part is not.
            wrong = (
                "the step must be 1 or more" if step <= 0
                else "numbers of sites start at 1" if start < 1
                else "STOP is below START" if stop < start
                else None
            )  # fmt: skip
            if wrong is not None:
                raise InputError(Problem(option, f"'{text}': {wrong}"))
            return range(start, stop + 1, step)
        listed = [whole(x) for x in text.split(",")]
    except ValueError:
        raise InputError(
            Problem(option, f"'{text}' is not START:STOP[:STEP] or a list like 5,10,40")
        ) from None
    repeated = sorted({p for p in listed if listed.count(p) > 1})
    if repeated:
        # Solved once either way: say so rather than drop it unsaid (as sweep --grid does).
        raise InputError(Problem(option, f"'{text}': {repeated[0]} is given twice"))
    values = sorted(listed)
    if not values or values[0] < 1:
        raise InputError(Problem(option, f"'{text}': numbers of sites must be 1 or more"))
    return values


def default_frontier_folder(scenario: Scenario) -> Path:
    """Where ``planner frontier`` writes without ``--out``: beside the run's folder, never it.

    ``maps/<scenario name>-frontier`` under the working folder, or
    ``<output.dir>-frontier`` when the scenario names its output folder, so
    the frontier never replaces the plan of an earlier ``planner run``.

    Raises
    ------
    InputError
        The scenario's ``output.dir`` lies outside the working folder (as for
        ``planner run``: such a folder must be given with ``--out``).
    """
    return default_output_folder(scenario, suffix="-frontier")


def frontier_grid(
    p_values: Sequence[int], available: int, scenario_p: int | None = None
) -> tuple[list[int], tuple[str, ...]]:
    """The numbers of sites to solve, and what was dropped, in one line.

    Parameters
    ----------
    p_values
        The asked-for numbers of sites.
    available
        The number of candidate sites that can open (not excluded).
    scenario_p
        The scenario's own p: always solved, also beyond ``available``.

    Returns
    -------
    list[int], tuple[str, ...]
        The grid in increasing p: the values up to ``available``, then
        ``available`` itself when a value was above it, and ``scenario_p``;
        and a note naming the values dropped (empty when none was).
    """
    limit = max(int(available), 1)
    if isinstance(p_values, range):
        # Cut a range by arithmetic: 1:1000000000 must not become a billion ints.
        within = len(range(p_values.start, min(p_values.stop, limit + 1), p_values.step))
        grid = set(p_values[:within])
        beyond = p_values[within:]
        # Its ends are all the note names.
        above = sorted({beyond[0], beyond[-1]} - {scenario_p}) if beyond else []
    else:
        asked = set(p_values)
        above = sorted(p for p in asked if p > limit and p != scenario_p)
        grid = {p for p in asked if p <= limit}
    if above:
        grid.add(limit)
    if scenario_p is not None:
        grid.add(scenario_p)
    if not above:
        return sorted(grid), ()
    dropped = f"p = {above[0]}" if len(above) == 1 else f"p = {above[0]}…{above[-1]}"
    solved = f"solved up to {limit}"
    if scenario_p is not None and scenario_p > limit:
        solved += f" and the scenario's p = {scenario_p}"
    sites = "candidate site" if limit == 1 else "candidate sites"
    note = f"frontier: {dropped} is above the {limit} {sites} that can open; {solved}"
    return sorted(grid), (note,)


def repeated_note(points: Sequence[FrontierPoint]) -> str | None:
    """One line naming the points that cover no more than the point before them."""
    same = [i for i, pt in enumerate(points) if i > 0 and pt.same_as_previous]
    if not same:
        return None
    first = points[same[0] - 1]
    named = (
        ", ".join(f"{points[i].p}" for i in same)
        if len(same) <= 2
        else f"{points[same[0]].p}…{points[same[-1]].p}"
    )
    verb = "covers" if len(same) == 1 else "cover"
    return (
        f"frontier: p = {named} {verb} no more than p = {first.p} "
        f"({first.coverage_pct:.2f} %): more sites add no demand within reach"
    )


def coverage_frontier(
    inputs: PlanInputs,
    p_values: Sequence[int],
    *,
    settings: SolverSettings,
    on_point: Callable[[FrontierPoint], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    scenario_p: int | None = None,
) -> list[FrontierPoint]:
    """Solve the maximal-covering model for every p on shared inputs.

    Parameters
    ----------
    inputs
        Sites, demand and reach, read and computed once.
    p_values
        Numbers of sites.
    settings
        Solver settings of every solve.
    on_point
        Called with each point once it is solved.
    on_start
        Called with each p before it is solved (progress display).
    scenario_p
        The scenario's own p: marked, and solved too when not in ``p_values``.
    """
    return [
        point
        for point, _ in frontier_solutions(
            inputs,
            p_values,
            settings=settings,
            on_point=on_point,
            on_start=on_start,
            scenario_p=scenario_p,
        )
    ]


def frontier_solutions(
    inputs: PlanInputs,
    p_values: Sequence[int],
    *,
    settings: SolverSettings,
    on_point: Callable[[FrontierPoint], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    scenario_p: int | None = None,
) -> list[tuple[FrontierPoint, Solution]]:
    """:func:`coverage_frontier` with each point's solution, in increasing p.

    The solution at ``scenario_p`` is the scenario's maximal-covering plan:
    the caller need not solve it again. The grid is clipped to the sites that
    can open (:func:`frontier_grid`; the dropped values are logged as a
    warning).
    """
    weights = inputs.demand["weight"].to_numpy(dtype=np.float64)
    total = float(weights.sum())
    fixed = inputs.sites["fixed"].to_numpy(dtype=bool)
    excluded = inputs.sites["excluded"].to_numpy(dtype=bool)
    grid, notes = frontier_grid(p_values, int((~excluded).sum()), scenario_p)
    for note in notes:
        logger.warning("%s", note)
    # Demand within reach of a site that can open: the most any p can cover.
    reachable = float(weights[inputs.reach[:, ~excluded].getnnz(axis=1) > 0].sum())
    tolerance = 1e-9 * max(total, 1.0)
    results: list[tuple[FrontierPoint, Solution]] = []
    for p in grid:
        if on_start is not None:
            on_start(p)
        solution = max_coverage(
            inputs.reach, weights, p, fixed=fixed, excluded=excluded, settings=settings
        )
        scale = 100.0 / total if total > 0 else 0.0
        same = False
        if results:
            before, before_solution = results[-1]
            same = set(solution.open_sites.tolist()) == set(
                before_solution.open_sites.tolist()
            ) or (
                before.demand_covered >= reachable - tolerance
                and solution.objective <= before.demand_covered + tolerance
            )
        point = FrontierPoint(
            p=p,
            sites_selected=len(solution.open_sites),
            demand_covered=solution.objective,
            coverage_pct=solution.objective * scale,
            bound_pct=min(solution.bound * scale, 100.0),
            gap=solution.gap,
            status=str(solution.status),
            seconds=solution.seconds,
            scenario=p == scenario_p,
            same_as_previous=same,
        )
        logger.info("frontier p=%d: %.3f %% (%s)", p, point.coverage_pct, point.status)
        results.append((point, solution))
        if on_point is not None:
            on_point(point)
    return results


@dataclass(frozen=True, eq=False)
class FrontierPlan:
    """A frontier and the scenario's own plan, from one set of inputs.

    Attributes
    ----------
    points
        The frontier, in increasing p; the scenario's p is marked.
    plan
        The scenario's plan.
    scenario_point
        (sites, coverage %, label) of the plan when its model is not the
        frontier's (a p-median, set-cover or phased plan), else ``None``.
    title
        The plot's title: the map's heading, which says "sample" only on
        the sample network.
    notes
        What the frontier says about its grid, one line each: the values of
        p dropped for being above the number of sites that can open, and the
        points that cover no more than the one before them.
    """

    points: list[FrontierPoint]
    plan: Plan
    scenario_point: tuple[int, float, str] | None
    title: str
    notes: tuple[str, ...] = ()

    @property
    def table(self) -> pd.DataFrame:
        """The frontier as written to ``frontier.csv``."""
        return frontier_table(self.points)

    @property
    def chosen_p(self) -> int | None:
        """The scenario's own p when it is one of the frontier's points."""
        return next((pt.p for pt in self.points if pt.scenario), None)

    def figure(self) -> Any:
        """The frontier plot as a matplotlib figure (a notebook shows it inline)."""
        return frontier_figure(
            self.points,
            chosen_p=self.chosen_p,
            scenario_point=self.scenario_point,
            title=self.title,
        )

    def png(self) -> bytes:
        """The frontier plot as PNG bytes, as written to ``frontier.png``."""
        return png_bytes(self.figure())

    def _repr_html_(self) -> str:
        """The plot and the table, for notebooks."""
        return figure_html(self.png(), self.table, alt="coverage frontier")

    def __repr__(self) -> str:
        # The dataclass's own repr printed every point and the whole plan.
        ps = [pt.p for pt in self.points]
        grid = f"p {ps[0]}-{ps[-1]}" if ps else "no p"
        return f"<FrontierPlan {len(ps)} point(s), {grid}; plan: {self.plan!r}>"

    def write_files(self, folder: Path) -> None:
        """Write ``frontier.csv`` and ``frontier.png`` into ``folder``."""
        write_csv(self.table, folder / "frontier.csv")
        plot_frontier(
            self.points,
            folder / "frontier.png",
            chosen_p=self.chosen_p,
            scenario_point=self.scenario_point,
            title=self.title,
        )

    def save(
        self,
        folder: str | Path,
        *,
        map_assets: MapAssets = "inline",
        on_stage: StageCallback | None = None,
    ) -> Path:
        """Write the plan with the frontier beside it, all or nothing, as ``planner frontier``.

        The plan's map shows the frontier plot.
        """
        return write_plan(
            self.plan,
            folder,
            on_stage=on_stage,
            extra=self.write_files,
            map_assets=map_assets,
        )


def frontier_plan(
    scenario: Scenario,
    inputs: PlanInputs,
    p_values: Sequence[int],
    *,
    clock: Clock,
    on_start: Callable[[int], None] | None = None,
    on_point: Callable[[FrontierPoint], None] | None = None,
) -> FrontierPlan:
    """The coverage frontier over ``p_values`` and the scenario's plan.

    A single-year ``max_coverage`` scenario's own p joins the grid and its
    solution becomes the plan: it is solved once. Any other model is solved
    after the frontier, on the same inputs, and marked against it. Values of
    p above the number of sites that can open are dropped and said
    (:func:`frontier_grid`), in a warning and in ``notes``.
    """
    settings = solver_settings(scenario)
    title = plan_title(scenario.title, scenario.name, is_sample(scenario))
    # The frontier's solves carry no side constraints and a number of sites:
    # only a plain single-year max_coverage plan is one of its points.
    limit = scenario.sites_limit()
    same_model = (
        MODEL_TRAITS[scenario.model.name].frontier
        and not scenario.constraints.phases
        and limit is not None
        and len(site_constraints(inputs.sites, scenario)) == 0
    )
    scenario_p = limit if same_model else None
    available = int((~inputs.sites["excluded"].to_numpy(dtype=bool)).sum())
    grid, notes = frontier_grid(p_values, available, scenario_p)
    for note in notes:
        logger.warning("%s", note)
    results = frontier_solutions(
        inputs,
        grid,
        settings=settings,
        on_start=on_start,
        on_point=on_point,
        scenario_p=scenario_p,
    )
    points = [point for point, _ in results]
    repeated = repeated_note(points)
    if repeated is not None:
        logger.info("%s", repeated)
        notes = (*notes, repeated)
    if same_model:
        point, solution = next((pt, sol) for pt, sol in results if pt.scenario)
        plan = assemble_plan(scenario, inputs, solution, clock=clock, solve_seconds=point.seconds)
        return FrontierPlan(points, plan, None, title, notes)
    plan = solve_plan(scenario, inputs, clock=clock)
    sites = int(plan.report["sites_selected"])
    label = f"scenario ({scenario.model.name}): {sites} sites"
    coverage = float(plan.report["coverage_pct"])
    return FrontierPlan(points, plan, (sites, coverage, label), title, notes)


def frontier_table(points: Sequence[FrontierPoint]) -> pd.DataFrame:
    """The frontier as written to ``frontier.csv``."""
    table = pd.DataFrame([vars(p) for p in points])
    for column in ("demand_covered", "coverage_pct", "bound_pct", "gap", "seconds"):
        table[column] = table[column].round(6)
    return table


def plot_frontier(
    points: Sequence[FrontierPoint],
    path: Path,
    *,
    chosen_p: int | None,
    title: str,
    scenario_point: tuple[int, float, str] | None = None,
) -> None:
    """Write :func:`frontier_figure` as a PNG (byte-identical across runs)."""
    fig = frontier_figure(points, chosen_p=chosen_p, title=title, scenario_point=scenario_point)
    # A fixed date keeps the PNG byte-identical across runs.
    fig.savefig(path, metadata={"Software": None})


#: Up to this many points, the frontier's ticks are the points themselves.
_TICKS_AT_POINTS = 12


def frontier_figure(
    points: Sequence[FrontierPoint],
    *,
    chosen_p: int | None,
    title: str,
    scenario_point: tuple[int, float, str] | None = None,
) -> Any:
    """Coverage % against number of sites, with the proven bound and the scenario marked.

    ``chosen_p`` marks the frontier's point at that p; ``scenario_point``
    (sites, coverage %, label) marks a plan of another model (a p-median or
    set-cover plan) against the frontier instead. The figure is not
    registered with pyplot, so scripts and notebooks own it.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    p = np.array([pt.p for pt in points])
    coverage = np.array([pt.coverage_pct for pt in points])
    bound = np.array([pt.bound_pct for pt in points])
    fig = Figure(figsize=(7.5, 4.2), dpi=110)
    ax = fig.subplots()
    ax.plot(p, coverage, marker="o", markersize=3.5, color="#1f4e9c", label="coverage found")
    if np.any(bound - coverage > 1e-6):
        ax.plot(p, bound, linestyle="--", color="#888888", label="proven upper bound")
    marked: tuple[int, float, str] | None = scenario_point
    if marked is None and chosen_p is not None:
        match = [pt for pt in points if pt.p == chosen_p]
        if match:
            marked = (chosen_p, match[0].coverage_pct, f"scenario: p = {chosen_p}")
    if marked is not None:
        ax.scatter([marked[0]], [marked[1]], s=90, color="#d95f02", zorder=5, label=marked[2])
        ax.annotate(
            f"{marked[1]:.1f} %",
            (marked[0], marked[1]),
            textcoords="offset points",
            xytext=(8, -14),
            fontsize=8,
            color="#a04000",
        )
    grid = sorted({pt.p for pt in points})
    if len(grid) <= _TICKS_AT_POINTS:
        # A short grid is read at its own points (20, 40, 60, 80), not at 24, 32 …
        ax.set_xticks(grid)
    else:
        # Whole numbers of sites only, also on a short grid such as 1..4.
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("sites chosen (p)")
    ax.set_ylabel("demand within reach (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
