"""The frontier's grid stops at the sites that can open, and writes into its own folder."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import planner
from planner.pipeline.frontier import default_frontier_folder, frontier_grid
from planner.scenario.schema import Scenario
from tests.test_api import _tiny

# The columns frontier.csv had before the grid was clipped; one may be added.
COLUMNS = [
    "p",
    "sites_selected",
    "demand_covered",
    "coverage_pct",
    "bound_pct",
    "gap",
    "status",
    "seconds",
    "scenario",
]


def test_grid_stops_at_the_sites_that_can_open() -> None:
    grid, notes = frontier_grid(range(10, 101, 10), 17)
    assert grid == [10, 17]
    assert notes == (
        "frontier: p = 20…100 is above the 17 candidate sites that can open; solved up to 17",
    )
    # Nothing above: the grid as asked, nothing said.
    assert frontier_grid([1, 3, 5], 5, 2) == ([1, 2, 3, 5], ())
    # The scenario's own p is solved whatever it is, and said.
    grid, notes = frontier_grid([5, 10, 40], 17, 20)
    assert grid == [5, 10, 17, 20]
    assert notes[0].startswith("frontier: p = 40 is above the 17 candidate sites")
    assert notes[0].endswith("solved up to 17 and the scenario's p = 20")


def test_frontier_clips_the_grid_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = _tiny(tmp_path)
    with caplog.at_level(logging.WARNING, logger="planner.pipeline.frontier"):
        front = planner.frontier(raw, p="3:9:3")
    table = front.table
    sites = len(front.plan.sites)
    assert sites == 5
    # 6 and 9 are above the five sites: the last point is p = 5, the scenario's p = 2 stays.
    assert table["p"].tolist() == [2, 3, 5]
    assert table["scenario"].tolist() == [True, False, False]
    assert table["sites_selected"].tolist() == [2, 3, 5]
    note = "frontier: p = 6…9 is above the 5 candidate sites that can open; solved up to 5"
    assert front.notes == (note,)
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [note]
    # frontier.csv keeps its columns and adds one.
    assert list(table.columns) == [*COLUMNS, "same_as_previous"]
    assert not table["same_as_previous"].any()
    # At p = 5 every site opens: a scenario asking for more gets the same plan, marked.
    front = planner.frontier(raw, p="4:6", overrides={"model.p": 8})
    table = front.table
    assert table["p"].tolist() == [4, 5, 8]
    assert table["scenario"].tolist() == [False, False, True]
    assert table["same_as_previous"].tolist() == [False, False, True]
    coverage = table["coverage_pct"].tolist()
    assert coverage[2] == coverage[1]
    assert front.notes[0].endswith("solved up to 5 and the scenario's p = 8")
    assert front.notes[1].startswith("frontier: p = 8 covers no more than p = 5")
    assert front.plan.report["sites_selected"] == 5


def test_default_frontier_folder_is_not_the_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    scenario = Scenario(name="tiny")
    assert default_frontier_folder(scenario) == tmp_path.resolve() / "maps" / "tiny-frontier"
    # A scenario naming its output folder: the frontier goes beside it.
    named = Scenario(name="tiny", output={"dir": tmp_path / "out" / "lux"})
    assert default_frontier_folder(named) == tmp_path.resolve() / "out" / "lux-frontier"
    outside = Scenario(name="tiny", output={"dir": tmp_path.parent / "elsewhere"})
    with pytest.raises(planner.InputError, match="outside the working folder"):
        default_frontier_folder(outside)


def test_a_short_grid_is_read_at_its_own_points() -> None:
    # Before: the grid 20, 40, 60, 80 was ticked at 24, 32 … 80; a sweep's
    # radius 40, 60 at 39, 42, 45 ….
    import io

    import pandas as pd

    from planner.pipeline.frontier import FrontierPoint, frontier_figure
    from planner.pipeline.sweep_figure import sweep_figure

    points = [
        FrontierPoint(
            p=p,
            sites_selected=p,
            demand_covered=float(p),
            coverage_pct=float(p),
            bound_pct=float(p),
            gap=0.0,
            status="optimal",
            seconds=0.1,
        )
        for p in (20, 40, 60, 80)
    ]
    figure = frontier_figure(points, chosen_p=40, title="grid")
    figure.savefig(io.BytesIO(), format="png")
    assert list(figure.axes[0].get_xticks()) == [20, 40, 60, 80]
    table = pd.DataFrame({"travel.radius_km": [40.0, 60.0, 40.0], "coverage_pct": 50.0})
    figure = sweep_figure(table, ["travel.radius_km"], title="radius")
    figure.savefig(io.BytesIO(), format="png")
    labels = [tick.get_text() for tick in figure.axes[0].get_xticklabels()]
    assert labels == ["40", "60"]
