"""Trips against local demand: the flow model solved for several trip weights λ.

``planner frontier`` on a ``flow_refuelling`` scenario sweeps
``model.trip_weight`` instead of p: for each λ the one MILP of
:func:`planner.optimise.flow.flow_refuelling` with local demand, on inputs
read once. Each point is a plan; its share of trip flow refuelled and its
share of local demand covered are measured on that plan, so the curve is the
trade-off a planner chooses on (every point is optimal for its λ, or says
its gap). The scenario's own λ is solved once and becomes the plan.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.errors import InputError, Problem
from planner.maps.assets import MapAssets
from planner.optimise import evaluate
from planner.optimise.flow import served_trips
from planner.outputs.spreadsheet import write_csv
from planner.pipeline.figures import figure_html, png_bytes
from planner.pipeline.load import Clock, PlanInputs, StageCallback
from planner.pipeline.plan import Plan, assemble_plan, write_plan
from planner.pipeline.solve import solve_flow_refuelling
from planner.scenario.schema import Scenario

__all__ = ["TradeOff", "TradeOffPoint", "parse_weights", "trade_off"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TradeOffPoint:
    """One trip weight's plan, measured on both kinds of demand."""

    trip_weight: float
    trips_pct: float
    local_pct: float
    sites: int
    status: str
    gap: float
    seconds: float
    scenario: bool


#: Most trip weights one trade-off solves (a step of 0.01 over [0, 1]): each is a solve.
MAX_WEIGHTS = 101


def parse_weights(text: str) -> list[float]:
    """``"0,0.25,1"`` or ``"0:1:0.25"`` (start:stop:step, both ends kept) as trip weights."""
    field = "--trip-weights"
    try:
        if ":" in text:
            start, stop, step = (float(part) for part in text.split(":"))
            if not step > 0 or not math.isfinite(start) or not math.isfinite(stop):
                raise ValueError
            # Every step from START that does not pass STOP, then STOP itself: rounding
            # the count (as before) stepped past it, 0:0.5:0.3 giving 0.6.
            steps = (stop - start) / step
            on_grid = abs(steps - round(steps)) <= 1e-9 * max(1.0, abs(steps))
            count = max((round(steps) if on_grid else math.floor(steps)) + 1, 0)
            ends_off_grid = count > 0 and not on_grid
            if count + ends_off_grid > MAX_WEIGHTS:
                raise InputError(
                    Problem(
                        "command line",
                        f"'{text}' gives {count + ends_off_grid:,} trip weights, one solve "
                        f"each; at most {MAX_WEIGHTS} (a step of 0.01)",
                        field=field,
                    )
                )
            values = [round(start + k * step, 6) for k in range(count)]
            if ends_off_grid:
                values.append(round(stop, 6))
        else:
            values = [float(part) for part in text.split(",") if part.strip()]
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise InputError(
                    Problem(
                        "command line", f"'{text}': {repeated[0]:g} is given twice", field=field
                    )
                )
    except ValueError:
        raise InputError(
            Problem("command line", f"'{text}' is not a list or range of weights", field=field)
        ) from None
    if not values:
        raise InputError(Problem("command line", f"'{text}' gives no trip weight", field=field))
    if len(set(values)) > MAX_WEIGHTS:
        raise InputError(
            Problem(
                "command line",
                f"{len(set(values)):,} trip weights, one solve each; at most {MAX_WEIGHTS}",
                field=field,
            )
        )
    if any(not 0.0 <= v <= 1.0 for v in values):
        raise InputError(
            Problem("command line", f"trip weights must lie in [0, 1], got '{text}'", field=field)
        )
    return sorted(set(values))


@dataclass(frozen=True)
class TradeOff:
    """The trade-off curve and the scenario's own plan."""

    points: list[TradeOffPoint]
    plan: Plan
    title: str

    @property
    def table(self) -> pd.DataFrame:
        """The curve as written to ``frontier.csv``."""
        table = pd.DataFrame([vars(point) for point in self.points])
        for column in ("trips_pct", "local_pct", "gap", "seconds"):
            table[column] = table[column].round(6)
        return table

    def figure(self) -> Any:
        """Trips refuelled against local demand covered, one point per trip weight."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7.5, 4.2), dpi=110)
        ax = fig.add_subplot()
        local = [pt.local_pct for pt in self.points]
        trips = [pt.trips_pct for pt in self.points]
        ax.plot(local, trips, "-o", color="#0b3d91")
        for pt in self.points:
            ax.annotate(
                f"λ = {pt.trip_weight:g}",
                (pt.local_pct, pt.trips_pct),
                textcoords="offset points",
                xytext=(6, 4),
                fontsize=8,
                fontweight="bold" if pt.scenario else "normal",
            )
        ax.set_xlabel("local demand covered (%)")
        ax.set_ylabel("trip flow refuelled (%)")
        ax.set_title(self.title, fontsize=10)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        return fig

    def png(self) -> bytes:
        """The curve as PNG bytes, as written to ``frontier.png``."""
        return png_bytes(self.figure())

    def _repr_html_(self) -> str:
        return figure_html(self.png(), self.table, alt="trade-off")

    def write_files(self, folder: Path) -> None:
        """``frontier.csv`` and ``frontier.png`` (the map shows the plot)."""
        write_csv(self.table, folder / "frontier.csv")
        (folder / "frontier.png").write_bytes(self.png())

    def save(
        self,
        folder: str | Path,
        *,
        map_assets: MapAssets = "inline",
        on_stage: StageCallback | None = None,
    ) -> Path:
        """Write the plan with the curve beside it, all or nothing."""
        return write_plan(
            self.plan,
            folder,
            on_stage=on_stage,
            extra=self.write_files,
            map_assets=map_assets,
        )


def trade_off(
    scenario: Scenario,
    inputs: PlanInputs,
    weights: Sequence[float],
    *,
    clock: Clock,
    title: str,
    on_start: Callable[[float], None] | None = None,
) -> TradeOff:
    """Solve the flow model for every trip weight (and the scenario's own) on ``inputs``."""
    if inputs.trips is None:
        raise InputError(
            Problem(
                "scenario", "a trade-off needs model.name = 'flow_refuelling'", field="model.name"
            )
        )
    own = scenario.model.trip_weight
    demand_weights = inputs.demand["weight"].to_numpy(dtype=np.float64)
    within = float(demand_weights[np.diff(inputs.reach.indptr) > 0].sum())
    points: list[TradeOffPoint] = []
    plan: Plan | None = None
    for weight in sorted({*weights, own}):
        if on_start is not None:
            on_start(weight)
        variant = scenario.model_copy(
            update={"model": scenario.model.model_copy(update={"trip_weight": weight})}
        )
        started = time.perf_counter()
        solution = solve_flow_refuelling(variant, inputs)
        seconds = time.perf_counter() - started
        served = served_trips(inputs.trips.paths, solution.open_sites, scenario.model.range_km)
        flows = inputs.trips.paths.flows
        trips_pct = 100 * float(flows[served].sum() / flows.sum()) if flows.sum() > 0 else 0.0
        covered = evaluate.covered_weight(inputs.reach, demand_weights, solution.open_sites)
        points.append(
            TradeOffPoint(
                trip_weight=weight,
                trips_pct=trips_pct,
                local_pct=100 * covered / within if within > 0 else 0.0,
                sites=int(solution.open_sites.size),
                status=str(solution.status),
                gap=float(solution.gap),
                seconds=seconds,
                scenario=weight == own,
            )
        )
        if weight == own:
            plan = assemble_plan(scenario, inputs, solution, clock=clock, solve_seconds=seconds)
    assert plan is not None
    return TradeOff(points, plan, title)
