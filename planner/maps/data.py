"""Turn a :class:`~planner.pipeline.plan.Plan` into the compact data the map draws.

Everything here is pure data, ready for :func:`script_json`. Layers travel as
columns, not as one record per point: each column is a :func:`column` spec
(values, a dictionary of repeated strings, or one constant), so no key or
repeated string is written once per point. Coordinates are integers of
``10**-decimals`` degrees, each the difference to the previous point
(:func:`delta_coords`); sorted along latitude, most of them take two or
three digits instead of eight.

Numbers shown to people are rounded here to the digits they are shown with
(:func:`~planner.maps.formats.amount_value`), so the page's formatter
(``plannerMap`` in :mod:`planner.maps.script`) prints the same text as
:func:`~planner.maps.formats.fmt_amount` whatever the browser's locale.

This module holds that encoding, the map's colours, the dealer-site,
existing-charger and country-outline layers and the map's bounds. The
chosen sites' rows are in :mod:`planner.maps.site_rows`, the demand layers
in :mod:`planner.maps.demand_layers`, town names in
:mod:`planner.maps.town_labels` and number formats in
:mod:`planner.maps.formats`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner._text import finite
from planner.maps.formats import amount_value
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


def as_text(value: Any) -> str:
    """A cell's text: ``""`` for ``None`` or NaN, else ``str(value)``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def column(values: Sequence[Any], fmt: Format = "text") -> dict[str, Any]:
    """One column of a layer, as the page's ``column()`` reads it.

    ``{"f": format, "c": value}`` when every value is the same,
    ``{"f": format, "d": distinct values, "v": indices}`` when values repeat
    (countries, brands, serving sites), else ``{"f": format, "v": values}``.
    Missing numbers are ``null`` and show as "n/a".
    """
    if fmt == "text":
        cells: list[Any] = [as_text(v) for v in values]
    elif fmt == "yesno":
        cells = [None if v is None or pd.isna(v) else bool(v) for v in values]
    elif fmt == "amount":
        cells = [amount_value(v) for v in values]
    else:
        cells = [int_or_none(v) for v in values]
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


def int_or_none(value: Any) -> int | None:
    """A number rounded to an integer, or ``None`` when missing or not finite."""
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
    return [b.strip() for b in as_text(brands).split(";") if b.strip()]


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

#: Tooltip labels of an existing charger.
EXISTING_LABELS = ("Operator", "Power", "Charging points", "Id")


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

    operators = [as_text(v) for v in values("operator")]
    titles = [
        as_text(name) or operator or "Existing charger"
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
