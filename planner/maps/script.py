"""The map's own JavaScript and CSS, inlined into every page.

The code itself lives in ``static/map.js`` and ``static/map.css`` beside this
module, so that editors, linters and browsers see real JavaScript and CSS;
this module reads each file once and hands the text to the page builders.

Large layers (dealers, demand points, chosen sites, reach circles, outlines)
are embedded as compact JSON and drawn by the functions of ``map.js`` instead of one
folium object per point: a full-scale network has tens of thousands of
dealers, and one generated statement per marker would make the file tens of
megabytes and slow to parse. Points go on Leaflet's canvas renderer (the map
is created with ``preferCanvas``), so panning stays smooth.

Every label is put into the page with ``textContent``: strings from input
files never reach an HTML parser, whatever they contain. Tooltips are bound
lazily, on first hover, so that tens of thousands of points do not each carry
a tooltip object.

Nothing here touches ``L`` at load time: the functions run only after Leaflet
has been loaded, whatever the order of the page's header.
"""

from __future__ import annotations

import functools
from importlib.resources import files


@functools.cache
def static_text(name: str) -> str:
    """The text of one file of ``planner/maps/static``, read once per process.

    Parameters
    ----------
    name
        File name inside the ``static`` folder, e.g. ``"map.js"``.

    Returns
    -------
    str
        The file's text (UTF-8).
    """
    # importlib.resources rather than a path beside __file__: it also works
    # when the package is installed as a wheel or imported from a zip.
    return (files("planner.maps") / "static" / name).read_text(encoding="utf-8")


#: Defines ``plannerMap``; each function fills one folium feature group.
MAP_JS = static_text("map.js")

#: Page styles: panels over the map, chosen-site markers, popups.
MAP_CSS = static_text("map.css")
