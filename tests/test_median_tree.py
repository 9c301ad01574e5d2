"""The p-median branch and Benders cut against enumeration on small random instances."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from planner.optimise import Status, p_median
from planner.optimise._reach import SortedPairs
from planner.optimise.constraints import no_site_rows
from planner.optimise.instances import complete_reach
from planner.optimise.median._branch import branch_and_cut, plan_cost
from planner.optimise.median._lp import median_lp


def points_instance(seed: int, n: int, *, whole: bool, sparse: bool) -> sp.csr_matrix:
    """Clustered points in a square; every point a client and a candidate."""
    rng = np.random.default_rng(seed)
    centres = rng.random((3, 2)) * 100
    points = centres[rng.integers(0, 3, n)] + rng.normal(0, 12, (n, 2))
    costs = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    if whole:
        costs = np.floor(costs)
    present = costs <= (45 if sparse else np.inf)
    rows, cols = np.nonzero(present)
    return sp.csr_matrix((costs[rows, cols], (rows, cols)), shape=(n, n))


def enumerate_best(reach: sp.csr_matrix, weights: np.ndarray, p: int) -> float:
    pairs = SortedPairs(reach)
    best = math.inf
    for chosen in itertools.combinations(range(reach.shape[1]), p):
        mask = np.zeros(reach.shape[1], dtype=bool)
        mask[list(chosen)] = True
        best = min(best, plan_cost(pairs, weights, mask))
    return best


CASES = [
    (seed, p, whole, sparse)
    for seed, (p, whole, sparse) in enumerate(
        itertools.product([2, 3, 4], [True, False], [False, True])
    )
]


@pytest.mark.parametrize(("seed", "p", "whole", "sparse"), CASES)
def test_tree_alone_finds_and_proves_the_optimum(
    seed: int, p: int, whole: bool, sparse: bool
) -> None:
    """Started with no plan at all, the tree must find the optimum and prove it."""
    reach = sp.csr_matrix(points_instance(seed, 16, whole=whole, sparse=sparse))
    rng = np.random.default_rng(seed)
    weights = rng.integers(1, 5, reach.shape[0]).astype(float)
    best = enumerate_best(reach, weights, p)
    pairs = SortedPairs(reach)
    n_sites = reach.shape[1]
    none = np.zeros(n_sites, dtype=bool)
    lp = median_lp(
        pairs, weights, p, fixed=none, allowed=~none, side=no_site_rows(n_sites), seconds=10
    )
    tree = branch_and_cut(
        pairs,
        weights,
        p,
        fixed=none,
        allowed=~none,
        start_y=lp.y,
        incumbent=np.empty(0, dtype=np.int64),
        incumbent_value=math.inf,
        integral=whole,
        relative_gap=1e-9,
        deadline=math.inf,
    )
    assert tree.finished
    assert tree.sites is not None and tree.sites.size == p
    assert tree.value == pytest.approx(best)
    mask = np.zeros(n_sites, dtype=bool)
    mask[tree.sites] = True
    assert plan_cost(pairs, weights, mask) == pytest.approx(best)
    assert tree.bound <= best + 1e-6 * best
    assert tree.bound >= best * (1 - 1e-6)


def test_tree_with_a_fixed_site_and_a_stopped_search_keeps_a_valid_bound() -> None:
    reach = points_instance(7, 18, whole=True, sparse=False)
    weights = np.ones(18)
    fixed = np.zeros(18, dtype=bool)
    fixed[5] = True
    best = math.inf
    pairs = SortedPairs(reach)
    for chosen in itertools.combinations([j for j in range(18) if j != 5], 2):
        mask = fixed.copy()
        mask[list(chosen)] = True
        best = min(best, plan_cost(pairs, weights, mask))
    lp = median_lp(
        pairs, weights, 3, fixed=fixed, allowed=np.ones(18, bool), side=no_site_rows(18), seconds=5
    )
    for deadline in (0.0, math.inf):
        tree = branch_and_cut(
            pairs,
            weights,
            3,
            fixed=fixed,
            allowed=np.ones(18, bool),
            start_y=lp.y,
            incumbent=np.empty(0, dtype=np.int64),
            incumbent_value=math.inf,
            integral=True,
            relative_gap=1e-9,
            deadline=deadline,
        )
        assert tree.bound <= best + 1e-9
        if tree.finished:
            assert tree.value == pytest.approx(best)
            assert tree.sites is not None and 5 in tree.sites


def graph_instance(seed: int, n: int) -> sp.csr_matrix:
    """Shortest paths over a sparse random graph with costs 1–100, as in OR-Library pmed."""
    rng = np.random.default_rng(seed)
    graph = np.zeros((n, n))
    order = rng.permutation(n)
    for k in range(1, n):
        a, b = order[k], order[rng.integers(0, k)]
        graph[a, b] = graph[b, a] = rng.integers(1, 101)
    for _ in range(n):
        a, b = rng.integers(0, n, 2)
        if a != b:
            graph[a, b] = graph[b, a] = rng.integers(1, 101)
    return complete_reach(shortest_path(sp.csr_matrix(graph), directed=False))


# Graphs whose LP bound is below the optimum, so p_median reaches the tree.
GAPPED = [(2, True), (5, True), (15, True), (1, False), (24, False), (35, False)]


@pytest.mark.parametrize(("seed", "unit"), GAPPED)
def test_p_median_through_the_tree_matches_enumeration(seed: int, unit: bool) -> None:
    reach = graph_instance(seed, 24)
    rng = np.random.default_rng(seed)
    weights = np.ones(24) if unit else rng.random(24) + 0.5
    best = enumerate_best(reach, weights, 3)
    solution = p_median(reach, weights, 3)
    assert solution.details["tree_nodes"] >= 1
    assert solution.details["lp_bound"] < best - 1e-6
    assert solution.status is Status.OPTIMAL
    assert solution.objective == pytest.approx(best, rel=1e-4 if not unit else 1e-12)
    assert solution.bound <= best + 1e-9
