"""Flow refuelling: hand-checked trips, brute force, the charge simulation, published network."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputError, SolverError
from planner.optimise import SolverSettings
from planner.optimise._milp import Milp, MilpResult, MilpStatus
from planner.optimise.constraints import budget_rows, combine, group_rows, no_site_rows
from planner.optimise.flow import TripPaths, flow_refuelling, served_trips
from planner.optimise.flow import model as flow_model
from planner.optimise.flow.bound import refuelling_bound
from planner.optimise.flow.charge import charging_stops, refuelled
from planner.optimise.flow.model import LocalDemand
from planner.optimise.flow.rows import TooManyEntries, cover_rows
from planner.optimise.flow.start import refuelling_start, served_flow
from planner.optimise.instances import read_flow_network
from planner.optimise.progress import watch

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


@SMALL
@given(networks(), st.integers(0, 2**31 - 1))
def test_flow_capturing_with_side_constraints_equals_brute_force(
    case: tuple[TripPaths, float, int], seed: int
) -> None:
    # Flow capturing goes to the maximal covering solver, which must honour
    # fixed and excluded sites and a budget as the flow model did.
    paths, _, p = case
    rng = np.random.default_rng(seed)
    costs = rng.integers(1, 5, paths.n_sites).astype(float)
    budget = float(rng.integers(2, 10))
    fixed = np.zeros(paths.n_sites, dtype=bool)
    excluded = rng.random(paths.n_sites) < 0.3
    if not excluded[0] and costs[0] <= budget:
        fixed[0] = True

    def allowed(chosen: tuple[int, ...]) -> bool:
        picked = np.array(chosen, dtype=np.int64)
        return (
            bool(fixed[picked].sum() == fixed.sum())
            and not excluded[picked].any()
            and costs[picked].sum() <= budget
        )

    best = max(
        float(paths.flows[served_trips(paths, np.array(c, dtype=np.int64), None)].sum())
        for size in range(p + 1)
        for c in itertools.combinations(range(paths.n_sites), size)
        if allowed(c)
    )
    solution = flow_refuelling(
        paths,
        None,
        p,
        fixed=fixed,
        excluded=excluded,
        constraints=budget_rows(costs, budget),
        settings=EXACT,
    )
    assert solution.model == "flow_refuelling"
    assert solution.objective == pytest.approx(best)
    assert solution.is_optimal and solution.bound == pytest.approx(best)
    assert allowed(tuple(solution.open_sites.tolist()))


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


@SMALL
@given(networks(), st.integers(0, 2**31 - 1), st.sampled_from([0.0, 0.3, 0.5, 1.0]))
def test_trips_and_local_demand_equal_brute_force(
    case: tuple[TripPaths, float, int], seed: int, trip_weight: float
) -> None:
    paths, range_km, p = case
    rng = np.random.default_rng(seed)
    reach = sp.random(8, paths.n_sites, density=0.3, random_state=rng, format="csr")
    weights = rng.uniform(1.0, 10.0, 8)
    local = LocalDemand(reach, weights, trip_weight)
    total_flow = float(paths.flows.sum())
    within = float(weights[np.diff(reach.indptr) > 0].sum())

    def value(chosen: tuple[int, ...]) -> float:
        sites = np.array(chosen, dtype=np.int64)
        trips = float(paths.flows[served_trips(paths, sites, range_km)].sum()) / total_flow
        covered = np.asarray(reach[:, list(chosen)].sum(axis=1)).ravel() > 0
        share = float(weights[covered].sum()) / within if within > 0 else 0.0
        return trip_weight * trips + (1 - trip_weight) * share

    best = max(
        value(chosen)
        for size in range(p + 1)
        for chosen in itertools.combinations(range(paths.n_sites), size)
    )
    solution = flow_refuelling(paths, range_km, p, settings=EXACT, local=local)
    assert solution.objective == pytest.approx(best, abs=1e-9)
    assert solution.is_optimal
    assert solution.details["trip_weight"] == trip_weight


def test_charging_stops_are_the_fewest_a_driver_needs() -> None:
    # 100 km each way, stations at 30 and 80, range 100, 2 round trips/day. Out: 50 km of
    # charge reaches 30 (20 left), not 80: stop at 30. From 80 (50 left) to D and back to 80
    # is 40: go on. At 80 on the way back 10 are left, 50 short of 30: stop. From 30 home
    # (30 km) on the full charge. One stop at each, × 2 round trips/day.
    trip = TripPaths.from_lists([2.0], [100.0], [[(0, 30.0), (1, 80.0)]], 3)
    assert charging_stops(trip, [0, 1], 100.0).tolist() == [2.0, 2.0, 0.0]
    # Range 300 leaves home with 150 km, 50 short of the 200 km round trip: one stop,
    # at 80 on the way back (30 left, 50 to go to 30). Range 400 needs none.
    assert charging_stops(trip, [0, 1], 300.0).tolist() == [0.0, 2.0, 0.0]
    assert charging_stops(trip, [0, 1], 400.0).tolist() == [0.0, 0.0, 0.0]
    assert charging_stops(trip, [0], 100.0).tolist() == [0.0, 0.0, 0.0]


@SMALL
@given(networks(), st.integers(0, 2**31 - 1), st.booleans())
def test_existing_stations_count_along_paths(
    case: tuple[TripPaths, float, int], seed: int, capturing: bool
) -> None:
    paths, range_km, p = case
    rng = np.random.default_rng(seed)
    stops = []
    for q in range(paths.n_trips):
        sites, positions = paths.along(q)
        trip = list(zip(sites.tolist(), positions.tolist(), strict=True))
        if rng.random() < 0.5:  # an existing station somewhere on half the paths
            trip.append((-1, float(rng.uniform(0, paths.lengths[q]))))
        stops.append(trip)
    with_existing = TripPaths.from_lists(paths.flows, paths.lengths, stops, paths.n_sites)
    limit = None if capturing else range_km
    best = max(
        float(with_existing.flows[served_trips(with_existing, np.array(c, np.int64), limit)].sum())
        for size in range(p + 1)
        for c in itertools.combinations(range(paths.n_sites), size)
    )
    solution = flow_refuelling(with_existing, limit, p, settings=EXACT)
    assert solution.objective == pytest.approx(best)
    assert solution.is_optimal and solution.bound == pytest.approx(best)
    assert all(site >= 0 for site in solution.open_sites.tolist())


def test_an_existing_station_alone_can_serve_a_trip() -> None:
    # 100 km each way, range 100: an existing station at 30 and a candidate at 80.
    trip = TripPaths.from_lists([5.0], [100.0], [[(-1, 30.0), (0, 80.0)]], 1)
    assert refuelled(trip, [], 100.0).tolist() == [False]
    assert refuelled(trip, [0], 100.0).tolist() == [True]
    assert flow_refuelling(trip, 100.0, 1, settings=EXACT).objective == 5.0
    # Range 400: the existing station alone serves it, in every plan.
    assert refuelled(trip, [], 400.0).tolist() == [True]
    solution = flow_refuelling(trip, 400.0, 1, settings=EXACT)
    assert solution.objective == 5.0 and solution.details["trips_served_by_existing"] == 1


def test_a_model_past_the_row_entries_stops_with_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Three trips past five sites each: 100 km, a range of 60 km.
    stops = [[(k, 20.0 * k) for k in range(5)] for _ in range(3)]
    paths = TripPaths.from_lists([1.0, 2.0, 3.0], [100.0] * 3, stops, 5)
    entries = cover_rows(paths, 60.0, usable=np.ones(5, bool)).matrix.nnz
    with pytest.raises(TooManyEntries) as stopped:
        cover_rows(paths, 60.0, usable=np.ones(5, bool), max_entries=entries // 3)
    assert stopped.value.trips == 1 and stopped.value.entries > entries // 3
    monkeypatch.setattr(flow_model, "MAX_ROW_ENTRIES", entries // 3)
    with pytest.raises(SolverError, match=r"first 1 of 3 trips .* million site entries"):
        flow_refuelling(paths, 60.0, 2)


@SMALL
@given(networks(), st.integers(0, 2**31 - 1))
def test_the_start_is_the_solvers_hint_and_the_plan_when_it_finds_none(
    case: tuple[TripPaths, float, int], seed: int
) -> None:
    paths, range_km, p = case
    rng = np.random.default_rng(seed)
    reach = sp.random(8, paths.n_sites, density=0.3, random_state=rng, format="csr")
    weights = rng.uniform(1.0, 10.0, 8)
    local = LocalDemand(reach, weights, 0.5)
    handed: list[Milp] = []

    def nothing(milp: Milp, *_args: object, **_kwargs: object) -> MilpResult:
        handed.append(milp)
        return MilpResult(MilpStatus.NO_SOLUTION, np.empty(0), float("nan"), float("nan"), 0.0)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flow_model, "solve_milp", nothing)
        solution = flow_refuelling(paths, range_km, p, settings=EXACT, local=local)
    (milp,) = handed
    assert milp.hint is not None
    hint = milp.hint
    # The hint keeps every row and bound, and its value is the plan's.
    assert np.all(milp.matrix @ hint <= milp.row_upper + 1e-9)
    assert np.all(hint >= milp.lower) and np.all(hint <= milp.upper)
    assert float(milp.objective @ hint) + milp.offset == pytest.approx(solution.objective)
    start = np.flatnonzero(hint[: paths.n_sites] > 0.5)
    assert solution.open_sites.tolist() == start.tolist() and start.size <= p


@SMALL
@given(networks(), st.integers(0, 2**31 - 1))
def test_the_start_plan_is_swap_optimal_and_valued_as_the_simulation_values_it(
    case: tuple[TripPaths, float, int], seed: int
) -> None:
    paths, range_km, p = case
    rng = np.random.default_rng(seed)
    fixed = np.zeros(paths.n_sites, dtype=bool)
    fixed[rng.integers(paths.n_sites)] = rng.random() < 0.5
    excluded = (rng.random(paths.n_sites) < 0.3) & ~fixed
    rows = cover_rows(paths, range_km, usable=~excluded)
    start = refuelling_start(rows, p, fixed, excluded, seconds=5.0)
    assert start.size <= p and fixed[start].sum() == fixed.sum() and not excluded[start].any()

    def value(sites: npt.ArrayLike) -> float:
        return float(
            paths.flows[refuelled(paths, np.asarray(sites, dtype=np.int64), range_km)].sum()
        )

    hits = rows.matrix @ np.isin(np.arange(paths.n_sites), start).astype(np.float64)
    assert served_flow(rows, hits) + rows.served_anyway == pytest.approx(value(start))
    # No single swap of an open site (not fixed) for a closed one does better.
    for out in set(start.tolist()) - set(np.flatnonzero(fixed).tolist()):
        for into in set(np.flatnonzero(~excluded).tolist()) - set(start.tolist()):
            swapped = [into if site == out else site for site in start.tolist()]
            assert value(swapped) <= value(start) + 1e-9


@SMALL
@given(networks(), st.integers(0, 2**31 - 1))
def test_the_pdlp_bound_of_large_models_holds_and_their_plan_is_valued_right(
    case: tuple[TripPaths, float, int], seed: int
) -> None:
    # Every model takes the large models' path: PDLP's bound, then the search.
    paths, range_km, p = case
    rng = np.random.default_rng(seed)
    costs = rng.integers(1, 5, paths.n_sites).astype(float)
    budget = float(rng.integers(2, 12))
    best = max(
        float(paths.flows[served_trips(paths, np.array(c, dtype=np.int64), range_km)].sum())
        for size in range(p + 1)
        for c in itertools.combinations(range(paths.n_sites), size)
        if costs[list(c)].sum() <= budget
    )
    no_site = np.zeros(paths.n_sites, dtype=bool)
    rows = cover_rows(paths, range_km, usable=~no_site)
    side = budget_rows(costs, budget)
    bound = refuelling_bound(rows, p, fixed=no_site, allowed=~no_site, side=side, seconds=20.0)
    assert bound is not None and bound + rows.served_anyway >= best - 1e-6
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flow_model, "LP_BOUND_FROM_ENTRIES", 0)
        # The search runs to the limit unless the plan meets the bound: a short one.
        brief = SolverSettings(time_limit_s=0.5, relative_gap=1e-9)
        solution = flow_refuelling(paths, range_km, p, constraints=side, settings=brief)
    assert solution.bound >= best - 1e-6 >= solution.objective - 2e-6
    assert costs[solution.open_sites].sum() <= budget
    if solution.is_optimal:
        assert solution.objective == pytest.approx(best)


@SMALL
@given(networks(), st.integers(0, 2**31 - 1))
def test_a_large_blend_of_trips_and_local_demand_is_bounded_and_searched_on_one_set_of_rows(
    case: tuple[TripPaths, float, int], seed: int
) -> None:
    # Before: with local demand every model went to the solver, which on the
    # full-scale sample dealers (5.6 million entries) reported only the blend's
    # maximum as its bound (gap 89 %).
    paths, range_km, p = case
    rng = np.random.default_rng(seed)
    reach = sp.random(8, paths.n_sites, density=0.4, random_state=rng, format="csr")
    weights = rng.uniform(1.0, 10.0, 8)
    local = LocalDemand(reach, weights, float(rng.choice([0.2, 0.5, 0.8])))
    within = float(weights[np.diff(reach.indptr) > 0].sum())

    def blended(sites: tuple[int, ...]) -> float:
        chosen = np.array(sites, dtype=np.int64)
        trips = float(paths.flows[served_trips(paths, chosen, range_km)].sum())
        covered = float(weights[np.asarray(reach[:, chosen].sum(axis=1)).ravel() > 0].sum())
        share = covered / within if within > 0 else 0.0
        return (
            local.trip_weight * trips / float(paths.flows.sum()) + (1 - local.trip_weight) * share
        )

    best = max(
        blended(c)
        for size in range(p + 1)
        for c in itertools.combinations(range(paths.n_sites), size)
    )

    def no_solver(*_args: object, **_kwargs: object) -> MilpResult:
        raise AssertionError("a large model does not go to the solver")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flow_model, "LP_BOUND_FROM_ENTRIES", 0)
        patch.setattr(flow_model, "solve_milp", no_solver)
        brief = SolverSettings(time_limit_s=0.5, relative_gap=1e-9)
        solution = flow_refuelling(paths, range_km, p, settings=brief, local=local)
    assert solution.bound >= best - 1e-9 >= solution.objective - 2e-9
    assert solution.objective == pytest.approx(blended(tuple(solution.open_sites.tolist())))
    assert solution.bound <= 1.0 + 1e-9
    if solution.is_optimal:
        assert solution.objective == pytest.approx(best)


def test_the_start_of_a_blend_is_the_better_of_the_local_cover_and_the_rows_greedy() -> None:
    # Site 0 covers 10 of the local demand and no trip; site 1 covers 1 and the
    # only trip. At λ = 0.5 site 1 is worth 0.5 + 0.5 / 11, site 0 only 0.5 × 10 / 11,
    # but maximal covering's greedy on the local demand alone opened site 0.
    paths = TripPaths.from_lists([10.0], [100.0], [[(1, 50.0)]], 2)
    local = LocalDemand(
        sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0]])), np.array([10.0, 1.0]), 0.5
    )

    def nothing(*_args: object, **_kwargs: object) -> MilpResult:
        return MilpResult(MilpStatus.NO_SOLUTION, np.empty(0), float("nan"), float("nan"), 0.0)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flow_model, "solve_milp", nothing)
        solution = flow_refuelling(paths, 400.0, 1, settings=EXACT, local=local)
    assert solution.open_sites.tolist() == [1]
    assert solution.objective == pytest.approx(0.5 + 0.5 / 11)


@pytest.mark.parametrize("unit", [1.0, 1e-5])
def test_the_pdlp_bound_holds_its_tolerance_whatever_the_flows_unit(unit: float) -> None:
    # Six trips of flows 1..6 (times unit), each served by a site of its own;
    # p = 2 serves 11 of the 21. In a blend's units (shares of about 1e-4) PDLP's
    # absolute tolerance stopped it at once and the bound was all the flow.
    stops = [[(k, 50.0)] for k in range(6)]
    paths = TripPaths.from_lists([unit * (k + 1) for k in range(6)], [100.0] * 6, stops, 6)
    rows = cover_rows(paths, 400.0, usable=np.ones(6, bool))
    no_site = np.zeros(6, dtype=bool)
    bound = refuelling_bound(
        rows, 2, fixed=no_site, allowed=~no_site, side=no_site_rows(6), seconds=20, tolerance=1e-2
    )
    assert bound is not None and 11 * unit - 1e-9 <= bound <= 11 * unit * 1.02


def test_a_large_model_whose_pdlp_runs_out_of_time_still_searches_its_plan() -> None:
    # Before: the solver got the model, and on 3.7 million entries overran to 92 s.
    paths = TripPaths.from_lists(
        [10.0, 5.0], [100.0, 100.0], [[(0, 30.0), (1, 80.0)], [(2, 30.0), (3, 80.0)]], 4
    )

    def no_solver(*_args: object, **_kwargs: object) -> MilpResult:
        raise AssertionError("a large model does not go to the solver")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(flow_model, "LP_BOUND_FROM_ENTRIES", 0)
        patch.setattr(flow_model, "refuelling_bound", lambda *_a, **_k: None)
        patch.setattr(flow_model, "solve_milp", no_solver)
        brief = SolverSettings(time_limit_s=0.5, relative_gap=1e-9)
        solution = flow_refuelling(paths, 100.0, 2, settings=brief)
    assert solution.open_sites.tolist() == [0, 1] and solution.objective == 10.0
    # No bound but all the flow a plan could serve.
    assert solution.bound == 15.0 and not solution.is_optimal


def _two_trips() -> TripPaths:
    # Trip 0 (flow 10) needs sites 0 and 1, trip 1 (flow 5) sites 2 and 3; range 100.
    return TripPaths.from_lists(
        [10.0, 5.0], [100.0, 100.0], [[(0, 30.0), (1, 80.0)], [(2, 30.0), (3, 80.0)]], 4
    )


def test_a_large_models_search_keeps_the_side_constraints(monkeypatch: pytest.MonkeyPatch) -> None:
    # The kicks and swaps do not read the side rows: a plan past a budget of 12
    # sites (16.5) came back as the answer.
    paths = _two_trips()
    costs = np.array([1.0, 1.0, 5.0, 5.0])
    monkeypatch.setattr(flow_model, "LP_BOUND_FROM_ENTRIES", 0)
    monkeypatch.setattr(flow_model, "refuelling_bound", lambda *_a, **_k: None)
    monkeypatch.setattr(flow_model, "kicked", lambda *_a, **_k: np.array([2, 3]))
    brief = SolverSettings(time_limit_s=0.5, relative_gap=1e-9)
    solution = flow_refuelling(paths, 100.0, 2, constraints=budget_rows(costs, 4.0), settings=brief)
    assert costs[solution.open_sites].sum() <= 4.0
    assert solution.open_sites.tolist() == [0, 1] and solution.objective == 10.0


def test_a_large_models_search_shows_each_better_plan_as_it_finds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before: the display kept the start's 5 while the kicks found 10.
    monkeypatch.setattr(flow_model, "LP_BOUND_FROM_ENTRIES", 0)
    monkeypatch.setattr(flow_model, "refuelling_start", lambda *_a, **_k: np.array([2, 3]))
    with watch(lambda _: None, time_limit_s=2.0) as snapshot:
        assert snapshot is not None
        solution = flow_refuelling(_two_trips(), 100.0, 2, settings=SolverSettings(time_limit_s=2))
        seen = snapshot()
    assert solution.objective == 10.0
    assert seen.best == 10.0 and seen.bound is not None and seen.bound >= 10.0 - 1e-6


def test_a_large_models_start_and_search_meet_the_side_constraints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The greedy opens sites 0 and 1 (trip 0, flow 10), breaking a minimum of
    # one site of group B = {2, 3}. Before: that start was dropped, the large
    # model went to the solver without one and (full-scale sample dealers, a
    # Nissan share of 20 %) came back with no site at all.
    group = group_rows("B", np.array([False, False, True, True]), minimum=1)

    def no_solver(*_args: object, **_kwargs: object) -> MilpResult:
        raise AssertionError("a large model does not go to the solver")

    monkeypatch.setattr(flow_model, "LP_BOUND_FROM_ENTRIES", 0)
    monkeypatch.setattr(flow_model, "solve_milp", no_solver)
    brief = SolverSettings(time_limit_s=1.0, relative_gap=1e-9)
    solution = flow_refuelling(_two_trips(), 100.0, 2, constraints=group, settings=brief)
    assert solution.open_sites.tolist() == [2, 3] and solution.objective == 5.0


def test_a_start_that_breaks_the_side_constraints_closes_the_site_it_needs_least() -> None:
    # Sites 0 and 1 serve trips of flows 10 and 1; one site of group {2} must
    # open and p = 2. The greedy opens 0 and 1; the repair closes 1 (loses 1),
    # not 0 (loses 10). With no time for swaps the repair is the start.
    paths = TripPaths.from_lists([10.0, 1.0], [100.0, 100.0], [[(0, 50.0)], [(1, 50.0)]], 3)
    rows = cover_rows(paths, 400.0, usable=np.ones(3, bool))
    group = group_rows("G", np.array([False, False, True]), minimum=1)
    none = np.zeros(3, dtype=bool)
    start = refuelling_start(rows, 2, none, none, seconds=0.0, side=group)
    assert start.tolist() == [0, 2]


@SMALL
@given(networks(), st.integers(0, 2**31 - 1))
def test_the_start_meets_the_side_constraints_and_keeps_what_it_can(
    case: tuple[TripPaths, float, int], seed: int
) -> None:
    paths, range_km, p = case
    rng = np.random.default_rng(seed)
    members = rng.random(paths.n_sites) < 0.4
    members[rng.integers(paths.n_sites)] = True
    costs = rng.integers(1, 4, paths.n_sites).astype(float)
    side = combine(
        [
            group_rows("B", members, minimum=1),
            budget_rows(costs, float(costs.max() + rng.integers(0, 4))),
        ],
        paths.n_sites,
    )
    none = np.zeros(paths.n_sites, dtype=bool)
    rows = cover_rows(paths, range_km, usable=~none)
    start = refuelling_start(rows, p, none, none, seconds=5.0, side=side)
    assert start.size <= p and not side.satisfied(start)

    def value(sites: npt.ArrayLike) -> float:
        return float(
            paths.flows[refuelled(paths, np.asarray(sites, dtype=np.int64), range_km)].sum()
        )

    # No swap that keeps the side rows does better.
    for out in start.tolist():
        for into in set(range(paths.n_sites)) - set(start.tolist()):
            swapped = [into if site == out else site for site in start.tolist()]
            if not side.satisfied(swapped):
                assert value(swapped) <= value(start) + 1e-9


def test_no_plan_meeting_the_side_constraints_is_an_error_not_a_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The start breaks the group's minimum and the solver finds nothing: the
    # fixed sites alone (none) came back, breaking it too.
    paths = _two_trips()
    group = group_rows("B", np.array([False, False, True, True]), minimum=2)

    def nothing(*_args: object, **_kwargs: object) -> MilpResult:
        return MilpResult(MilpStatus.NO_SOLUTION, np.empty(0), np.nan, np.nan, 0.5)

    monkeypatch.setattr(flow_model, "refuelling_start", lambda *_a, **_k: np.array([0, 1]))
    monkeypatch.setattr(flow_model, "solve_milp", nothing)
    with pytest.raises(SolverError, match="no plan meeting the side constraints"):
        flow_refuelling(paths, 100.0, 2, constraints=group, settings=EXACT)


def test_local_demand_of_the_wrong_shape_is_a_clear_error() -> None:
    paths = _two_trips()
    reach = sp.csr_matrix(np.ones((3, 4)))
    cases = [
        (LocalDemand(sp.csr_matrix(np.ones((3, 2))), np.ones(3), 0.5), "2 site columns"),
        (LocalDemand(reach, np.ones(2), 0.5), "one entry per demand row"),
        (LocalDemand(reach, np.array([1.0, -1.0, 1.0]), 0.5), "finite and non-negative"),
        (LocalDemand(reach, np.array([1.0, np.nan, 1.0]), 0.5), "finite and non-negative"),
        (LocalDemand(np.ones((3, 4)), np.ones(3), 0.5), "scipy.sparse"),
        (LocalDemand(reach, np.ones(3), 1.5), r"trip_weight must be in \[0, 1\]"),
    ]
    for local, said in cases:
        with pytest.raises(InputError, match=said):
            flow_refuelling(paths, 100.0, 2, local=local)


def test_flow_capturings_lp_bound_counts_what_existing_stations_capture() -> None:
    # Trip 0 (flow 10) passes an existing station: every plan captures it.
    paths = TripPaths.from_lists(
        [10.0, 3.0, 2.0],
        [100.0, 100.0, 100.0],
        [[(-1, 50.0), (0, 20.0)], [(0, 30.0)], [(1, 40.0)]],
        n_sites=2,
    )
    solution = flow_refuelling(paths, None, 1, settings=EXACT)
    assert solution.objective == 13.0 and solution.bound == 13.0
    assert solution.details["lp_bound"] >= 13.0
