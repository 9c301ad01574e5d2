"""The coverage frontier on a small hand-made instance."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp

import planner
from planner.errors import InputError
from planner.optimise import SolverSettings
from planner.pipeline.frontier import (
    coverage_frontier,
    frontier_grid,
    frontier_table,
    parse_p_range,
    plot_frontier,
)
from planner.pipeline.plan import PlanInputs


def test_parse_p_range() -> None:
    assert list(parse_p_range("10:50:20")) == [10, 30, 50]
    assert list(parse_p_range("1:3")) == [1, 2, 3]
    assert list(parse_p_range("40,5,10")) == [5, 10, 40]
    # Before: 5 given twice was solved once without a word; '' became the default range.
    with pytest.raises(InputError, match=r"^--p: '40,5,10,5': 5 is given twice$"):
        parse_p_range("40,5,10,5")
    with pytest.raises(InputError, match=r"^--p: '' is not START:STOP\[:STEP\]"):
        parse_p_range("")
    # "1_0" and other scripts' digits ("１") were taken for 10 and 1 by int().
    for bad in ("0:10", "10:5", "a:b", "5:10:0", "1:2:3:4", "1_0", "\uff11,\uff12", "1:1_00"):
        with pytest.raises(InputError, match="--p"):
            parse_p_range(bad)
    # Before: "'0,1' gives no number of sites ≥ 1", though 1 is one.
    with pytest.raises(InputError) as caught:
        parse_p_range("0,1")
    assert str(caught.value) == "--p: '0,1': numbers of sites must be 1 or more"
    with pytest.raises(InputError, match=r"^p: 'x:y'"):
        parse_p_range("x:y", option="p")
    # Before: "is not START:STOP[:STEP]", though each of these is of that form.
    for bad, why in (
        ("0:10", "numbers of sites start at 1"),
        ("10:5", "STOP is below START"),
        ("5:10:0", "the step must be 1 or more"),
    ):
        with pytest.raises(InputError) as caught:
            parse_p_range(bad)
        assert str(caught.value) == f"--p: '{bad}': {why}"


def test_a_huge_range_is_cut_at_the_sites_without_being_listed() -> None:
    # Before: list(range(1, 10**9 + 1)) filled 24 GB and the kernel killed the run.
    grid, notes = frontier_grid(parse_p_range("1:1000000000"), 17)
    assert grid == list(range(1, 18))
    assert notes == (
        "frontier: p = 18…1000000000 is above the 17 candidate sites that can open; "
        "solved up to 17",
    )
    grid, notes = frontier_grid(range(5, 10**12, 5), 17, 10**12 - 5)
    assert grid == [5, 10, 15, 17, 10**12 - 5]
    assert notes[0].startswith("frontier: p = 20 is above the 17")
    # Before: a range of more than 2**63 values failed as an unexpected error.
    grid, notes = frontier_grid(parse_p_range("1:18446744073709551616"), 6)
    assert grid == list(range(1, 7))
    assert notes[0].startswith("frontier: p = 7…18446744073709551616 is above the 6")


@pytest.mark.parametrize(
    "p", [["a"], [None, 1], [float("nan")], [float("inf")], [1.5, 2.7], [True], [], 3, None]
)
def test_the_python_frontier_refuses_what_is_not_a_whole_number_of_sites(p: object) -> None:
    # Before: ValueError, TypeError or OverflowError, and 2.7 silently solved as 2.
    with pytest.raises(InputError) as caught:
        planner.frontier({"model": {"p": 3}}, p=p)  # type: ignore[arg-type]
    assert str(caught.value).startswith("p: ")


def _inputs() -> PlanInputs:
    # Four sites; site 0 reaches demand 0-1 (weights 5, 4), site 1 reaches
    # 1-2 (4, 3), site 2 reaches 3 (2), site 3 reaches 4 (1). By hand the
    # best p = 1, 2, 3, 4 cover 9, 12, 14, 15 of 15.
    rows = [0, 1, 1, 2, 3, 4]
    cols = [0, 0, 1, 1, 2, 3]
    reach = sp.csr_matrix((np.ones(6), (rows, cols)), shape=(5, 4))
    demand = gpd.GeoDataFrame({"weight": [5.0, 4.0, 3.0, 2.0, 1.0]})
    sites = gpd.GeoDataFrame({"fixed": [False] * 4, "excluded": [False] * 4})
    return PlanInputs(sites=sites, demand=demand, reach=reach, counts={})


def test_frontier_by_hand(tmp_path: Path) -> None:
    points = coverage_frontier(_inputs(), [1, 2, 3, 4], settings=SolverSettings(time_limit_s=10))
    assert [pt.demand_covered for pt in points] == [9.0, 12.0, 14.0, 15.0]
    assert [pt.coverage_pct for pt in points] == pytest.approx([60.0, 80.0, 93.333333, 100.0])
    assert all(pt.status == "optimal" for pt in points)
    table = frontier_table(points)
    assert list(table["p"]) == [1, 2, 3, 4]
    plot_frontier(points, tmp_path / "frontier.png", chosen_p=2, title="test")
    assert (tmp_path / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_frontier_stops_at_the_sites_not_excluded(caplog: pytest.LogCaptureFixture) -> None:
    inputs = _inputs()
    inputs.sites["excluded"] = [False, False, False, True]
    with caplog.at_level(logging.WARNING, logger="planner.pipeline.frontier"):
        points = coverage_frontier(
            inputs, range(1, 7), settings=SolverSettings(time_limit_s=10), scenario_p=5
        )
    # Three sites can open: p = 4 and 6 are dropped, the scenario's p = 5 is solved.
    assert [pt.p for pt in points] == [1, 2, 3, 5]
    assert [pt.demand_covered for pt in points] == [9.0, 12.0, 14.0, 14.0]
    assert [pt.same_as_previous for pt in points] == [False, False, False, True]
    assert [r.getMessage() for r in caplog.records] == [
        "frontier: p = 4…6 is above the 3 candidate sites that can open; "
        "solved up to 3 and the scenario's p = 5"
    ]
