"""Demand points for drawing: the covered and uncovered layers and the heat layer's weights.

The largest places up to the scenario's limit travel as
:func:`~planner.maps.data.points_layer` data, radius by log population
(:func:`demand_radius`); the heat layer is drawn from the uncovered points'
sessions/day (:data:`DEMAND_WEIGHT_COLUMN`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.maps.data import column, points_layer

#: Tooltip labels of a demand point's values.
DEMAND_LABELS = ("Population", "Sessions/day", "Country", "Served by site")

#: Column of the demand layers' sessions/day values (the heat layer weighs by it).
DEMAND_WEIGHT_COLUMN = DEMAND_LABELS.index("Sessions/day")


@dataclass(frozen=True)
class DemandLayers:
    """Demand points for drawing, the largest first, at most the scenario's limit.

    Attributes
    ----------
    covered, uncovered
        :func:`~planner.maps.data.points_layer` data, values as
        :data:`DEMAND_LABELS` name them; ``None`` when there is no such
        point. The heat layer is drawn from the uncovered points'
        sessions/day.
    n_covered, n_uncovered
        Points in each layer.
    drawn, total
        How many points are drawn and how many there are.
    """

    covered: dict[str, Any] | None
    uncovered: dict[str, Any] | None
    n_covered: int
    n_uncovered: int
    drawn: int
    total: int


def demand_radius(population: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Radius by log population in half pixels: cities stand out, villages stay visible."""
    population = np.maximum(np.asarray(population, dtype=float), 1.0)
    return np.round(2 * np.clip(np.log10(population) - 1.5, 1.0, 5.0)) / 2


def demand_layers(demand: pd.DataFrame, limit: int) -> DemandLayers:
    """Split the largest ``limit`` demand points into covered and uncovered layers."""
    total = len(demand)
    shown = demand.sort_values("population", ascending=False, kind="stable").head(limit)
    shown = shown.assign(
        _radius=demand_radius(shown["population"].to_numpy(dtype=float)),
        _served=np.where(shown["covered"].astype(bool), shown["site_id"].astype(str), "none"),
    )
    # Big circles first (underneath), then along latitude for small coordinate steps.
    shown = shown.sort_values(["_radius", "lat", "lon"], ascending=[False, True, True])

    def layer(rows: pd.DataFrame) -> dict[str, Any] | None:
        if rows.empty:
            return None
        return points_layer(
            rows,
            radius=column(rows["_radius"].tolist(), "amount"),
            title=column(rows["name"].tolist()),
            labels=DEMAND_LABELS,
            columns=[
                column(rows["population"].tolist(), "int"),
                column(rows["weight"].tolist(), "amount"),
                column(rows["country"].tolist()),
                column(rows["_served"].tolist()),
            ],
        )

    covered = shown["covered"].astype(bool).to_numpy()
    return DemandLayers(
        covered=layer(shown[covered]),
        uncovered=layer(shown[~covered]),
        n_covered=int(covered.sum()),
        n_uncovered=int((~covered).sum()),
        drawn=len(shown),
        total=total,
    )
