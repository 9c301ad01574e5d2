"""Hand-made instances of the coverage and p-median models with hand-checked answers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from planner.errors import InfeasibleError, InputError
from planner.optimise import Status, max_coverage, p_median, set_cover


def pairs(n_demand: int, n_sites: int, entries: list[tuple[int, int, float]]) -> sp.csr_matrix:
    """A reach matrix from (demand, site, cost) triples; zero costs stay stored."""
    rows, cols, costs = zip(*entries, strict=True)
    return sp.csr_matrix((costs, (rows, cols)), shape=(n_demand, n_sites))


# Three towns, three sites. Town 0 reaches sites 0 and 1, town 1 sites 1 and 2,
# town 2 only site 0 (at zero cost: the dealer is in town). Town 3 reaches nothing.
REACH = pairs(4, 3, [(0, 0, 1.0), (0, 1, 2.0), (1, 1, 3.0), (1, 2, 1.0), (2, 0, 0.0)])
WEIGHTS = np.array([1.0, 2.0, 3.0, 10.0])


def test_max_coverage_picks_the_heaviest_site() -> None:
    solution = max_coverage(REACH, WEIGHTS, 1)
    # Site 0 covers towns 0 and 2 (weight 4); site 1 covers 0 and 1 (weight 3).
    assert solution.status is Status.OPTIMAL
    assert solution.objective == 4.0
    assert solution.bound == pytest.approx(4.0)
    assert solution.open_sites.tolist() == [0]
    assert solution.assignment.tolist() == [0, -1, 0, -1]


def test_max_coverage_assigns_the_cheapest_open_site() -> None:
    solution = max_coverage(REACH, WEIGHTS, 3, fixed=np.ones(3, dtype=bool))
    assert solution.objective == 6.0
    # Town 0 has sites 0 (cost 1) and 1 (cost 2) open: the cheaper wins.
    assert solution.assignment[0] == 0
    assert solution.assignment[1] == 2


def test_explicit_zero_is_a_real_pair() -> None:
    reach = sp.csr_matrix((np.array([0.0]), np.array([0]), np.array([0, 1])), shape=(1, 2))
    assert reach.nnz == 1
    solution = max_coverage(reach, np.array([5.0]), 1)
    assert solution.objective == 5.0
    assert solution.open_sites.tolist() == [0]


def test_max_coverage_respects_fixed_and_excluded() -> None:
    fixed = np.array([False, True, False])
    solution = max_coverage(REACH, WEIGHTS, 1, fixed=fixed)
    assert solution.open_sites.tolist() == [1]
    assert solution.objective == 3.0
    excluded = np.array([True, False, False])
    solution = max_coverage(REACH, WEIGHTS, 1, excluded=excluded)
    assert solution.open_sites.tolist() == [1]


def test_max_coverage_infeasible_when_p_below_fixed() -> None:
    with pytest.raises(InfeasibleError, match="p = 1 is smaller than the 2 fixed sites"):
        max_coverage(REACH, WEIGHTS, 1, fixed=np.array([True, True, False]))


def test_bad_inputs_are_all_reported() -> None:
    with pytest.raises(InputError) as raised:
        max_coverage(REACH, np.array([1.0, -1.0]), 1, fixed=np.ones(2, dtype=bool))
    assert len(raised.value.problems) == 2


def test_set_cover_counts_sites_and_ignores_unreachable_demand() -> None:
    solution = set_cover(REACH)
    # Towns 0 and 2 need site 0 (town 2 has nothing else); town 1 needs 1 or 2.
    assert solution.objective == 2.0
    assert solution.open_sites.tolist() in ([0, 1], [0, 2])
    assert solution.details["unreachable_demand"] == 1.0
    assert solution.assignment[3] == -1


def test_set_cover_with_costs() -> None:
    solution = set_cover(REACH, costs=np.array([1.0, 5.0, 2.0]))
    assert solution.open_sites.tolist() == [0, 2]
    assert solution.objective == 3.0


def test_partial_set_cover() -> None:
    # Reachable weight is 6; 50 % needs 3: site 0 alone covers 4.
    solution = set_cover(REACH, weights=WEIGHTS, coverage=0.5)
    assert solution.open_sites.tolist() == [0]
    assert solution.objective == 1.0
    assert solution.details["covered_weight"] == 4.0


def test_set_cover_infeasible_when_excluded_sites_block_demand() -> None:
    with pytest.raises(InfeasibleError, match="only excluded sites"):
        set_cover(REACH, excluded=np.array([True, False, False]))
    with pytest.raises(InfeasibleError, match="coverage target"):
        set_cover(REACH, weights=WEIGHTS, coverage=0.9, excluded=np.array([True, False, False]))


def test_p_median_hand_checked() -> None:
    solution = p_median(REACH, WEIGHTS, 2)
    # {0, 2}: 1×1 + 2×1 + 3×0 = 3, the best of the three pairs of sites.
    assert solution.status is Status.OPTIMAL
    assert solution.objective == 3.0
    assert solution.open_sites.tolist() == [0, 2]
    assert solution.assignment.tolist() == [0, 2, 0, -1]
    assert solution.details["unreachable_demand"] == 1.0


def test_p_median_infeasible_when_p_sites_cannot_serve_everyone() -> None:
    with pytest.raises(InfeasibleError, match="serves all 3 reachable demand rows"):
        p_median(REACH, WEIGHTS, 1)


def test_p_median_with_fixed_site() -> None:
    solution = p_median(REACH, WEIGHTS, 2, fixed=np.array([False, True, False]))
    # Site 1 open; town 2 forces site 0: 1×1 + 2×3 + 0 = 7.
    assert solution.open_sites.tolist() == [0, 1]
    assert solution.objective == 7.0


def test_aggregated_rows_give_the_same_answer() -> None:
    # Duplicating every town must double the objective and change nothing else.
    doubled = sp.csr_matrix(sp.vstack([REACH, REACH]))
    weights = np.concatenate([WEIGHTS, WEIGHTS])
    assert max_coverage(doubled, weights, 1).objective == 8.0
    assert p_median(doubled, weights, 2).objective == 6.0
