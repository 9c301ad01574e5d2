"""The map's fixed panels: title, KPI panel with the per-country table, legend.

Panels are static HTML laid over the map. Every value that comes from an
input file or the report goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from planner._text import fmt_eur
from planner.maps.data import (
    COVERED_COLOUR,
    DUAL_BRAND_COLOUR,
    EXISTING_CHARGER_COLOUR,
    REACH_COLOUR,
    UNCOVERED_COLOUR,
    fmt_amount,
    fmt_gap,
    fmt_int,
    fmt_pct,
)
from planner.scenario.schema import Scenario


def plan_title(title: str, scenario_name: str, sample: bool) -> str:
    """The map's heading: the scenario's title, unless it claims a sample that is not there.

    Titles like the default "Sample network: Western Europe, ..." are meant
    for the sample dealer network. On other dealer files a title that says
    "sample" would mislabel a real plan: a leading "Sample network:" is
    dropped from a title of the user's own ("Sample network: Luxembourg
    test" becomes "Luxembourg test"), and the built-in default title, or
    one that still says "sample", gives way to the scenario's name.
    """
    if sample or "sample" not in title.lower():
        return title
    stripped = _SAMPLE_PREFIX.sub("", title).strip()
    if title == _DEFAULT_TITLE or not stripped or "sample" in stripped.lower():
        return f"Scenario {scenario_name}: 800 V chargers at dealer sites"
    return stripped


_SAMPLE_PREFIX = re.compile(r"^\s*sample\s+network\s*[:,\-–—]?\s*", re.IGNORECASE)
_DEFAULT_TITLE = str(Scenario.model_fields["title"].default)


def title_panel(title: str, scenario_name: str, model: str, sample: bool) -> str:
    """The heading: the scenario's title and name, and a badge on the sample network."""
    badge = ' <span class="planner-badge">sample network</span>' if sample else ""
    return (
        '<div class="planner-panel planner-title" id="planner-title">'
        f"<h1>{escape(title)}</h1>"
        f'<div class="planner-subtitle">Scenario <b>{escape(scenario_name)}</b>'
        f" &middot; model {escape(model)}{badge}</div></div>"
    )


def kpi_panel(report: Mapping[str, Any]) -> str:
    """Headline figures of the report and a collapsible per-country table."""
    covered = fmt_amount(report.get("demand_covered"))
    total = fmt_amount(report.get("demand_total"))
    cost = report.get("cost_eur") or {}
    figures = [
        ("Coverage", fmt_pct(report.get("coverage_pct"))),
        ("Sessions/day covered", f"{covered} of {total}"),
        ("Sites selected", fmt_int(report.get("sites_selected"))),
        ("Chargers", fmt_int(report.get("chargers_total"))),
        ("Cost of sites", fmt_eur(cost.get("sites"))),
        ("Cost of chargers", fmt_eur(cost.get("chargers"))),
        ("Total cost", fmt_eur(cost.get("total"))),
        ("Optimality gap", fmt_gap(report.get("gap"))),
        ("Status", str(report.get("status", "n/a"))),
    ]
    grid = "".join(
        f'<div>{escape(label)}</div><div class="planner-kpi-value">{escape(value)}</div>'
        for label, value in figures
    )
    return (
        '<div class="planner-panel planner-kpi" id="planner-kpi"><h2>Plan</h2>'
        f'<div class="planner-kpi-grid">{grid}</div>{country_table(report)}</div>'
    )


def country_table(report: Mapping[str, Any]) -> str:
    """The report's ``by_country`` rows as an HTML table inside ``<details>``."""
    rows = report.get("by_country") or []
    if not rows:
        return ""
    body = "".join(
        "<tr>"
        f"<td>{escape(str(row.get('country', '')))}</td>"
        f"<td>{escape(fmt_int(row.get('sites')))}</td>"
        f"<td>{escape(fmt_amount(row.get('demand')))}</td>"
        f"<td>{escape(fmt_amount(row.get('covered')))}</td>"
        f"<td>{escape(fmt_pct(row.get('coverage_pct')))}</td>"
        "</tr>"
        for row in rows
    )
    return (
        '<details open id="planner-countries">'
        "<summary>By country (demand in sessions/day)</summary>"
        "<table><thead><tr><th>Country</th><th>Sites</th><th>Demand</th>"
        f"<th>Covered</th><th>Coverage</th></tr></thead><tbody>{body}</tbody></table>"
        "</details>"
    )


@dataclass(frozen=True)
class LegendFacts:
    """What the legend needs to say.

    Attributes
    ----------
    brand_colours
        Colour of each brand's dealer sites.
    has_multi_brand
        Whether any site has more than one brand.
    radius_km, circuity, reach_km
        Travel radius, circuity, and the great-circle radius drawn.
    reach_drawn
        Whether the reach circles are drawn at all.
    demand_drawn, demand_total
        Demand points drawn (the largest) and how many there are.
    existing_chargers
        Existing high-power chargers drawn (0: no layer, no legend row).
    dealers_hidden
        Whether the dealer layers start switched off (a large network).
    """

    brand_colours: Mapping[str, str]
    has_multi_brand: bool
    radius_km: float
    circuity: float
    reach_km: float
    reach_drawn: bool
    demand_drawn: int
    demand_total: int
    existing_chargers: int = 0
    dealers_hidden: bool = False


def _row(swatch_style: str, label: str) -> str:
    return (
        f'<div class="planner-legend-row"><span class="planner-swatch" '
        f'style="{swatch_style}"></span><span>{label}</span></div>'
    )


def legend_panel(facts: LegendFacts) -> str:
    """Symbols of every layer, and how the reach circles were sized."""
    rows = [
        _row(
            f"background:{colour};border:1px solid #3d3d3d;width:9px;height:9px;margin:0 1.5px",
            f"{escape(brand)} dealer site",
        )
        for brand, colour in facts.brand_colours.items()
    ]
    if facts.has_multi_brand:
        rows.append(
            _row(
                f"background:{DUAL_BRAND_COLOUR};border:2px solid #1a1a1a",
                "Dual-brand site (dealers of both brands merged)",
            )
        )
    if facts.existing_chargers:
        rows.append(
            _row(
                f"background:{EXISTING_CHARGER_COLOUR};border:1px solid #fff;"
                "border-radius:0;width:8px;height:8px;margin:0 2px;box-shadow:0 0 0 1px #999",
                f"Existing high-power charger ({fmt_int(facts.existing_chargers)})",
            )
        )
    rows.append(
        _row(
            "background:#0b3d91;border:2px solid #fff;box-shadow:0 0 2px #000;"
            "width:16px;height:16px",
            "Chosen 800 V site; area and number = chargers",
        )
    )
    if facts.reach_drawn:
        rows.append(
            _row(
                f"border:2px solid {REACH_COLOUR};background:rgba(11,61,145,0.08)",
                f"Reach: {facts.reach_km:.1f} km great-circle radius "
                f"= {facts.radius_km:g} km travel / circuity {facts.circuity:g}",
            )
        )
    rows += [
        _row(
            f"background:{UNCOVERED_COLOUR};opacity:0.7;width:8px;height:8px;margin:0 2px",
            "Demand point not covered (size: population)",
        ),
        _row(
            f"background:{COVERED_COLOUR};opacity:0.7;width:8px;height:8px;margin:0 2px",
            "Demand point covered (layer off at first)",
        ),
        _row(
            "background:radial-gradient(circle,#bd0026,#fd8d3c,#ffffb2)",
            "Heat: uncovered demand (sessions/day; layer off at first)",
        ),
    ]
    note = ""
    if facts.demand_drawn < facts.demand_total:
        note = (
            f'<div class="planner-note">The {fmt_int(facts.demand_drawn)} largest of '
            f"{fmt_int(facts.demand_total)} demand points are drawn.</div>"
        )
    if facts.dealers_hidden:
        note += (
            '<div class="planner-note">Dealer layers are off at first on a network this '
            "large: switch them on in the layer control.</div>"
        )
    return (
        '<div class="planner-panel planner-legend" id="planner-legend"><h2>Legend</h2>'
        + "".join(rows)
        + note
        + "</div>"
    )


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def frontier_panel(png: bytes) -> str:
    """The coverage-frontier plot, inlined as a data URI in a collapsible panel.

    Raises
    ------
    ValueError
        When ``png`` is not a PNG image.
    """
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError("frontier_png must be the bytes of a PNG image")
    encoded = base64.b64encode(png).decode("ascii")
    return (
        '<div class="planner-panel planner-frontier" id="planner-frontier">'
        "<details><summary>Coverage frontier</summary>"
        f'<img alt="Coverage against number of sites" src="data:image/png;base64,{encoded}">'
        "</details></div>"
    )
