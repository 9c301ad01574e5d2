"""Phased roll-out: nested plans checked by hand and against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import InfeasibleError
from planner.optimise.constraints import group_rows
from planner.optimise.coverage.phased import YearLimit, evaluate_phased, phased_coverage

# Five demand points, four sites. Site 0 reaches points 0, 1 (5 + 4); site 1
# reaches 1, 2 (4 + 3); site 2 reaches 3 (2); site 3 reaches 2, 4 (3 + 1).
ROWS = [0, 1, 1, 2, 2, 3, 4]
COLS = [0, 0, 1, 1, 3, 2, 3]
REACH = sp.csr_matrix((np.ones(7), (ROWS, COLS)), shape=(5, 4))
WEIGHTS = np.array([5.0, 4.0, 3.0, 2.0, 1.0])


def _brute_force(years: list[YearLimit], costs: np.ndarray) -> float:
    """Best Σ_t d_t covered_t over every nested assignment of opening years."""
    best = -1.0
    for opened in itertools.product(range(-1, len(years)), repeat=4):
        opened_arr = np.array(opened)
        feasible = True
        for t, limit in enumerate(years):
            open_now = (opened_arr >= 0) & (opened_arr <= t)
            if limit.p is not None and open_now.sum() > limit.p:
                feasible = False
            if limit.budget is not None and costs[opened_arr == t].sum() > limit.budget + 1e-9:
                feasible = False
        if feasible:
            value, _ = evaluate_phased(REACH, WEIGHTS, opened_arr, years)
            best = max(best, value)
    return best


def test_two_years_by_hand() -> None:
    years = [YearLimit(p=1, demand_factor=0.5), YearLimit(p=2, demand_factor=1.0)]
    result = phased_coverage(REACH, WEIGHTS, years)
    # Year 1: site 0 covers 9 (× 0.5); year 2: sites 0 and 3 cover 5+4+3+1 = 13.
    assert result.opened.tolist() == [0, -1, -1, 1]
    assert result.covered.tolist() == [9.0, 13.0]
    assert result.solution.objective == pytest.approx(0.5 * 9 + 13)
    assert result.solution.status == "optimal"
    assert result.open_in_year(0).tolist() == [0]


@pytest.mark.parametrize("seed", range(6))
def test_against_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    costs = rng.integers(1, 4, size=4).astype(float)
    years = [
        YearLimit(budget=float(rng.integers(1, 5)), demand_factor=0.6),
        YearLimit(p=int(rng.integers(1, 4)), demand_factor=1.0),
        YearLimit(budget=float(rng.integers(0, 4)), demand_factor=1.3),
    ]
    expected = _brute_force(years, costs)
    result = phased_coverage(REACH, WEIGHTS, years, site_costs=costs)
    assert result.solution.objective == pytest.approx(expected)
    assert result.solution.bound >= result.solution.objective - 1e-9
    # Nested: every site open in a year stays open after it.
    value, _ = evaluate_phased(REACH, WEIGHTS, result.opened, years)
    assert value == pytest.approx(result.solution.objective)


def test_side_rows_hold_every_year() -> None:
    # Site 2 alone is "Nissan": a 50 % Nissan share forces it in whenever sites open.
    rows = group_rows("Nissan", np.array([False, False, True, False]), share=0.5)
    years = [YearLimit(p=2), YearLimit(p=2)]
    result = phased_coverage(REACH, WEIGHTS, years, constraints=rows)
    for t in range(2):
        assert rows.satisfied(result.open_in_year(t)) == []
    assert 2 in result.open_in_year(0).tolist()


def test_fixed_sites_above_p_is_infeasible() -> None:
    with pytest.raises(InfeasibleError, match="year 1: p = 1 is below the 2 fixed sites"):
        phased_coverage(
            REACH,
            WEIGHTS,
            [YearLimit(p=1), YearLimit(p=3)],
            fixed=np.array([True, True, False, False]),
        )
