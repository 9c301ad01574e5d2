"""Continental maximal covering by regions: the partition, the shares and the plan."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp

from planner.optimise import SolverSettings, max_coverage
from planner.optimise.coverage import _regions as regions
from planner.optimise.coverage._lagrange import coverage_value
from planner.optimise.coverage._lp import coverage_lp
from planner.optimise.heuristics import greedy_coverage, swap_coverage


def strip(n_sites: int, reach: int, seed: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Demand points on a line, each reaching the sites within ``reach`` positions of it."""
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, n_sites, size=4 * n_sites)
    sites = np.arange(n_sites) + 0.5
    near = np.abs(points[:, None] - sites[None, :]) <= reach
    near[np.arange(points.size), np.minimum(points.astype(int), n_sites - 1)] = True
    weights = rng.integers(1, 50, size=points.size).astype(float)
    return sp.csr_matrix(near.astype(float)), weights


def _greedy_swapped(
    rows: sp.csr_matrix, weights: np.ndarray, p: int, fixed: np.ndarray, closed: np.ndarray
) -> np.ndarray:
    """The start a model makes: the greedy cover improved by swaps."""
    chosen = greedy_coverage(rows, weights, p, fixed=fixed, excluded=closed)
    return swap_coverage(rows, weights, chosen, fixed=fixed, excluded=closed)


def test_bisection_partitions_the_sites_into_compact_regions() -> None:
    rows, _ = strip(60, 2, seed=1)
    parts = regions.bisect(rows, np.arange(60), 16)
    together = np.sort(np.concatenate(parts))
    assert together.tolist() == list(range(60))
    assert all(part.size <= 16 for part in parts)
    # On a line, a compact region is a run of neighbours.
    for part in parts:
        ordered = np.sort(part)
        assert ordered[-1] - ordered[0] < 2 * part.size


def test_bisection_keeps_unconnected_sites_apart() -> None:
    # Two islands of three sites each: no region mixes them.
    island = np.ones((4, 3))
    rows = sp.csr_matrix(sp.block_diag([sp.csr_matrix(island), island]))
    parts = regions.bisect(rows, np.arange(6), 4)
    assert sorted(sorted(part.tolist()) for part in parts) == [[0, 1, 2], [3, 4, 5]]


def test_allocation_rounds_lp_mass_and_respects_fixed_sites() -> None:
    values = np.array([0.6, 0.6, 0.9, 0.1, 0.0, 0.8])
    parts = [np.array([0, 1]), np.array([2, 3]), np.array([4, 5])]
    fixed = np.array([False, False, False, False, True, False])
    counts = regions.allocate(values, parts, 3, fixed)
    assert counts.tolist() == [1, 1, 1]
    # A region's fixed sites always get their places.
    fixed[[4, 5]] = True
    assert regions.allocate(values, parts, 3, fixed)[2] == 2


@pytest.mark.parametrize("seed", range(6))
def test_regional_plan_is_valid_and_near_the_optimum(seed: int) -> None:
    rows, weights = strip(80, 3, seed)
    n_sites, p = 80, 9
    fixed = np.zeros(n_sites, dtype=bool)
    fixed[seed * 7] = True
    closed = np.zeros(n_sites, dtype=bool)
    closed[[3, 40]] = True
    lp = coverage_lp(rows, weights, p, fixed=fixed, allowed=~closed, seconds=10.0)
    assert lp is not None
    optimum = max_coverage(
        rows, weights, p, fixed=fixed, excluded=closed, settings=SolverSettings(relative_gap=1e-9)
    ).objective
    no_weight = np.zeros(n_sites)
    baseline = _greedy_swapped(rows, weights, p, fixed, closed)
    with pytest.MonkeyPatch.context() as patch:
        # Many regions of a few sites each, so that the sweeps have work to do.
        patch.setattr(regions, "REGION_SITES", 12)
        patch.setattr(regions, "LARGEST", 40)
        for start in (np.empty(0, dtype=np.int64), baseline):
            plan = regions.regional_plan(
                rows,
                weights,
                p,
                fixed=fixed,
                closed=closed,
                site_values=lp.site_values,
                start=start,
                deadline=time.perf_counter() + 30.0,
            )
            assert plan.size <= p
            assert fixed[plan].sum() == 1
            assert not closed[plan].any()
            value = coverage_value(rows, weights, no_weight, plan)
            # Within 2.1 % of the optimum on these strips from no start at all;
            # never below the start given.
            assert value >= 0.97 * optimum
            assert value >= coverage_value(rows, weights, no_weight, start) - 1e-9


def test_a_past_deadline_still_gives_a_full_plan() -> None:
    rows, weights = strip(40, 2, seed=9)
    fixed = np.zeros(40, dtype=bool)
    lp = coverage_lp(rows, weights, 5, fixed=fixed, allowed=~fixed, seconds=10.0)
    assert lp is not None
    plan = regions.regional_plan(
        rows,
        weights,
        5,
        fixed=fixed,
        closed=fixed,
        site_values=lp.site_values,
        start=np.empty(0, dtype=np.int64),
        deadline=time.perf_counter() - 1.0,
    )
    # No region was solved: greedy fills all five places.
    assert plan.size == 5


def test_swaps_stop_at_their_deadline_with_the_plan_so_far() -> None:
    rows, weights = strip(80, 3, seed=2)
    n_sites, p = 80, 9
    nobody = np.zeros(n_sites, dtype=bool)
    poor = np.arange(p)  # neighbours on the strip: a plan swaps improve
    swapped = swap_coverage(rows, weights, poor, fixed=nobody, excluded=nobody)
    assert coverage_value(rows, weights, np.zeros(n_sites), swapped) > coverage_value(
        rows, weights, np.zeros(n_sites), poor
    )
    late = swap_coverage(
        rows, weights, poor, fixed=nobody, excluded=nobody, deadline=time.perf_counter() - 1.0
    )
    assert late.tolist() == poor.tolist()


def test_a_continental_solve_out_of_time_returns_its_start_without_scip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Europe with a 10 s limit: PDLP unconverged, 2 s left; loading SCIP's model
    # alone took 3 s past the limit.
    from planner.optimise.constraints import no_site_rows
    from planner.optimise.coverage import _continental as continental
    from planner.optimise.coverage._reduced import Reduced

    def no_scip(*_: object, **__: object) -> None:
        raise AssertionError("SCIP was started with no time left")

    monkeypatch.setattr(continental, "coverage_lp", lambda *_, **__: None)
    monkeypatch.setattr(continental, "solve_milp", no_scip)
    # Random reach sets, whose relaxation leaves a gap (on a strip it closes).
    rng = np.random.default_rng(4)
    n_sites, p = 60, 6
    rows = sp.random(400, n_sites, density=0.08, random_state=rng, format="csr")
    rows.data[:] = 1.0
    weights = rng.uniform(1.0, 50.0, 400)
    nobody = np.zeros(n_sites, dtype=bool)
    model = Reduced(
        rows=rows,
        weights=weights,
        p=p,
        fixed=nobody,
        closed=nobody,
        side=no_site_rows(n_sites),
        fixed_weight=0.0,
    )
    start = _greedy_swapped(rows, weights, p, nobody, nobody)
    limit = 10.0
    started = time.perf_counter() - 0.9 * limit
    sites, bound, status = continental.solve_continental(
        model, start, SolverSettings(time_limit_s=limit), started, {}
    )
    value = model.value(sites)
    assert status.name == "FEASIBLE"
    assert value >= model.value(start)
    # The subgradient's bound, valid for the plan it comes with.
    assert bound >= max_coverage(rows, weights, p).objective - 1e-6 >= value - 1e-6
