"""Reach matrices: great-circle × circuity, sparse, exact against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from planner.travel.great_circle import great_circle_km, reach_matrix


def test_great_circle_paris_london() -> None:
    # Paris (2.3522 E, 48.8566 N) to London (0.1278 W, 51.5074 N): 343.5 km
    # on a sphere of mean radius (published value 343.5 km to the nearest 100 m).
    d = great_circle_km(2.3522, 48.8566, -0.1278, 51.5074)
    assert d == pytest.approx(343.5, abs=0.2)


def test_one_degree_of_latitude() -> None:
    # One degree along a meridian = 2·π·6371.0088 / 360 km.
    assert great_circle_km(5.0, 45.0, 5.0, 46.0) == pytest.approx(111.195, abs=1e-3)


def test_reach_keeps_zero_distance_pairs_and_applies_circuity() -> None:
    demand_lon, demand_lat = np.array([5.0, 5.0]), np.array([45.0, 46.0])
    site_lon, site_lat = np.array([5.0, 5.0]), np.array([45.0, 47.5])
    reach = reach_matrix(demand_lon, demand_lat, site_lon, site_lat, radius_km=150.0, circuity=1.3)
    # Demand 0 sits on site 0 (cost 0, kept as an explicit entry); demand 1 is
    # 111.2 km from site 0 → 144.55 travel km (in reach) and 166.8 km from
    # site 1 → 216.8 travel km (out of reach).
    assert reach.shape == (2, 2)
    assert reach.nnz == 2
    assert list(reach.indices[reach.indptr[0] : reach.indptr[1]]) == [0]
    assert reach.data[0] == 0.0
    assert list(reach.indices[reach.indptr[1] : reach.indptr[2]]) == [0]
    assert reach.data[1] == pytest.approx(1.3 * 111.195, abs=1e-2)


def test_reach_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    demand = rng.uniform([-5, 42], [8, 51], size=(400, 2))
    sites = rng.uniform([-5, 42], [8, 51], size=(60, 2))
    reach = reach_matrix(
        demand[:, 0], demand[:, 1], sites[:, 0], sites[:, 1], radius_km=90.0, circuity=1.25
    )
    full = 1.25 * great_circle_km(
        demand[:, None, 0], demand[:, None, 1], sites[None, :, 0], sites[None, :, 1]
    )
    expected = full <= 90.0
    got = np.zeros_like(expected)
    rows = np.repeat(np.arange(reach.shape[0]), np.diff(reach.indptr))
    got[rows, reach.indices] = True
    assert (got == expected).all()
    np.testing.assert_allclose(reach.data, full[rows, reach.indices], rtol=1e-9)
    assert reach.has_sorted_indices


def test_reach_empty_inputs() -> None:
    reach = reach_matrix([], [], [1.0], [2.0], radius_km=10)
    assert reach.shape == (0, 1)
    assert reach.nnz == 0
