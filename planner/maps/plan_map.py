"""The review map: one self-contained HTML file per plan.

The page opens from disk with no network. Leaflet is inlined (via
``offlinefolium``), the basemap is the vector country outlines on a plain
background, and online tile layers (OpenStreetMap, CartoDB Positron) are only
offered in the layer control. Layers:

- one per brand with that brand's dealer sites, and one with dual-brand sites;
- the chosen 800 V sites, a marker each, its area and number giving the
  chargers, with a popup explaining the site (brands, chargers, demand
  served, queueing at the peak hour, population within reach, marginal
  sessions/day and population); a red ring marks a site that misses the
  queueing target, and on a phased roll-out the markers take the colour of
  their opening year and a control shows the sites open by a chosen year;
- reach circles around the chosen sites, of great-circle radius
  ``travel.radius_km / travel.circuity``, or under the road model each
  site's drive-time isochrone (:mod:`planner.maps.reach_areas`);
- demand points covered (off by default) and not covered, and a heat layer
  of uncovered demand (off by default, under the points);
- existing high-power chargers, when the plan has them.

A title (the scenario and the model solved; "sample network" only on the
sample), a KPI panel with cost, queueing, the solver's status in words and
the per-year and per-country tables, and a legend sit over the map. Strings from input files
never reach an HTML parser unescaped: panels use :func:`html.escape`, layers
set ``textContent`` from embedded JSON that cannot close its script.
"""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import pandas as pd

from planner._atomic import write_atomically
from planner.inputs.corridors import load_corridors
from planner.maps import data, demand_layers, reach_areas, site_rows, town_labels
from planner.maps.assets import (
    CDN_URLS,
    MapAssets,
    folium_module,
    loaded_resources,
    plugins_module,
)
from planner.maps.base import LAYER_NAMES, credit_roads, json_group, new_map, prepare_map
from planner.maps.compare_page import render_comparison_page
from planner.maps.layers import JsonLayer, JsRef, Markup
from planner.maps.line_layers import corridors_layer, trips_layer
from planner.maps.panels import (
    LegendFacts,
    frontier_panel,
    kpi_panel,
    legend_panel,
    plan_title,
    title_panel,
)
from planner.outputs.written import read_plan_folders
from planner.scenario.schema import Scenario

__all__ = [
    "LAYER_NAMES",
    "MapAssets",
    "brand_layer_name",
    "plan_folium_map",
    "render_comparison",
    "render_map",
    "write_comparison",
    "write_map",
]

log = logging.getLogger(__name__)


class PlanView(Protocol):
    """What a map reads of a plan (:class:`planner.Plan` has it all)."""

    @property
    def scenario(self) -> Scenario: ...
    @property
    def sites(self) -> gpd.GeoDataFrame: ...
    @property
    def demand(self) -> gpd.GeoDataFrame: ...
    @property
    def report(self) -> dict[str, Any]: ...
    @property
    def existing_chargers(self) -> pd.DataFrame | None: ...


#: Popups pan clear of the title, the KPI panel and legend (left) and the layer control.
_POPUP_CLEAR_OF_PANELS = {
    "autoPanPaddingTopLeft": [340, 90],
    "autoPanPaddingBottomRight": [260, 20],
}

#: Networks larger than this open with the dealer layers off (see _add_dealer_layers).
DEALERS_SHOWN_UP_TO = 5000

#: Yellow to dark red, as the legend's swatch shows.
_HEAT_GRADIENT = {0.3: "#ffffb2", 0.6: "#fd8d3c", 1.0: "#bd0026"}


def brand_layer_name(brand: str) -> str:
    """Layer-control name of one brand's dealer sites."""
    return f"{brand} dealer sites"


def render_map(
    plan: PlanView,
    *,
    outlines: gpd.GeoDataFrame | None = None,
    assets: MapAssets = "inline",
    frontier_png: bytes | None = None,
) -> str:
    """The complete HTML page of a plan's map.

    Parameters
    ----------
    plan
        The plan to draw; its ``existing_chargers`` get a layer when present.
    outlines
        Country outlines (any CRS, a ``geometry`` column) drawn as the offline
        basemap; ``None`` leaves a plain background.
    assets
        ``"inline"``: every script and style in the page, so it renders with
        the network off. ``"cdn"``: Leaflet and the heat plugin linked from
        public CDNs at pinned versions; the page then needs the network, and
        is smaller by the library code only (about 160 KB): the plan's data
        is in the page either way.
    frontier_png
        A coverage-frontier plot (PNG bytes, as ``planner frontier`` draws
        it) to embed in a collapsible panel; ``None`` for no panel.

    Returns
    -------
    str
        The HTML document.
    """
    folium_map = plan_folium_map(plan, outlines=outlines, assets=assets, frontier_png=frontier_png)
    page: str = folium_map.get_root().render()
    if assets == "inline":
        external = [u for u in loaded_resources(page) if not u.startswith("data:")]
        if external:
            log.warning("map loads resources from outside the page: %s", external)
    log.info(
        "map: %d chosen sites, %d dealer sites, %d of %d demand points, %.1f MB",
        int(plan.sites["chosen"].sum()),
        len(plan.sites),
        min(len(plan.demand), plan.scenario.output.max_demand_points),
        len(plan.demand),
        len(page.encode()) / 1e6,
    )
    return page


def plan_folium_map(
    plan: PlanView,
    *,
    outlines: gpd.GeoDataFrame | None = None,
    assets: MapAssets = "inline",
    frontier_png: bytes | None = None,
) -> Any:
    """The plan's map as a ``folium.Map`` (parameters as for :func:`render_map`).

    In a notebook the map shows inline; ``render_map`` is its HTML page.
    """
    lib = folium_module(assets)
    scenario = plan.scenario
    sites, demand = plan.sites, plan.demand
    sample = data.is_sample(scenario)
    title = plan_title(scenario.title, scenario.name, sample)
    folium_map = new_map(lib)
    figure = folium_map.get_root()
    figure.title = html.escape(f"{title} ({scenario.name})")
    prepare_map(lib, folium_map, outlines)

    dealers = _add_dealer_layers(lib, folium_map, sites)
    existing = _add_existing_chargers(lib, folium_map, plan.existing_chargers)
    # A plan of a flow model carries its trips (planner.Plan.trips).
    trips_drawn = _add_trips(lib, folium_map, getattr(plan, "trips", None))
    corridors_drawn = _add_corridors(lib, folium_map, plan.report, scenario)
    demand_layers = _add_demand_layers(lib, folium_map, demand, scenario, assets)
    chosen = _add_site_layers(lib, folium_map, sites, demand, scenario)
    towns = _add_town_labels(lib, folium_map, scenario)
    reach_km = data.reach_radius_km(scenario)

    lib.LayerControl(collapsed=False, position="topright").add_to(folium_map)
    box = data.bounds(sites, demand)
    if box is not None:
        # Room for the panels: KPI and legend on the left, the layer control on the right.
        padding = {"paddingTopLeft": [330, 90], "paddingBottomRight": [250, 20]}
        JsonLayer("fit", box, padding).add_to(folium_map)
    credit_roads(folium_map, scenario.travel.mode == "road")

    facts = LegendFacts(
        brand_colours=dealers.colours,
        has_multi_brand=dealers.multi_brand is not None,
        radius_km=scenario.travel.radius_km,
        circuity=scenario.travel.circuity,
        reach_km=reach_km,
        reach_drawn=scenario.output.reach_circles,
        reach_label=reach_areas.reach_label(scenario),
        demand_drawn=demand_layers.drawn,
        demand_total=demand_layers.total,
        existing_chargers=existing,
        dealers_hidden=len(sites) > DEALERS_SHOWN_UP_TO,
        overloaded_sites=sum(bool(row["overloaded"]) for row in chosen),
        max_wait_probability=scenario.chargers.max_wait_probability,
        year_colours=site_rows.year_colours([row["opening_year"] for row in chosen]),
        chargers_by_year=any("year_chargers" in row for row in chosen),
        overloaded_by_year=site_rows.overloaded_by_year(chosen, scenario.constraints.phases),
        town_names=towns,
        trips_drawn=trips_drawn,
        corridors_drawn=corridors_drawn,
    )
    panels = (
        title_panel(
            title,
            scenario.name,
            scenario.model.name,
            sample,
            solved_model=plan.report.get("model"),
        )
        + '<div class="planner-left">'
        + kpi_panel(plan.report)
        + legend_panel(facts)
        + "</div>"
        + (frontier_panel(frontier_png) if frontier_png is not None else "")
    )
    figure.html.add_child(Markup(panels), name="planner_panels")

    return folium_map


def _add_dealer_layers(lib: Any, folium_map: Any, sites: gpd.GeoDataFrame) -> data.DealerLayers:
    """One layer per brand's single-brand sites, one for dual-brand sites.

    Small dots with a thin dark outline; the most numerous brand is drawn
    first, so a rarer brand's dots are never buried under it, and dual-brand
    sites (larger, with a dark ring) on top of both. Above
    :data:`DEALERS_SHOWN_UP_TO` sites the layers start switched off: tens of
    thousands of dots would bury the chosen sites at a continent's zoom.
    """
    dealers = data.dealer_layers(sites)
    show = len(sites) <= DEALERS_SHOWN_UP_TO
    for brand in sorted(dealers.by_brand, key=lambda b: -dealers.counts[b]):
        style = {
            "color": "#3d3d3d",
            "weight": 0.6,
            "fillColor": dealers.colours[brand],
            "fillOpacity": 0.95,
        }
        layer = JsonLayer("points", dealers.by_brand[brand], style)
        json_group(lib, folium_map, brand_layer_name(brand), layer, show)
    if dealers.multi_brand is not None:
        style = {
            "color": "#1a1a1a",
            "weight": 1.5,
            "fillColor": data.DUAL_BRAND_COLOUR,
            "fillOpacity": 1,
        }
        layer = JsonLayer("points", dealers.multi_brand, style)
        json_group(lib, folium_map, LAYER_NAMES["multi_brand"], layer, show)
    return dealers


def _add_demand_layers(
    lib: Any,
    folium_map: Any,
    demand: gpd.GeoDataFrame,
    scenario: Scenario,
    assets: MapAssets,
) -> demand_layers.DemandLayers:
    """Covered (off) and uncovered demand points under everything else, and the heat layer.

    Thousands of places would cover the dealers and sites like a carpet:
    the covered ones are off by default (the reach circles show coverage),
    the uncovered ones are small and half transparent.
    """
    layers = demand_layers.demand_layers(demand, scenario.output.max_demand_points)
    groups = {}
    for key, rows, colour, show in (
        ("covered", layers.covered, data.COVERED_COLOUR, False),
        ("uncovered", layers.uncovered, data.UNCOVERED_COLOUR, True),
    ):
        if rows is None:
            continue
        style = {"stroke": False, "fillColor": colour, "fillOpacity": 0.45}
        layer = JsonLayer("points", rows, style, True)
        groups[key] = json_group(lib, folium_map, LAYER_NAMES[key], layer, show)
    if "uncovered" in groups:
        heat = plugins_module(assets).HeatMap(
            [],
            name=LAYER_NAMES["heat"],
            show=False,
            radius=18,
            blur=14,
            # Each point's own floor of opacity: with thousands of small
            # uncovered places, 0.3 each added up to red over whole regions.
            min_opacity=0.05,
            # No max_zoom: Leaflet's layer control would grey the layer out
            # above it. plannerMap.heat scales intensity to the 95th percentile.
            max_zoom=None,
            gradient=_HEAT_GRADIENT,
            pane="plannerHeat",
        )
        if assets == "cdn":
            heat.default_js = [("leaflet-heat.js", CDN_URLS["leaflet-heat.js"])]
        weight = demand_layers.DEMAND_WEIGHT_COLUMN
        JsonLayer("heat", JsRef(groups["uncovered"]), weight).add_to(heat)
        heat.add_to(folium_map)
    return layers


def _add_town_labels(lib: Any, folium_map: Any, scenario: Scenario) -> int:
    """Names of the plan's larger towns over the offline basemap; how many there are.

    The outlines show countries only: zoomed in, these labels tell a reviewer
    offline where a site is. The largest places are named from zoom 6, smaller
    ones as the map zooms in (:func:`planner.maps.town_labels.town_min_zoom`); the
    labels never take a click from the sites.
    """
    towns = town_labels.town_label_layer(scenario.demand.countries)
    if towns is None:
        return 0
    json_group(lib, folium_map, LAYER_NAMES["towns"], JsonLayer("towns", towns))
    return len(towns["names"])


def _add_existing_chargers(lib: Any, folium_map: Any, chargers: pd.DataFrame | None) -> int:
    """Existing high-power chargers as small dark squares; how many are drawn."""
    if chargers is None or chargers.empty:
        return 0
    layer_data = data.existing_charger_layer(chargers)
    if layer_data is None:
        return 0
    style = {
        "shape": "square",
        "color": "#ffffff",
        "weight": 1,
        "fillColor": data.EXISTING_CHARGER_COLOUR,
        "fillOpacity": 1,
    }
    json_group(lib, folium_map, LAYER_NAMES["existing"], JsonLayer("points", layer_data, style))
    return len(layer_data["lat"])


def _add_trips(lib: Any, folium_map: Any, trips: pd.DataFrame | None) -> int:
    """The strongest long-distance trips as lines; how many are drawn."""
    if trips is None or trips.empty:
        return 0
    layer_data = trips_layer(trips)
    if layer_data is None:
        return 0
    json_group(lib, folium_map, LAYER_NAMES["trips"], JsonLayer("lines", layer_data))
    return len(layer_data["lines"])


def _add_corridors(lib: Any, folium_map: Any, report: dict[str, Any], scenario: Scenario) -> int:
    """The AFIR corridors of the report, coloured by the milestone met; how many."""
    afir = report.get("afir")
    if not afir or scenario.afir.corridors is None:
        return 0
    layer_data = corridors_layer(
        load_corridors(scenario.afir.corridors), afir["corridors"], afir["max_gap_km"]
    )
    if layer_data is None:
        return 0
    json_group(lib, folium_map, LAYER_NAMES["corridors"], JsonLayer("lines", layer_data))
    return len(afir["corridors"])


def _add_site_layers(
    lib: Any,
    folium_map: Any,
    sites: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    scenario: Scenario,
) -> list[dict[str, Any]]:
    """Reach circles (when the scenario wants them) and the chosen-site markers.

    On a phased plan the markers are coloured by opening year, the popups name
    the year and the year whose demand their figures are for, and a control
    (``plannerMap.years``) shows the sites open by a chosen year, with their
    reach circles and the chargers installed by then.
    """
    phases = scenario.constraints.phases
    phased = bool(phases) and "opening_year" in sites.columns
    chosen = site_rows.chosen_site_rows(
        sites,
        demand,
        max_wait_probability=scenario.chargers.max_wait_probability,
        demand_year=phases[-1].year if phased else None,
        year_columns=(
            [(phase.year, phase.chargers_column, phase.queue_column) for phase in phases]
            if phased
            else ()
        ),
    )
    reach_group = None
    if scenario.output.reach_circles:
        style = {
            "color": data.REACH_COLOUR,
            "weight": 1,
            "opacity": 0.6,
            "fillOpacity": 0.05,
            "interactive": False,
        }
        name = LAYER_NAMES["reach"]
        if scenario.travel.mode == "road":
            shapes = reach_areas.isochrone_shapes(scenario, chosen)
            layer = JsonLayer("isochrones", shapes, {**style, "fillOpacity": 0.08})
            name = reach_areas.REACH_LAYER_NAME
        else:
            centres = data.delta_coords([r["lat"] for r in chosen], [r["lon"] for r in chosen])
            radius_m = data.reach_radius_km(scenario) * 1000.0
            layer = JsonLayer("circles", centres, radius_m, style)
        reach_group = json_group(lib, folium_map, name, layer)
    site_data = site_rows.site_layer(chosen)
    layer = JsonLayer("sites", site_data, _POPUP_CLEAR_OF_PANELS)
    site_group = json_group(lib, folium_map, LAYER_NAMES["chosen"], layer)
    if phased and "years" in site_data:
        years = [phase.year for phase in phases]
        reach = None if reach_group is None else JsRef(reach_group)
        counts = site_data.get("yearCounts")
        JsonLayer("years", site_data["years"], years, JsRef(site_group), reach, counts).add_to(
            folium_map
        )
    return chosen


def write_map(
    plan: PlanView,
    path: str | os.PathLike[str],
    *,
    outlines: gpd.GeoDataFrame | None = None,
    assets: MapAssets = "inline",
    frontier_png: bytes | None = None,
) -> Path:
    """Render the plan's map and write it to ``path`` atomically.

    The page is written to a temporary file beside ``path`` and renamed over
    it, so a failed render never leaves a half-written map. Parameters are
    those of :func:`render_map`.

    Returns
    -------
    Path
        The written file.
    """
    page = render_map(plan, outlines=outlines, assets=assets, frontier_png=frontier_png)
    return write_atomically(path, page)


def render_comparison(
    plan_a_dir: str | os.PathLike[str],
    plan_b_dir: str | os.PathLike[str],
    *,
    outlines: gpd.GeoDataFrame | None = None,
    assets: MapAssets = "inline",
) -> str:
    """The HTML page comparing two written plans in synchronised side-by-side maps.

    Parameters
    ----------
    plan_a_dir, plan_b_dir
        Output folders of ``planner run`` (``report.json`` and ``sites.csv``
        required, ``scenario.toml`` read when present). A is drawn on the
        left, B on the right.
    outlines, assets
        As for :func:`render_map`.

    Returns
    -------
    str
        The HTML document: both plans' chosen sites marked kept, added or
        removed, their reach circles, and a panel with the change of
        coverage, sites and chargers in total and per country.

    Raises
    ------
    InputError
        When a folder lacks a file or a column, naming every problem of both.
    """
    plan_a, plan_b = read_plan_folders(plan_a_dir, plan_b_dir)
    page = render_comparison_page(plan_a, plan_b, outlines=outlines, assets=assets)
    log.info(
        "comparison map: %s and %s, %.1f MB", plan_a.name, plan_b.name, len(page.encode()) / 1e6
    )
    return page


def write_comparison(
    plan_a_dir: str | os.PathLike[str],
    plan_b_dir: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    outlines: gpd.GeoDataFrame | None = None,
    assets: MapAssets = "inline",
) -> Path:
    """Render :func:`render_comparison` and write it to ``path`` atomically."""
    page = render_comparison(plan_a_dir, plan_b_dir, outlines=outlines, assets=assets)
    return write_atomically(path, page)
