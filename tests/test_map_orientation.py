"""Finding one's way on the offline map: town names, the heat of uncovered demand, crowded sites.

The page-data tests run anywhere; the browser tests (marked ``browser``) open
the page in headless Chromium with the network cut off and skip with the
reason when it is missing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest

import planner.inputs.geonames as geonames
import planner.maps.town_labels as town_names
from planner.maps import plan_map as maps
from planner.maps.data import script_json
from planner.maps.town_labels import town_label_layer, town_min_zoom
from planner.pipeline.plan import Plan
from planner.scenario.schema import Scenario
from tests.browser import PageLog, chromium, open_offline
from tests.test_maps import HOSTILE_NAME, SCRIPT_BREAKER, tiny_outlines, tiny_plan

MAP = "window[document.querySelector('.folium-map').id]"


def town_data(page: str) -> dict[str, Any]:
    """The town-label layer embedded in a page (the one ``plannerMap.towns`` call)."""
    calls = re.findall(r"plannerMap\.towns\(feature_group_\w+, (\{.*?\})\);", page)
    assert len(calls) == 1
    towns: dict[str, Any] = json.loads(calls[0])
    return towns


@pytest.fixture(scope="module")
def page() -> str:
    return maps.render_map(tiny_plan(), outlines=tiny_outlines())


def test_town_names_layer_is_on_with_min_zooms(page: str) -> None:
    towns = town_data(page)
    names, zooms = towns["names"], towns["z"]
    assert len(names) == len(zooms) == len(towns["lat"]) == len(towns["lon"])
    assert 500 < len(names) <= town_names.TOWN_LIMIT
    # Largest first, so the zoom from which a label shows never decreases.
    assert zooms == sorted(zooms) and zooms[0] == 5 and zooms[-1] > 8
    assert names.index("Paris") < 3 and zooms[names.index("Brussels")] == 5
    assert zooms[names.index("Leuven")] > zooms[names.index("Antwerp")]
    # A feature group shown at first, named in the layer control and the legend.
    assert f'"{maps.LAYER_NAMES["towns"]}"' in page
    group = re.search(r"plannerMap\.towns\((feature_group_\w+), ", page)
    assert group is not None and f"{group.group(1)}.addTo(" in page
    assert 'id="planner-legend-towns"' in page


def test_town_min_zoom_by_population_rank() -> None:
    assert [town_min_zoom(r) for r in (0, 11, 12, 39, 40, 399, 1199, 1200, 5000)] == [
        5,
        5,
        7,
        7,
        8,
        9,
        10,
        11,
        11,
    ]


def test_town_names_are_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    def places(countries: Any, **_: Any) -> pd.DataFrame:
        rows = pd.DataFrame(
            {
                "geonameid": [1, 2],
                "name": [HOSTILE_NAME, SCRIPT_BREAKER],
                "country": ["FR", "FR"],
                "population": [900_000, 20_000],
                "lon": [2.3, 3.0],
                "lat": [48.8, 50.6],
            }
        )
        return rows[rows["country"].isin(list(countries))].reset_index(drop=True)

    monkeypatch.setattr(geonames, "populated_places", places)
    page = maps.render_map(tiny_plan())
    towns = town_data(page)
    assert towns["names"] == [HOSTILE_NAME, SCRIPT_BREAKER]
    assert towns["z"] == [5, 5]
    assert HOSTILE_NAME not in page and "</script><script>alert(2)" not in page
    assert script_json(HOSTILE_NAME)[1:-1] in page


def test_unknown_or_empty_countries_give_no_names_not_an_error() -> None:
    assert town_label_layer([]) is None
    assert town_label_layer(["XX"]) is None
    only = town_label_layer(["LU", "XX"])
    assert only is not None and "Luxembourg" in only["names"]


def test_town_names_add_little_to_the_default_page(monkeypatch: pytest.MonkeyPatch) -> None:
    countries = Scenario().demand.countries
    towns = town_label_layer(countries)
    assert towns is not None and len(script_json(towns)) < 150_000
    with_towns = len(maps.render_map(tiny_plan()).encode())
    monkeypatch.setattr(town_names, "town_label_layer", lambda *a, **k: None)
    without = maps.render_map(tiny_plan())
    assert "plannerMap.towns(" not in without and "planner-legend-towns" not in without
    assert 0 < with_towns - len(without.encode()) < 150_000


def test_heat_is_drawn_from_the_uncovered_points_only(page: str) -> None:
    heat = re.search(r"plannerMap\.heat\(heat_map_\w+, (feature_group_\w+), 1\)", page)
    assert heat is not None
    group = heat.group(1)
    uncovered = re.search(rf"plannerMap\.points\({group}, (\{{.*?\}}), \{{", page)
    assert uncovered is not None
    layer = json.loads(uncovered.group(1))
    plan = tiny_plan()
    assert len(layer["lat"]) == int((~plan.demand["covered"].astype(bool)).sum())
    assert set(layer["title"]["v"]) == {"Amiens", "Bruxelles"}
    assert (
        "95th percentile of the uncovered in view" in page and "covered demand adds nothing" in page
    )


# -- in the browser -----------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def crowded_plan() -> Plan:
    """The tiny plan with Arras chosen too, 45 km from Lille: close at zoom 5, apart at 8."""
    plan = tiny_plan(n_extra_demand=300)
    sites = plan.sites.copy()
    sites.loc[sites["site_id"] == "S2", ["chosen", "chargers"]] = [True, 3]
    return replace(plan, sites=sites)


@pytest.fixture(scope="module")
def opened(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, PageLog]]:
    path = tmp_path_factory.mktemp("orient") / "map.html"
    maps.write_map(crowded_plan(), path, outlines=tiny_outlines())
    with open_offline(browser, path) as (page, log):
        page.wait_for_selector(".planner-site")
        yield page, log


def set_view(page: Any, lat: float, lon: float, zoom: float) -> None:
    page.evaluate(f"() => {{ {MAP}.setView([{lat}, {lon}], {zoom}, {{animate: false}}); }}")
    page.wait_for_timeout(100)


def town_labels(page: Any) -> list[str]:
    return [t.strip() for t in page.locator(".planner-town").all_inner_texts()]


@pytest.mark.browser
def test_town_names_appear_as_you_zoom_in(opened: tuple[Any, PageLog]) -> None:
    page, log = opened
    set_view(page, 50.85, 4.35, 9)
    shown = town_labels(page)
    assert {"Brussels", "Bruxelles"} & set(shown)
    assert len(shown) > 10 and len(shown) == len(set(shown))
    # Text, not markup; in a pane that takes no clicks.
    label = page.locator(".planner-town", has_text="Brussels").first
    assert label.evaluate("e => e.closest('.leaflet-pane').style.pointerEvents") == "none"
    assert label.evaluate("e => e.querySelector('span').children.length") == 0
    set_view(page, 50.85, 4.35, 4)
    assert town_labels(page) == []
    set_view(page, 50.85, 4.35, 5)
    # The largest places name a map of several countries from its opening view.
    assert {"Brussels", "Paris"} <= set(town_labels(page))
    set_view(page, 50.85, 4.35, 7)
    at_seven = town_labels(page)
    zooms = page.locator(".planner-town span").evaluate_all(
        "spans => spans.map(s => +s.getAttribute('data-min-zoom'))"
    )
    assert at_seven and len(zooms) == len(at_seven) and max(zooms) <= 7
    assert "Leuven" not in at_seven and "Leuven" in shown
    assert log.console_errors == [] and log.page_errors == [] and log.blocked == []


@pytest.mark.browser
def test_a_site_under_a_town_name_still_opens_its_popup(opened: tuple[Any, PageLog]) -> None:
    page, _ = opened
    set_view(page, 50.63, 3.06, 10)  # Lille: a chosen site on the town's name
    assert "Lille" in town_labels(page)
    page.mouse.click(*centre_of(page, page.locator(".planner-site").first))
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert popup.inner_text().startswith("Renault Lille")
    page.evaluate(f"() => {{ {MAP}.closePopup(); }}")


@pytest.mark.browser
def test_a_town_name_under_a_site_marker_moves_below_it(opened: tuple[Any, PageLog]) -> None:
    # Before: the marker covered the middle of the name ("Berlin" read "B[12]n").
    page, log = opened
    set_view(page, 50.63, 3.06, 10)
    name = page.locator(".planner-town span", has_text="Lille").bounding_box()
    dots = page.locator(".planner-site .planner-site-dot")
    boxes = [dots.nth(i).bounding_box() for i in range(dots.count())]
    assert name is not None and boxes
    for dot in boxes:
        assert dot is not None
        apart = (
            name["x"] + name["width"] <= dot["x"]
            or dot["x"] + dot["width"] <= name["x"]
            or name["y"] + name["height"] <= dot["y"]
            or dot["y"] + dot["height"] <= name["y"]
        )
        assert apart, (name, dot)
    assert log.console_errors == [] and log.page_errors == []


def centre_of(page: Any, locator: Any) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


@pytest.mark.browser
def test_crowded_site_numbers_give_way_when_zoomed_out(opened: tuple[Any, PageLog]) -> None:
    page, log = opened
    set_view(page, 50.5, 2.9, 5)
    crowded = page.locator(".planner-site-crowded")
    assert crowded.count() == 1
    # The smaller (Arras, 3 chargers) loses its number under Lille (6 chargers).
    assert crowded.locator(".planner-site-dot").inner_text() == "3"
    assert crowded.locator(".planner-site-dot").evaluate("e => getComputedStyle(e).fontSize") == (
        "0px"
    )
    set_view(page, 50.5, 2.9, 8)
    assert page.locator(".planner-site-crowded").count() == 0
    assert log.console_errors == [] and log.page_errors == []


def places(frame: pd.DataFrame) -> set[tuple[float, float]]:
    """Points' coordinates to 3 decimals (the page sums 5-decimal steps in floating point)."""
    return {(round(a, 3), round(o, 3)) for a, o in zip(frame["lat"], frame["lon"], strict=True)}


@pytest.mark.browser
def test_heat_holds_the_uncovered_points_only(opened: tuple[Any, PageLog]) -> None:
    page, log = opened
    page.locator(".leaflet-control-layers label", has_text=maps.LAYER_NAMES["heat"]).click()
    page.wait_for_selector("canvas.leaflet-heatmap-layer")
    heat = page.evaluate(
        "() => { let out = null; "
        f"{MAP}.eachLayer(l => {{ if (l._latlngs && l.plannerScale !== undefined) "
        "out = {points: l._latlngs, scale: l.plannerScale}; }); return out; }"
    )
    demand = crowded_plan().demand
    uncovered = demand[~demand["covered"].astype(bool)]
    covered = demand[demand["covered"].astype(bool)]
    points = {(round(p[0], 3), round(p[1], 3)) for p in heat["points"]}
    assert len(heat["points"]) == len(uncovered)
    assert points == places(uncovered)
    assert not points & places(covered)
    # Intensities relative to the 95th percentile of the uncovered sessions/day, capped at 1.
    sessions = sorted(uncovered["weight"])
    q95 = sessions[math.ceil(0.95 * (len(sessions) - 1))]
    assert heat["scale"] == pytest.approx(q95)
    expected = sorted(min(1.0, w / q95) for w in uncovered["weight"])
    assert sorted(p[2] for p in heat["points"]) == pytest.approx(expected)
    page.locator(".leaflet-control-layers label", has_text=maps.LAYER_NAMES["heat"]).click()
    assert log.console_errors == [] and log.page_errors == []


def test_a_great_circle_map_owes_no_road_credit(page: str) -> None:
    # OpenStreetMap's roads are credited only where the reach came from them
    # (tests/test_routing.py); the online basemaps carry their own credit.
    assert "plannerMap.credit(" not in page
