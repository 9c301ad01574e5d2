"""Tests of the review map's HTML, on a small plan made by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Polygon

from planner import maps
from planner._map_assets import loaded_resources
from planner._map_compare import compare_plans, read_plan_folder
from planner._map_data import (
    chosen_site_rows,
    dealer_layers,
    demand_layers,
    fmt_amount,
    outline_geojson,
    reach_radius_km,
    script_json,
)
from planner.errors import InputError
from planner.optimise import Solution, Status
from planner.plan import Plan
from planner.scenario import (
    DealerFile,
    DealersConfig,
    Scenario,
    TravelConfig,
    scenario_to_toml,
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
        demand = gpd.GeoDataFrame(
            gpd.pd.concat([demand, extra], ignore_index=True)  # type: ignore[attr-defined]
        )
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


def test_cdn_page_is_small_and_links_leaflet() -> None:
    page = maps.render_map(tiny_plan(), assets="cdn")
    loads = loaded_resources(page)
    assert any("leaflet" in url and url.endswith(".js") for url in loads)
    assert all(url.startswith("https://") for url in loads)
    assert len(page) < 100_000


def test_unknown_assets_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="inline"):
        maps.render_map(tiny_plan(), assets="bundled")  # type: ignore[arg-type]


def test_hostile_names_never_reach_the_page_raw(page: str) -> None:
    assert HOSTILE_NAME not in page
    assert "</script><script>alert(2)" not in page
    # The table escapes it, the JSON carries it with < and > as \u escapes.
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page


def test_outline_names_are_not_embedded() -> None:
    # Outlines are drawn, never labelled: only geometry goes into the page.
    geojson = outline_geojson(tiny_outlines())
    assert "onerror" not in json.dumps(geojson)
    assert geojson["features"][0]["geometry"]["type"] == "Polygon"


def test_title_names_scenario_and_sample() -> None:
    sample_page = maps.render_map(tiny_plan(sample=True))
    assert "Tiny test plan" in sample_page
    assert "<b>tiny</b>" in sample_page
    assert "sample network" in sample_page
    real_page = maps.render_map(tiny_plan(sample=False))
    assert "sample network" not in real_page


def test_kpi_panel_and_country_table(page: str) -> None:
    assert "60.6 %" in page
    assert "67.5 of 111.3" in page
    assert ">8<" in page  # chargers
    assert "optimal" in page
    assert "<td>FR</td><td>2</td><td>86.1</td><td>67.5</td><td>78.4 %</td>" in page


def test_legend_states_the_reach_radius(page: str) -> None:
    assert "30.0 km great-circle radius = 39 km travel / circuity 1.3" in page


def test_script_json_cannot_close_a_script() -> None:
    text = script_json({"name": SCRIPT_BREAKER, "u": "\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text
    assert json.loads(text)["name"] == SCRIPT_BREAKER


def test_chosen_site_rows_carry_the_popup_facts() -> None:
    plan = tiny_plan()
    rows = chosen_site_rows(plan.sites, plan.demand)
    assert [row["title"] for row in rows] == ["Renault Lille", HOSTILE_NAME]
    first = dict(rows[0]["pairs"])
    assert first["Chargers (800 V)"] == "6"
    assert first["Sessions/day served"] == "51.6"
    assert first["Population within reach"] == "400,000"
    assert first["Marginal population (only this site)"] == "310,000"
    assert first["Demand points served"] == "3"
    assert first["Brands"] == "Renault"
    # More chargers, bigger marker.
    assert rows[0]["size"] > rows[1]["size"]


def test_dealer_layers_split_brands_and_dual_sites() -> None:
    layers = dealer_layers(tiny_plan().sites)
    assert list(layers.by_brand) == ["Nissan", "Renault"]
    assert [p[3] for p in layers.by_brand["Renault"]] == ["Renault Lille", HOSTILE_NAME]
    assert [p[3] for p in layers.multi_brand] == ["Garage Duo Amiens"]
    assert layers.colours["Renault"] != layers.colours["Nissan"]


def test_demand_layers_keep_the_largest_points_up_to_the_limit() -> None:
    plan = tiny_plan(n_extra_demand=50)
    layers = demand_layers(plan.demand, limit=10)
    assert layers.drawn == 10 and layers.total == 57
    drawn = {p[3] for p in layers.covered + layers.uncovered}
    assert {"Lille", "Bruxelles", "Amiens"} <= drawn
    assert len(layers.heat) == len(layers.uncovered)
    assert all(0 <= h[2] <= 1 for h in layers.heat)


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


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.347, "0.35"), (51.64, "51.6"), (1449.09, "1,449"), (None, "n/a"), (float("nan"), "n/a")],
)
def test_amounts_keep_the_decimals_that_matter(value: float | None, text: str) -> None:
    assert fmt_amount(value) == text


def write_plan_folder(folder: Path, plan: Plan) -> Path:
    """The files a comparison reads, as ``planner run`` writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    plan.sites.drop(columns="geometry").to_csv(folder / "sites.csv", index=False)
    report = {**plan.report, "scenario": plan.scenario.name, "title": plan.scenario.title}
    (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")
    (folder / "scenario.toml").write_text(scenario_to_toml(plan.scenario), encoding="utf-8")
    return folder


def other_plan() -> Plan:
    """The tiny plan with S4 dropped and S2 (Arras) chosen instead, more chargers at S1."""
    plan = tiny_plan()
    sites = plan.sites.copy()
    sites["chosen"] = [True, True, False, False, False]
    sites["chargers"] = [8, 4, 0, 0, 0]
    report = {
        **plan.report,
        "coverage_pct": 70.1,
        "sites_selected": 2,
        "chargers_total": 12,
        "by_country": [
            {"country": "FR", "sites": 2, "demand": 86.08, "covered": 70.0, "coverage_pct": 81.3},
            {"country": "BE", "sites": 0, "demand": 25.2, "covered": 8.0, "coverage_pct": 31.7},
        ],
    }
    scenario = plan.scenario.model_copy(update={"name": "tiny_b", "title": "Tiny plan B"})
    return Plan(scenario, sites, plan.demand, plan.solution, report)


@pytest.fixture(scope="module")
def plan_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("plans")
    return (
        write_plan_folder(root / "a", tiny_plan()),
        write_plan_folder(root / "b", other_plan()),
    )


def test_comparison_counts_sites_kept_added_removed(plan_folders: tuple[Path, Path]) -> None:
    diff = compare_plans(*(read_plan_folder(f) for f in plan_folders))
    assert (diff.kept, diff.added, diff.removed) == (["S1"], ["S2"], ["S4"])
    totals = {row[0]: row[1:] for row in diff.totals}
    assert totals["Coverage"] == ("60.6 %", "70.1 %", "+9.5 pp")
    assert totals["Chargers"] == ("8", "12", "+4")
    assert totals["Sites"] == ("2", "2", "+0")
    countries = {row[0]: row[1:] for row in diff.by_country}
    assert countries["BE"] == ("0.0 %", "31.7 %", "+31.7 pp", "0", "0")
    assert countries[HOSTILE_NAME][1:3] == ("n/a", "n/a")


def test_comparison_page_is_offline_and_escaped(plan_folders: tuple[Path, Path]) -> None:
    page = maps.render_comparison(*plan_folders, outlines=tiny_outlines())
    assert loaded_resources(page) == []
    assert ".sync(" in page  # the two maps move together
    assert page.count("plannerMap.sites(") == 2
    assert HOSTILE_NAME not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "A: Tiny test plan (tiny)" in page and "B: Tiny plan B (tiny_b)" in page
    assert '"kind":"removed"' in page and '"kind":"added"' in page


def test_comparison_names_every_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        maps.render_comparison(tmp_path / "nowhere", tmp_path)
    problems = [str(p) for p in raised.value.problems]
    assert len(problems) == 4  # report.json and sites.csv, of both folders
    assert all("missing" in p for p in problems)


def test_write_comparison(plan_folders: tuple[Path, Path], tmp_path: Path) -> None:
    target = maps.write_comparison(*plan_folders, tmp_path / "compare.html")
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


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


def test_comparison_cdn_page_links_leaflet_and_sync(plan_folders: tuple[Path, Path]) -> None:
    loads = loaded_resources(maps.render_comparison(*plan_folders, assets="cdn"))
    assert all(url.startswith("https://") for url in loads)
    assert any("Sync" in url for url in loads) and any("leaflet.js" in url for url in loads)
