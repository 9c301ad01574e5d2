"""Turn a :class:`~planner.pipeline.plan.Plan` into the compact data the map draws.

Everything here is pure data, ready for :func:`script_json`. Layers travel as
columns, not as one record per point: each column is a :func:`column` spec
(values, a dictionary of repeated strings, or one constant), so no key or
repeated string is written once per point. Coordinates are integers of
``10**-decimals`` degrees, each the difference to the previous point
(:func:`delta_coords`); sorted along latitude, most of them take two or
three digits instead of eight.

Numbers shown to people are rounded here to the digits they are shown with
(:func:`amount_value`), so the page's formatter (``plannerMap`` in
:mod:`planner.maps.script`) prints the same text as :func:`fmt_amount`
whatever the browser's locale.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner._text import finite
from planner.scenario.schema import Scenario

log = logging.getLogger(__name__)

#: Points are placed to 5 decimals (about 1 m): finer is invisible and bloats the file.
COORD_DECIMALS = 5

#: Country outlines to 3 decimals (about 100 m), below their 0.01° simplification.
OUTLINE_DECIMALS = 3

#: Brand colours on the blue-yellow axis that every common colour-vision
#: deficiency keeps (the Okabe-Ito palette): Renault's yellow and a sky blue
#: for Nissan, whose house red would read like the orange of uncovered demand.
BRAND_COLOURS = {"renault": "#f0c000", "nissan": "#56b4e9"}
OTHER_BRAND_COLOURS = ("#009e73", "#e69f00", "#0072b2", "#8c510a", "#01665e")
#: Dual-brand sites: reddish purple with a dark ring.
DUAL_BRAND_COLOUR = "#cc79a7"
COVERED_COLOUR = "#009e73"
UNCOVERED_COLOUR = "#d55e00"
REACH_COLOUR = "#0b3d91"
EXISTING_CHARGER_COLOUR = "#3a3a3a"

Format = Literal["text", "int", "amount", "pct", "kw", "yesno"]


def script_json(value: Any) -> str:
    """JSON that is safe to place inside a ``<script>`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u`` escapes, so no string can
    close the script (``</script>``) or open a comment; non-ASCII characters
    and the line separators U+2028/U+2029 are escaped by ``ensure_ascii``.
    """
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def fmt_int(value: Any) -> str:
    """A count with thousands separators, or ``"n/a"`` when missing."""
    number = finite(value)
    return "n/a" if number is None else f"{round(number):,}"


def amount_value(value: Any) -> float | None:
    """A demand amount rounded to the decimals :func:`fmt_amount` shows; ``None`` if missing."""
    number = finite(value)
    if number is None:
        return None
    if abs(number) >= 1000:
        return float(round(number))
    return round(number, 1) if abs(number) >= 10 else round(number, 2)


def fmt_amount(value: Any) -> str:
    """A demand amount (sessions/day): decimals only where they carry information."""
    number = amount_value(value)
    if number is None:
        return "n/a"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.1f}" if abs(number) >= 10 else f"{number:.2f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    """A percentage already in 0..100, or ``"n/a"``."""
    number = finite(value)
    return "n/a" if number is None else f"{number:.{digits}f} %"


def fmt_count(value: Any, noun: str) -> str:
    """A count and its noun, plural unless exactly one: ``"1 site"``, ``"5 sites"``."""
    text = fmt_int(value)
    return f"{text} {noun}" if text == "1" else f"{text} {noun}s"


def fmt_gap(value: Any) -> str:
    """A relative gap (a fraction) as a percentage, or ``"n/a"`` when unknown."""
    number = finite(value)
    return "n/a" if number is None else f"{100 * number:.3g} %"


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _coord(value: Any) -> float:
    return round(float(value), COORD_DECIMALS)


def column(values: Sequence[Any], fmt: Format = "text") -> dict[str, Any]:
    """One column of a layer, as the page's ``column()`` reads it.

    ``{"f": format, "c": value}`` when every value is the same,
    ``{"f": format, "d": distinct values, "v": indices}`` when values repeat
    (countries, brands, serving sites), else ``{"f": format, "v": values}``.
    Missing numbers are ``null`` and show as "n/a".
    """
    if fmt == "text":
        cells: list[Any] = [_text(v) for v in values]
    elif fmt == "yesno":
        cells = [None if v is None or pd.isna(v) else bool(v) for v in values]
    elif fmt == "amount":
        cells = [amount_value(v) for v in values]
    else:
        cells = [_int_or_none(v) for v in values]
    spec: dict[str, Any] = {"f": fmt}
    distinct = list(dict.fromkeys(cells))
    if len(cells) and len(distinct) == 1:
        spec["c"] = distinct[0]
        return spec
    spec["v"] = cells
    if len(distinct) <= len(cells) // 2:
        index = {value: i for i, value in enumerate(distinct)}
        indexed = {**spec, "d": distinct, "v": [index[c] for c in cells]}
        if len(script_json(indexed)) < len(script_json(spec)):
            return indexed
    return spec


def _int_or_none(value: Any) -> int | None:
    number = finite(value)
    return None if number is None else round(number)


def delta_coords(
    lat: npt.ArrayLike, lon: npt.ArrayLike, decimals: int = COORD_DECIMALS
) -> dict[str, Any]:
    """Coordinates as integer steps from the previous point, in ``10**-decimals`` degrees.

    Returns ``{"s": 10**decimals, "lat": steps, "lon": steps}``.
    """
    scale = 10**decimals
    lat_units = np.round(np.asarray(lat, dtype=float) * scale).astype(np.int64)
    lon_units = np.round(np.asarray(lon, dtype=float) * scale).astype(np.int64)
    return {
        "s": scale,
        "lat": np.diff(lat_units, prepend=0).tolist(),
        "lon": np.diff(lon_units, prepend=0).tolist(),
    }


def points_layer(
    frame: pd.DataFrame,
    *,
    radius: Any,
    title: dict[str, Any],
    labels: Sequence[str],
    columns: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """A point layer: delta coordinates of ``frame``'s ``lat``/``lon``, radius, tooltip columns.

    ``radius`` is one number or a :func:`column` spec; ``labels`` name the
    ``columns`` in the tooltip, after the ``title`` column.
    """
    return {
        **delta_coords(frame["lat"], frame["lon"]),
        "r": radius if isinstance(radius, dict) else {"f": "int", "c": radius},
        "title": title,
        "labels": list(labels),
        "cols": list(columns),
    }


def brand_list(brands: Any) -> list[str]:
    """``"Nissan;Renault"`` as ``["Nissan", "Renault"]``."""
    return [b.strip() for b in _text(brands).split(";") if b.strip()]


def brand_colours(brands: list[str]) -> dict[str, str]:
    """A distinct colour per brand, the known brands in their house colours."""
    colours: dict[str, str] = {}
    others = iter(OTHER_BRAND_COLOURS * (1 + len(brands) // len(OTHER_BRAND_COLOURS)))
    for brand in brands:
        colours[brand] = BRAND_COLOURS.get(brand.lower()) or next(others)
    return colours


def reach_radius_km(scenario: Scenario) -> float:
    """Great-circle radius of a reach circle: travel radius over circuity."""
    return scenario.travel.radius_km / scenario.travel.circuity


def is_sample(scenario: Scenario) -> bool:
    """Whether the dealer network is the generated sample (a file name says so)."""
    return any("sample" in f.path.name.lower() for f in scenario.dealers.files)


#: Tooltip labels of a dealer site's values; sent once per layer, not once per point.
DEALER_LABELS = ("Brands", "Country", "Dealers", "Site")

#: Tooltip labels of a demand point's values.
DEMAND_LABELS = ("Population", "Sessions/day", "Country", "Served by site")

#: Tooltip labels of an existing charger.
EXISTING_LABELS = ("Operator", "Power", "Charging points", "Id")

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


def fmt_wait(probability: float) -> str:
    """A probability of waiting as a percentage: one decimal below 10 %, none above."""
    percent = 100 * probability
    return fmt_pct(percent, 1 if abs(percent) < 10 else 0)


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


#: Town labels: GeoNames places of at least this many inhabitants...
TOWN_MIN_POPULATION = 15_000
#: ...and at most this many of them, the largest, so the page stays small.
TOWN_LIMIT = 2500
#: Town labels' coordinates to 3 decimals (about 100 m): a label needs no more.
TOWN_DECIMALS = 3
#: (places of larger rank, zoom from which a label shows): the largest 12
#: places from zoom 6, the next from 7, and so on; the rest from the last zoom.
TOWN_ZOOMS = ((12, 6), (40, 7), (120, 8), (400, 9), (1200, 10))
TOWN_LAST_ZOOM = 11


def town_min_zoom(rank: int) -> int:
    """Zoom from which the label of the place of population rank ``rank`` (0: largest) shows."""
    for upto, zoom in TOWN_ZOOMS:
        if rank < upto:
            return zoom
    return TOWN_LAST_ZOOM


def town_label_layer(
    countries: Sequence[str],
    *,
    min_population: int = TOWN_MIN_POPULATION,
    limit: int = TOWN_LIMIT,
) -> dict[str, Any] | None:
    """Names of the larger GeoNames places of ``countries``, for the offline basemap.

    Returns ``{"s", "lat", "lon"}`` (:func:`delta_coords` to
    :data:`TOWN_DECIMALS`), ``"names"`` and ``"z"`` (the zoom from which each
    label shows, :func:`town_min_zoom` of its population rank), largest place
    first; ``None`` when no country is given or GeoNames has none of them.
    City sections (Paris 15, Anderlecht) are left out. The names travel as
    JSON data and reach the page as ``textContent``.
    """
    # Imported here: only the map needs GeoNames, and only when it has countries.
    from planner.errors import InputError
    from planner.inputs.geonames import populated_places

    # One country at a time: a country without such places (Monaco) or a code
    # GeoNames does not know costs its own labels only.
    frames = []
    for country in dict.fromkeys(c.upper() for c in countries):
        try:
            frames.append(
                populated_places([country], min_population=min_population, drop_sections=True)
            )
        except InputError as error:
            log.info("map: no town names for %s: %s", country, error)
    if not frames:
        return None
    places = pd.concat(frames, ignore_index=True)
    if places.empty:
        return None
    places = places.sort_values(["population", "geonameid"], ascending=[False, True]).head(limit)
    return {
        **delta_coords(places["lat"], places["lon"], TOWN_DECIMALS),
        "names": [str(name) for name in places["name"]],
        "z": [town_min_zoom(rank) for rank in range(len(places))],
    }


#: Column of the demand layers' sessions/day values (the heat layer weighs by it).
DEMAND_WEIGHT_COLUMN = DEMAND_LABELS.index("Sessions/day")


@dataclass(frozen=True)
class DealerLayers:
    """Dealer sites split for drawing.

    Attributes
    ----------
    by_brand
        Single-brand sites per brand, in brand order: :func:`points_layer` data.
    multi_brand
        Sites of more than one brand, or ``None`` when there are none.
    colours
        Colour of each brand.
    counts
        Number of sites in each layer, by brand and ``"multi"``.
    """

    by_brand: dict[str, dict[str, Any]]
    multi_brand: dict[str, Any] | None
    colours: dict[str, str]
    counts: dict[str, int]


def dealer_layers(sites: pd.DataFrame) -> DealerLayers:
    """A point layer of every brand's single-brand sites, and one of dual-brand sites.

    Tooltip values go with :data:`DEALER_LABELS`.
    """
    brands_of = [brand_list(b) for b in sites["brands"]]
    all_brands = sorted({b for bs in brands_of for b in bs}, key=str.lower)
    frame = sites.assign(
        _brands=[" + ".join(bs) for bs in brands_of],
        _n_brands=[len(bs) for bs in brands_of],
        _first=[bs[0] if bs else "" for bs in brands_of],
    )
    frame = frame.sort_values(["lat", "lon"], kind="stable")

    def layer(rows: pd.DataFrame, radius: float) -> dict[str, Any]:
        return points_layer(
            rows,
            radius=radius,
            title=column(rows["name"].tolist()),
            labels=DEALER_LABELS,
            columns=[
                column(rows["_brands"].tolist()),
                column(rows["country"].tolist()),
                column(rows["n_dealers"].tolist(), "int"),
                column(rows["site_id"].tolist()),
            ],
        )

    single = frame[frame["_n_brands"] == 1]
    multi = frame[frame["_n_brands"] > 1]
    by_brand = {b: layer(single[single["_first"] == b], 5.0) for b in all_brands}
    counts = {b: int((single["_first"] == b).sum()) for b in all_brands}
    counts["multi"] = len(multi)
    return DealerLayers(
        by_brand=by_brand,
        multi_brand=layer(multi, 6.0) if len(multi) else None,
        colours=brand_colours(all_brands),
        counts=counts,
    )


def site_marker_size(chargers: float, max_chargers: float) -> int:
    """Marker diameter in pixels: area (not diameter) grows with chargers, 18 to 30 px."""
    return round(18 + 12 * math.sqrt(max(chargers, 0.0) / max(max_chargers, 1.0)))


def chosen_site_rows(
    sites: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    max_wait_probability: float | None = None,
    demand_year: int | None = None,
) -> list[dict[str, Any]]:
    """One row per chosen site: position, marker size, flags and the popup's lines.

    ``pairs`` follow :func:`site_labels` (``max_wait_probability``, the
    scenario's queueing target, and ``demand_year``, the last year of a
    phased plan); values missing from ``sites`` show as "n/a". ``overloaded``
    is true when the site misses the queueing target; ``opening_year`` is the
    site's year on a phased plan (``None`` otherwise).
    """
    chosen = sites[sites["chosen"].astype(bool)]
    served_points = demand.loc[demand["covered"].astype(bool), "site_id"].astype(str)
    points_per_site = served_points.value_counts()
    max_chargers = max(1, int(chosen["chargers"].max())) if len(chosen) else 1
    labels = site_labels(max_wait_probability, demand_year)
    rows = []
    for row in chosen.to_dict("records"):
        chargers = round(finite(row.get("chargers")) or 0.0)
        site_id = _text(row.get("site_id"))
        met = row.get("queue_target_met")
        year = _int_or_none(row.get("opening_year"))
        values = [
            site_id,
            " + ".join(brand_list(row.get("brands"))),
            _text(row.get("country")),
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
        rows.append(
            {
                "lat": _coord(row["lat"]),
                "lon": _coord(row["lon"]),
                "size": site_marker_size(chargers, max_chargers),
                "chargers": chargers,
                "title": _text(row.get("name")),
                "pairs": [list(pair) for pair in zip(labels, values, strict=True)],
                "overloaded": not (met is None or pd.isna(met) or bool(met)),
                "opening_year": year,
            }
        )
    return rows


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
    marker colour) when the rows carry opening years.
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
    return layer


@dataclass(frozen=True)
class DemandLayers:
    """Demand points for drawing, the largest first, at most the scenario's limit.

    Attributes
    ----------
    covered, uncovered
        :func:`points_layer` data, values as :data:`DEMAND_LABELS` name
        them; ``None`` when there is no such point. The heat layer is drawn
        from the uncovered points' sessions/day.
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


#: Columns an existing-charger table must have; the others are shown when present.
EXISTING_REQUIRED = ("lon", "lat")


def existing_charger_layer(chargers: pd.DataFrame) -> dict[str, Any] | None:
    """A point layer of existing high-power chargers, or ``None`` when there are none.

    Reads ``lon``, ``lat`` and, when present, ``operator``, ``power_kw``,
    ``points``, ``charger_id`` (or ``id``) and ``name`` (the table of
    :func:`planner.inputs.stations.load_chargers`); values go with
    :data:`EXISTING_LABELS`, the name (else the operator) is the tooltip's
    title. Rows without finite coordinates cannot be drawn: they are left out
    with a warning that counts them.

    Raises
    ------
    ValueError
        When ``lon`` or ``lat`` is missing.
    """
    missing = [c for c in EXISTING_REQUIRED if c not in chargers.columns]
    if missing:
        raise ValueError(f"existing chargers lack column(s): {', '.join(missing)}")
    lon = pd.to_numeric(chargers["lon"], errors="coerce")
    lat = pd.to_numeric(chargers["lat"], errors="coerce")
    drawable = np.isfinite(lon) & np.isfinite(lat) & lat.between(-90, 90)
    if not drawable.all():
        log.warning(
            "map: %d existing chargers without coordinates are not drawn", (~drawable).sum()
        )
    rows = chargers.assign(lon=lon, lat=lat)[drawable].sort_values(["lat", "lon"], kind="stable")
    if rows.empty:
        return None

    def values(name: str) -> list[Any]:
        return rows[name].tolist() if name in rows.columns else [None] * len(rows)

    operators = [_text(v) for v in values("operator")]
    titles = [
        _text(name) or operator or "Existing charger"
        for name, operator in zip(values("name"), operators, strict=True)
    ]
    operators = [operator or "n/a" for operator in operators]
    ids = values("charger_id") if "charger_id" in rows.columns else values("id")
    return points_layer(
        rows,
        radius=3.5,
        title=column(titles),
        labels=EXISTING_LABELS,
        columns=[
            column(operators),
            column(values("power_kw"), "kw"),
            column(values("points"), "int"),
            column(ids),
        ],
    )


def outline_layer(
    outlines: gpd.GeoDataFrame, tolerance_deg: float = 0.01
) -> list[list[dict[str, Any]]]:
    """Country outlines, simplified, as polygons of rings of :func:`delta_coords`.

    Only geometry is kept: the outlines are drawn, never labelled, so no
    string from the outline file reaches the page.
    """
    geometry = outlines.to_crs(4326).geometry if outlines.crs else outlines.geometry
    simple = geometry.simplify(tolerance_deg, preserve_topology=True).to_numpy()
    simple = shapely.set_precision(simple, 10**-OUTLINE_DECIMALS)
    polygons = []
    for part in shapely.get_parts(simple[~shapely.is_empty(simple)]):
        if not isinstance(part, shapely.Polygon) or part.is_empty:
            continue
        rings = [np.asarray(r.coords)[:-1] for r in (part.exterior, *part.interiors)]
        # Leaflet closes rings itself: the repeated first point is not sent.
        polygons.append([delta_coords(r[:, 1], r[:, 0], OUTLINE_DECIMALS) for r in rings])
    return polygons


def bounds(sites: pd.DataFrame, demand: pd.DataFrame) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of every site and demand point."""
    lat = pd.concat([sites["lat"], demand["lat"]]).astype(float)
    lon = pd.concat([sites["lon"], demand["lon"]]).astype(float)
    if lat.empty:
        return None
    return [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]
