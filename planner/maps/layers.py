"""The folium elements that carry planner's data and markup into a page.

Each :class:`JsonLayer` becomes one call ``plannerMap.<draw>(group, ...)`` in
the page's script, right after the feature group it belongs to is created;
the drawing functions and the page's CSS (:mod:`planner.maps.script`) are put
into the page header once. :class:`Markup` holds finished HTML (the panels).

Neither goes through branca's ``Element(text)``, which compiles its text as a
Jinja template: text from the user's files (a dealer named ``{{ 7*7 }}``)
would be evaluated there, and could run code when the page is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from planner.maps.data import script_json
from planner.maps.script import MAP_CSS, MAP_JS

Draw = Literal[
    "fit",
    "panes",
    "points",
    "sites",
    "circles",
    "isochrones",
    "outlines",
    "heat",
    "years",
    "towns",
    "lines",
    "credit",
]


class Markup(Element):
    """Finished text put into the page as it is, never compiled as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Markup"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


@dataclass(frozen=True)
class JsRef:
    """An argument naming another element of the page (its JavaScript variable), not data."""

    element: MacroElement


class JsonLayer(MacroElement):
    """Draw rows into the feature group (or map) this element is added to.

    Parameters
    ----------
    draw
        Which ``plannerMap`` function draws the rows.
    *args
        The function's arguments after the group; each is embedded with
        :func:`~planner.maps.data.script_json`, except a :class:`JsRef`,
        which becomes the variable of the element it names.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "plannerMap.{{ this.draw }}({{ this._parent.get_name() }}"
        "{% for arg in this.arguments %}, {{ arg }}{% endfor %});"
        "{% endmacro %}"
    )

    def __init__(self, draw: Draw, *args: Any) -> None:
        super().__init__()
        self._name = "JsonLayer"
        self.draw = draw
        self.arguments = [
            arg.element.get_name() if isinstance(arg, JsRef) else script_json(arg) for arg in args
        ]

    def render(self, **kwargs: Any) -> str:
        """Put the drawing functions into the page header, then the call into the script."""
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("a JsonLayer must be inside a map that is inside a figure")
        # The line break after the opening tag keeps the page as it was when
        # the code was a Python string starting with one.
        figure.header.add_child(Markup(f"<style>\n{MAP_CSS}</style>"), name="planner_map_css")
        figure.header.add_child(Markup(f"<script>\n{MAP_JS}</script>"), name="planner_map_js")
        # What MacroElement.render does, without compiling the call (which holds
        # the user's data) as a template once more.
        script = self._template.module.__dict__["script"]
        figure.script.add_child(Markup(script(self, kwargs)), name=self.get_name())
        return ""
