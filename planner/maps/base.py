"""Building blocks shared by the plan map and the comparison map.

Layer names, the basemaps (vector outlines offline, tile layers online and
off by default), and feature groups filled from embedded JSON.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd

from planner.maps import data
from planner.maps.assets import drop_unused_resources
from planner.maps.layers import JsonLayer

#: Names of the fixed layers in the layer control (brand layers are named per brand).
LAYER_NAMES = {
    "outlines": "Country outlines (offline)",
    "plain": "Plain background (offline)",
    "osm": "OpenStreetMap (online)",
    "positron": "CartoDB Positron (online)",
    "multi_brand": "Dual-brand dealer sites",
    "chosen": "Chosen 800 V sites",
    "reach": "Reach circles",
    "covered": "Demand covered",
    "uncovered": "Demand not covered",
    "heat": "Uncovered demand (heat)",
    "existing": "Existing high-power chargers",
    "towns": "Town names",
    "trips": "Long-distance trips",
    "corridors": "AFIR corridors",
}

OSM_CREDIT = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
#: The credit a map owes OpenStreetMap (ODbL) when its reach came from OSM roads,
#: whichever basemap is shown.
ROAD_CREDIT = "Roads " + OSM_CREDIT


def credit_roads(folium_map: Any, road: bool) -> None:
    """Credit OpenStreetMap's roads in the map's corner when ``road`` (reach by road)."""
    if road:
        JsonLayer("credit", ROAD_CREDIT).add_to(folium_map)


#: Online basemaps offered in the layer control: URL template and attribution.
#: Written out rather than looked up by provider name, so no lookup can change them.
ONLINE_TILES = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", OSM_CREDIT),
    "positron": (
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        OSM_CREDIT + ' &copy; <a href="https://carto.com/attributions">CARTO</a>',
    ),
}


def add_basemaps(
    lib: Any, folium_map: Any, outlines: gpd.GeoDataFrame | None, *, same_outlines: bool = False
) -> None:
    """The offline basemap (shown) and the online tile layers (offered, not shown).

    ``same_outlines``: draw the outlines the page's previous map drew, without
    embedding them a second time (the comparison's right-hand map).
    """
    if outlines is not None and len(outlines):
        style = {"color": "#7a7a7a", "weight": 1, "fillColor": "#f7f6f2", "fillOpacity": 1}
        polygons = None if same_outlines else data.outline_layer(outlines)
        layer = JsonLayer("outlines", polygons, style)
        json_group(lib, folium_map, LAYER_NAMES["outlines"], layer, overlay=False)
    else:
        lib.FeatureGroup(name=LAYER_NAMES["plain"], overlay=False, show=True).add_to(folium_map)
    for key, (url, attribution) in ONLINE_TILES.items():
        lib.TileLayer(
            url, attr=attribution, name=LAYER_NAMES[key], overlay=False, show=False, max_zoom=19
        ).add_to(folium_map)


def json_group(
    lib: Any,
    folium_map: Any,
    name: str,
    layer: JsonLayer,
    show: bool = True,
    *,
    overlay: bool = True,
) -> Any:
    """Add a named feature group holding ``layer`` to the map; the group."""
    group = lib.FeatureGroup(name=name, overlay=overlay, show=show)
    layer.add_to(group)
    group.add_to(folium_map)
    return group


def new_map(lib: Any, **options: Any) -> Any:
    """A folium map the way every planner page starts: no tiles, canvas, half-step zoom."""
    folium_map = lib.Map(**map_options(), **options)
    drop_unused_resources(folium_map)
    return folium_map


def map_options() -> dict[str, Any]:
    """Options of every planner map (also those a DualMap creates)."""
    return {
        "location": [46.5, 4.0],
        "zoom_start": 5,
        "zoom_snap": 0.5,
        "tiles": None,
        "prefer_canvas": True,
        "control_scale": True,
    }


def prepare_map(
    lib: Any, folium_map: Any, outlines: gpd.GeoDataFrame | None, *, same_outlines: bool = False
) -> None:
    """Panes, then the basemaps: what every map needs before its layers."""
    JsonLayer("panes").add_to(folium_map)
    add_basemaps(lib, folium_map, outlines, same_outlines=same_outlines)
