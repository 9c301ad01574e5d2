"""The comparison page: two written plans in synchronised side-by-side maps.

Plan A is on the left, plan B on the right; panning or zooming one moves the
other (folium's ``DualMap``, Leaflet.Sync). Chosen sites are coloured by what
happened to them: kept (in both plans), removed (only in A, left map) or
added (only in B, right map). A panel at the bottom gives the change of the
key figures, the sites kept, added and removed, and the coverage change per
country.
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Sequence
from string import Template
from typing import Any, Literal

import geopandas as gpd

from planner._text import fmt_eur
from planner.errors import PlannerError
from planner.maps import data, formats, reach_areas, site_rows
from planner.maps.assets import (
    CDN_URLS,
    MapAssets,
    drop_unused_resources,
    folium_module,
    plugins_module,
)
from planner.maps.base import (
    LAYER_NAMES,
    credit_roads,
    json_group,
    map_options,
    prepare_map,
)
from planner.maps.layers import JsonLayer, Markup
from planner.maps.script import static_text
from planner.outputs.written import PlanDiff, WrittenPlan, compare_plans
from planner.scenario.schema import TravelConfig

log = logging.getLogger(__name__)

Side = Literal["A", "B"]

#: Marker colours of the comparison, as in ``static/map.css``: told
#: apart with every common colour-vision deficiency (Okabe-Ito bluish green and vermilion).
KIND_COLOURS = {"kept": "#0b3d91", "added": "#009e73", "removed": "#d55e00"}


#: Share of the page height the two maps take; the change panel has the rest.
MAP_HEIGHT_PCT = 64

#: Popups pan clear of the pane label (top) and the layer control (right).
_POPUP_PADDING = {"autoPanPaddingTopLeft": [20, 110], "autoPanPaddingBottomRight": [60, 20]}

#: Maps on top, the change panel below them: nothing hides part of a map. The
#: file holds ``${map_height_pct}`` where the maps' share of the page goes, so
#: that the split is set in one place, :data:`MAP_HEIGHT_PCT`.
_LAYOUT_CSS = (
    "\n<style>\n"
    + Template(static_text("compare.css")).substitute(map_height_pct=MAP_HEIGHT_PCT)
    + "</style>\n"
)


def comparison_site_rows(plan: WrittenPlan, other: WrittenPlan, side: Side) -> list[dict[str, Any]]:
    """Marker rows of one side's chosen sites, each marked kept, added or removed."""
    other_chargers = dict(zip(other.chosen["site_id"], other.chosen["chargers"], strict=True))
    # One scale for both maps, so equal markers mean equal chargers left and right.
    max_chargers = max(
        1,
        int(plan.chosen["chargers"].max() if len(plan.chosen) else 0),
        int(other.chosen["chargers"].max() if len(other.chosen) else 0),
    )
    rows = []
    for row in plan.chosen.to_dict("records"):
        site_id = str(row["site_id"])
        chargers = int(row["chargers"])
        if site_id in other_chargers:
            kind, change = "kept", "in both plans"
        elif side == "A":
            kind, change = "removed", "only in A (removed in B)"
        else:
            kind, change = "added", "only in B (added)"
        chargers_a = chargers if side == "A" else other_chargers.get(site_id)
        chargers_b = chargers if side == "B" else other_chargers.get(site_id)
        pairs = [
            ["Site", site_id],
            ["Change", change],
            ["Brands", " + ".join(data.brand_list(row["brands"]))],
            ["Country", str(row["country"])],
            ["Chargers in A", "none" if chargers_a is None else formats.fmt_int(chargers_a)],
            ["Chargers in B", "none" if chargers_b is None else formats.fmt_int(chargers_b)],
        ]
        for column, label in (
            ("demand_served", f"Sessions/day served in {side}"),
            ("population_in_reach", "Population within reach"),
            ("marginal_population", f"Marginal population in {side}"),
        ):
            if column in plan.sites.columns:
                value = row[column]
                shown = (
                    formats.fmt_amount(value)
                    if column == "demand_served"
                    else formats.fmt_int(value)
                )
                pairs.append([label, shown])
        rows.append(
            {
                "lat": round(float(row["lat"]), data.COORD_DECIMALS),
                "lon": round(float(row["lon"]), data.COORD_DECIMALS),
                "size": site_rows.site_marker_size(chargers, max_chargers),
                "chargers": chargers,
                "title": str(row["name"]),
                "pairs": pairs,
                "kind": kind,
            }
        )
    return rows


def render_comparison_page(
    a: WrittenPlan,
    b: WrittenPlan,
    *,
    outlines: gpd.GeoDataFrame | None,
    assets: MapAssets,
) -> str:
    """The HTML of the two-pane comparison of plans ``a`` and ``b``."""
    lib = folium_module(assets)
    dual = plugins_module(assets).DualMap(layout="horizontal", **map_options())
    if assets == "cdn":
        dual.default_js = [("Leaflet.Sync", CDN_URLS["Leaflet.Sync"])]
    diff = compare_plans(a, b)
    sides: list[tuple[Side, WrittenPlan, WrittenPlan, Any]] = [
        ("A", a, b, dual.m1),
        ("B", b, a, dual.m2),
    ]
    for side, plan, other, folium_map in sides:
        drop_unused_resources(folium_map)
        # The right-hand map draws the outlines the left one embedded.
        prepare_map(lib, folium_map, outlines, same_outlines=side == "B")
        rows = comparison_site_rows(plan, other, side)
        json_group(lib, folium_map, *_reach_layer(plan, rows))
        credit_roads(folium_map, _road_travel(plan) is not None)
        sites = JsonLayer("sites", site_rows.site_layer(rows), _POPUP_PADDING)
        json_group(lib, folium_map, LAYER_NAMES["chosen"], sites)
        lib.LayerControl(collapsed=True, position="topright").add_to(folium_map)
    box = _reach_bounds([a, b])
    if box is not None:
        # Room for the pane labels at the top and the layer controls on the right.
        padding = {"paddingTopLeft": [30, 100], "paddingBottomRight": [60, 30]}
        for folium_map in (dual.m1, dual.m2):
            JsonLayer("fit", box, padding).add_to(folium_map)
    figure = dual.get_root()
    name_a, name_b = pane_names(a, b)
    figure.title = html.escape(f"Comparison: A {name_a}, B {name_b}")
    figure.header.add_child(Markup(_LAYOUT_CSS), name="planner_compare_css")
    panels = _labels(a, b, diff) + _diff_panel(a, b, diff)
    figure.html.add_child(Markup(panels), name="planner_panels")
    page: str = figure.render()
    return page


def _reach_layer(plan: WrittenPlan, rows: list[dict[str, Any]]) -> tuple[str, JsonLayer]:
    """The plan's reach: isochrones under the road model (when its routing folder opens),
    else circles of its great-circle radius."""
    style = {
        "color": data.REACH_COLOUR,
        "weight": 1,
        "opacity": 0.6,
        "fillOpacity": 0.05,
        "interactive": False,
    }
    road = _road_travel(plan)
    if road is not None:
        try:
            shapes = reach_areas.travel_isochrones(road, rows)
        except (PlannerError, ValueError, OSError) as exc:
            log.warning("compare: %s: no isochrones (%s); reach drawn as circles", plan.name, exc)
        else:
            layer = JsonLayer("isochrones", shapes, {**style, "fillOpacity": 0.08})
            return reach_areas.REACH_LAYER_NAME, layer
    centres = data.delta_coords([r["lat"] for r in rows], [r["lon"] for r in rows])
    radius_m = plan.radius_km / plan.circuity * 1000.0
    return LAYER_NAMES["reach"], JsonLayer("circles", centres, radius_m, style)


def _reach_text(side: str, plan: WrittenPlan) -> str:
    """One line on a plan's reach: its road reach, or its great-circle radius."""
    road = _road_travel(plan)
    label = reach_areas.travel_reach_label(road) if road is not None else None
    if label is not None:
        return html.escape(f"{label.replace('Reach', f'Reach {side}', 1)}.")
    return (
        f"Reach {side}: {plan.radius_km / plan.circuity:.1f} km great-circle "
        f"= {plan.radius_km:g} km / circuity {plan.circuity:g}."
    )


def _road_travel(plan: WrittenPlan) -> TravelConfig | None:
    """The plan's travel section when it is the road model (and reads back), else ``None``."""
    travel = plan.scenario.get("travel", {})
    # A hand-edited scenario.toml may hold anything there (travel = "x").
    if not isinstance(travel, dict) or travel.get("mode") != "road":
        return None
    try:
        return TravelConfig.model_validate(travel)
    except ValueError:
        return None


def _reach_km(plan: WrittenPlan) -> float:
    """How far a site's reach can go from it, km, for the view's margins.

    Under the road model: the road limit in km, or a minute of driving per km.
    """
    road = _road_travel(plan)
    if road is None:
        return plan.radius_km / plan.circuity
    return road.road_limit


def _reach_bounds(plans: list[WrittenPlan]) -> list[list[float]] | None:
    """Bounds of every chosen site's reach circle, so whole circles are in view."""
    boxes = []
    for plan in plans:
        if not len(plan.chosen):
            continue
        reach_deg = _reach_km(plan) / 111.2
        lat = plan.chosen["lat"].astype(float)
        lon = plan.chosen["lon"].astype(float)
        stretch = 1 / max(math.cos(math.radians(float(lat.abs().max()))), 0.1)
        boxes.append(
            (
                float(lat.min()) - reach_deg,
                float(lon.min()) - reach_deg * stretch,
                float(lat.max()) + reach_deg,
                float(lon.max()) + reach_deg * stretch,
            )
        )
    if not boxes:
        return None
    south, west, north, east = zip(*boxes, strict=True)
    return [[min(south), min(west)], [max(north), max(east)]]


def pane_names(a: WrittenPlan, b: WrittenPlan) -> tuple[str, str]:
    """Short names that tell the two plan folders apart: folder names, with parents if equal."""
    parts_a, parts_b = a.folder.resolve().parts, b.folder.resolve().parts
    for depth in range(1, max(len(parts_a), len(parts_b)) + 1):
        name_a, name_b = "/".join(parts_a[-depth:]), "/".join(parts_b[-depth:])
        if name_a != name_b:
            return name_a, name_b
    return str(a.folder), str(b.folder)


def _shown(value: Any, key: str = "") -> str:
    """A scenario value as the page shows it: euros and large numbers as the panels do."""
    if isinstance(value, list):
        return ", ".join(_shown(v, key) for v in value)
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        # "40000000.0" beside "€70.1 M" on the same page read as another unit.
        if key.endswith("_eur"):
            return fmt_eur(value)
        return formats.fmt_int(value) if float(value).is_integer() else f"{value:,.6g}"
    return "unset" if value is None else str(value)


#: At most this many differing scenario fields go into a pane label.
_LABEL_CHANGES = 3


def _labels(a: WrittenPlan, b: WrittenPlan, diff: PlanDiff) -> str:
    """Each pane's folder, scenario, the scenario fields that differ and its key figures."""
    names = pane_names(a, b)

    def label(side: Side, plan: WrittenPlan, name: str, index: int) -> str:
        # The name is on the line above; the label lists the other fields.
        differing = [change for change in diff.scenario_changes if change[0] != "name"]
        changes = [
            f"{key} = {_shown(values[index], key)}" for key, *values in differing[:_LABEL_CHANGES]
        ]
        if len(differing) > _LABEL_CHANGES:
            changes.append(f"{len(differing) - _LABEL_CHANGES} more fields (see below)")
        figures = (
            f"coverage {formats.fmt_pct(plan.report.get('coverage_pct'))} · "
            f"{formats.fmt_int(len(plan.chosen))} sites · "
            f"{formats.fmt_int(plan.chosen['chargers'].sum())} chargers"
        )
        details = [
            f"scenario {html.escape(plan.name)}",
            *(html.escape(c) for c in changes),
            html.escape(figures),
        ]
        # On a phone only the name shows (compare.css): the details are in the
        # panel below, and a label a quarter of the screen wide cannot hold them.
        return (
            f'<div class="planner-panel planner-pane-label" id="planner-pane-{side.lower()}" '
            f'title="{html.escape(plan.title)}"><b>{side}: {html.escape(name)}</b>'
            '<span class="planner-pane-detail"><br>' + "<br>".join(details) + "</span></div>"
        )

    return label("A", a, names[0], 0) + label("B", b, names[1], 1)


def _table(head: list[str], rows: Sequence[tuple[str, ...]]) -> str:
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _diff_panel(a: WrittenPlan, b: WrittenPlan, diff: PlanDiff) -> str:
    swatch = (
        '<span class="planner-swatch" style="display:inline-block;vertical-align:middle;'
        'background:{colour};border:2px solid #fff;box-shadow:0 0 2px #000"></span>'
    )
    counts = " &middot; ".join(
        f"{swatch.format(colour=KIND_COLOURS[kind])} {label} <b>{len(ids):,}</b>"
        for kind, label, ids in (
            ("kept", "kept", diff.kept),
            ("added", "added (B only)", diff.added),
            ("removed", "removed (A only)", diff.removed),
        )
    )
    reach = "<br>".join(_reach_text(side, p) for side, p in (("A", a), ("B", b)))
    return (
        '<div class="planner-panel planner-diff" id="planner-diff">'
        "<div><h2>From A to B</h2>"
        + _table(["", "A", "B", "Change"], diff.totals)
        + f'<div class="planner-note" id="planner-diff-sites">Sites: {counts}</div>'
        + f'<div class="planner-note">{reach}<br>Marker area and number = chargers.</div></div>'
        + '<div id="planner-diff-countries"><h2>Coverage by country</h2>'
        + _table(["Country", "A", "B", "Change", "Sites A", "Sites B"], diff.by_country)
        + "</div>"
        + _scenario_table(diff)
        + "</div>"
    )


def _scenario_table(diff: PlanDiff) -> str:
    if not diff.scenario_changes:
        return (
            '<div id="planner-diff-scenario"><h2>Scenario</h2>'
            '<div class="planner-note">The same scenario fields in A and B.</div></div>'
        )
    rows = [(key, _shown(x, key), _shown(y, key)) for key, x, y in diff.scenario_changes]
    return (
        '<div id="planner-diff-scenario"><h2>Scenario fields that differ</h2>'
        + _table(["Field", "A", "B"], rows)
        + "</div>"
    )
