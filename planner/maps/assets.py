"""Where the map's Leaflet code comes from: inlined, or linked from a CDN.

``offlinefolium`` (the ``folium-offline`` package) is folium with every
script and style sheet inlined into the page; plain ``folium`` links them
from public CDNs, which gives a small file that needs the network. Both share
one API, so the map is built the same way from either module.

folium's default page also loads jQuery, Bootstrap, Font Awesome and the
Awesome Markers plugin. The planner's map draws its own markers and popups
and needs none of them, so they are dropped: the inline file is about a
megabyte lighter, and no web-font URL is left for the browser to chase.
"""

from __future__ import annotations

import re
from html import unescape
from types import ModuleType
from typing import Any, Literal

import folium
import folium.plugins
import offlinefolium
import offlinefolium.plugins

from planner.errors import InputError, Problem

MapAssets = Literal["inline", "cdn"]

#: Plugin scripts at exact versions for ``"cdn"`` pages: folium's own defaults
#: point at moving branches (``folium@main``, Leaflet.Sync's default branch),
#: so the page could change under its readers. The heat plugin is the copy
#: folium ships (Leaflet.heat with folium's weights fix) at the release
#: installed here; Leaflet.Sync is the release offlinefolium inlines.
CDN_URLS = {
    "leaflet-heat.js": "https://cdn.jsdelivr.net/gh/python-visualization/folium@v0.20.0"
    "/folium/templates/leaflet_heat.min.js",
    "Leaflet.Sync": "https://cdn.jsdelivr.net/gh/jieter/Leaflet.Sync@0.2.4/L.Map.Sync.min.js",
}

#: The only library resources the map needs from folium's defaults.
_KEPT_RESOURCES = frozenset({"leaflet", "leaflet_css"})

_SCRIPT_SRC = re.compile(r"<script[^>]*\bsrc\s*=\s*[\"']?([^\"' >]+)", re.IGNORECASE)
_IMG_SRC = re.compile(r"<img[^>]*\bsrc\s*=\s*[\"']?([^\"' >]+)", re.IGNORECASE)
_LINK_HREF = re.compile(r"<link[^>]*\bhref\s*=\s*[\"']?([^\"' >]+)", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*[\"']?(?!data:|#)([^\"')]+)", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?[\"']?([^\"')\s;]+)", re.IGNORECASE)
_INLINE_SCRIPT = re.compile(r"<script\b([^>]*)>.*?</script>", re.IGNORECASE | re.DOTALL)
_STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.IGNORECASE | re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(r"\bstyle\s*=\s*\"([^\"]*)\"", re.IGNORECASE)


def checked_assets(value: object, name: str) -> MapAssets:
    """``value`` as the map-assets mode, or an :class:`InputError` naming the argument ``name``."""
    if value == "inline" and isinstance(value, str):
        return "inline"
    if value == "cdn" and isinstance(value, str):
        return "cdn"
    raise InputError(Problem(name, f"must be 'inline' or 'cdn', not {value!r}"))


def folium_module(assets: MapAssets) -> ModuleType:
    """``offlinefolium`` for ``"inline"``, ``folium`` for ``"cdn"``."""
    if assets == "inline":
        return offlinefolium
    if assets == "cdn":
        return folium
    raise ValueError(f"assets must be 'inline' or 'cdn', not {assets!r}")


def plugins_module(assets: MapAssets) -> ModuleType:
    """The ``plugins`` module matching :func:`folium_module`."""
    return offlinefolium.plugins if assets == "inline" else folium.plugins


def drop_unused_resources(folium_map: Any) -> None:
    """Keep only Leaflet's own script and style sheet among the map's defaults.

    The instance attributes shadow the class lists, so other maps built in
    the same process keep folium's defaults.
    """
    folium_map.default_js = [(n, u) for n, u in folium_map.default_js if n in _KEPT_RESOURCES]
    folium_map.default_css = [(n, u) for n, u in folium_map.default_css if n in _KEPT_RESOURCES]


def loaded_resources(html: str) -> list[str]:
    """Every URL the page's markup loads on its own: scripts, style sheets, images, CSS ``url()``.

    Inline ``data:`` URIs are part of the page and are not listed.

    Links people click (``<a href>``) and tile URL templates of layers that
    are off by default are not loads and are not listed; neither is anything
    inside inline scripts (the browser tests watch what scripts request).
    Relative URLs are listed too: a file opened from disk cannot resolve them.
    """
    markup = _INLINE_SCRIPT.sub(r"<script\1></script>", html)
    attributes = [unescape(a) for a in _STYLE_ATTRIBUTE.findall(markup)]
    styles = " ".join(_STYLE_BLOCK.findall(markup) + attributes)
    found = [m.group(1) for m in _SCRIPT_SRC.finditer(markup)]
    found += [m.group(1) for m in _LINK_HREF.finditer(markup)]
    found += [m.group(1) for m in _IMG_SRC.finditer(markup)]
    found += [m.group(1) for m in _CSS_URL.finditer(styles)]
    found += [m.group(1) for m in _CSS_IMPORT.finditer(styles)]
    return sorted({url.strip() for url in found if not url.strip().startswith("data:")})
