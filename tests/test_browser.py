"""The review map in a real browser: headless Chromium with the network cut off.

Skipped with the reason when Chromium or Playwright is missing; CI installs
both. Screenshots go to ``$PLANNER_SCREENSHOTS`` (default ``/tmp``) for
people to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from planner import maps
from tests.browser import PageLog, chromium, open_offline
from tests.test_maps import (
    HOSTILE_NAME,
    SCRIPT_BREAKER,
    frontier_png,
    other_plan,
    tiny_outlines,
    tiny_plan,
    write_plan_folder,
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
    assert log.console_errors == [] and log.page_errors == []


def test_default_view_screenshot(browser: Any, map_file: Path) -> None:
    with open_offline(browser, map_file) as (page, log):
        page.wait_for_selector(".planner-site")
        page.screenshot(path=str(SCREENSHOTS / "planner_map.png"))
        assert log.blocked == []


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
