"""Merging co-located dealers into sites.

Two dealers are linked when they are within the merge distance of each other
and carry different brands (or, with ``merge_same_brand``, whatever their
brands). A site is a connected group of linked dealers, so a Renault dealer
between two Nissan dealers joins all three. Distances are great-circle
distances on a sphere of radius :data:`EARTH_RADIUS_M`: the dealers are put
on the sphere in 3-D and a k-d tree finds the pairs whose straight-line
(chord) distance is within the chord of the merge distance — exact, free of
any map projection, and about O(n log n) rather than all pairs.

Same-brand dealers close together stay separate sites by default: they are
separate businesses (two Renault agents in one street), the sample and real
networks both have them, and merging them would change the per-brand site
counts the planner reports. A Dacia showroom beside a Renault one counts as
the same brand (Renault) and so also stays separate unless
``merge_same_brand`` is set.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from planner.travel.sphere import (
    EARTH_RADIUS_M,
    chord_length,
    great_circle_distance,
    unit_vectors,
)

__all__ = ["EARTH_RADIUS_M", "haversine_m", "site_labels"]


def site_labels(
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    brands: npt.ArrayLike,
    *,
    distance_m: float,
    same_brand: bool = False,
) -> npt.NDArray[np.int64]:
    """The site of every dealer: dealers with the same label form one site.

    Parameters
    ----------
    lon, lat
        Dealer coordinates, degrees.
    brands
        Each dealer's brand text (``"Renault"``, ``"Nissan;Renault"``); dealers
        with different texts count as different brands.
    distance_m
        Dealers within this great-circle distance are linked; 0 links none.
    same_brand
        Link dealers of the same brand too.

    Returns
    -------
    One label per dealer, ``0 .. n_sites - 1``.
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    n = len(lon)
    if n == 0 or distance_m <= 0:
        return np.arange(n, dtype=np.int64)
    codes = np.unique(np.asarray(brands, dtype=object).astype(str), return_inverse=True)[1]
    # Dealers at the very same point with the same brand text are one group, and
    # pairs are found between groups: 20,000 dealers geocoded to one point made
    # 200 M pairs (6.4 GB, 24 s); they are one group of one brand per point now.
    keys = np.column_stack([lon, lat, codes.astype(np.float64)])
    _, first, group = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    group = group.ravel()
    chord = chord_length(distance_m, EARTH_RADIUS_M)
    pairs = cKDTree(unit_vectors(lon[first], lat[first])).query_pairs(
        r=chord, output_type="ndarray"
    )
    if not same_brand and len(pairs):
        pairs = pairs[codes[first][pairs[:, 0]] != codes[first][pairs[:, 1]]]
    groups = len(first)
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(groups, groups)
    )
    _, component = connected_components(graph, directed=False)
    if same_brand:
        joined = np.ones(groups, dtype=bool)  # at distance 0 a group's dealers are all linked
    else:
        # A group's dealers share its links: all join a site through them, or none does.
        joined = np.bincount(pairs.ravel(), minlength=groups) > 0
    # A dealer left alone keeps a label of its own (offset past every component).
    raw = np.where(joined[group], component[group], groups + np.arange(n))
    # Labels numbered by each site's first dealer, as the pairs of dealers gave them.
    _, seen, labels = np.unique(raw, return_index=True, return_inverse=True)
    rank = np.empty(len(seen), dtype=np.int64)
    rank[np.argsort(seen, kind="stable")] = np.arange(len(seen))
    return rank[labels.ravel()]


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance between two points, metres."""
    return float(great_circle_distance(lon1, lat1, lon2, lat2, EARTH_RADIUS_M))
