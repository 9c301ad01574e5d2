"""The review map in a real browser: headless Chromium with the network cut off.

Skipped with the reason when Chromium or Playwright is missing; CI installs
both. Screenshots go to ``$PLANNER_SCREENSHOTS`` (default ``/tmp``) for
people to look at.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from planner.cli.main import main
from planner.maps import plan_map as maps
from tests.browser import PageLog, chromium, open_offline
from tests.test_cli import DEALERS, SCENARIO
from tests.test_map_compare import other_plan, write_plan_folder
from tests.test_map_review import overloaded_plan, phased_plan
from tests.test_maps import (
    HOSTILE_NAME,
    SCRIPT_BREAKER,
    frontier_png,
    tiny_outlines,
    tiny_plan,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(os.environ.get("PLANNER_SCREENSHOTS", "/tmp"))

PLAN = tiny_plan(n_extra_demand=300)

EXPECTED_LAYERS = [
    maps.LAYER_NAMES["outlines"],
    maps.LAYER_NAMES["osm"],
    maps.LAYER_NAMES["positron"],
    maps.brand_layer_name("Nissan"),
    maps.brand_layer_name("Renault"),
    maps.LAYER_NAMES["multi_brand"],
    maps.LAYER_NAMES["covered"],
    maps.LAYER_NAMES["uncovered"],
    maps.LAYER_NAMES["heat"],
    maps.LAYER_NAMES["reach"],
    maps.LAYER_NAMES["chosen"],
    maps.LAYER_NAMES["towns"],
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def map_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("map") / "map.html"
    return maps.write_map(PLAN, path, outlines=tiny_outlines())


@pytest.fixture(scope="module")
def opened(browser: Any, map_file: Path) -> Iterator[tuple[Any, PageLog]]:
    with open_offline(browser, map_file) as (page, log):
        page.wait_for_selector(".planner-site")
        yield page, log


def layer_names(page: Any) -> list[str]:
    return [
        text.strip()
        for text in page.locator(".leaflet-control-layers-selector + span").all_inner_texts()
        if text.strip()
    ]


def close_popups(page: Any) -> None:
    page.evaluate("() => { window[document.querySelector('.folium-map').id].closePopup(); }")
    # Leaflet fades a closed popup out before removing it.
    page.wait_for_function("() => !document.querySelector('.leaflet-popup')")


def open_popup_of(page: Any, title: str) -> str:
    """Click the chosen-site markers until the popup titled ``title`` opens; its text."""
    markers = page.locator(".planner-site")
    for i in range(markers.count()):
        close_popups(page)
        markers.nth(i).click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        text: str = popup.inner_text()
        if text.startswith(title):
            return text
    raise AssertionError(f"no chosen site titled {title!r}")


def test_renders_offline_without_errors(opened: tuple[Any, PageLog]) -> None:
    page, log = opened
    assert log.console_errors == []
    assert log.page_errors == []
    assert log.blocked == [], "the default view needed the network"
    assert page.locator(".leaflet-tile").count() == 0
    # The outlines and points are drawn on canvas.
    assert page.locator(".leaflet-overlay-pane canvas").count() >= 1


def test_one_marker_per_chosen_site(opened: tuple[Any, PageLog]) -> None:
    page, _ = opened
    assert page.locator(".planner-site").count() == PLAN.report["sites_selected"]
    assert sorted(page.locator(".planner-site").all_inner_texts()) == ["2", "6"]


def test_every_layer_is_in_the_layer_control(opened: tuple[Any, PageLog]) -> None:
    page, _ = opened
    assert sorted(layer_names(page)) == sorted(EXPECTED_LAYERS)
    checked = page.locator(".leaflet-control-layers-base input:checked + span")
    assert checked.inner_text().strip() == maps.LAYER_NAMES["outlines"]


def test_popup_shows_the_site(opened: tuple[Any, PageLog]) -> None:
    page, log = opened
    text = open_popup_of(page, "Renault Lille")
    assert "Chargers (800 V)\t6" in text
    assert "Sessions/day served\t51.6" in text
    assert "Population within reach\t400,000" in text
    assert "Marginal population (only this site)\t310,000" in text
    assert "Marginal sessions/day (only this site)\t40.1" in text
    assert "Queue target (wait ≤ 20 %)\tmet — 6.1 % wait at the peak hour" in text
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
    )
    page.screenshot(path=str(SCREENSHOTS / "planner_map_popup.png"))
    assert log.console_errors == []


def test_hostile_names_show_as_text(opened: tuple[Any, PageLog]) -> None:
    page, log = opened
    text = open_popup_of(page, HOSTILE_NAME)
    assert text.startswith(HOSTILE_NAME)
    assert HOSTILE_NAME in page.locator("#planner-countries").inner_text()
    assert page.locator("img[src='x']").count() == 0
    assert log.dialogs == []
    assert log.page_errors == []


def test_dealer_tooltip_shows_a_script_breaking_name_as_text(
    opened: tuple[Any, PageLog],
) -> None:
    page, log = opened
    # Centre on the Belgian Nissan site (S5), then hover it to open its lazily bound tooltip.
    close_popups(page)
    point = page.evaluate(
        """() => { const m = window[document.querySelector('.folium-map').id];
                   m.setView([50.85, 4.40], m.getZoom(), {animate: false});
                   const p = m.latLngToContainerPoint([50.85, 4.40]); return [p.x, p.y]; }"""
    )
    page.mouse.move(point[0], point[1])
    tooltip = page.locator(".leaflet-tooltip", has_text="Garage")
    tooltip.wait_for()
    assert tooltip.inner_text().startswith(SCRIPT_BREAKER)
    assert "Brands\tNissan" in tooltip.inner_text()
    assert "Site\tS5" in tooltip.inner_text()
    assert log.dialogs == [] and log.page_errors == []


def test_heat_layer_turns_on_cleanly(opened: tuple[Any, PageLog]) -> None:
    page, log = opened
    page.locator(".leaflet-control-layers label", has_text=maps.LAYER_NAMES["heat"]).click()
    page.wait_for_selector("canvas.leaflet-heatmap-layer")
    page.screenshot(path=str(SCREENSHOTS / "planner_map_heat.png"))
    # Under the points: the heat's pane is below the overlay pane the points are drawn in.
    z = page.evaluate(
        """() => { const heat = document.querySelector('canvas.leaflet-heatmap-layer');
                   const pane = heat.parentElement;
                   const over = document.querySelector('.leaflet-overlay-pane');
                   return [pane.className, +getComputedStyle(pane).zIndex,
                           +getComputedStyle(over).zIndex]; }"""
    )
    assert "plannerHeat" in z[0] and z[1] < z[2]
    assert log.console_errors == [] and log.page_errors == []


def test_heat_layer_can_be_switched_at_any_zoom(opened: tuple[Any, PageLog]) -> None:
    page, _ = opened
    heat = page.locator(".leaflet-control-layers label", has_text=maps.LAYER_NAMES["heat"])
    for zoom in (12, 16, 5):
        page.evaluate(
            f"() => {{ window[document.querySelector('.folium-map').id]"
            f".setZoom({zoom}, {{animate: false}}); }}"
        )
        assert heat.locator("input").is_enabled()


def test_default_view_screenshot(browser: Any, map_file: Path) -> None:
    with open_offline(browser, map_file) as (page, log):
        page.wait_for_selector(".planner-site")
        page.screenshot(path=str(SCREENSHOTS / "planner_map.png"))
        assert log.blocked == []


def test_a_phone_opens_on_the_plan_with_the_panels_folded(browser: Any, map_file: Path) -> None:
    # Before: on 390 px the fit's 580 px of panel padding made the zoom
    # Infinity, Leaflet threw "Invalid LatLng object: (NaN, NaN)" and the
    # layer list, KPI blocks and legend covered most of the map.
    with open_offline(browser, map_file, width=390, height=844) as (page, log):
        page.wait_for_selector(".planner-site")
        page.wait_for_timeout(100)
        zoom = page.evaluate("() => window[document.querySelector('.folium-map').id].getZoom()")
        assert 3 <= zoom <= 12
        assert page.locator(".leaflet-control-layers-expanded").count() == 0
        assert page.locator(".planner-panel details[open]").count() == 0
        assert page.locator("#planner-legend summary").is_visible()
        page.locator("#planner-legend summary").click()
        assert page.locator("#planner-legend details[open]").count() == 1
        page.locator("#planner-legend summary").click()
        page.locator(".leaflet-control-layers-toggle").click()
        assert page.locator(".leaflet-control-layers-expanded").count() == 1
        page.mouse.click(200, 700)
        page.wait_for_selector(".leaflet-control-layers-expanded", state="detached", timeout=2000)
        page.screenshot(path=str(SCREENSHOTS / "planner_map_phone.png"))
        assert log.page_errors == [] and log.console_errors == [] and log.blocked == []


def test_online_basemap_is_only_fetched_when_chosen(browser: Any, map_file: Path) -> None:
    with open_offline(browser, map_file) as (page, log):
        assert log.blocked == []
        page.locator(".leaflet-control-layers label", has_text=maps.LAYER_NAMES["osm"]).click()
        page.wait_for_function("() => document.querySelectorAll('.leaflet-tile').length > 0")
        page.wait_for_timeout(200)
        assert log.blocked and all("tile.openstreetmap.org" in url for url in log.blocked)


def test_site_markers_shrink_when_zoomed_out(opened: tuple[Any, PageLog]) -> None:
    page, log = opened
    far = page.evaluate(
        """() => { const m = window[document.querySelector('.folium-map').id];
                   const before = m.getContainer().classList.contains('planner-far');
                   m.setZoom(4, {animate: false});
                   return [before, m.getContainer().classList.contains('planner-far')]; }"""
    )
    assert far == [False, True]
    assert log.console_errors == [] and log.page_errors == []


def test_comparison_renders_offline_and_moves_together(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("compare")
    folders = (
        write_plan_folder(root / "a", tiny_plan()),
        write_plan_folder(root / "b", other_plan()),
    )
    path = maps.write_comparison(*folders, root / "compare.html", outlines=tiny_outlines())
    with open_offline(browser, path) as (page, log):
        page.wait_for_selector(".planner-site")
        assert log.console_errors == [] and log.page_errors == [] and log.blocked == []
        page.wait_for_timeout(600)  # let the opening zoom animation finish
        page.screenshot(path=str(SCREENSHOTS / "planner_compare.png"))
        maps_on_page = page.locator(".folium-map")
        assert maps_on_page.count() == 2
        left, right = maps_on_page.nth(0), maps_on_page.nth(1)
        assert left.locator(".planner-site-removed").count() == 1
        assert left.locator(".planner-site-kept").count() == 1
        assert right.locator(".planner-site-added").count() == 1
        assert right.locator(".planner-site-kept").count() == 1
        # Zooming the left map zooms the right one too.
        zooms = page.evaluate(
            """() => { const ids = [...document.querySelectorAll('.folium-map')].map(e => e.id);
                       window[ids[0]].setZoom(9, {animate: false});
                       return ids.map(id => window[id].getZoom()); }"""
        )
        assert zooms == [9, 9]
        page.evaluate(
            """() => { const ids = [...document.querySelectorAll('.folium-map')].map(e => e.id);
                       window[ids[0]].setZoom(7.5, {animate: false}); }"""
        )
        left.locator(".planner-site-removed").click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        assert popup.inner_text().startswith(HOSTILE_NAME)
        assert "only in A (removed in B)" in popup.inner_text()
        assert "+9.5 pp" in page.locator("#planner-diff").inner_text()
        close_popups(page)
        left.locator(".planner-site-removed").click()
        popup.wait_for()
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOTS / "planner_compare_popup.png"))
        assert log.dialogs == [] and log.page_errors == []


def test_existing_chargers_show_their_operator_as_text(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    table = pd.DataFrame(
        {
            "charger_id": ["E1", "E2"],
            "operator": [HOSTILE_NAME, "Ionity"],
            "power_kw": [350.0, 150.0],
            "points": [6, 2],
            "lon": [2.55, 3.90],
            "lat": [50.45, 49.40],
        }
    )
    path = tmp_path_factory.mktemp("existing") / "map.html"
    maps.write_map(replace(PLAN, existing_chargers=table), path, outlines=tiny_outlines())
    with open_offline(browser, path) as (page, log):
        page.wait_for_selector(".planner-site")
        assert maps.LAYER_NAMES["existing"] in layer_names(page)
        assert "Existing high-power charger (2)" in page.locator("#planner-legend").inner_text()
        point = page.evaluate(
            """() => { const m = window[document.querySelector('.folium-map').id];
                       m.setView([50.45, 2.55], 10, {animate: false});
                       const p = m.latLngToContainerPoint([50.45, 2.55]); return [p.x, p.y]; }"""
        )
        # A square of the canvas, dark grey: the charger is drawn where it is.
        pixel = page.evaluate(
            """([x, y]) => { const c = document.querySelector('.leaflet-overlay-pane canvas');
                             const r = c.getBoundingClientRect();
                             return [...c.getContext('2d')
                                         .getImageData(x - r.left, y - r.top, 1, 1).data]; }""",
            point,
        )
        assert max(pixel[:3]) < 90 and pixel[3] == 255, pixel
        page.mouse.move(point[0], point[1])
        tooltip = page.locator(".leaflet-tooltip", has_text="350 kW")
        tooltip.wait_for()
        text = tooltip.inner_text()
        assert text.startswith(HOSTILE_NAME)
        assert "Power\t350 kW" in text and "Charging points\t6" in text and "Id\tE1" in text
        page.screenshot(path=str(SCREENSHOTS / "planner_map_existing.png"))
        assert log.dialogs == [] and log.page_errors == [] and log.console_errors == []
        assert log.blocked == []


def test_frontier_plot_opens_offline(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("frontier") / "map.html"
    maps.write_map(PLAN, path, outlines=tiny_outlines(), frontier_png=frontier_png())
    with open_offline(browser, path) as (page, log):
        page.locator("#planner-frontier summary").click()
        image = page.locator("#planner-frontier img")
        image.wait_for()
        assert page.evaluate("() => document.querySelector('#planner-frontier img').naturalWidth")
        page.screenshot(path=str(SCREENSHOTS / "planner_map_frontier.png"))
        assert log.console_errors == [] and log.page_errors == [] and log.blocked == []


def run_cli(*args: str) -> None:
    """``planner ARGS`` in this process; fails the test unless it exits 0."""
    old = sys.argv
    sys.argv = ["planner", *args]
    try:
        main()
    except SystemExit as exc:
        assert not exc.code, f"planner {' '.join(args)} exited {exc.code}"
    finally:
        sys.argv = old


@pytest.fixture(scope="module")
def cli_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two runs of one scenario (p = 1 and 2), their comparison and a frontier, by the CLI."""
    root = tmp_path_factory.mktemp("cli")
    (root / "dealers.csv").write_text(DEALERS, encoding="utf-8")
    scenario = root / "tiny.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    run_cli("run", str(scenario), "--out", str(root / "p1"), "--set", "model.p=1")
    run_cli("run", str(scenario), "--out", str(root / "p2"))
    run_cli("compare", str(root / "p1"), str(root / "p2"), "--out", str(root / "cmp"))
    run_cli("frontier", str(scenario), "--p", "1,3,4", "--out", str(root / "frontier"))
    return {
        "compare": root / "cmp" / "compare.html",
        "frontier_map": root / "frontier" / "map.html",
        "frontier_png": root / "frontier" / "frontier.png",
    }


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_cli_comparison_tells_the_panes_apart(browser: Any, cli_outputs: dict[str, Path]) -> None:
    with open_offline(browser, cli_outputs["compare"]) as (page, log):
        page.wait_for_selector(".planner-site")
        page.wait_for_timeout(300)
        label_a = page.locator("#planner-pane-a")
        label_b = page.locator("#planner-pane-b")
        # Same scenario name on both sides: the folder and the differing p tell them apart.
        assert label_a.inner_text().splitlines()[:3] == ["A: p1", "scenario tiny", "model.p = 1"]
        assert label_b.inner_text().splitlines()[:3] == ["B: p2", "scenario tiny", "model.p = 2"]
        page.screenshot(path=str(SCREENSHOTS / "planner_cli_compare.png"))
        # The left map's layer control, opened, stays clear of label A.
        control = page.locator(".folium-map").nth(0).locator(".leaflet-control-layers")
        control.hover()
        page.wait_for_selector(".leaflet-control-layers-expanded")
        assert not boxes_overlap(label_a.bounding_box(), control.bounding_box())
        page.screenshot(path=str(SCREENSHOTS / "planner_cli_compare_layers.png"))
        assert "model.p" in page.locator("#planner-diff-scenario").inner_text()
        assert log.console_errors == [] and log.page_errors == [] and log.blocked == []
    # Before: on a phone each label was squeezed to a word a line over its map,
    # and the page scrolled sideways.
    with open_offline(browser, cli_outputs["compare"], width=390, height=844) as (page, log):
        page.wait_for_selector(".planner-site")
        page.wait_for_timeout(300)
        assert page.locator("#planner-pane-a").inner_text() == "A: p1"
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SCREENSHOTS / "planner_cli_compare_phone.png"))
        assert log.console_errors == [] and log.page_errors == [] and log.blocked == []


def test_cli_frontier_map_shows_the_plot(browser: Any, cli_outputs: dict[str, Path]) -> None:
    with open_offline(browser, cli_outputs["frontier_map"]) as (page, log):
        page.wait_for_selector(".planner-site")
        assert page.locator(".planner-site").count() == 2  # the scenario's p = 2
        page.locator("#planner-frontier summary").click()
        page.locator("#planner-frontier img").wait_for()
        width = page.evaluate("() => document.querySelector('#planner-frontier img').naturalWidth")
        assert width > 300
        page.screenshot(path=str(SCREENSHOTS / "planner_cli_frontier_map.png"))
        assert log.console_errors == [] and log.page_errors == [] and log.blocked == []
    with open_offline(browser, cli_outputs["frontier_png"]) as (page, log):
        size = page.evaluate(
            "() => [document.images[0].naturalWidth, document.images[0].naturalHeight]"
        )
        assert size[0] > 600 and size[1] > 300
        page.screenshot(path=str(SCREENSHOTS / "planner_cli_frontier_png.png"))
        assert log.console_errors == [] and log.blocked == []


def test_overloaded_site_gets_a_red_ring_and_says_so(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("queue") / "map.html"
    maps.write_map(overloaded_plan(), path, outlines=tiny_outlines())
    with open_offline(browser, path) as (page, log):
        page.wait_for_selector(".planner-site")
        ringed = page.locator(".planner-site-overloaded")
        assert ringed.count() == 1 and page.locator(".planner-site").count() == 2
        shadows = page.evaluate(
            """() => [...document.querySelectorAll('.planner-site')].map(m => [
                 m.classList.contains('planner-site-overloaded'),
                 getComputedStyle(m.querySelector('.planner-site-dot')).boxShadow])"""
        )
        for overloaded, shadow in shadows:
            assert ("rgb(192, 0, 0)" in shadow) == overloaded, shadow
        assert "Red ring" in page.locator("#planner-legend-overloaded").inner_text()
        queue = page.locator("#planner-queue").inner_text()
        assert "1 site meets it, 1 misses it" in queue and "3 chargers short" in queue
        text = open_popup_of(page, HOSTILE_NAME)
        assert "Queue target (wait ≤ 20 %)\tmissed — 100 % wait at the peak hour" in text
        text = open_popup_of(page, "Renault Lille")
        assert "Queue target (wait ≤ 20 %)\tmet — 7.1 % wait at the peak hour" in text
        page.screenshot(path=str(SCREENSHOTS / "planner_map_queue.png"))
        assert log.console_errors == [] and log.page_errors == [] and log.blocked == []


def test_year_filter_hides_sites_opened_later(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("phased") / "map.html"
    maps.write_map(phased_plan(), path, outlines=tiny_outlines())
    count_reach = """() => { const m = window[document.querySelector('.folium-map').id];
        let n = 0; m.eachLayer(l => { if (l instanceof L.Circle) n += 1; }); return n; }"""
    with open_offline(browser, path) as (page, log):
        page.wait_for_selector(".planner-site")
        control = page.locator("#planner-years")
        assert control.inner_text().startswith("Show sites open by:")
        # Before: nothing said the demand layers stay the last year's.
        assert control.locator("#planner-years-note").inner_text() == (
            "Demand layers: as covered by 2030"
        )
        radios = control.locator("input[type=radio]")
        assert [radios.nth(i).get_attribute("value") for i in range(3)] == [
            "2026",
            "2028",
            "2030",
        ]
        assert radios.nth(2).is_checked()
        assert page.locator(".planner-site").count() == 2
        ringed = page.locator(".planner-site-overloaded")
        assert ringed.count() == 1 and ringed.inner_text() == "2"  # S4 misses it in 2030
        assert page.evaluate(count_reach) == 2
        dots = """() => [...document.querySelectorAll('.planner-site')]
                  .map(m => [m.textContent, m.getBoundingClientRect().width])"""
        assert sorted(text for text, _ in page.evaluate(dots)) == ["2", "6"]
        assert "installed by the year shown" in page.locator("#planner-legend").inner_text()
        # The markers take their opening year's colour, as the legend shows.
        colours = page.evaluate(
            """() => [...document.querySelectorAll('.planner-site-dot')]
                     .map(d => getComputedStyle(d).backgroundColor)"""
        )
        assert len(set(colours)) == 2
        assert "Opens 2028" in page.locator("#planner-legend").inner_text()

        control.locator("label", has_text="2026").click()
        page.wait_for_function("() => document.querySelectorAll('.planner-site').length === 1")
        assert page.locator(".planner-site-y2026").count() == 1
        assert page.locator(".planner-site-y2028").count() == 0
        assert page.evaluate(count_reach) == 1
        # Lille shows the 4 chargers it has by 2026 (6 by 2030), on a smaller marker.
        [(text, width)] = page.evaluate(dots)
        assert text == "4" and width == 28
        # In 2026 Lille is the one missing the queueing target, S4 not open yet.
        assert ringed.count() == 1 and ringed.inner_text() == "4"
        text = open_popup_of(page, "Renault Lille")
        assert "Opens\t2026" in text and "Sessions/day served (2030 demand)\t51.6" in text
        assert "Chargers by year\t2026: 4 · 2028: 5 · 2030: 6" in text
        close_popups(page)
        page.screenshot(path=str(SCREENSHOTS / "planner_map_years.png"))

        # Switching the layer off and on keeps the filter; the last year shows all again.
        chosen = page.locator(".leaflet-control-layers label", has_text=maps.LAYER_NAMES["chosen"])
        chosen.click()
        assert page.locator(".planner-site").count() == 0
        chosen.click()
        assert page.locator(".planner-site").count() == 1
        control.locator("label", has_text="2030").click()
        page.wait_for_function("() => document.querySelectorAll('.planner-site').length === 2")
        assert page.evaluate(count_reach) == 2
        assert sorted(page.evaluate(dots)) == [["2", 25], ["6", 30]]
        assert ringed.count() == 1 and ringed.inner_text() == "2"
        assert "By year" in page.locator("#planner-phases").inner_text()
        assert log.console_errors == [] and log.page_errors == [] and log.blocked == []
