"""Dominance reductions against their definition, checked pair by pair."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.optimise import _reduce
from planner.optimise._reduce import dominated_sites, reduce_coverage

SMALL = settings(max_examples=150, deadline=None, derandomize=True)


def dominated_by_definition(
    pattern: np.ndarray, costs: np.ndarray, candidates: np.ndarray, classes: np.ndarray | None
) -> np.ndarray:
    """Site j is dominated when some other candidate k covers all of j's rows at no
    higher cost, and is cheaper, covers more, or is an identical twin of lower index."""
    n_sites = pattern.shape[1]
    rows_of = [set(np.flatnonzero(pattern[:, j])) for j in range(n_sites)]
    out = np.zeros(n_sites, dtype=bool)
    for j in np.flatnonzero(candidates):
        if not rows_of[j]:
            out[j] = classes is None
            continue
        for k in np.flatnonzero(candidates):
            if k == j or not rows_of[k] or not rows_of[j] <= rows_of[k]:
                continue
            if classes is not None and classes[j] != classes[k]:
                continue
            larger = len(rows_of[k]) > len(rows_of[j])
            if costs[k] < costs[j] or (costs[k] == costs[j] and (larger or k < j)):
                out[j] = True
    return out


@st.composite
def instances(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    n_rows = draw(st.integers(1, 12))
    n_sites = draw(st.integers(1, 8))
    cells = draw(st.lists(st.booleans(), min_size=n_rows * n_sites, max_size=n_rows * n_sites))
    pattern = np.array(cells, dtype=bool).reshape(n_rows, n_sites)
    costs = np.array(
        draw(st.lists(st.sampled_from([1.0, 2.0]), min_size=n_sites, max_size=n_sites))
    )
    candidates = np.array(draw(st.lists(st.booleans(), min_size=n_sites, max_size=n_sites)))
    classes = None
    if draw(st.booleans()):
        classes = np.array(draw(st.lists(st.integers(0, 1), min_size=n_sites, max_size=n_sites)))
    return pattern, costs, candidates, classes


@pytest.mark.parametrize("bitset_bytes", [1 << 29, 0], ids=["bitset", "binary-search"])
@SMALL
@given(instance=instances())
def test_dominated_sites_match_the_definition(
    bitset_bytes: int,
    instance: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pattern, costs, candidates, classes = instance
    with monkeypatch.context() as patch:
        patch.setattr(_reduce, "_BITSET_BYTES", bitset_bytes)
        found = dominated_sites(sp.csr_matrix(pattern.astype(float)), costs, candidates, classes)
    np.testing.assert_array_equal(
        found, dominated_by_definition(pattern, costs, candidates, classes)
    )


def test_maximal_covering_reduction_is_a_fixed_point_after_one_round() -> None:
    # Sites 30..59 cover part of the rows of sites 0..29: half the sites are dominated.
    rng = np.random.default_rng(7)
    big = rng.random((300, 30)) < 0.1
    small = big & (rng.random((300, 30)) < 0.5)
    pattern = sp.csr_matrix(np.hstack([big, small]).astype(float))
    rows, _, removed = reduce_coverage(
        pattern, np.ones(300), np.ones(60), np.ones(60, bool), drop_implied_rows=False
    )
    assert removed[30:].all()
    assert not dominated_sites(rows, np.ones(60), ~removed).any()


def _sites_on_a_line(
    rng: np.random.Generator, n_points: int, n_sites: int, widest: float
) -> np.ndarray:
    """Reach sets of sites of radii 1 to ``widest`` on a line: rows reaching none left out."""
    points, sites = rng.uniform(0, 100, n_points), rng.uniform(0, 100, n_sites)
    radius = rng.uniform(1, widest, n_sites)
    pattern = np.abs(points[:, None] - sites[None, :]) <= radius[None, :]
    return pattern[pattern.any(axis=1)]


def test_no_round_starts_past_the_deadline_and_the_rounds_made_stay_exact() -> None:
    # Sites of sundry radii on a line: dominance and implied rows feed each other
    # over several rounds.
    pattern = _sites_on_a_line(np.random.default_rng(0), 400, 150, 6.0)
    rows = sp.csr_matrix(pattern.astype(float))
    n_rows = rows.shape[0]
    args = (rows, np.ones(n_rows), np.ones(150), np.ones(150, dtype=bool))
    one = reduce_coverage(*args, drop_implied_rows=True, max_rounds=1)
    every = reduce_coverage(*args, drop_implied_rows=True)
    assert every[2].sum() > one[2].sum()  # more rounds remove more
    late = reduce_coverage(*args, drop_implied_rows=True, deadline=0.0)
    assert (late[0] != one[0]).nnz == 0 and late[2].tolist() == one[2].tolist()
    # Past the dominance deadline no site is compared with another (one round
    # took 34 s on 143,000 sites under a 10 s limit): only those covering no
    # row go; the implied rows of one round go too.
    unchecked = reduce_coverage(*args, drop_implied_rows=True, max_rounds=1, dominance_deadline=0.0)
    assert unchecked[2].tolist() == (rows.getnnz(axis=0) == 0).tolist()
    assert unchecked[0].shape[0] <= n_rows - _reduce.dominated_rows(rows).sum()


def test_site_dominance_stopped_midway_leaves_only_sites_with_a_dominator_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(3)
    pattern = _sites_on_a_line(rng, 500, 200, 8.0)
    rows, costs = sp.csr_matrix(pattern.astype(float)), np.where(rng.random(200) < 0.5, 1.0, 2.0)
    candidates = np.ones(200, dtype=bool)
    every = dominated_sites(rows, costs, candidates)
    # Blocks of 16 sites, and a clock past the deadline when the third block would start.
    clock = iter(np.arange(1000.0))
    monkeypatch.setattr(_reduce, "_SITE_BLOCK", 16)
    monkeypatch.setattr(_reduce.time, "perf_counter", lambda: next(clock))
    partial = dominated_sites(rows, costs, candidates, deadline=2.5)
    assert 0 < partial.sum() < every.sum() and not (partial & ~every).any()
    # The smallest sites went first.
    size = pattern.sum(axis=0)
    assert size[partial].max() <= np.sort(size)[2 * 16]
    # Each site left out is covered by a site kept in, at no higher cost.
    rows_of = [set(np.flatnonzero(pattern[:, j])) for j in range(200)]
    for j in np.flatnonzero(partial):
        assert any(
            rows_of[j] <= rows_of[k] and costs[k] <= costs[j] for k in np.flatnonzero(~partial)
        ), j
