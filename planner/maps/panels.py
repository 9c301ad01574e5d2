"""The map's fixed panels: title, KPI panel with the per-country table, legend.

Panels are static HTML laid over the map. Every value that comes from an
input file or the report goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from planner._text import finite, fmt_eur
from planner.maps.data import (
    COVERED_COLOUR,
    DUAL_BRAND_COLOUR,
    EXISTING_CHARGER_COLOUR,
    REACH_COLOUR,
    UNCOVERED_COLOUR,
)
from planner.maps.formats import fmt_amount, fmt_count, fmt_gap, fmt_int, fmt_pct
from planner.maps.line_layers import CORRIDOR_COLOURS, TRIP_COLOURS
from planner.maps.site_rows import OVERLOADED_COLOUR
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


def title_panel(
    title: str, scenario_name: str, model: str, sample: bool, solved_model: str | None = None
) -> str:
    """The heading: the scenario's title and name, the model, a badge on the sample network.

    ``solved_model`` (the report's ``model``) is the model actually solved,
    named instead of the scenario's ``model`` when they differ: a phased
    roll-out solves ``phased_coverage`` whatever ``model.name`` says.
    """
    if solved_model and solved_model != model:
        model = solved_model
    badge = ' <span class="planner-badge">sample network</span>' if sample else ""
    return (
        '<div class="planner-panel planner-title" id="planner-title">'
        f"<h1>{escape(title)}</h1>"
        f'<div class="planner-subtitle">Scenario <b>{escape(scenario_name)}</b>'
        f" &middot; model {escape(model)}{badge}</div></div>"
    )


#: The solver's status words as the KPI panel says them.
_STATUS_WORDS = {
    "optimal": "optimal (proven)",
    "time_limit": "time limit reached: best plan found",
    "stopped": "ended before the time limit: best plan found",
    "feasible": "feasible",
    "infeasible": "infeasible: no plan meets the constraints",
}


def status_text(status: Any, gap: Any) -> str:
    """The report's status and gap in words, never claiming more than was proven.

    "optimal (proven)"; "time limit reached: best plan found, gap 2.4 % to
    the proven bound"; "feasible, gap … to the proven bound"; without a gap,
    "…, no proven bound". A status of its own is shown in words too
    (underscores as spaces), never the raw identifier.
    """
    word = str(status) if status is not None else "n/a"
    if word in ("optimal", "infeasible"):
        return _STATUS_WORDS[word]
    text = _STATUS_WORDS.get(word, word.replace("_", " "))
    if finite(gap) is None:
        return f"{text}, no proven bound"
    return f"{text}, gap {fmt_gap(gap)} to the proven bound"


def queue_line(queue: Mapping[str, Any] | None) -> str:
    """The report's ``queue`` as one line: sites meeting and missing the target and the shortfall.

    Empty when the report has no per-site queueing figures.
    """
    if not queue or queue.get("sites_meeting_target") is None:
        return ""
    target = finite(queue.get("max_wait_probability"))
    rule = f" (wait ≤ {fmt_pct(100 * target, 0)} at the peak hour)" if target else ""
    missing = finite(queue.get("sites_missing_target")) or 0
    meeting = queue.get("sites_meeting_target")
    if not missing:
        # "0 miss it; 0 chargers short; 0.00 sessions/day over capacity" said one thing thrice.
        count = fmt_int(meeting)
        every = "the site meets it" if count == "1" else f"all {count} sites meet it"
        text = f"<b>Queue target{escape(rule)}:</b> {escape(every)}"
        return f'<div class="planner-kpi-queue" id="planner-queue">{text}</div>'
    meet_verb = "meets" if fmt_int(meeting) == "1" else "meet"
    miss_verb = "misses" if fmt_int(missing) == "1" else "miss"
    text = (
        f"<b>Queue target{escape(rule)}:</b> "
        f"{escape(fmt_count(meeting, 'site'))} {meet_verb} it, "
        f'<span class="planner-queue-miss">{escape(fmt_int(missing))} {miss_verb} it</span>; '
        f"{escape(fmt_count(queue.get('chargers_short'), 'charger'))} short; "
        f"{escape(fmt_amount(queue.get('sessions_over_capacity')))} sessions/day over capacity"
    )
    return f'<div class="planner-kpi-queue" id="planner-queue">{text}</div>'


def _net_of_existing(report: Mapping[str, Any]) -> str:
    """``", net of existing chargers"`` when their discount made the demand smaller."""
    sessions, demand = report.get("sessions_per_day_total"), report.get("demand_total")
    # The demand figures are what existing stations leave (demand_discount):
    # "sessions/day" alone read as all sessions.
    if not (isinstance(sessions, int | float) and isinstance(demand, int | float)):
        return ""
    return ", net of existing chargers" if demand < sessions * (1 - 1e-9) else ""


def kpi_panel(report: Mapping[str, Any]) -> str:
    """Headline figures, queueing, status in words, the per-year and per-country tables."""
    covered = fmt_amount(report.get("demand_covered"))
    total = fmt_amount(report.get("demand_total"))
    cost = report.get("cost_eur") or {}
    net = _net_of_existing(report)
    figures = [
        ("Coverage", fmt_pct(report.get("coverage_pct"))),
        (f"Sessions/day covered{net}", f"{covered} of {total}"),
        ("Sites selected", fmt_int(report.get("sites_selected"))),
        ("Chargers", fmt_int(report.get("chargers_total"))),
        ("Cost of sites", fmt_eur(cost.get("sites"))),
        ("Cost of chargers", fmt_eur(cost.get("chargers"))),
        ("Total cost", fmt_eur(cost.get("total"))),
    ]
    budget = finite(cost.get("budget"))
    if budget is not None:
        # The budget bounds the sites' opening costs only, not the chargers: said
        # beside the totals, or "€78.0 M" read as a €40 M budget broken.
        counted = fmt_eur(cost.get("opening_cost_counted"))
        figures.append(("Opening cost (budgeted)", f"{counted} of {fmt_eur(budget)}"))
    sizing = report.get("sizing") or {}
    # The sizing target counts the demand some allowed site reaches, so 80 % met
    # can read as 79.4 % of all demand: show the share the target is about.
    within = finite(sizing.get("coverage_of_reachable"))
    if within is not None:
        figures.insert(1, ("Coverage of demand within reach", fmt_pct(100 * within)))
    # With an unserved penalty the solver minimises cost plus penalty, and its gap
    # is on that sum: show both, or the total cost and the gap would not agree.
    penalty = finite(sizing.get("penalty_cost"))
    if penalty:
        figures.append(("Unserved-demand penalty", fmt_eur(penalty)))
        figures.append(("Objective (cost + penalty)", fmt_eur(report.get("objective"))))
    grid = "".join(
        f'<div>{escape(label)}</div><div class="planner-kpi-value">{escape(value)}</div>'
        for label, value in figures
    )
    status = status_text(report.get("status"), report.get("gap"))
    return (
        '<div class="planner-panel planner-kpi" id="planner-kpi"><h2>Plan</h2>'
        f'<div class="planner-kpi-grid">{grid}</div>'
        f"{queue_line(report.get('queue'))}{trips_line(report)}{afir_line(report)}"
        f'<div class="planner-kpi-status" id="planner-status"><b>Solver:</b> {escape(status)}</div>'
        f"{phase_table(report)}{country_table(report)}{constraints_table(report)}</div>"
    )


def trips_line(report: Mapping[str, Any]) -> str:
    """The long-distance trips a flow plan refuels, and how their paths were made; or ''."""
    trips = report.get("trips")
    if not trips:
        return ""
    paths = (report.get("inputs", {}).get("trips", {}) or {}).get("paths", "")
    return (
        '<div class="planner-kpi-trips" id="planner-trips"><b>Long-distance trips:</b> '
        f"{escape(fmt_amount(trips.get('served_per_day')))} of "
        f"{escape(fmt_amount(trips.get('total_per_day')))} round trips/day refuelled "
        f"({escape(fmt_pct(trips.get('served_pct')))}) at a range of "
        f"{escape(fmt_int(trips.get('range_km')))} km"
        + (f'<div class="planner-note">{escape(paths)}</div>' if paths else "")
        + "</div>"
    )


def afir_line(report: Mapping[str, Any]) -> str:
    """How many corridors meet each AFIR milestone, and the longest gap; or ''."""
    afir = report.get("afir")
    if not afir or not afir.get("corridors"):
        return ""
    rows = afir["corridors"]
    met = {year: sum(bool(row[f"met_{year}"]) for row in rows) for year in (2025, 2027)}
    worst = max(rows, key=lambda row: row["longest_gap_km_2027"])
    return (
        '<div class="planner-kpi-trips" id="planner-afir"><b>AFIR:</b> '
        f"{met[2025]} of {len(rows)} corridor(s) meet the 2025 rule, {met[2027]} the 2027 "
        f"rule (a pool every {fmt_int(afir.get('max_gap_km'))} km); longest 2027 gap "
        f"{escape(fmt_int(worst['longest_gap_km_2027']))} km on {escape(str(worst['corridor']))}"
        "</div>"
    )


def phase_table(report: Mapping[str, Any]) -> str:
    """The report's ``phases`` (a phased roll-out) as a per-year table; empty otherwise."""
    rows = report.get("phases") or []
    if not rows:
        return ""

    def sites(row: Mapping[str, Any]) -> str:
        opened = finite(row.get("sites_opened"))
        added = f" (+{fmt_int(opened)})" if opened else ""
        return fmt_int(row.get("sites_open")) + added

    def chargers(row: Mapping[str, Any]) -> str:
        added = finite(row.get("chargers_added"))
        return fmt_int(row.get("chargers")) + (f" (+{fmt_int(added)})" if added else "")

    # Reports written before the queue by year have no such column.
    queue = all("sites_missing_queue_target" in row for row in rows)

    def missing(row: Mapping[str, Any]) -> str:
        if not queue:
            return ""
        count = finite(row.get("sites_missing_queue_target"))
        text = f"{fmt_int(count)} miss" if count else "all met"
        return f"<td>{escape(text)}</td>"

    # A yearly budget bounds that year's opening costs (not its spend on chargers):
    # one budget for every year goes in the heading, the column stays narrow.
    budgets = [finite(row.get("budget_eur")) for row in rows]
    budgeted = any(budget is not None for budget in budgets)
    same = budgets[0] if budgeted and len(set(budgets)) == 1 else None

    def opening(row: Mapping[str, Any]) -> str:
        if not budgeted:
            return ""
        budget = finite(row.get("budget_eur"))
        text = fmt_eur(row.get("opening_cost_eur"))
        if budget is not None and same is None:
            text += f" / {fmt_eur(budget)}"
        return f"<td>{escape(text)}</td>"

    body = "".join(
        "<tr>"
        f"<td>{escape(fmt_int(row.get('year')).replace(',', ''))}</td>"
        f"<td>{escape(sites(row))}</td>"
        f"<td>{escape(chargers(row))}</td>"
        f"<td>{escape(fmt_pct(row.get('coverage_pct')))}</td>"
        f"<td>{escape(fmt_eur(row.get('spend_eur')))}</td>"
        f"{opening(row)}{missing(row)}</tr>"
        for row in rows
    )
    budget_said = f"≤ {fmt_eur(same)}" if same is not None else "/ budget"
    opening_head = (
        '<th title="Opening cost of the sites opened that year, against its budget">'
        f"Opening {escape(budget_said)}</th>"
        if budgeted
        else ""
    )
    queue_head = (
        '<th title="Sites missing the queueing target on that year\'s demand">Queue</th>'
        if queue
        else ""
    )
    return (
        '<details open id="planner-phases">'
        "<summary>By year (sites open, chargers; + added that year)</summary>"
        "<table><thead><tr><th>Year</th><th>Sites</th><th>Chargers</th>"
        f"<th>Coverage</th><th>Spend</th>{opening_head}{queue_head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
        "</details>"
    )


def constraints_table(report: Mapping[str, Any]) -> str:
    """The report's side constraints, each met (at its limit or not) or missed; or ''.

    Open when one is missed: a reviewer should not have to look for it.
    """
    rows = report.get("constraints") or []
    if not rows:
        return ""
    missed = sum(not row.get("met") for row in rows)
    at_limit = sum(bool(row.get("met") and row.get("at_limit")) for row in rows)
    body = "".join(
        f"<tr><td>{escape(str(row.get('constraint', '')))}</td>"
        + (
            '<td class="planner-constraint-missed">missed</td>'
            if not row.get("met")
            else "<td>met, at its limit</td>"
            if row.get("at_limit")
            else "<td>met</td>"
        )
        + "</tr>"
        for row in rows
    )
    brands = report.get("by_brand") or []
    shares = "".join(
        f"<tr><td>{escape(str(row.get('brand', '')))} share of chosen sites</td>"
        f"<td>{escape(fmt_pct(row.get('share_of_sites_pct')))}</td></tr>"
        for row in brands
        if len(brands) > 1
    )
    summary = f"{missed} of {len(rows)} missed" if missed else f"all {len(rows)} met"
    if at_limit:
        summary += f", {at_limit} at {'its' if at_limit == 1 else 'their'} limit"
    notes = [
        "At its limit: one site fewer or more would break it." if at_limit else "",
        "A dual-brand site counts for each of its brands." if shares else "",
    ]
    return (
        f'<details{" open" if missed else ""} id="planner-constraints">'
        f"<summary>Side constraints ({escape(summary)})</summary>"
        f"<table><tbody>{body}{shares}</tbody></table>"
        + "".join(f'<div class="planner-note">{note}</div>' for note in notes if note)
        + "</details>"
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
        f"<summary>By country (demand in sessions/day{escape(_net_of_existing(report))})</summary>"
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
    overloaded_sites
        Chosen sites missing the queueing target (0: no legend row).
    max_wait_probability
        The queueing target, stated with the overloaded sites' row.
    year_colours
        Marker colour of each opening year of a phased plan (empty: none).
    chargers_by_year
        The markers of a phased plan show the chargers installed by the year
        the filter shows (false: the final year's).
    overloaded_by_year
        Sites missing the queueing target in each year of a phased plan whose
        rings follow the year the filter shows (empty: the rings are the final
        year's).
    town_names
        Town labels on the map (0: no layer, no legend row).
    trips_drawn
        Long-distance trips drawn as lines (0: no layer, no legend rows).
    corridors_drawn
        AFIR corridors drawn (0: no layer, no legend rows).
    reach_label
        The reach row's words under the road model (isochrones), instead of
        the circle's radius.
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
    overloaded_sites: int = 0
    max_wait_probability: float | None = None
    year_colours: Mapping[int, str] = field(default_factory=dict)
    chargers_by_year: bool = False
    overloaded_by_year: Mapping[int, int] = field(default_factory=dict)
    town_names: int = 0
    trips_drawn: int = 0
    corridors_drawn: int = 0
    reach_label: str | None = None


def _row(swatch_style: str, label: str, row_id: str = "") -> str:
    ident = f' id="{row_id}"' if row_id else ""
    return (
        f'<div class="planner-legend-row"{ident}><span class="planner-swatch" '
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
    if facts.trips_drawn:
        line = "height:4px;border-radius:2px;margin-top:6px"
        rows += [
            _row(
                f"background:{TRIP_COLOURS['served']};{line}",
                f"Trip refuelled (the {fmt_int(facts.trips_drawn)} strongest drawn; "
                "width = round trips/day)",
            ),
            _row(f"background:{TRIP_COLOURS['unserved']};{line}", "Trip not refuelled"),
        ]
    if facts.corridors_drawn:
        line = "height:4px;border-radius:2px;margin-top:6px"
        rows += [
            _row(
                f"background:{CORRIDOR_COLOURS['2027']};{line}",
                "AFIR corridor meeting the 2027 rule",
            ),
            _row(f"background:{CORRIDOR_COLOURS['2025']};{line}", "… meeting the 2025 rule only"),
            _row(f"background:{CORRIDOR_COLOURS['none']};{line}", "… meeting neither"),
            _row(
                f"background:{CORRIDOR_COLOURS['gap']};height:6px;border-radius:2px;margin-top:5px",
                "Stretch longer than the allowed gap without a 2027 pool",
            ),
        ]
    if facts.existing_chargers:
        rows.append(
            _row(
                f"background:{EXISTING_CHARGER_COLOUR};border:1px solid #fff;"
                "border-radius:0;width:8px;height:8px;margin:0 2px;box-shadow:0 0 0 1px #999",
                f"Existing high-power charger ({fmt_int(facts.existing_chargers)})",
            )
        )
    site_swatch = "border:2px solid #fff;box-shadow:0 0 2px #000;width:16px;height:16px"
    if facts.year_colours:
        rows.append(
            _row(
                f"background:{next(iter(facts.year_colours.values()))};{site_swatch}",
                "Chosen 800 V site; area and number = chargers "
                + (
                    "installed by the year shown"
                    if facts.chargers_by_year
                    else "(in the final year)"
                ),
            )
        )
        rows += [
            _row(f"background:{colour};{site_swatch}", f"Opens {year}")
            for year, colour in facts.year_colours.items()
        ]
    else:
        rows.append(
            _row(
                f"background:#0b3d91;{site_swatch}",
                "Chosen 800 V site; area and number = chargers",
            )
        )
    if facts.overloaded_sites or any(facts.overloaded_by_year.values()):
        target = facts.max_wait_probability
        rule = f" of wait ≤ {fmt_pct(100 * target, 0)} at the peak hour" if target else ""
        counted = (
            "in the year shown ("
            + ", ".join(
                f"{year}: {fmt_count(count, 'site')}"
                for year, count in facts.overloaded_by_year.items()
            )
            + ")"
            if facts.overloaded_by_year
            else f"({fmt_count(facts.overloaded_sites, 'site')})"
        )
        rows.append(
            _row(
                f"background:#0b3d91;border:2px solid #fff;width:16px;height:16px;"
                f"box-shadow:0 0 0 3px {OVERLOADED_COLOUR}",
                f"Red ring: site misses the queue target{rule} {counted}",
                "planner-legend-overloaded",
            )
        )
    if facts.reach_drawn:
        rows.append(
            _row(
                f"border:2px solid {REACH_COLOUR};background:rgba(11,61,145,0.08)",
                escape(facts.reach_label)
                if facts.reach_label
                else f"Reach: {facts.reach_km:.1f} km great-circle radius "
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
            "Heat: uncovered sessions/day only (covered demand adds nothing); "
            "full red at the 95th percentile of the uncovered in view (it shifts "
            "as you pan), so a few big cities do not wash out the rest (layer off at first)",
            "planner-legend-heat",
        ),
    ]
    if facts.town_names:
        rows.append(
            '<div class="planner-legend-row" id="planner-legend-towns">'
            '<span class="planner-town-swatch">Aa</span>'
            f"<span>Town names: the {fmt_int(facts.town_names)} largest places "
            "(GeoNames, CC BY 4.0), more as you zoom in</span></div>"
        )
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
        # Folded by hand, or at first on a narrow screen (map.js), to free the map.
        '<div class="planner-panel planner-legend" id="planner-legend">'
        "<details open><summary><h2>Legend</h2></summary>"
        + "".join(rows)
        + note
        + "</details></div>"
    )


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def frontier_panel(png: bytes) -> str:
    """The coverage-frontier plot, inlined as a data URI in a collapsible panel.

    Raises
    ------
    ValueError
        When ``png`` is not a PNG image.
    """
    return figure_panel(
        png,
        summary="Coverage frontier",
        alt="Coverage against number of sites",
        panel_id="planner-frontier",
        name="frontier_png",
    )


def figure_panel(
    png: bytes, *, summary: str, alt: str, panel_id: str, name: str = "png", open_: bool = False
) -> str:
    """A plot (PNG bytes), inlined as a data URI in a collapsible panel at the bottom right.

    Raises
    ------
    ValueError
        When ``png`` is not a PNG image (``name`` says which argument).
    """
    if not png.startswith(PNG_SIGNATURE):
        raise ValueError(f"{name} must be the bytes of a PNG image")
    encoded = base64.b64encode(png).decode("ascii")
    details = "<details open>" if open_ else "<details>"
    return (
        f'<div class="planner-panel planner-frontier" id="{escape(panel_id)}">'
        f"{details}<summary>{escape(summary)}</summary>"
        f'<img alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'
        "</details></div>"
    )
