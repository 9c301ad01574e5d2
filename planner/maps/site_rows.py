"""The chosen sites' markers and popups: labels, rows, queue wording, year colours.

:func:`chosen_site_rows` turns the plan's chosen sites into one row per site
(position, marker size, flags and the popup's label/value pairs, labelled by
:func:`site_labels`, the queueing in words by :func:`queue_text`);
:func:`site_layer` packs such rows, the plan's or the comparison's, as the
page's ``sites()`` draws them, with a colour per opening year
(:func:`year_colours`) on a phased plan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from planner._text import finite
from planner.maps.data import COORD_DECIMALS, as_text, brand_list, int_or_none
from planner.maps.formats import fmt_amount, fmt_int, fmt_pct, fmt_wait

if TYPE_CHECKING:
    from planner.scenario.constraints import Phase

#: Popup labels of a chosen site, in order (:func:`site_labels` adds the
#: queueing target and, on a phased plan, the year the figures belong to).
SITE_LABELS = (
    "Site",
    "Brands",
    "Country",
    "Dealers at site",
    "Chargers (800 V)",
    "Sessions/day served",
    "Demand points served",
    "Queue target",
    "Population within reach",
    "Marginal sessions/day (only this site)",
    "Marginal population (only this site)",
)

#: Popup label of a phased plan's opening year, after "Site".
OPENS_LABEL = "Opens"

#: Popup label of a phased plan's chargers installed by each year, after the chargers.
BY_YEAR_LABEL = "Chargers by year"

#: Popup label, last, of a flow plan's long-distance charging stops at the site.
TRIP_LABEL = "Long-distance trips: charging stops/day"

#: Colours of the chosen sites by opening year on a phased plan, earliest first:
#: dark enough for the white charger count, none of them the red of the
#: overloaded ring or the orange of uncovered demand.
YEAR_COLOURS = ("#0b3d91", "#01665e", "#6a3d9a", "#8c510a", "#4d4d4d", "#0072b2")

#: Ring around a chosen site that misses the queueing target.
OVERLOADED_COLOUR = "#c00000"


def site_labels(
    max_wait_probability: float | None = None, demand_year: int | None = None
) -> tuple[str, ...]:
    """The popup labels of :data:`SITE_LABELS`, with the target and the figures' year.

    ``max_wait_probability`` is written into the queue row ("Queue target
    (wait ≤ 20 %)"); ``demand_year`` (the last year of a phased plan) adds the
    "Opens" row and names the year whose demand the chargers, sessions and
    queueing figures are for.
    """
    year = f"{demand_year} demand" if demand_year is not None else ""
    target = f"wait ≤ {fmt_pct(100 * max_wait_probability, 0)}" if max_wait_probability else ""
    labels = []
    for label in SITE_LABELS:
        if label == "Queue target":
            detail = ", ".join(part for part in (target, year) if part)
            label = f"{label} ({detail})" if detail else label
        elif year and label == "Chargers (800 V)":
            label = f"Chargers (800 V, sized for {year})"
        elif year and label in ("Sessions/day served", "Marginal sessions/day (only this site)"):
            label = label[:-1] + f", {year})" if label.endswith(")") else f"{label} ({year})"
        labels.append(label)
        if demand_year is not None and label == "Site":
            labels.append(OPENS_LABEL)
    return tuple(labels)


def queue_text(row: Mapping[Any, Any]) -> str:
    """A chosen site's queueing at the peak hour, in words.

    "met — 6.1 % wait at the peak hour", "missed — 100 % wait at the peak
    hour; needs 14 chargers, has 10; 32.1 sessions/day over capacity", or
    "n/a" when the plan has no queueing figures.
    """
    met = row.get("queue_target_met")
    wait = finite(row.get("wait_probability"))
    known = not (met is None or pd.isna(met))
    wait_text = "" if wait is None else f"{fmt_wait(wait)} wait at the peak hour"
    if not known:
        return wait_text or "n/a"
    text = "met" if met else "missed"
    if wait_text:
        text += f" — {wait_text}"
    if not met:
        required = finite(row.get("chargers_required"))
        chargers = finite(row.get("chargers"))
        over = finite(row.get("sessions_over_capacity"))
        if required is not None and chargers is not None and required > chargers:
            text += f"; needs {fmt_int(required)} chargers, has {fmt_int(chargers)}"
        if over:
            text += f"; {fmt_amount(over)} sessions/day over capacity"
    return text


def _coord(value: Any) -> float:
    return round(float(value), COORD_DECIMALS)


def site_marker_size(chargers: float, max_chargers: float) -> int:
    """Marker diameter in pixels: area (not diameter) grows with chargers, 18 to 30 px."""
    return round(18 + 12 * math.sqrt(max(chargers, 0.0) / max(max_chargers, 1.0)))


def chosen_site_rows(
    sites: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    max_wait_probability: float | None = None,
    demand_year: int | None = None,
    year_columns: Sequence[tuple[int, str, str]] = (),
) -> list[dict[str, Any]]:
    """One row per chosen site: position, marker size, flags and the popup's lines.

    ``pairs`` follow :func:`site_labels` (``max_wait_probability``, the
    scenario's queueing target, and ``demand_year``, the last year of a
    phased plan); values missing from ``sites`` show as "n/a". ``overloaded``
    is true when the site misses the queueing target; ``opening_year`` is the
    site's year on a phased plan (``None`` otherwise). ``year_columns``, a
    phased plan's (year, column of the chargers installed by then, column of
    whether the queueing target holds then) in year order, adds a "Chargers by
    year" line and ``year_chargers`` and ``year_sizes``: the counts and marker
    diameters per year, on the final year's scale; and ``year_overloaded``
    (missing the target, per year) when the table has the queue columns.
    """
    chosen = sites[sites["chosen"].astype(bool)]
    served_points = demand.loc[demand["covered"].astype(bool), "site_id"].astype(str)
    points_per_site = served_points.value_counts()
    max_chargers = max(1, int(chosen["chargers"].max())) if len(chosen) else 1
    labels = site_labels(max_wait_probability, demand_year)
    trips = "trip_sessions" in chosen
    if trips:
        labels = (*labels, TRIP_LABEL)
    # Every year's count or none: the filter indexes them by the plan's years.
    by_year = list(year_columns) if all(column in chosen for _, column, _ in year_columns) else []
    # Tables written before the queue columns existed still show the counts.
    queue_by_year = bool(by_year) and all(column in chosen for _, _, column in by_year)
    charger_line = len(labels)
    if by_year:
        charger_line = next(k for k, label in enumerate(labels) if label.startswith("Chargers"))
        labels = (*labels[: charger_line + 1], BY_YEAR_LABEL, *labels[charger_line + 1 :])
    rows = []
    for row in chosen.to_dict("records"):
        chargers = round(finite(row.get("chargers")) or 0.0)
        site_id = as_text(row.get("site_id"))
        met = row.get("queue_target_met")
        year = int_or_none(row.get("opening_year"))
        values = [
            site_id,
            " + ".join(brand_list(row.get("brands"))),
            as_text(row.get("country")),
            fmt_int(row.get("n_dealers")),
            fmt_int(chargers),
            fmt_amount(row.get("demand_served")),
            fmt_int(points_per_site.get(site_id, 0)),
            queue_text(row),
            fmt_int(row.get("population_in_reach")),
            fmt_amount(row.get("marginal_demand")),
            fmt_int(row.get("marginal_population")),
        ]
        if demand_year is not None:
            values.insert(1, "n/a" if year is None else str(year))
        if trips:
            values.append(fmt_amount(row.get("trip_sessions")))
        counts = [round(finite(row.get(column)) or 0.0) for _, column, _ in by_year]
        if by_year:
            values.insert(
                charger_line + 1,
                " · ".join(
                    f"{y}: {fmt_int(n)}"
                    for (y, _, _), n in zip(by_year, counts, strict=True)
                    if year is None or y >= year
                ),
            )
        rows.append(
            {
                "lat": _coord(row["lat"]),
                "lon": _coord(row["lon"]),
                "size": site_marker_size(chargers, max_chargers),
                "chargers": chargers,
                "title": as_text(row.get("name")),
                "pairs": [list(pair) for pair in zip(labels, values, strict=True)],
                "overloaded": _misses(met),
                "opening_year": year,
                **(
                    {
                        "year_chargers": counts,
                        "year_sizes": [site_marker_size(n, max_chargers) for n in counts],
                    }
                    if by_year
                    else {}
                ),
                **(
                    {
                        "year_overloaded": [
                            (year is None or y >= year) and _misses(row.get(column))
                            for y, _, column in by_year
                        ]
                    }
                    if queue_by_year
                    else {}
                ),
            }
        )
    return rows


def overloaded_by_year(rows: Sequence[dict[str, Any]], phases: Sequence[Phase]) -> dict[int, int]:
    """Sites of :func:`chosen_site_rows` missing the queueing target in each phase's year.

    Empty unless every row carries ``year_overloaded`` (a phased plan whose
    table has the queue by year).
    """
    if not rows or not all("year_overloaded" in row for row in rows):
        return {}
    return {
        phase.year: sum(bool(row["year_overloaded"][t]) for row in rows)
        for t, phase in enumerate(phases)
    }


def _misses(met: Any) -> bool:
    """True when a queue flag says the target is missed (an empty one says nothing)."""
    return not (met is None or pd.isna(met) or bool(met))


def year_colours(years: Sequence[int | None]) -> dict[int, str]:
    """A colour of :data:`YEAR_COLOURS` per distinct opening year, earliest first."""
    distinct = sorted({y for y in years if y is not None})
    return {y: YEAR_COLOURS[i % len(YEAR_COLOURS)] for i, y in enumerate(distinct)}


def site_layer(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Chosen-site rows as the page's ``sites()`` draws them: popup labels once, then rows.

    Each row of :func:`chosen_site_rows` (or of the comparison) becomes
    ``[lat, lon, size, chargers, title, values]`` plus ``kind`` when it has one.
    ``overloaded`` (one flag per row) is there when a row misses the queueing
    target; ``years`` (the opening year per row) and ``yearColours`` (year →
    marker colour) when the rows carry opening years; ``yearCounts``
    (``chargers`` and ``sizes`` per row and year, and ``overloaded`` when the
    rows carry the queue by year) when they carry counts by year.
    """
    labels = [pair[0] for pair in rows[0]["pairs"]] if rows else []
    layer_rows = []
    for row in rows:
        if [pair[0] for pair in row["pairs"]] != labels:
            raise ValueError("every chosen-site row must have the same popup labels")
        cells = [row["lat"], row["lon"], row["size"], row["chargers"], row["title"]]
        cells.append([pair[1] for pair in row["pairs"]])
        if row.get("kind"):
            cells.append(row["kind"])
        layer_rows.append(cells)
    layer: dict[str, Any] = {"labels": labels, "rows": layer_rows}
    overloaded = [bool(row.get("overloaded")) for row in rows]
    if any(overloaded):
        layer["overloaded"] = overloaded
    years = [row.get("opening_year") for row in rows]
    if any(y is not None for y in years):
        layer["years"] = years
        layer["yearColours"] = {str(y): c for y, c in year_colours(years).items()}
    if rows and all("year_chargers" in row for row in rows):
        layer["yearCounts"] = {
            "chargers": [row["year_chargers"] for row in rows],
            "sizes": [row["year_sizes"] for row in rows],
        }
        if all("year_overloaded" in row for row in rows):
            layer["yearCounts"]["overloaded"] = [row["year_overloaded"] for row in rows]
    return layer
