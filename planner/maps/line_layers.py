"""Lines on the map: long-distance trips, and corridors with their AFIR gaps.

Both become one ``plannerMap.lines`` call: per line its delta-encoded points
(:func:`planner.maps.data.delta_coords`), colour, width and tooltip.

* Trips: only the ``MAX_TRIPS_DRAWN`` strongest are drawn (they carry most
  of the flow; thousands of overlapping lines would bury the sites), green
  when refuelled, red when not, wider for more round trips/day.
* Corridors: the line in the colour of the latest AFIR milestone it meets,
  and each stretch longer than the allowed gap drawn over it in red.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from planner.inputs.corridors import Corridor
from planner.maps.data import delta_coords
from planner.travel.corridors import line_between

__all__ = [
    "CORRIDOR_COLOURS",
    "MAX_TRIPS_DRAWN",
    "TRIP_COLOURS",
    "corridors_layer",
    "trips_layer",
]

#: Trips drawn at most (the strongest by round trips/day).
MAX_TRIPS_DRAWN = 400

TRIP_COLOURS = {"served": "#1a9850", "unserved": "#b2182b"}

#: A corridor by the latest milestone it meets (blue: 2027, orange: 2025 only, grey:
#: neither) and its gaps over the limit (magenta), apart from the trips' green and red.
CORRIDOR_COLOURS = {"2027": "#2c7bb6", "2025": "#fdae61", "none": "#4d4d4d", "gap": "#d01c8b"}


def trips_layer(trips: pd.DataFrame, *, top: int = MAX_TRIPS_DRAWN) -> dict[str, Any] | None:
    """Line data of the strongest trips (``None`` when there is none to draw).

    Reads the columns of :attr:`planner.Plan.trips`: ``origin``,
    ``destination``, ``trips_per_day``, ``km``, ``served`` and ``path_lon`` /
    ``path_lat`` (the path's points).
    """
    drawable = trips[trips["path_lon"].map(len) >= 2]
    if drawable.empty:
        return None
    strongest = drawable.sort_values("trips_per_day", ascending=False, kind="stable").head(top)
    # Weakest first, so the strongest lines are drawn on top.
    strongest = strongest.iloc[::-1]
    flows = strongest["trips_per_day"].to_numpy(dtype=float)
    largest = float(flows.max()) if flows.size and flows.max() > 0 else 1.0
    served = strongest["served"].astype(bool).tolist()
    return {
        "lines": [
            delta_coords(lat, lon)
            for lon, lat in zip(strongest["path_lon"], strongest["path_lat"], strict=True)
        ],
        "width": np.round(1.0 + 5.0 * np.sqrt(flows / largest), 2).tolist(),
        "colour": [TRIP_COLOURS["served" if ok else "unserved"] for ok in served],
        "opacity": 0.55,
        "label": "Trip",
        "title": [
            f"{a} – {b}" for a, b in zip(strongest["origin"], strongest["destination"], strict=True)
        ],
        "text": [
            f"{flow:,.1f} round trips/day, {km:,.0f} km, "
            + ("refuelled" if ok else "not refuelled")
            for flow, km, ok in zip(flows, strongest["km"], served, strict=True)
        ],
    }


def corridors_layer(
    corridors: Sequence[Corridor], rows: Sequence[Mapping[str, Any]], max_gap_km: float
) -> dict[str, Any] | None:
    """Line data of the corridors and of their gaps over the limit (report rows by name)."""
    by_name = {row["corridor"]: row for row in rows}
    lines, colour, width, title, text = [], [], [], [], []
    for corridor in corridors:
        row = by_name.get(corridor.name)
        if row is None:
            continue
        met = "2027" if row["met_2027"] else "2025" if row["met_2025"] else "none"
        lines.append(delta_coords(corridor.lat, corridor.lon))
        colour.append(CORRIDOR_COLOURS[met])
        width.append(4.0)
        title.append(corridor.name)
        text.append(
            f"{row['length_km']:,.0f} km, {row['pools']} pool(s); longest gap "
            f"{row['longest_gap_km_2027']:,.0f} km (2027 rule), "
            f"{row['longest_gap_km_2025']:,.0f} km (2025 rule); "
            + (
                "meets 2027"
                if met == "2027"
                else "meets 2025 only"
                if met == "2025"
                else "meets neither"
            )
        )
        for start, end in row["gaps_over_limit_km_2027"]:
            lon, lat = line_between(corridor.lon, corridor.lat, start, end)
            lines.append(delta_coords(lat, lon))
            colour.append(CORRIDOR_COLOURS["gap"])
            width.append(7.0)
            title.append(corridor.name)
            text.append(
                f"km {start:,.0f}–{end:,.0f}: {end - start:,.0f} km without a pool meeting the "
                f"2027 rule (limit {max_gap_km:g} km)"
            )
    if not lines:
        return None
    return {
        "lines": lines,
        "width": width,
        "colour": colour,
        "opacity": 0.8,
        "label": "AFIR",
        "title": title,
        "text": text,
    }
