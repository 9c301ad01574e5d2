"""p-median local search on each row's nearest sites: what it keeps, and that it only improves."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from planner.optimise._reach import SortedPairs
from planner.optimise.median._search import (
    greedy_median,
    interchange_median,
    iterated_interchange,
    plan_cost,
)
from planner.optimise.median.model import _search_pairs


def clustered(seed: int, n: int) -> sp.csr_matrix:
    """Whole-number distances between clustered points; every point a client and a site."""
    rng = np.random.default_rng(seed)
    centres = rng.random((6, 2)) * 1000
    points = centres[rng.integers(0, 6, n)] + rng.normal(0, 40, (n, 2))
    costs = np.floor(np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)))
    rows, cols = np.nonzero(np.ones_like(costs, dtype=bool))
    return sp.csr_matrix((costs[rows, cols], (rows, cols)), shape=(n, n))


def test_search_pairs_keep_each_rows_nearest_sites_and_its_server() -> None:
    reach = clustered(1, 120)
    pairs = SortedPairs(reach)
    allowed = np.ones(120, dtype=bool)
    allowed[::7] = False
    plan = np.array([3, 40, 77, 110])
    local = _search_pairs(pairs, allowed, plan, 5)
    dense = reach.toarray()
    kept = np.zeros(reach.shape, dtype=bool)
    kept[local.owner, local.site] = True
    for row in range(120):
        sites = np.flatnonzero(kept[row])
        # Its five nearest allowed sites (ties by index) ...
        order = np.lexsort((np.arange(120), dense[row]))
        nearest = [s for s in order if allowed[s]][:5]
        assert set(nearest) <= set(sites)
        # ... and the plan's site serving it, at its true cost.
        server = plan[np.argmin(dense[row, plan])]
        assert server in sites
        assert local.cost[(local.owner == row) & (local.site == server)][0] == dense[row, server]
        assert len(sites) <= 6
    # Lists as long as half of all pairs save nothing: the pairs are kept whole.
    assert _search_pairs(pairs, allowed, plan, 60) is pairs


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kicked_search_on_nearest_sites_never_worsens_the_plan(seed: int) -> None:
    n, p = 150, 20
    reach = clustered(seed, n)
    pairs = SortedPairs(reach)
    weights = np.random.default_rng(seed).integers(1, 4, n).astype(float)
    fixed = np.zeros(n, dtype=bool)
    fixed[5] = True
    allowed = np.ones(n, dtype=bool)
    allowed[1::9] = False
    start = greedy_median(pairs, weights, p, fixed=fixed, allowed=allowed)
    local = _search_pairs(pairs, allowed, start, 8)
    assert local.size < pairs.size
    found = [
        iterated_interchange(
            local,
            weights,
            start,
            fixed=fixed,
            allowed=allowed,
            pool=allowed,
            seconds=0.3,
            seed=seed,
        )
        for _ in range(2)
    ]
    for plan in found:
        assert plan.size == p
        assert fixed[plan].sum() == 1 and allowed[plan].all()
        # The cost on the short lists is the true cost of every row they serve.
        assert plan_cost(pairs, weights, plan) <= plan_cost(local, weights, plan)
        assert plan_cost(pairs, weights, plan) <= plan_cost(pairs, weights, start)


def test_interchange_serves_every_row_after_its_time_but_not_after_the_deadline() -> None:
    # Two clusters, each row reaching only its own: a plan with both sites in
    # the first leaves the second unserved until a swap moves one across.
    # -1: out of reach; the zeros on the diagonal are pairs of cost 0.
    dense = np.array([[0, 1, -1, -1], [1, 0, -1, -1], [-1, -1, 0, 1], [-1, -1, 1, 0]])
    rows, cols = np.nonzero(dense >= 0)
    reach = sp.csr_matrix((dense[rows, cols].astype(float), (rows, cols)), shape=(4, 4))
    pairs = SortedPairs(reach)
    weights = np.ones(4)
    free = np.zeros(4, dtype=bool)
    allowed = np.ones(4, dtype=bool)
    start = np.array([0, 1])
    served = interchange_median(pairs, weights, start, fixed=free, allowed=allowed, seconds=0.0)
    assert set(served.tolist()) & {2, 3} and set(served.tolist()) & {0, 1}
    stopped = interchange_median(
        pairs, weights, start, fixed=free, allowed=allowed, seconds=0.0, deadline=0.0
    )
    assert stopped.tolist() == [0, 1]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_interchange_is_the_same_with_its_extras_in_a_table_or_sorted(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # extra(c, s) is summed in a table of sites × open sites when it is small, by
    # sorted keys when not: the same swaps either way, ties to the lowest index.
    from planner.optimise.median import _search

    rng = np.random.default_rng(seed)
    n, p = 90, 12
    costs = rng.integers(0, 8, (n, n)).astype(float)  # many equal costs
    keep = rng.random((n, n)) < 0.3
    keep[np.arange(n), np.arange(n)] = True
    rows, cols = np.nonzero(keep)
    pairs = SortedPairs(sp.csr_matrix((costs[rows, cols], (rows, cols)), shape=(n, n)))
    weights = rng.integers(0, 4, n).astype(float)
    fixed = np.zeros(n, dtype=bool)
    fixed[[5, 17]] = True
    allowed = rng.random(n) < 0.9
    allowed |= fixed
    start = np.sort(np.concatenate([[5, 17], rng.choice(np.arange(20, n), p - 2, replace=False)]))
    plans = []
    for cells in (10**9, 0):
        monkeypatch.setattr(_search, "_DENSE_CELLS", cells)
        plans.append(
            interchange_median(pairs, weights, start, fixed=fixed, allowed=allowed, seconds=30.0)
        )
    np.testing.assert_array_equal(plans[0], plans[1])
    assert plan_cost(pairs, weights, plans[0]) <= plan_cost(pairs, weights, start)


def test_best_partners_match_a_direct_count() -> None:
    from planner.optimise.median._search import _best_partners

    rng = np.random.default_rng(5)
    n_sites = 12
    is_open = np.zeros(n_sites, dtype=bool)
    is_open[[1, 4, 6, 9]] = True
    loss = np.where(is_open, rng.integers(0, 4, n_sites).astype(float), np.inf)
    candidate = rng.choice(np.flatnonzero(~is_open), 40)
    dropped = rng.choice(np.flatnonzero(is_open), 40)
    amount = rng.integers(0, 3, 40).astype(float)
    best, partner = _best_partners(candidate, dropped, amount, loss, is_open)
    for c in range(n_sites):
        listed = sorted(set(dropped[candidate == c].tolist()))
        if not listed:
            assert best[c] == -np.inf and partner[c] == -1
            continue
        values = [amount[(candidate == c) & (dropped == s)].sum() - loss[s] for s in listed]
        top = max(values)
        assert best[c] == top
        assert partner[c] == listed[values.index(top)]  # the lowest site of equal value


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("cells", [10**9, 0])
def test_interchange_within_classes_keeps_each_class_count_and_is_a_local_optimum(
    seed: int, cells: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Sites of one class have equal side columns: swapping within a class keeps
    # every side row's value. No swap within a class improves the result.
    from planner.optimise.median import _search

    monkeypatch.setattr(_search, "_DENSE_CELLS", cells)
    reach = clustered(seed, 40)
    pairs = SortedPairs(reach)
    rng = np.random.default_rng(seed)
    weights = rng.integers(1, 5, 40).astype(float)
    classes = rng.integers(0, 3, 40)
    fixed = np.zeros(40, dtype=bool)
    allowed = np.ones(40, dtype=bool)
    start = np.sort(rng.choice(40, 6, replace=False))
    plan = interchange_median(
        pairs, weights, start, fixed=fixed, allowed=allowed, seconds=30.0, classes=classes
    )
    np.testing.assert_array_equal(
        np.bincount(classes[plan], minlength=3), np.bincount(classes[start], minlength=3)
    )
    cost = plan_cost(pairs, weights, plan)
    assert cost <= plan_cost(pairs, weights, start)
    for out in plan.tolist():
        for into in np.flatnonzero(classes == classes[out]).tolist():
            if into not in plan:
                swapped = np.array([into if site == out else site for site in plan.tolist()])
                assert plan_cost(pairs, weights, swapped) >= cost - 1e-9
    kicked = iterated_interchange(
        pairs, weights, plan, fixed=fixed, allowed=allowed, pool=allowed, seconds=0.3, seed=seed,
        classes=classes,
    )  # fmt: skip
    np.testing.assert_array_equal(
        np.bincount(classes[kicked], minlength=3), np.bincount(classes[start], minlength=3)
    )
    assert plan_cost(pairs, weights, kicked) <= cost + 1e-9
