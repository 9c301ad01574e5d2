"""The coverage frontier: best coverage for each number of sites.

For p = p_1 < p_2 < ... the maximal-covering model is solved on the same
sites, demand and reach (read and computed once). Each point carries the
solver's proven upper bound, so the frontier is exact where the status is
optimal and bracketed [objective, bound] elsewhere. The curve answers the
planner's first question — how much does the next site buy? — and marks the
scenario's own p.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import InputError, Problem
from planner.optimise import SolverSettings, max_coverage
from planner.plan import PlanInputs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FrontierPoint:
    """The best coverage found with ``p`` sites, and its proven bound."""

    p: int
    sites_selected: int
    demand_covered: float
    coverage_pct: float
    bound_pct: float
    gap: float
    status: str
    seconds: float


def parse_p_range(text: str) -> list[int]:
    """``"10:200:10"`` → [10, 20, ..., 200] (the stop is included); ``"5,10,40"`` → a list."""
    try:
        if ":" in text:
            parts = [int(x) for x in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop = parts[0], parts[1]
            step = parts[2] if len(parts) == 3 else 1
            if step <= 0 or start < 1 or stop < start:
                raise ValueError
            values = list(range(start, stop + 1, step))
        else:
            values = sorted({int(x) for x in text.split(",")})
    except ValueError:
        raise InputError(
            Problem("--p", f"'{text}' is not START:STOP[:STEP] or a list like 5,10,40")
        ) from None
    if not values or values[0] < 1:
        raise InputError(Problem("--p", f"'{text}' gives no number of sites ≥ 1"))
    return values


def coverage_frontier(
    inputs: PlanInputs,
    p_values: Sequence[int],
    *,
    settings: SolverSettings,
    on_point: Callable[[FrontierPoint], None] | None = None,
) -> list[FrontierPoint]:
    """Solve the maximal-covering model for every p on shared inputs."""
    weights = inputs.demand["weight"].to_numpy(dtype=np.float64)
    total = float(weights.sum())
    fixed = inputs.sites["fixed"].to_numpy(dtype=bool)
    excluded = inputs.sites["excluded"].to_numpy(dtype=bool)
    points = []
    for p in p_values:
        solution = max_coverage(
            inputs.reach, weights, p, fixed=fixed, excluded=excluded, settings=settings
        )
        scale = 100.0 / total if total > 0 else 0.0
        point = FrontierPoint(
            p=p,
            sites_selected=len(solution.open_sites),
            demand_covered=solution.objective,
            coverage_pct=solution.objective * scale,
            bound_pct=min(solution.bound * scale, 100.0),
            gap=solution.gap,
            status=str(solution.status),
            seconds=solution.seconds,
        )
        logger.info("frontier p=%d: %.3f %% (%s)", p, point.coverage_pct, point.status)
        points.append(point)
        if on_point is not None:
            on_point(point)
    return points


def frontier_table(points: Sequence[FrontierPoint]) -> pd.DataFrame:
    """The frontier as written to ``frontier.csv``."""
    table = pd.DataFrame([vars(p) for p in points])
    for column in ("demand_covered", "coverage_pct", "bound_pct", "gap", "seconds"):
        table[column] = table[column].round(6)
    return table


def plot_frontier(
    points: Sequence[FrontierPoint], path: Path, *, chosen_p: int | None, title: str
) -> None:
    """Coverage % against number of sites, with the proven bound and the chosen p marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = np.array([pt.p for pt in points])
    coverage = np.array([pt.coverage_pct for pt in points])
    bound = np.array([pt.bound_pct for pt in points])
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=110)
    ax.plot(p, coverage, marker="o", markersize=3.5, color="#1f4e9c", label="coverage found")
    if np.any(bound - coverage > 1e-6):
        ax.plot(p, bound, linestyle="--", color="#888888", label="proven upper bound")
    if chosen_p is not None:
        match = [pt for pt in points if pt.p == chosen_p]
        if match:
            ax.scatter(
                [chosen_p],
                [match[0].coverage_pct],
                s=90,
                color="#d95f02",
                zorder=5,
                label=f"scenario: p = {chosen_p}",
            )
    ax.set_xlabel("sites chosen (p)")
    ax.set_ylabel("demand within reach (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    # A fixed date keeps the PNG byte-identical across runs.
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
