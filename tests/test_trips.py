"""Long-distance trips: gravity flows, paths over the town graph, the flow model end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import planner
from planner.errors import InputError
from planner.pipeline.tradeoff import parse_weights
from planner.travel.trips import gravity_pairs, town_graph, trips_along_paths


def test_gravity_flows_fill_the_band_and_sum_to_the_calibration() -> None:
    # Four towns on the equator 1° (111 km) apart: pairs of 111, 222 and 333 km.
    lon = np.array([0.0, 1.0, 2.0, 3.0])
    lat = np.zeros(4)
    population = np.array([100.0, 200.0, 300.0, 400.0])
    first, second, flows, counts = gravity_pairs(
        lon, lat, population, beta=2.0, min_km=150, max_km=300, circuity=1.0,
        trips_per_day=50.0, max_trips=10,
    )  # fmt: skip
    pairs = sorted(zip(first.tolist(), second.tolist(), strict=True))
    assert pairs == [(0, 2), (1, 3)]  # 222 km apart; 111 and 333 km are outside the band
    assert flows.sum() == pytest.approx(50.0)
    # P_i P_j / d²: (100 × 300) against (200 × 400) at the same distance.
    assert flows.max() / flows.min() == pytest.approx(80_000 / 30_000)
    kept = gravity_pairs(
        lon, lat, population, beta=2.0, min_km=150, max_km=300, circuity=1.0,
        trips_per_day=50.0, max_trips=1,
    )  # fmt: skip
    assert kept[2].tolist() == pytest.approx([50.0 * 8 / 11])
    assert kept[3]["share_of_flow_kept"] == pytest.approx(8 / 11)
    assert counts["pairs_in_band"] == 2


def test_sites_along_a_path_in_order_within_the_detour() -> None:
    # Towns every 0.5° along the equator (≈ 55.6 km); sites beside the road.
    lon = np.arange(0.0, 3.01, 0.5)
    lat = np.zeros(lon.size)
    graph = town_graph(lon, lat, neighbours=2, circuity=1.0)
    site_lon = np.array([2.0, 0.25, 1.0, 1.5])
    site_lat = np.array([0.02, 0.0, 0.2, -0.03])  # 2.2 km, on it, 22 km, 3.3 km off
    trips = trips_along_paths(
        lon, lat, np.array([0]), np.array([6]), np.array([4.0]), site_lon, site_lat,
        graph=graph, detour_km=5.0, circuity=1.0,
    )  # fmt: skip
    path = trips.nodes[0].tolist()
    # Collinear towns: any increasing chain from 0 to 6 is a shortest path.
    assert path[0] == 0 and path[-1] == 6 and path == sorted(path)
    sites, positions = trips.paths.along(0)
    assert sites.tolist() == [1, 3, 0]  # in path order; site 2 is too far off the road
    degree_km = np.radians(1.0) * 6371.0088
    assert positions.tolist() == pytest.approx([0.25 * degree_km, 1.5 * degree_km, 2 * degree_km])
    assert trips.km[0] == pytest.approx(3 * degree_km, rel=1e-6)


def _flow_overrides(**extra: object) -> dict[str, object]:
    return {
        "model.name": "flow_refuelling",
        "model.p": 20,
        "trips.max_trips": 300,
        "solver.time_limit_s": 30,
        **extra,
    }


def test_flow_plan_end_to_end(tmp_path: Path) -> None:
    plan = planner.run(overrides=_flow_overrides())
    report = plan.report
    assert report["model"] == "flow_refuelling"
    assert plan.trips is not None and len(plan.trips) == report["inputs"]["trips"]["trips"] == 300
    served = plan.trips.loc[plan.trips["served"], "trips_per_day"].sum()
    assert report["trips"]["served_per_day"] == pytest.approx(served, rel=1e-6)
    assert report["objective"] == pytest.approx(served, rel=1e-6)
    assert 0 < report["trips"]["served_pct"] <= 100
    assert "approximation" in report["inputs"]["trips"]["paths"]
    assert report["sites_selected"] <= 20
    plan.save(tmp_path / "out")
    written = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert written["trips"] == report["trips"]
    header = (tmp_path / "out" / "trips.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "origin,destination,trips_per_day,km,served,stations_on_path"
    page = (tmp_path / "out" / "map.html").read_text(encoding="utf-8")
    assert "Long-distance trips" in page and "plannerMap.lines(" in page
    assert "round trips/day refuelled" in page
    assert "Long-distance trips: charging stops/day" in page  # each chosen site's popup
    # Long-distance drivers' stops are sized with the local sessions.
    sites = pd.read_csv(tmp_path / "out" / "sites.csv")
    chosen = sites[sites["chosen"]]
    assert chosen["trip_sessions"].sum() > 0
    assert (sites.loc[~sites["chosen"], "trip_sessions"] == 0).all()


def test_flow_bad_input_is_one_line() -> None:
    with pytest.raises(planner.InputError, match=r"trips\.min_population"):
        planner.check(overrides=_flow_overrides(**{"trips.min_population": 10**9}))
    with pytest.raises(planner.InputError, match=r"model\.range_km"):
        planner.load_scenario(None, overrides=["model.range_km=0"])


def test_trade_off_sweeps_the_trip_weight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_cli import _run

    args = ["frontier", "--trip-weights", "0,1", "--out", str(tmp_path / "t")]
    for key, value in _flow_overrides(**{"model.p": 10, "model.trip_weight": 0.5}).items():
        args += ["--set", f"{key}={value}"]
    code, _, err = _run(args, capsys)
    assert code == 0, err
    table = pd.read_csv(tmp_path / "t" / "frontier.csv")
    assert table["trip_weight"].tolist() == [0.0, 0.5, 1.0]
    assert table["scenario"].tolist() == [False, True, False]
    # Weighting trips more never refuels fewer of them, nor covers more local demand.
    assert table["trips_pct"].is_monotonic_increasing
    assert table["local_pct"].is_monotonic_decreasing
    assert (tmp_path / "t" / "frontier.png").stat().st_size > 0
    report = json.loads((tmp_path / "t" / "report.json").read_text(encoding="utf-8"))
    assert report["trips"]["trip_weight"] == 0.5


def test_existing_fast_stations_serve_trips(tmp_path: Path) -> None:
    stations = tmp_path / "stations.csv"
    # Fast stations on the way from Brussels to Paris, and a slow one that does not count.
    stations.write_text(
        "id,operator,power_kw,points,lon,lat\n"
        "e1,Op,300,4,3.95,50.45\ne2,Op,300,4,3.52,50.36\ne3,Op,300,4,2.93,49.93\n"
        "e4,Op,50,2,2.60,49.40\n",
        encoding="utf-8",
    )
    base = _flow_overrides(**{"model.p": 5})
    alone = planner.run(overrides=base)
    helped = planner.run(
        overrides={
            **base,
            "existing_chargers.files": [{"path": str(stations)}],
            "existing_chargers.min_power_kw": 22.0,
        }
    )
    assert helped.report["inputs"]["trips"]["existing_stations"] == 3
    # Stations that are there anyway can only add trips the plan refuels.
    assert helped.report["trips"]["served_per_day"] >= alone.report["trips"]["served_per_day"]


def test_trips_from_an_od_file(tmp_path: Path) -> None:
    od = tmp_path / "od.csv"
    od.write_text(
        "origin,destination,trips_per_day\n"
        'Brussels,Paris,120\nLyon,Marseille,"80,5"\nRotterdam,Amsterdam,0\n',
        encoding="utf-8",
    )
    plan = planner.run(overrides={**_flow_overrides(), "trips.source": str(od)})
    assert plan.trips is not None
    assert sorted(plan.trips["trips_per_day"].tolist()) == [80.5, 120.0]
    counts = plan.report["inputs"]["trips"]
    assert counts["rows"] == 3 and counts["zero_trips_dropped"] == 1
    assert plan.report["trips"]["total_per_day"] == pytest.approx(200.5)


def test_a_trip_without_a_path_keeps_its_flow_in_the_table(tmp_path: Path) -> None:
    od = tmp_path / "od.csv"
    # Ajaccio lies on Corsica: no path over the town graph joins it to Marseille.
    od.write_text(
        "origin,destination,trips_per_day\nBrussels,Paris,120\nMarseille,Ajaccio,7\n",
        encoding="utf-8",
    )
    plan = planner.run(overrides={**_flow_overrides(), "trips.source": str(od)})
    assert plan.trips is not None
    island = plan.trips.set_index("destination").loc["Ajaccio"]
    # Before: written with 0 trips and 0 km, so trips.csv fell short of the
    # trips read by 7 a day.
    assert island["trips_per_day"] == 7 and np.isnan(island["km"]) and not island["served"]
    counts = plan.report["inputs"]["trips"]
    assert counts["trips_without_path"] == 1 and counts["trips_per_day_without_path"] == 7
    assert plan.report["trips"]["total_per_day"] == pytest.approx(120)
    assert plan.trips["trips_per_day"].sum() == pytest.approx(counts["trips_per_day"])


def test_a_bad_od_file_lists_every_row(tmp_path: Path) -> None:
    od = tmp_path / "od.csv"
    od.write_text(
        "from,to,trips\nAtlantis,Paris,3\nBrussels,Paris,-2\nParis,Paris,1\nLyon,Lyon2,x\n"
        "Paris,Lyon,1e300\n",
        encoding="utf-8",
    )
    with pytest.raises(planner.InputError) as caught:
        planner.check(overrides={**_flow_overrides(), "trips.source": str(od)})
    text = "\n".join(str(p) for p in caught.value.problems)
    assert f"{od}, row 2, field 'origin': 'Atlantis' is no demand place" in text
    assert "row 3, field 'trips_per_day': -2 trips: must be 0 or more" in text
    assert "row 4, field 'destination': a trip from a place to itself" in text
    assert "row 5, field 'trips_per_day': 'x' is not a number" in text
    # Before: handed to the solver, which refused the model (MODEL_INVALID).
    assert "row 6, field 'trips_per_day': 1e+300 trips: more than 10,000,000 a day" in text
    shifted = tmp_path / "shifted.csv"
    shifted.write_text("origin,destination,trips_per_day\nBrussels,Paris,1,500\n", encoding="utf-8")
    with pytest.raises(planner.InputError, match=r"row 2: has 4 cells but the header has 3"):
        planner.check(overrides={**_flow_overrides(), "trips.source": str(shifted)})
    # GeoNames knows a Lille in France and one in Belgium: the id decides.
    twice = tmp_path / "twice.csv"
    twice.write_text("origin,destination,trips_per_day\nLille,Paris,5\n", encoding="utf-8")
    with pytest.raises(planner.InputError, match=r"'Lille' names 2 demand places \(gn:"):
        planner.check(overrides={**_flow_overrides(), "trips.source": str(twice)})
    missing = tmp_path / "no_destination.csv"
    missing.write_text("origin,count\nParis,3\n", encoding="utf-8")
    with pytest.raises(planner.InputError, match="no destination column"):
        planner.check(overrides={**_flow_overrides(), "trips.source": str(missing)})
    # Read by header, only the first "trips" column would count.
    two = tmp_path / "two_counts.csv"
    two.write_text("origin,destination,trips,Trips\nParis,Lyon,3,300\n", encoding="utf-8")
    with pytest.raises(planner.InputError, match=r"2 columns headed 'trips' \(columns 3, 4\)"):
        planner.check(overrides={**_flow_overrides(), "trips.source": str(two)})
    # Before: a short row or a blank line in the middle ended in an IndexError.
    short = tmp_path / "short.csv"
    short.write_text("origin,destination,trips_per_day\nBrussels,Paris\n", encoding="utf-8")
    with pytest.raises(planner.InputError) as caught:
        planner.check(overrides={**_flow_overrides(), "trips.source": str(short)})
    assert [str(p) for p in caught.value.problems] == [
        f"{short}, row 2, field 'trips_per_day': no number of trips"
    ]


def test_blank_rows_of_an_od_file_are_counted(tmp_path: Path) -> None:
    od = tmp_path / "od.csv"
    od.write_text(
        "origin,destination,trips_per_day\nBrussels,Paris,120\n\n,,\nLyon,Marseille,80\n",
        encoding="utf-8",
    )
    checked = planner.check(overrides={**_flow_overrides(), "trips.source": str(od)})
    counts = checked.inputs.counts["trips"]
    assert counts["blank_rows_dropped"] == 2 and counts["rows"] == 4


def test_a_row_repeated_in_an_od_file_is_dropped_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: Paris-Lyon counted 100 + 100 trips a day, unsaid.
    od = tmp_path / "od.csv"
    od.write_text(
        "origin,destination,trips_per_day\nBrussels,Paris,100\nBrussels,Paris,100\n"
        "Paris,Brussels,30\n",
        encoding="utf-8",
    )
    with caplog.at_level("WARNING"):
        checked = planner.check(overrides={**_flow_overrides(), "trips.source": str(od)})
    counts = checked.inputs.counts["trips"]
    assert counts["duplicate_rows_dropped"] == 1
    assert counts["trips_per_day"] == pytest.approx(130)
    assert "1 row(s) repeat an earlier row exactly and were dropped (rows 3)" in caplog.text
    # Before: Paris-Brussels was added to Brussels-Paris unsaid (a symmetric
    # matrix of round trips doubled its flow).
    assert counts["pair_rows_added"] == 1
    assert "repeat the two places of an earlier row (in either direction" in caplog.text


def test_rows_of_one_od_pair_with_other_figures_are_added_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: 5 and 7 trips of one pair became 12 without a word.
    od = tmp_path / "od.csv"
    od.write_text(
        "origin,destination,trips_per_day\nBrussels,Paris,5\nBrussels,Paris,7\n",
        encoding="utf-8",
    )
    with caplog.at_level("WARNING"):
        checked = planner.check(overrides={**_flow_overrides(), "trips.source": str(od)})
    counts = checked.inputs.counts["trips"]
    assert counts["pair_rows_added"] == 1 and counts["trips_per_day"] == pytest.approx(12)
    # One trip of 12 a day: before, the two rows stayed two trips (and two rows
    # of trips.csv), though the warning said they were added up.
    trips = checked.inputs.trips
    assert trips is not None and trips.flows is not None
    assert trips.flows.tolist() == [12.0]
    assert (
        "1 row(s) repeat the two places of an earlier row (in either direction: trips are "
        "round trips) with other figures; their trips are added to it (rows 3)"
    ) in caplog.text


@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("from,to,flow,trips", "'flow' and 'trips' could each be the trips_per_day column"),
        ("from,to,origin,destination,trips", "'from' and 'origin' could each be the origin"),
    ],
)
def test_two_columns_that_could_be_one_od_field_are_refused(
    tmp_path: Path, header: str, said: str
) -> None:
    # Before: the later-listed name won, and the other column was dropped unsaid.
    od = tmp_path / "od.csv"
    extra = ",Brussels,Paris" if "origin" in header else ""
    od.write_text(f"{header}\nBrussels,Paris{extra},120,3\n", encoding="utf-8")
    with pytest.raises(planner.InputError, match=said):
        planner.check(overrides={**_flow_overrides(), "trips.source": str(od)})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "0:1:1e-9",
            "'0:1:1e-9' gives 1,000,000,001 trip weights, one solve each; "
            "at most 101 (a step of 0.01)",
        ),
        ("", "'' gives no trip weight"),
        ("0:1:nan", "'0:1:nan' is not a list or range of weights"),
        ("0.5,2", "trip weights must lie in [0, 1], got '0.5,2'"),
    ],
)
def test_trip_weights_are_few_enough_to_solve_and_said_plainly(text: str, message: str) -> None:
    # Before: 0:1:1e-9 built a billion weights until the kernel killed the run;
    # '' was said to lie outside [0, 1].
    with pytest.raises(InputError) as caught:
        parse_weights(text)
    assert str(caught.value) == f"command line, field '--trip-weights': {message}"
    assert parse_weights("0:1:0.25") == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_a_range_of_trip_weights_keeps_both_ends_and_never_passes_stop() -> None:
    # Before: 0:0.5:0.3 solved 0.6 as well, past STOP; 0:1:0.3 left 1 out; 0.5:1:0.3
    # built 1.1 and was refused as "must lie in [0, 1]".
    assert parse_weights("0:0.5:0.3") == [0.0, 0.3, 0.5]
    assert parse_weights("0:1:0.3") == [0.0, 0.3, 0.6, 0.9, 1.0]
    assert parse_weights("0.5:1:0.3") == [0.5, 0.8, 1.0]
    assert parse_weights("0:1:0.1") == [round(0.1 * k, 6) for k in range(11)]
    with pytest.raises(InputError, match=r"'0.5,0.50': 0.5 is given twice$"):
        parse_weights("0.5,0.50")


def test_run_warns_when_no_trip_can_be_served(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: "flow_refuelling optimal: ..." and nothing said of the trips.
    from tests.test_cli import _run

    args = ["run", "--out", str(tmp_path / "t")]
    overrides = _flow_overrides(**{"model.p": 3, "model.range_km": 1, "trips.max_trips": 50})
    for key, value in overrides.items():
        args += ["--set", f"{key}={value}"]
    code, _, err = _run(args, capsys)
    assert code == 0, err
    assert (
        "warning: none of the 50 trips can be served by any plan with model.range_km = 1; "
        "the plan serves local demand only"
    ) in err.splitlines()
