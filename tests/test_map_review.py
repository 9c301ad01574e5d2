"""The review map tells queueing, phases and the solver's status truthfully.

Hand-made plans (from :func:`tests.test_maps.tiny_plan`) check the page's
text and data; one small phased plan is solved for real. The browser side
(the red ring rendered, the year filter hiding later sites) is in
``tests/test_browser.py``.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import planner
from planner.maps import plan_map as maps
from planner.maps.panels import kpi_panel, queue_line, status_text, title_panel
from planner.maps.site_rows import (
    OVERLOADED_COLOUR,
    chosen_site_rows,
    queue_text,
    site_labels,
)
from planner.pipeline.plan import Plan
from planner.scenario.schema import ConstraintsConfig, Phase
from tests.test_api import _tiny
from tests.test_maps import HOSTILE_NAME, tiny_outlines, tiny_plan

QUEUE = {
    "max_wait_probability": 0.2,
    "peak_hour_share": 0.1,
    "session_minutes": 20.0,
    "sites_meeting_target": 1,
    "sites_missing_target": 1,
    "chargers_short": 3,
    "sessions_over_capacity": 7.25,
}

PHASES = [
    {
        "year": 2026,
        "p": 1,
        "budget_eur": None,
        "sites_open": 1,
        "sites_opened": 1,
        "demand_factor": 0.5,
        "demand_covered": 25.8,
        "coverage_pct": 46.4,
        "chargers": 4,
        "chargers_added": 4,
        "opening_cost_eur": 550000.0,
        "spend_eur": 850000.0,
    },
    {
        "year": 2028,
        "p": 2,
        "budget_eur": None,
        "sites_open": 2,
        "sites_opened": 1,
        "demand_factor": 0.8,
        "demand_covered": 54.0,
        "coverage_pct": 60.6,
        "chargers": 7,
        "chargers_added": 3,
        "opening_cost_eur": 550000.0,
        "spend_eur": 700000.0,
    },
    {
        "year": 2030,
        "p": 2,
        "budget_eur": None,
        "sites_open": 2,
        "sites_opened": 0,
        "demand_factor": 1.0,
        "demand_covered": 67.48,
        "coverage_pct": 60.6,
        "chargers": 8,
        "chargers_added": 1,
        "opening_cost_eur": 0.0,
        "spend_eur": 150000.0,
    },
]


def overloaded_plan() -> Plan:
    """The tiny plan with queueing columns: Lille meets the target, S4 misses it."""
    plan = tiny_plan()
    sites = plan.sites.assign(
        chargers_required=[6, 0, 0, 5, 0],
        sessions_over_capacity=[0.0, 0.0, 0.0, 7.25, 0.0],
        wait_probability=[0.0712, np.nan, np.nan, 1.0, np.nan],
    )
    return replace(plan, sites=sites, report={**plan.report, "queue": QUEUE})


def phased_plan() -> Plan:
    """The overloaded plan as a 2026-2030 roll-out: Lille opens 2026, S4 in 2028.

    Lille has 4 chargers by 2026, 5 by 2028 and 6 by 2030; S4 2 from 2028.
    Lille misses the queueing target in 2026 only, S4 from 2028 on.
    """
    plan = overloaded_plan()
    phases = [
        Phase(year=2026, p=1, demand_factor=0.5),
        Phase(year=2028, p=2, demand_factor=0.8),
        Phase(year=2030, p=2, demand_factor=1.0),
    ]
    scenario = plan.scenario.model_copy(update={"constraints": ConstraintsConfig(phases=phases)})
    years = pd.array([2026, pd.NA, pd.NA, 2028, pd.NA], dtype="Int64")
    report = {**plan.report, "model": "phased_coverage", "phases": PHASES}
    sites = plan.sites.assign(
        opening_year=years,
        chargers_2026=[4, 0, 0, 0, 0],
        chargers_2028=[5, 0, 0, 2, 0],
        chargers_2030=[6, 0, 0, 2, 0],
        queue_target_met_2026=[False, False, False, False, False],
        queue_target_met_2028=[True, False, False, False, False],
        queue_target_met_2030=[True, False, False, False, False],
    )
    return replace(plan, scenario=scenario, sites=sites, report=report)


def site_data(page: str) -> dict[str, Any]:
    """The chosen-site layer's data, as embedded in the page."""
    match = re.search(r"plannerMap\.sites\([^,]+, (\{.*?\}), \{\"autoPan", page)
    assert match, "no chosen-site layer in the page"
    layer: dict[str, Any] = json.loads(match.group(1))
    return layer


@pytest.fixture(scope="module")
def queue_page() -> str:
    return maps.render_map(overloaded_plan(), outlines=tiny_outlines())


@pytest.fixture(scope="module")
def phased_page() -> str:
    return maps.render_map(phased_plan(), outlines=tiny_outlines())


def kpi_of(page: str) -> str:
    start = page.index('id="planner-kpi"')
    return page[start : page.index('id="planner-legend"')]


# Queueing


def test_kpi_panel_has_the_queue_line(queue_page: str) -> None:
    kpi = kpi_of(queue_page)
    line = kpi[kpi.index('id="planner-queue"') :]
    line = re.sub(r"<[^>]+>", "", line[line.index(">") + 1 : line.index("</div>")])
    assert line == (
        "Queue target (wait ≤ 20 % at the peak hour): 1 site meets it, 1 misses it; "
        "3 chargers short; 7.25 sessions/day over capacity"
    )
    assert 'class="planner-queue-miss"' in kpi


def test_queue_line_when_every_site_meets_the_target() -> None:
    # Before: "3 sites meet it, 0 miss it; 0 chargers short; 0.00 sessions/day over capacity".
    queue = {
        "max_wait_probability": 0.2,
        "sites_meeting_target": 3,
        "sites_missing_target": 0,
        "chargers_short": 0,
        "sessions_over_capacity": 0.0,
    }
    line = re.sub(r"<[^>]+>", "", queue_line(queue))
    assert line == "Queue target (wait ≤ 20 % at the peak hour): all 3 sites meet it"
    one = re.sub(r"<[^>]+>", "", queue_line({**queue, "sites_meeting_target": 1}))
    assert one.endswith(": the site meets it")


def test_no_queue_line_without_per_site_queueing() -> None:
    report = {**tiny_plan().report, "queue": {"max_wait_probability": 0.2}}
    assert "planner-queue" not in kpi_panel(report)
    assert "planner-queue" not in kpi_panel(tiny_plan().report)


def test_overloaded_site_is_flagged_in_the_page_data(queue_page: str) -> None:
    layer = site_data(queue_page)
    titles = [row[4] for row in layer["rows"]]
    assert dict(zip(titles, layer["overloaded"], strict=True)) == {
        "Renault Lille": False,
        HOSTILE_NAME: True,
    }
    assert "planner-site-overloaded" in queue_page  # the class map.js sets, styled in CSS
    legend = queue_page[queue_page.index('id="planner-legend"') :]
    row = legend[legend.index('id="planner-legend-overloaded"') :]
    assert OVERLOADED_COLOUR in row[:400]
    assert "Red ring: site misses the queue target of wait ≤ 20 % at the peak hour (1 site)" in row


def test_no_ring_and_no_legend_row_when_every_site_meets_the_target() -> None:
    plan = overloaded_plan()
    sites = plan.sites.assign(queue_target_met=True)
    page = maps.render_map(replace(plan, sites=sites))
    assert "overloaded" not in site_data(page)
    assert "planner-legend-overloaded" not in page


def test_popup_says_met_or_missed_and_the_wait() -> None:
    plan = overloaded_plan()
    rows = chosen_site_rows(plan.sites, plan.demand, max_wait_probability=0.2)
    lille, s4 = (dict(row["pairs"]) for row in rows)
    label = "Queue target (wait ≤ 20 %)"
    assert lille[label] == "met — 7.1 % wait at the peak hour"
    assert s4[label] == (
        "missed — 100 % wait at the peak hour; needs 5 chargers, has 2; "
        "7.25 sessions/day over capacity"
    )
    assert "Queue target met" not in lille and "Wait probability at peak hour" not in lille


def test_queue_text_without_figures() -> None:
    assert queue_text({}) == "n/a"
    assert queue_text({"wait_probability": 0.05}) == "5.0 % wait at the peak hour"
    assert queue_text({"queue_target_met": True}) == "met"
    assert queue_text({"queue_target_met": pd.NA, "wait_probability": np.nan}) == "n/a"


# Phases


def test_phased_popups_name_the_years() -> None:
    plan = phased_plan()
    rows = chosen_site_rows(plan.sites, plan.demand, max_wait_probability=0.2, demand_year=2030)
    lille, s4 = (dict(row["pairs"]) for row in rows)
    assert lille["Opens"] == "2026" and s4["Opens"] == "2028"
    assert list(lille)[:2] == ["Site", "Opens"]
    assert lille["Sessions/day served (2030 demand)"] == "51.6"
    assert lille["Chargers (800 V, sized for 2030 demand)"] == "6"
    assert lille["Marginal sessions/day (only this site, 2030 demand)"] == "40.1"
    assert lille["Queue target (wait ≤ 20 %, 2030 demand)"].startswith("met — 7.1 %")
    assert [row["opening_year"] for row in rows] == [2026, 2028]
    # Without the years' columns the popup has no line for them.
    assert "Chargers by year" not in lille


def test_phased_popups_tell_the_chargers_by_year() -> None:
    plan = phased_plan()
    columns = [
        (phase.year, phase.chargers_column, phase.queue_column)
        for phase in plan.scenario.constraints.phases
    ]
    rows = chosen_site_rows(
        plan.sites, plan.demand, max_wait_probability=0.2, demand_year=2030, year_columns=columns
    )
    lille, s4 = (dict(row["pairs"]) for row in rows)
    labels = list(lille)
    assert (
        labels.index("Chargers by year")
        == labels.index("Chargers (800 V, sized for 2030 demand)") + 1
    )
    assert lille["Chargers by year"] == "2026: 4 · 2028: 5 · 2030: 6"
    # A site's line starts in its opening year.
    assert s4["Chargers by year"] == "2028: 2 · 2030: 2"
    assert [row["year_chargers"] for row in rows] == [[4, 5, 6], [0, 2, 2]]
    # A site is ringed in the years it misses the target, not before it opens.
    assert [row["year_overloaded"] for row in rows] == [[True, False, False], [False, True, True]]
    # Diameters on the final year's scale (6 chargers the largest): area grows with the count.
    lille_sizes = rows[0]["year_sizes"]
    assert lille_sizes == sorted(lille_sizes) and lille_sizes[-1] == rows[0]["size"] == 30
    assert rows[1]["year_sizes"][0] == 18
    # A missing year's column leaves the counts out, rather than misaligning the years.
    rows = chosen_site_rows(
        plan.sites.drop(columns="chargers_2028"), plan.demand, year_columns=columns
    )
    assert all("year_chargers" not in row for row in rows)
    # A table without the queue by year (written before it existed) keeps the counts.
    rows = chosen_site_rows(
        plan.sites.drop(columns="queue_target_met_2028"), plan.demand, year_columns=columns
    )
    assert all("year_chargers" in row and "year_overloaded" not in row for row in rows)


def test_site_labels_without_phases_or_target() -> None:
    assert "Opens" not in site_labels(0.2)
    assert "Queue target" in site_labels()
    assert site_labels(None, 2030)[1] == "Opens"


def test_phased_page_colours_sites_by_year(phased_page: str) -> None:
    layer = site_data(phased_page)
    assert layer["years"] == [2026, 2028]
    colours = layer["yearColours"]
    assert set(colours) == {"2026", "2028"} and colours["2026"] != colours["2028"]
    legend = phased_page[phased_page.index('id="planner-legend"') :]
    for year in ("2026", "2028"):
        assert f"background:{colours[year]};" in legend
        assert f"<span>Opens {year}</span>" in legend


def test_phased_page_has_the_year_filter(phased_page: str) -> None:
    calls = re.findall(r"plannerMap\.years\(([^;]*)\);", phased_page)
    assert len(calls) == 1
    args = calls[0].split(", ")
    assert args[1:3] == ["[2026,2028]", "[2026,2028,2030]"]
    assert args[3].startswith("feature_group_") and args[4].startswith("feature_group_")
    counts = json.loads(", ".join(args[5:]).rstrip(")"))
    assert counts["chargers"] == [[4, 5, 6], [0, 2, 2]]
    assert counts["overloaded"] == [[True, False, False], [False, True, True]]
    assert len(counts["sizes"]) == 2
    assert site_data(phased_page)["yearCounts"] == counts
    assert "area and number = chargers installed by the year shown" in phased_page
    assert (
        "misses the queue target of wait ≤ 20 % at the peak hour in the year shown "
        "(2026: 1 site, 2028: 1 site, 2030: 1 site)"
    ) in phased_page


def test_plain_plan_has_no_year_filter_nor_table(queue_page: str) -> None:
    assert "plannerMap.years(" not in queue_page
    assert 'id="planner-phases"' not in queue_page
    assert "yearColours" not in site_data(queue_page)


def test_kpi_panel_has_the_per_year_table(phased_page: str) -> None:
    kpi = kpi_of(phased_page)
    table = kpi[kpi.index('id="planner-phases"') : kpi.index("</details>")]
    assert "<th>Year</th><th>Sites</th><th>Chargers</th><th>Coverage</th><th>Spend</th>" in table
    assert "<td>2026</td><td>1 (+1)</td><td>4 (+4)</td><td>46.4 %</td><td>€850,000</td>" in table
    assert "<td>2028</td><td>2 (+1)</td><td>7 (+3)</td><td>60.6 %</td><td>€700,000</td>" in table
    assert "<td>2030</td><td>2</td><td>8 (+1)</td><td>60.6 %</td><td>€150,000</td>" in table
    # Written before the queue by year: no column for it.
    assert "<th" + ' title="Sites missing' not in table


def test_kpi_per_year_table_counts_the_sites_missing_the_queue() -> None:
    phases = [
        {**row, "sites_missing_queue_target": missing}
        for row, missing in zip(PHASES, [1, 0, 1], strict=True)
    ]
    kpi = kpi_panel({**phased_plan().report, "phases": phases})
    table = kpi[kpi.index('id="planner-phases"') : kpi.index("</details>")]
    assert '<th>Spend</th><th title="Sites missing the queueing target' in table
    assert "<td>€850,000</td><td>1 miss</td>" in table
    assert "<td>€700,000</td><td>all met</td>" in table


def test_kpi_panel_shows_the_budgets_against_the_opening_costs() -> None:
    # Before: the budget was in the title only; "Total cost €78.0 M" beside a
    # €40 M budget read as broken, and "Spend €17.8 M" beside a yearly €8 M.
    report = phased_plan().report
    costs = {**report["cost_eur"], "budget": 40_000_000.0, "opening_cost_counted": 39_600_000.0}
    kpi = kpi_panel({**report, "cost_eur": costs})
    assert (
        '<div>Opening cost (budgeted)</div><div class="planner-kpi-value">€39.6 M of €40.0 M' in kpi
    )
    assert "Opening cost (budgeted)" not in kpi_panel(report)
    phases = [
        {**row, "budget_eur": budget, "opening_cost_eur": cost}
        for row, budget, cost in zip(PHASES, [8e6, None, 8e6], [7.7e6, 250_000.0, 0.0], strict=True)
    ]
    table = kpi_panel({**report, "phases": phases})
    assert "<th>Spend</th><th" + ' title="Opening cost of the sites opened that year' in table
    assert 'year, against its budget">Opening / budget</th>' in table
    assert "<td>€850,000</td><td>€7.7 M / €8.0 M</td>" in table
    assert "<td>€700,000</td><td>€250,000</td>" in table
    # One budget for every year: said once, in the heading.
    same = [{**row, "budget_eur": 8e6} for row in phases]
    table = kpi_panel({**report, "phases": same})
    assert "Opening ≤ €8.0 M</th>" in table and "<td>€850,000</td><td>€7.7 M</td>" in table
    assert "Opening " not in kpi_panel({**report, "phases": PHASES})


def test_subtitle_names_the_model_solved(phased_page: str) -> None:
    subtitle = phased_page[phased_page.index('class="planner-subtitle"') :]
    subtitle = subtitle[: subtitle.index("</div>")]
    assert "model phased_coverage" in subtitle and "max_coverage" not in subtitle
    assert "model max_coverage" in title_panel("T", "s", "max_coverage", False, "max_coverage")
    assert "model max_coverage" in title_panel("T", "s", "max_coverage", False, None)


# Status


@pytest.mark.parametrize(
    ("status", "gap", "text"),
    [
        ("optimal", 0.0, "optimal (proven)"),
        ("optimal", None, "optimal (proven)"),
        ("time_limit", 0.024, "time limit reached: best plan found, gap 2.4 % to the proven bound"),
        ("time_limit", None, "time limit reached: best plan found, no proven bound"),
        (
            "stopped",
            0.0147,
            "ended before the time limit: best plan found, gap 1.47 % to the proven bound",
        ),
        ("feasible", 0.1234, "feasible, gap 12.3 % to the proven bound"),
        ("feasible", float("nan"), "feasible, no proven bound"),
        ("infeasible", None, "infeasible: no plan meets the constraints"),
        ("node_limit", None, "node limit, no proven bound"),
    ],
)
def test_status_in_words(status: str, gap: float | None, text: str) -> None:
    assert status_text(status, gap) == text


def test_kpi_panel_shows_a_time_limit_in_words() -> None:
    kpi = kpi_panel({**tiny_plan().report, "status": "time_limit", "gap": 0.024})
    assert "time limit reached: best plan found, gap 2.4 % to the proven bound" in kpi
    assert "time_limit" not in kpi
    assert "optimal" not in kpi
    assert "gap 0" not in kpi and "Optimality gap" not in kpi


def test_kpi_panel_without_a_gap_says_no_proven_bound() -> None:
    kpi = kpi_panel({**tiny_plan().report, "status": "feasible", "gap": None})
    assert "feasible, no proven bound" in kpi
    assert "optimal" not in kpi


def test_kpi_panel_shows_the_sizing_coverage_its_target_counts() -> None:
    # 80 % of the demand some site reaches is 79.4 % of all demand.
    report = {
        **tiny_plan().report,
        "coverage_pct": 79.3872,
        "sizing": {"penalty_cost": 0.0, "coverage_of_reachable": 0.800308},
    }
    kpi = kpi_panel(report)
    assert "Coverage of demand within reach</div>" in kpi
    assert '<div class="planner-kpi-value">80.0 %</div>' in kpi
    assert '<div class="planner-kpi-value">79.4 %</div>' in kpi
    assert "within reach" not in kpi_panel({**report, "sizing": {}})


def test_kpi_panel_shows_the_unserved_penalty_beside_the_cost() -> None:
    report = {
        **tiny_plan().report,
        "cost_eur": {"sites": 42_500_000.0, "chargers": 89_850_000.0, "total": 132_350_000.0},
        "objective": 160_460_000.0,
        "sizing": {"penalty_cost": 28_110_000.0},
    }
    kpi = kpi_panel(report)
    assert 'Unserved-demand penalty</div><div class="planner-kpi-value">€28.1 M' in kpi
    assert 'Objective (cost + penalty)</div><div class="planner-kpi-value">€160.5 M' in kpi
    without = kpi_panel({**report, "sizing": {"penalty_cost": 0.0}})
    assert "Total cost" in without and "penalty" not in without


# A phased plan solved for real


def test_solved_phased_plan_renders_years_and_table(tmp_path: Path) -> None:
    raw = _tiny(tmp_path)
    raw["constraints"] = {
        "phases": [
            {"year": 2026, "p": 1, "demand_factor": 0.5},
            {"year": 2028, "p": 2, "demand_factor": 0.8},
        ]
    }
    plan = planner.run(raw)
    page = maps.render_map(plan)
    layer = site_data(page)
    assert sorted(layer["years"]) == [2026, 2028]
    assert "Opens" in layer["labels"] and "Chargers by year" in layer["labels"]
    chosen = plan.sites[plan.sites["chosen"]]
    assert (
        layer["yearCounts"]["chargers"]
        == chosen[["chargers_2026", "chargers_2028"]].to_numpy(dtype=int).tolist()
    )
    assert "Sessions/day served (2028 demand)" in layer["labels"]
    assert 'id="planner-phases"' in page and "<td>2026</td>" in page
    assert "model phased_coverage" in page
    assert "plannerMap.years(" in page
    assert 'id="planner-queue"' in page


def test_demand_net_of_existing_chargers_is_labelled_so() -> None:
    report = {**tiny_plan().report, "sessions_per_day_total": 7092.7, "demand_total": 4204.0}
    # Before: "Sessions/day covered 3,155 of 4,204" beside 7,093 sessions in the report.
    kpi = kpi_panel(report)
    assert "Sessions/day covered, net of existing chargers" in kpi
    assert "By country (demand in sessions/day, net of existing chargers)" in kpi
    plain = tiny_plan().report
    assert "net of existing" not in kpi_panel(
        {**plain, "sessions_per_day_total": plain["demand_total"]}
    )
