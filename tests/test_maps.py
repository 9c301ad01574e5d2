"""Tests of the review map's HTML, on a small plan made by hand."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Polygon

from planner._text import fmt_eur
from planner.maps import plan_map as maps
from planner.maps.assets import loaded_resources
from planner.maps.data import (
    DEALER_LABELS,
    column,
    dealer_layers,
    delta_coords,
    existing_charger_layer,
    outline_layer,
    reach_radius_km,
    script_json,
)
from planner.maps.demand_layers import demand_layers
from planner.maps.formats import fmt_amount
from planner.maps.panels import constraints_table, plan_title
from planner.maps.site_rows import chosen_site_rows
from planner.maps.town_labels import town_label_layer
from planner.optimise import Solution, Status
from planner.pipeline.plan import Plan
from planner.scenario.schema import (
    DealerFile,
    DealersConfig,
    Scenario,
    TravelConfig,
)

#: A dealer name that would run script if it reached an HTML parser.
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
#: A name that would end the page's script if embedded raw, and break a JS template literal.
SCRIPT_BREAKER = "Garage </script><script>alert(2)</script> `${alert(3)}` C:\\u"


def tiny_plan(*, sample: bool = True, n_extra_demand: int = 0) -> Plan:
    """Five sites in northern France, two chosen; seven demand points, two uncovered.

    Site ``S4`` is chosen and carries :data:`HOSTILE_NAME`; ``S5`` carries
    :data:`SCRIPT_BREAKER`; ``S3`` is a dual-brand site that is not chosen.
    """
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["S1", "S2", "S3", "S4", "S5"],
            "name": [
                "Renault Lille",
                "Nissan Arras",
                "Garage Duo Amiens",
                HOSTILE_NAME,
                SCRIPT_BREAKER,
            ],
            "brands": ["Renault", "Nissan", "Nissan;Renault", "Renault", "Nissan"],
            "country": ["FR", "FR", "FR", "FR", "BE"],
            "lon": [3.06, 2.78, 2.30, 1.85, 4.40],
            "lat": [50.63, 50.29, 49.89, 50.95, 50.85],
            "n_dealers": [1, 1, 2, 1, 1],
            "dealer_ids": ["R1", "N1", "N2;R2", "R3", "N3"],
            "chosen": [True, False, False, True, False],
            "chargers": [6, 0, 0, 2, 0],
            "demand_served": [51.64, 0.0, 0.0, 15.84, 0.0],
            "population_in_reach": [400000.0, 0.0, 0.0, 120000.0, 0.0],
            "marginal_population": [310000.0, 0.0, 0.0, 30000.0, 0.0],
            "marginal_demand": [40.06, 0.0, 0.0, 4.2, 0.0],
            "wait_probability": [0.0612, np.nan, np.nan, 0.2513, np.nan],
            "queue_target_met": [True, False, False, False, False],
        }
    )
    sites = sites.set_geometry(gpd.points_from_xy(sites["lon"], sites["lat"]), crs=4326)
    names = ["Lille", "Roubaix", "Calais", "Boulogne", "Arras", "Amiens", "Bruxelles"]
    demand = gpd.GeoDataFrame(
        {
            "demand_id": [f"D{i}" for i in range(7)],
            "name": names,
            "country": ["FR"] * 6 + ["BE"],
            "population": [230000, 98000, 72000, 41000, 41000, 133000, 180000],
            "weight": [32.2, 13.7, 10.1, 5.74, 5.74, 18.6, 25.2],
            "covered": [True, True, True, True, True, False, False],
            "site_id": ["S1", "S1", "S4", "S4", "S1", "", ""],
            "lon": [3.06, 3.17, 1.86, 1.61, 2.78, 2.30, 4.35],
            "lat": [50.63, 50.69, 50.95, 50.73, 50.29, 49.89, 50.85],
        }
    )
    if n_extra_demand:
        rng = np.random.default_rng(7)
        extra = gpd.GeoDataFrame(
            {
                "demand_id": [f"X{i}" for i in range(n_extra_demand)],
                "name": [f"Place {i}" for i in range(n_extra_demand)],
                "country": "FR",
                "population": rng.integers(500, 20000, n_extra_demand),
                "weight": 0.5,
                "covered": rng.random(n_extra_demand) < 0.7,
                "site_id": "",
                "lon": rng.uniform(1.0, 4.5, n_extra_demand),
                "lat": rng.uniform(48.5, 51.0, n_extra_demand),
            }
        )
        demand = gpd.GeoDataFrame(gpd.pd.concat([demand, extra], ignore_index=True))
    demand = demand.set_geometry(gpd.points_from_xy(demand["lon"], demand["lat"]), crs=4326)
    dealer_file = "sample_dealers_demo.csv" if sample else "dealers_2025.csv"
    scenario = Scenario(
        name="tiny",
        title="Tiny test plan",
        dealers=DealersConfig(files=[DealerFile(path=Path("/data") / dealer_file)]),
        travel=TravelConfig(radius_km=39.0, circuity=1.3),
    )
    solution = Solution(
        model="max_coverage",
        sense="max",
        status=Status.OPTIMAL,
        objective=67.48,
        bound=67.48,
        seconds=0.01,
        open_sites=np.array([0, 3], dtype=np.int64),
        assignment=np.array([0, 0, 3, 3, 0, -1, -1], dtype=np.int64),
    )
    report = {
        "scenario": "tiny",
        "status": "optimal",
        "gap": 0.0,
        "sites_selected": 2,
        "chargers_total": 8,
        "coverage_pct": 60.6,
        "demand_total": 111.28,
        "demand_covered": 67.48,
        "cost_eur": {"sites": 500000.0, "chargers": 1200000.0, "total": 1700000.0},
        "by_country": [
            {
                "country": "FR",
                "sites": 2,
                "demand": 86.08,
                "covered": 67.48,
                "coverage_pct": 78.4,
            },
            {"country": "BE", "sites": 0, "demand": 25.2, "covered": 0, "coverage_pct": 0.0},
            {"country": HOSTILE_NAME, "sites": 0, "demand": 0, "covered": 0, "coverage_pct": 0.0},
        ],
    }
    return Plan(scenario=scenario, sites=sites, demand=demand, solution=solution, report=report)


def tiny_outlines() -> gpd.GeoDataFrame:
    """A hand-made 'country' around the plan, with a hostile name that must not show."""
    shape = Polygon([(1.0, 48.5), (4.8, 48.5), (4.8, 51.2), (1.0, 51.2)])
    return gpd.GeoDataFrame({"iso_a2": ["FR"], "name": [HOSTILE_NAME]}, geometry=[shape], crs=4326)


@pytest.fixture(scope="module")
def page() -> str:
    return maps.render_map(tiny_plan(), outlines=tiny_outlines())


def test_page_is_one_complete_html_document(page: str) -> None:
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert page.rstrip().endswith("</html>")
    assert "plannerMap.sites(" in page


def test_inline_page_loads_nothing_from_outside(page: str) -> None:
    assert loaded_resources(page) == []
    assert "L.Map" in page or "L.map" in page


def test_online_tiles_are_offered_but_not_shown(page: str) -> None:
    assert "tile.openstreetmap.org" in page
    assert "basemaps.cartocdn.com" in page
    for name in (maps.LAYER_NAMES["osm"], maps.LAYER_NAMES["positron"]):
        assert name in page
    # folium adds a layer to the map only when it is shown: the tile layers must not be.
    tile_vars = re.findall(r"var (tile_layer_\w+) = L\.tileLayer", page)
    assert len(tile_vars) == 2
    for var in tile_vars:
        assert f"{var}.addTo(" not in page


def test_cdn_page_is_small_and_links_pinned_versions() -> None:
    page = maps.render_map(tiny_plan(n_extra_demand=300), assets="cdn")
    inline = maps.render_map(tiny_plan(n_extra_demand=300), assets="inline")
    loads = loaded_resources(page)
    assert any("leaflet" in url and url.endswith(".js") for url in loads)
    assert all(url.startswith("https://") for url in loads)
    # Every library at an exact version: no branch such as folium@main.
    assert all(re.search(r"@v?\d+\.\d+\.\d+/", url) for url in loads), loads
    assert any("leaflet_heat" in url for url in loads)
    assert "@main" not in page
    # The library code is what the CDN page leaves out.
    assert len(inline) - len(page) > 140_000
    # The plan's own data besides the town names (about 32 KB for five countries).
    towns = town_label_layer(tiny_plan().scenario.demand.countries)
    assert len(page) - len(script_json(towns)) < 60_000


def test_unknown_assets_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="inline"):
        maps.render_map(tiny_plan(), assets="bundled")  # type: ignore[arg-type]


def test_hostile_names_never_reach_the_page_raw(page: str) -> None:
    assert HOSTILE_NAME not in page
    assert "</script><script>alert(2)" not in page
    # The table escapes it, the JSON carries it with < and > as \u escapes.
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page


#: Template syntax in a dealer's name: compiled as a template, it would read
#: "Garage 49 x", run code, or stop the page at the unclosed comment.
TEMPLATE_NAME = "Garage {{ 7*7 }} {% if true %}x{% endif %} {# open"


def test_text_from_the_files_is_never_compiled_as_a_template() -> None:
    plan = tiny_plan()
    sites = plan.sites.copy()
    sites.loc[sites["site_id"] == "S1", "name"] = TEMPLATE_NAME
    scenario = plan.scenario.model_copy(update={"title": "Plan {{ 8*8 }}"})
    page = maps.render_map(replace(plan, sites=sites, scenario=scenario))
    assert "Garage 49" not in page
    assert "Plan 64" not in page
    assert "Garage {{ 7*7 }} {% if true %}x{% endif %} {# open" in page
    assert "Plan {{ 8*8 }}" in page


def decode_coords(layer: dict[str, Any]) -> list[tuple[float, float]]:
    """What the page's ``coords()`` makes of :func:`delta_coords` data."""
    lat = np.cumsum(layer["lat"]) / layer["s"]
    lon = np.cumsum(layer["lon"]) / layer["s"]
    return list(zip(lat.tolist(), lon.tolist(), strict=True))


def decode(spec: dict[str, Any], n: int) -> list[Any]:
    """What the page's ``column()`` reads from a column spec, raw values."""
    if "c" in spec:
        return [spec["c"]] * n
    if "d" in spec:
        return [spec["d"][i] for i in spec["v"]]
    return list(spec["v"])


def test_outline_names_are_not_embedded() -> None:
    # Outlines are drawn, never labelled: only geometry goes into the page.
    polygons = outline_layer(tiny_outlines())
    assert "onerror" not in json.dumps(polygons)
    assert len(polygons) == 1 and len(polygons[0]) == 1  # one polygon, no hole
    corners = decode_coords(polygons[0][0])
    assert sorted(corners) == [(48.5, 1.0), (48.5, 4.8), (51.2, 1.0), (51.2, 4.8)]


def test_delta_coords_round_trip_to_the_stated_decimals() -> None:
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(27, 72, 500), rng.uniform(-32, 45, 500)
    decoded = np.array(decode_coords(delta_coords(lat, lon)))
    assert np.abs(decoded[:, 0] - lat).max() <= 0.5e-5 + 1e-12
    assert np.abs(decoded[:, 1] - lon).max() <= 0.5e-5 + 1e-12


def test_columns_use_a_dictionary_only_when_it_is_smaller() -> None:
    countries = ["FR"] * 50 + ["BE"] * 50
    assert column(countries) == {"f": "text", "d": ["FR", "BE"], "v": [0] * 50 + [1] * 50}
    assert column(["Renault"] * 3) == {"f": "text", "c": "Renault"}
    names = [f"Place {i}" for i in range(10)]
    assert column(names) == {"f": "text", "v": names}
    assert column([1234.567, float("nan"), 5.678], "amount") == {
        "f": "amount",
        "v": [1235.0, None, 5.68],
    }


def test_title_names_scenario_and_sample() -> None:
    sample_page = maps.render_map(tiny_plan(sample=True))
    assert "Tiny test plan" in sample_page
    assert "<b>tiny</b>" in sample_page
    assert "sample network" in sample_page
    real_page = maps.render_map(tiny_plan(sample=False))
    assert "sample network" not in real_page


def test_title_says_sample_only_on_the_sample_network() -> None:
    default_title = Scenario().title
    assert "sample" in default_title.lower()
    for sample in (True, False):
        plan = tiny_plan(sample=sample)
        scenario = plan.scenario.model_copy(update={"title": default_title})
        page = maps.render_map(Plan(scenario, plan.sites, plan.demand, plan.solution, plan.report))
        heading = re.search(r"<h1>(.*?)</h1>", page)
        assert heading is not None
        if sample:
            assert heading.group(1) == html.escape(default_title)
        else:
            assert "sample" not in heading.group(1).lower()
            assert "tiny" in heading.group(1)
            page_title = re.search(r"<title>(.*?)</title>", page)
            assert page_title is not None and "sample" not in page_title.group(1).lower()


@pytest.mark.parametrize(
    ("title", "sample", "heading"),
    [
        ("Sample network: Luxembourg test", False, "Luxembourg test"),
        ("Sample network: Luxembourg test", True, "Sample network: Luxembourg test"),
        ("A sample of our dealers", False, "Scenario tiny: 800 V chargers at dealer sites"),
        ("Rhine corridor 2027", False, "Rhine corridor 2027"),
    ],
)
def test_plan_title(title: str, sample: bool, heading: str) -> None:
    assert plan_title(title, "tiny", sample) == heading


def test_kpi_panel_and_country_table(page: str) -> None:
    assert "60.6 %" in page
    assert "67.5 of 111.3" in page
    assert ">8<" in page  # chargers
    assert "optimal" in page
    kpi = page[page.index('id="planner-kpi"') : page.index('id="planner-countries"')]
    assert 'Cost of sites</div><div class="planner-kpi-value">€500,000<' in kpi
    assert 'Cost of chargers</div><div class="planner-kpi-value">€1.2 M<' in kpi
    assert 'Total cost</div><div class="planner-kpi-value">€1.7 M<' in kpi
    assert "<td>FR</td><td>2</td><td>86.1</td><td>67.5</td><td>78.4 %</td>" in page


def test_constraints_table_opens_on_a_missed_constraint() -> None:
    brands = [
        {"brand": "Nissan", "share_of_sites_pct": 10.2},
        {"brand": "Renault", "share_of_sites_pct": 92.8},
    ]
    met = [{"constraint": "Nissan share of chosen sites ≥ 10 %", "met": True}]
    missed = [*met, {"constraint": "FR sites ≤ 35 & <b>", "met": False}]
    closed = constraints_table({"constraints": met, "by_brand": brands})
    assert closed.startswith('<details id="planner-constraints">')
    assert "Side constraints (all 1 met)" in closed
    assert "<td>Nissan share of chosen sites</td><td>10.2 %</td>" in closed
    assert "counts for each of its brands" in closed
    assert "at its limit" not in closed
    tight = [{**met[0], "at_limit": True}, {"constraint": "FR sites ≤ 35", "met": True}]
    limited = constraints_table({"constraints": tight, "by_brand": brands})
    assert limited.startswith('<details id="planner-constraints">')  # all met: folded
    assert "Side constraints (all 2 met, 1 at its limit)" in limited
    assert "≥ 10 %</td><td>met, at its limit</td>" in limited
    assert "<td>FR sites ≤ 35</td><td>met</td>" in limited
    assert "one site fewer or more would break it" in limited
    opened = constraints_table({"constraints": missed, "by_brand": brands[:1]})
    assert opened.startswith('<details open id="planner-constraints">')
    assert "Side constraints (1 of 2 missed)" in opened
    assert '<td>FR sites ≤ 35 &amp; &lt;b&gt;</td><td class="planner-constraint-missed">' in opened
    assert "share of chosen sites</td><td>" not in opened  # one brand: no shares
    assert constraints_table({"by_brand": brands}) == ""


def test_legend_states_the_reach_radius(page: str) -> None:
    assert "30.0 km great-circle radius = 39 km travel / circuity 1.3" in page


def test_script_json_cannot_close_a_script() -> None:
    text = script_json({"name": SCRIPT_BREAKER, "u": "\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text
    assert json.loads(text)["name"] == SCRIPT_BREAKER


def test_chosen_site_rows_carry_the_popup_facts() -> None:
    plan = tiny_plan()
    rows = chosen_site_rows(plan.sites, plan.demand, max_wait_probability=0.2)
    assert [row["title"] for row in rows] == ["Renault Lille", HOSTILE_NAME]
    first, second = dict(rows[0]["pairs"]), dict(rows[1]["pairs"])
    assert first["Chargers (800 V)"] == "6"
    assert first["Sessions/day served"] == "51.6"
    assert first["Population within reach"] == "400,000"
    assert first["Marginal population (only this site)"] == "310,000"
    assert first["Marginal sessions/day (only this site)"] == "40.1"
    assert first["Queue target (wait ≤ 20 %)"] == "met — 6.1 % wait at the peak hour"
    assert second["Queue target (wait ≤ 20 %)"] == "missed — 25 % wait at the peak hour"
    assert [row["overloaded"] for row in rows] == [False, True]
    assert first["Demand points served"] == "3"
    assert first["Brands"] == "Renault"
    # More chargers, bigger marker.
    assert rows[0]["size"] > rows[1]["size"]


def test_popup_facts_missing_from_the_table_show_as_not_available() -> None:
    plan = tiny_plan()
    sites = plan.sites.drop(columns=["wait_probability", "queue_target_met", "marginal_demand"])
    pairs = dict(chosen_site_rows(sites, plan.demand)[0]["pairs"])
    assert pairs["Queue target"] == "n/a"
    assert pairs["Marginal sessions/day (only this site)"] == "n/a"


def test_dealer_layers_split_brands_and_dual_sites() -> None:
    layers = dealer_layers(tiny_plan().sites)
    assert list(layers.by_brand) == ["Nissan", "Renault"]
    renault = layers.by_brand["Renault"]
    # Along latitude: Lille (50.63) before the hostile name's site (50.95).
    assert decode(renault["title"], 2) == ["Renault Lille", HOSTILE_NAME]
    assert decode_coords(renault) == [(50.63, 3.06), (50.95, 1.85)]
    assert renault["labels"] == list(DEALER_LABELS)
    assert decode(renault["cols"][0], 2) == ["Renault", "Renault"]
    assert decode(renault["cols"][3], 2) == ["S1", "S4"]
    assert layers.multi_brand is not None
    assert decode(layers.multi_brand["title"], 1) == ["Garage Duo Amiens"]
    assert decode(layers.multi_brand["cols"][0], 1) == ["Nissan + Renault"]
    assert layers.counts == {"Nissan": 2, "Renault": 2, "multi": 1}
    assert layers.colours["Renault"] != layers.colours["Nissan"]


def test_demand_layers_keep_the_largest_points_up_to_the_limit() -> None:
    plan = tiny_plan(n_extra_demand=50)
    layers = demand_layers(plan.demand, limit=10)
    assert layers.drawn == 10 and layers.total == 57
    assert layers.covered is not None and layers.uncovered is not None
    names = decode(layers.covered["title"], layers.n_covered)
    names += decode(layers.uncovered["title"], layers.n_uncovered)
    assert len(names) == 10
    assert {"Lille", "Bruxelles", "Amiens"} <= set(names)
    uncovered = dict(
        zip(
            decode(layers.uncovered["title"], layers.n_uncovered),
            decode(layers.uncovered["cols"][1], layers.n_uncovered),
            strict=True,
        )
    )
    assert uncovered["Bruxelles"] == 25.2 and uncovered["Amiens"] == 18.6
    served = decode(layers.covered["cols"][3], layers.n_covered)
    assert "S1" in served and "none" not in served
    # Bigger circles first, so smaller ones are drawn on top of them.
    radii = decode(layers.covered["r"], layers.n_covered)
    assert radii == sorted(radii, reverse=True)


def test_existing_chargers_layer_from_a_hand_made_table() -> None:
    table = pd.DataFrame(
        {
            "id": ["E1", "E2", "E3"],
            "operator": ["Ionity", HOSTILE_NAME, None],
            "power_kw": [350.0, 150.0, np.nan],
            "points": [6, 2, 4],
            "lon": [2.35, 4.40, np.nan],
            "lat": [48.86, 50.85, 50.0],
        }
    )
    layer = existing_charger_layer(table)
    assert layer is not None
    assert decode_coords(layer) == [(48.86, 2.35), (50.85, 4.4)]  # E3 has no longitude
    assert decode(layer["title"], 2) == ["Ionity", HOSTILE_NAME]
    assert decode(layer["cols"][1], 2) == [350, 150]
    assert decode(layer["cols"][2], 2) == [6, 2]
    assert decode(layer["cols"][3], 2) == ["E1", "E2"]
    with pytest.raises(ValueError, match="lat"):
        existing_charger_layer(table.drop(columns="lat"))


def test_existing_chargers_get_a_layer_and_a_legend_row() -> None:
    plan = tiny_plan()
    table = pd.DataFrame(
        {
            "id": ["E1"],
            "operator": [HOSTILE_NAME],
            "power_kw": [300],
            "points": [4],
            "lon": [2.9],
            "lat": [50.4],
        }
    )
    page = maps.render_map(replace(plan, existing_chargers=table))
    assert maps.LAYER_NAMES["existing"] in page
    assert "Existing high-power charger (1)" in page
    assert '"shape":"square"' in page
    assert HOSTILE_NAME not in page
    plain = maps.render_map(plan)
    assert maps.LAYER_NAMES["existing"] not in plain


def test_reach_radius_is_travel_over_circuity() -> None:
    assert reach_radius_km(tiny_plan().scenario) == pytest.approx(30.0)


def test_legend_notes_when_demand_is_thinned() -> None:
    plan = tiny_plan(n_extra_demand=30)
    scenario = plan.scenario.model_copy(
        update={"output": plan.scenario.output.model_copy(update={"max_demand_points": 5})}
    )
    thinned = Plan(scenario, plan.sites, plan.demand, plan.solution, plan.report)
    assert "The 5 largest of 37 demand points are drawn." in maps.render_map(thinned)


def test_plain_background_without_outlines() -> None:
    page = maps.render_map(tiny_plan())
    assert maps.LAYER_NAMES["plain"] in page
    assert maps.LAYER_NAMES["outlines"] not in page


def test_write_map_writes_the_page(tmp_path: Path) -> None:
    target = maps.write_map(tiny_plan(), tmp_path / "out" / "map.html")
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in target.parent.iterdir()] == ["map.html"]


def test_inline_page_is_lean(page: str) -> None:
    # Leaflet and the heat plugin inlined, jQuery/Bootstrap/Font Awesome dropped.
    assert len(page) < 400_000
    assert "jQuery" not in page and "bootstrap" not in page.lower()


def test_heat_layer_has_no_zoom_limit_and_its_own_pane(page: str) -> None:
    heat = re.search(r"L\.heatLayer\(\s*\[\],\s*(\{.*?\})\s*\)", page, re.DOTALL)
    assert heat is not None
    options = heat.group(1)
    # A maxZoom would grey the layer out in the layer control when zoomed in.
    assert "maxZoom" not in options and "max_zoom" not in options
    assert '"pane": "plannerHeat"' in options
    # Filled from the uncovered points in the page, not a second copy of them.
    assert re.search(r"plannerMap\.heat\(heat_map_\w+, feature_group_\w+, 1\)", page)


def test_dealer_layers_start_off_on_a_very_large_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maps, "DEALERS_SHOWN_UP_TO", 3)
    page = maps.render_map(tiny_plan())
    assert "Dealer layers are off at first" in page
    # folium adds a shown layer to the map with .addTo; a hidden one is not.
    groups = re.findall(r"var (feature_group_\w+) = L\.featureGroup", page)
    added = [g for g in groups if f"{g}.addTo(" in page]
    assert len(added) == len(groups) - 4  # two brands, dual-brand sites, covered demand
    monkeypatch.undo()
    assert "Dealer layers are off" not in maps.render_map(tiny_plan())


def test_euros_in_millions_from_a_million() -> None:
    assert fmt_eur(85_500_000) == "€85.5 M"
    assert fmt_eur(250_000) == "€250,000"
    assert fmt_eur(None) == "n/a"
    # Before: "€30.4 M" (the float 30.45 lies below the half), beside a total
    # of €40.5 M made of €10.0 M and it.
    assert (fmt_eur(30_450_000), fmt_eur(3_250_000), fmt_eur(40_450_000)) == (
        "€30.5 M",
        "€3.3 M",
        "€40.5 M",
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.347, "0.35"), (51.64, "51.6"), (1449.09, "1,449"), (None, "n/a"), (float("nan"), "n/a")],
)
def test_amounts_keep_the_decimals_that_matter(value: float | None, text: str) -> None:
    assert fmt_amount(value) == text


def frontier_png() -> bytes:
    """A small coverage-against-sites plot, drawn as ``planner frontier`` would."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 2.5), dpi=80)
    ax.plot([1, 2, 3, 4], [35.0, 52.0, 60.6, 64.0], marker="o")
    ax.set_xlabel("sites chosen (p)")
    ax.set_ylabel("coverage (%)")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def test_frontier_plot_is_embedded_inline() -> None:
    page = maps.render_map(tiny_plan(), frontier_png=frontier_png())
    assert 'id="planner-frontier"' in page
    assert "data:image/png;base64," in page
    assert loaded_resources(page) == []


def test_frontier_plot_must_be_a_png() -> None:
    with pytest.raises(ValueError, match="PNG"):
        maps.render_map(tiny_plan(), frontier_png=b"<svg onload=alert(1)>")


def test_loaded_resources_finds_every_kind_of_load() -> None:
    page = (
        '<script src="https://cdn.example/a.js"></script>'
        '<link rel="stylesheet" href="b.css"><img src="http://x/c.png">'
        '<img src="data:image/png;base64,AAAA">'
        "<style>@import url('https://x/d.css'); .e { background: url(e.png) }</style>"
        '<div style="background-image: url(&quot;f.png&quot;)"></div>'
        "<script>var s = 'url(not-a-load)'; var t = '<img src=\"g.png\">';</script>"
        '<a href="https://example.org/">a link is not a load</a>'
    )
    assert loaded_resources(page) == [
        "b.css",
        "e.png",
        "f.png",
        "http://x/c.png",
        "https://cdn.example/a.js",
        "https://x/d.css",
    ]


def test_no_reach_circles_when_the_scenario_says_so() -> None:
    plan = tiny_plan()
    scenario = plan.scenario.model_copy(
        update={"output": plan.scenario.output.model_copy(update={"reach_circles": False})}
    )
    page = maps.render_map(Plan(scenario, plan.sites, plan.demand, plan.solution, plan.report))
    assert "plannerMap.circles(" not in page
    assert "great-circle radius" not in page
    assert maps.LAYER_NAMES["reach"] not in page


def test_a_plan_with_nothing_chosen_and_no_demand_still_renders() -> None:
    plan = tiny_plan()
    sites = plan.sites.assign(chosen=False, chargers=0)
    demand = plan.demand.iloc[0:0]
    report = {"status": "infeasible", "sites_selected": 0}
    page = maps.render_map(Plan(plan.scenario, sites, demand, plan.solution, report))
    assert "plannerMap.sites(" in page
    assert "n/a" in page  # coverage unknown


@given(st.text())
def test_script_json_round_trips_any_text_safely(text: str) -> None:
    embedded = script_json([text])
    assert json.loads(embedded) == [text]
    assert "<" not in embedded and ">" not in embedded
    assert all(ord(c) < 128 for c in embedded)
