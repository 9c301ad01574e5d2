"""Flow refuelling: hand-checked trips, brute force, the charge simulation, published network."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputError
from planner.optimise import SolverSettings
from planner.optimise.constraints import budget_rows
from planner.optimise.flow import TripPaths, flow_refuelling, served_trips
from planner.optimise.flow.charge import refuelled
from planner.optimise.flow.rows import cover_rows
from planner.optimise.instances import read_flow_network

FRLM = Path(__file__).resolve().parents[2] / "shared" / "bench" / "frlm"
EXACT = SolverSettings(time_limit_s=30, relative_gap=1e-9)
SMALL = settings(max_examples=40, deadline=None, derandomize=True)


def _one_trip(length: float, stops: list[tuple[int, float]], n_sites: int = 4) -> TripPaths:
    return TripPaths.from_lists([1.0], [length], [stops], n_sites)


@pytest.mark.parametrize(
    ("stations", "range_km", "expected"),
    [
        # 100 km each way. A station at 30: out 30 km on the half charge (R/2 = 30),
        # then 70 to D and 70 back to 30 (140 > R = 100): stranded.
        ([30.0], 100.0, False),
        # Stations at 30 and 80: 50, then 20 to D and 20 back (40), 50, then 30 home.
        ([30.0, 80.0], 100.0, True),
        # A station at the origin starts full: 100 to D and back to 0 is 200 > 100.
        ([0.0], 100.0, False),
        # At the origin and at D: 100, full again at D, 100 home: legs of exactly R.
        ([0.0, 100.0], 100.0, True),
        # Only at D: 100 on a half charge of 50: stranded before D.
        ([100.0], 100.0, False),
        # Range 400: the round trip of 200 needs no charge, but a station must be
        # on the path for the trip to count; one anywhere will do.
        ([60.0], 400.0, True),
        ([], 400.0, False),
    ],
)
def test_round_trip_by_hand(stations: list[float], range_km: float, expected: bool) -> None:
    trip = _one_trip(100.0, [(k, x) for k, x in enumerate(stations)], n_sites=max(1, len(stations)))
    assert refuelled(trip, list(range(len(stations))), range_km).tolist() == [expected]


def test_the_rows_agree_with_the_simulation_on_every_station_set() -> None:
    # One 100 km trip with sites at 0, 25, 50, 75 and 100 km.
    trip = _one_trip(100.0, [(k, 25.0 * k) for k in range(5)], n_sites=5)
    for range_km in (40.0, 60.0, 100.0, 150.0, 250.0):
        rows = cover_rows(trip, range_km, usable=np.ones(5, bool)).matrix.toarray()
        for size in range(6):
            for chosen in itertools.combinations(range(5), size):
                x = np.zeros(5)
                x[list(chosen)] = 1
                by_rows = bool(rows.size) and bool(np.all(rows @ x >= 1))
                assert by_rows == refuelled(trip, list(chosen), range_km)[0], (range_km, chosen)


@st.composite
def networks(draw: st.DrawFn) -> tuple[TripPaths, float, int]:
    n_sites = draw(st.integers(2, 6))
    n_trips = draw(st.integers(1, 6))
    flows, lengths, stops = [], [], []
    for _ in range(n_trips):
        length = draw(st.integers(10, 120))
        chosen = draw(st.lists(st.integers(0, n_sites - 1), min_size=0, max_size=4, unique=True))
        stops.append([(site, float(draw(st.integers(0, length)))) for site in chosen])
        flows.append(float(draw(st.integers(1, 20))))
        lengths.append(float(length))
    range_km = float(draw(st.sampled_from([30, 50, 80, 120, 300])))
    p = draw(st.integers(1, n_sites))
    return TripPaths.from_lists(flows, lengths, stops, n_sites), range_km, p


@SMALL
@given(networks(), st.booleans())
def test_milp_equals_brute_force(case: tuple[TripPaths, float, int], capturing: bool) -> None:
    paths, range_km, p = case
    limit = None if capturing else range_km
    best = max(
        float(paths.flows[served_trips(paths, np.array(chosen, dtype=np.int64), limit)].sum())
        for size in range(p + 1)
        for chosen in itertools.combinations(range(paths.n_sites), size)
    )
    solution = flow_refuelling(paths, limit, p, settings=EXACT)
    assert solution.objective == pytest.approx(best)
    assert solution.is_optimal and solution.bound == pytest.approx(best)
    assert len(solution.open_sites) <= p


def test_fixed_excluded_and_budget() -> None:
    # Two trips of 100 km; range 100. Trip 0 needs sites 0 and 1 (at 30 and 80);
    # trip 1 (flow 5) needs sites 2 and 3.
    paths = TripPaths.from_lists(
        [10.0, 5.0], [100.0, 100.0], [[(0, 30.0), (1, 80.0)], [(2, 30.0), (3, 80.0)]], 4
    )
    assert flow_refuelling(paths, 100.0, 2, settings=EXACT).open_sites.tolist() == [0, 1]
    excluded = np.array([False, True, False, False])
    chosen = flow_refuelling(paths, 100.0, 2, excluded=excluded, settings=EXACT)
    assert chosen.open_sites.tolist() == [2, 3] and chosen.objective == 5.0
    fixed = np.array([False, False, True, False])
    forced = flow_refuelling(paths, 100.0, 2, fixed=fixed, settings=EXACT)
    assert 2 in forced.open_sites.tolist() and forced.objective == 5.0
    costs = np.array([3.0, 3.0, 1.0, 1.0])
    cheap = flow_refuelling(paths, 100.0, 4, constraints=budget_rows(costs, 4.0), settings=EXACT)
    assert cheap.open_sites.tolist() == [2, 3]
    assert cheap.assignment.tolist() == [-1, 2]


def test_bad_input_is_one_clear_error() -> None:
    paths = _one_trip(100.0, [(0, 30.0)])
    for bad in (0.0, -5.0, float("inf"), float("nan")):
        with pytest.raises(InputError, match="range_km must be a positive number"):
            flow_refuelling(paths, bad, 1)
    with pytest.raises(InputError, match="outside its path"):
        _one_trip(100.0, [(0, 130.0)])
    with pytest.raises(InputError, match=r"sites must be indices in \[0, 4\)"):
        _one_trip(100.0, [(7, 30.0)])


@pytest.mark.skipif(not FRLM.exists(), reason="../shared/bench/frlm is not beside the project")
def test_published_network_optima_are_matched_and_proven() -> None:
    paths, _ = read_flow_network(FRLM)
    with (FRLM / "optima.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        range_km = float(row["range"]) if row["range"] else None
        solution = flow_refuelling(paths, range_km, int(row["p"]), settings=EXACT)
        optimum = float(row["optimum"])
        assert solution.objective == pytest.approx(optimum, rel=1e-6), row
        assert solution.is_optimal, row
        assert solution.bound == pytest.approx(optimum, rel=1e-6), row
