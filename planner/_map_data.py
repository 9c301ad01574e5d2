"""Turn a :class:`~planner.plan.Plan` into the plain rows the map draws.

Everything here is pure data: lists of numbers and strings, ready for
:func:`script_json`. Numbers shown to people are formatted here, once, so the
page and the tests see the same text whatever the browser's locale.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner.scenario import Scenario

#: Coordinates are rounded to 5 decimals (about 1 m): finer is invisible and bloats the file.
COORD_DECIMALS = 5

#: Brand colours; brands not listed take the next colour of ``OTHER_BRAND_COLOURS``.
BRAND_COLOURS = {"renault": "#f5d000", "nissan": "#c3002f"}
OTHER_BRAND_COLOURS = ("#1f78b4", "#33a02c", "#6a51a3", "#8c510a", "#01665e")
DUAL_BRAND_COLOUR = "#6a3d9a"
COVERED_COLOUR = "#1a9850"
UNCOVERED_COLOUR = "#f26b00"
REACH_COLOUR = "#0b3d91"


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
    number = _finite(value)
    return "n/a" if number is None else f"{round(number):,}"


def fmt_amount(value: Any) -> str:
    """A demand amount (sessions/day): decimals only where they carry information."""
    number = _finite(value)
    if number is None:
        return "n/a"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.1f}" if abs(number) >= 10 else f"{number:.2f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    """A percentage already in 0..100, or ``"n/a"``."""
    number = _finite(value)
    return "n/a" if number is None else f"{number:.{digits}f} %"


def fmt_gap(value: Any) -> str:
    """A relative gap (a fraction) as a percentage, or ``"n/a"`` when unknown."""
    number = _finite(value)
    return "n/a" if number is None else f"{100 * number:.3g} %"


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _coord(value: Any) -> float:
    return round(float(value), COORD_DECIMALS)


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


@dataclass(frozen=True)
class DealerLayers:
    """Dealer sites split for drawing.

    Attributes
    ----------
    by_brand
        Single-brand sites per brand, in brand order: point rows.
    multi_brand
        Sites of more than one brand: point rows.
    colours
        Colour of each brand.
    """

    by_brand: dict[str, list[list[Any]]]
    multi_brand: list[list[Any]]
    colours: dict[str, str]


def dealer_layers(sites: pd.DataFrame) -> DealerLayers:
    """Point rows ``[lat, lon, radius, title, *values]`` of every site, by brand.

    The values go with :data:`DEALER_LABELS`.
    """
    brands_of = [brand_list(b) for b in sites["brands"]]
    all_brands = sorted({b for bs in brands_of for b in bs}, key=str.lower)
    by_brand: dict[str, list[list[Any]]] = {b: [] for b in all_brands}
    multi: list[list[Any]] = []
    for brands, row in zip(brands_of, sites.itertuples(index=False), strict=True):
        point = [
            _coord(row.lat),
            _coord(row.lon),
            5 if len(brands) > 1 else 4,
            _text(row.name),
            " + ".join(brands),
            _text(row.country),
            fmt_int(row.n_dealers),
            _text(row.site_id),
        ]
        if len(brands) > 1:
            multi.append(point)
        elif brands:
            by_brand[brands[0]].append(point)
    return DealerLayers(by_brand=by_brand, multi_brand=multi, colours=brand_colours(all_brands))


def chosen_site_rows(sites: pd.DataFrame, demand: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per chosen site: position, marker size and the popup's lines."""
    chosen = sites[sites["chosen"].astype(bool)]
    served_points = demand.loc[demand["covered"].astype(bool), "site_id"].astype(str)
    points_per_site = served_points.value_counts()
    max_chargers = max(1, int(chosen["chargers"].max())) if len(chosen) else 1
    rows = []
    for row in chosen.itertuples(index=False):
        chargers = round(_finite(row.chargers) or 0.0)
        site_id = _text(row.site_id)
        # Area (not diameter) grows with chargers, so sizes compare fairly by eye.
        size = round(18 + 18 * math.sqrt(chargers / max_chargers))
        rows.append(
            {
                "lat": _coord(row.lat),
                "lon": _coord(row.lon),
                "size": size,
                "chargers": chargers,
                "title": _text(row.name),
                "pairs": [
                    ["Site", site_id],
                    ["Brands", " + ".join(brand_list(row.brands))],
                    ["Country", _text(row.country)],
                    ["Dealers at site", fmt_int(row.n_dealers)],
                    ["Chargers (800 V)", fmt_int(chargers)],
                    ["Sessions/day served", fmt_amount(row.demand_served)],
                    ["Demand points served", fmt_int(points_per_site.get(site_id, 0))],
                    ["Population within reach", fmt_int(row.population_in_reach)],
                    ["Marginal population (only this site)", fmt_int(row.marginal_population)],
                ],
            }
        )
    return rows


@dataclass(frozen=True)
class DemandLayers:
    """Demand points for drawing, the largest first, at most the scenario's limit.

    Attributes
    ----------
    covered, uncovered
        Point rows ``[lat, lon, radius, title, *values]``, values as
        :data:`DEMAND_LABELS` name them.
    heat
        ``[lat, lon, intensity]`` of uncovered points, intensity in 0..1.
    drawn, total
        How many points are drawn and how many there are.
    """

    covered: list[list[Any]]
    uncovered: list[list[Any]]
    heat: list[list[float]]
    drawn: int
    total: int


def demand_layers(demand: pd.DataFrame, limit: int) -> DemandLayers:
    """Split the largest ``limit`` demand points into covered and uncovered rows."""
    total = len(demand)
    shown = demand.sort_values("population", ascending=False, kind="stable").head(limit)
    population = shown["population"].to_numpy(dtype=float)
    # Radius by log population: cities stand out, villages stay visible.
    radius = np.clip(1.5 + np.log10(np.maximum(population, 1.0)) - 2.5, 1.5, 6.0)
    # Heat by demand weight, the quantity coverage counts; square root so a few
    # large cities do not wash out everything else.
    weight = np.maximum(shown["weight"].to_numpy(dtype=float), 0.0)
    uncovered_weight = weight[~shown["covered"].to_numpy(dtype=bool)]
    top = float(uncovered_weight.max()) if len(uncovered_weight) else 0.0
    intensity = np.sqrt(weight / top) if top > 0 else np.zeros_like(weight)
    covered: list[list[Any]] = []
    uncovered: list[list[Any]] = []
    heat: list[list[float]] = []
    for r, heat_value, row in zip(radius, intensity, shown.itertuples(index=False), strict=True):
        lat, lon = _coord(row.lat), _coord(row.lon)
        point = [
            lat,
            lon,
            round(float(r), 1),
            _text(row.name),
            fmt_int(row.population),
            fmt_amount(row.weight),
            _text(row.country),
            _text(row.site_id) if row.covered else "none",
        ]
        if bool(row.covered):
            covered.append(point)
        else:
            uncovered.append(point)
            heat.append([lat, lon, round(float(min(heat_value, 1.0)), 3)])
    return DemandLayers(covered, uncovered, heat, drawn=len(shown), total=total)


def outline_geojson(outlines: gpd.GeoDataFrame, tolerance_deg: float = 0.01) -> dict[str, Any]:
    """Country outlines as GeoJSON geometry only, simplified for a light file.

    Only geometry is kept: the outlines are drawn, never labelled, so no
    string from the outline file reaches the page.
    """
    geometry = outlines.to_crs(4326).geometry if outlines.crs else outlines.geometry
    simple = geometry.simplify(tolerance_deg, preserve_topology=True)
    features = gpd.GeoSeries(simple).set_precision(10**-COORD_DECIMALS)
    return json.loads(gpd.GeoSeries(features, crs=4326).to_json(drop_id=True))


def bounds(sites: pd.DataFrame, demand: pd.DataFrame) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` of every site and demand point."""
    lat = pd.concat([sites["lat"], demand["lat"]]).astype(float)
    lon = pd.concat([sites["lon"], demand["lon"]]).astype(float)
    if lat.empty:
        return None
    return [[float(lat.min()), float(lon.min())], [float(lat.max()), float(lon.max())]]
