r"""Long-distance trips between towns and the candidate sites along their paths.

Without a road network, trips follow an approximation, labelled as such in
the report and on the map:

* **Demand.** A gravity model over the towns of at least a given
  population: trips/day between :math:`i` and :math:`j` are proportional to
  :math:`P_i P_j / d_{ij}^{\beta}`, for pairs whose distance
  :math:`d_{ij}` (great circle × circuity) lies between a minimum (shorter
  trips need no charge on the way) and a maximum (longer ones go by other
  modes). The flows are scaled so that they sum to the trips/day the caller
  states (the scenario derives it from the brands' cars), and the strongest
  pairs are kept.
* **Paths.** Shortest paths over a sparse graph of every demand place, each
  joined to its nearest neighbours by great circle × circuity: the path
  passes through towns the way a road does, without a road map.
* **Sites along a path.** A candidate site counts for a trip when it lies
  within ``detour_km`` of the path's polyline; its position is the distance
  along the path to its projection. The detour itself is not charged to
  the range: with a detour limit of a few km it is small against the range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from planner.optimise.flow.paths import TripPaths
from planner.travel.corridors import project_onto_line
from planner.travel.sphere import great_circle_km, unit_vectors

__all__ = [
    "TRIP_APPROXIMATION",
    "Trips",
    "gravity_pairs",
    "town_graph",
    "trips_along_paths",
    "trips_along_roads",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: How the trips' paths are made when the scenario has no road network.
TRIP_APPROXIMATION = (
    "approximation: trips follow shortest paths over a graph of towns joined to their "
    "nearest neighbours by great-circle distance × circuity, not roads"
)


@dataclass(frozen=True)
class Trips:
    """Trips between demand places and their paths.

    Attributes
    ----------
    origin, destination
        Demand-place indices of each trip's ends.
    km
        Path length of each trip (along the town graph).
    paths
        The sites along each path, for the flow models.
    nodes
        Each trip's path as demand-place indices, origin to destination (maps),
        over the town graph; empty for a road path.
    counts
        Figures for ``report.json``.
    lines
        Each trip's path as points (longitudes, latitudes) when it follows a
        road route; ``None`` over the town graph (the towns of ``nodes``).
    flows
        Each trip's round trips per day as given, a trip without a path too
        (whose flow ``paths`` holds as 0, as no plan can serve it).
    """

    origin: IntArray
    destination: IntArray
    km: FloatArray
    paths: TripPaths
    nodes: list[IntArray]
    counts: dict[str, float]
    lines: list[tuple[FloatArray, FloatArray]] | None = None
    flows: FloatArray | None = None


def gravity_pairs(
    lon: FloatArray,
    lat: FloatArray,
    population: FloatArray,
    *,
    beta: float,
    min_km: float,
    max_km: float,
    circuity: float,
    trips_per_day: float,
    max_trips: int,
) -> tuple[IntArray, IntArray, FloatArray, dict[str, float]]:
    """The strongest gravity O-D pairs: (origins, destinations, trips/day, counts).

    Flows sum to ``trips_per_day`` over every pair in the distance band; the
    ``max_trips`` strongest are returned, and ``counts`` says what share of
    the flow they carry.
    """
    n = lon.size
    first, second = np.triu_indices(n, k=1)
    km = great_circle_km(lon[first], lat[first], lon[second], lat[second]) * circuity
    band = (km >= min_km) & (km <= max_km)
    first, second, km = first[band], second[band], km[band]
    strength = population[first] * population[second] / np.power(km, beta)
    total = float(strength.sum())
    order = np.argsort(-strength, kind="stable")[:max_trips]
    flows = strength[order] * (trips_per_day / total) if total > 0 else strength[order]
    counts = {
        "pairs_in_band": float(band.sum()),
        "pairs_kept": float(order.size),
        "share_of_flow_kept": float(strength[order].sum() / total) if total > 0 else 0.0,
        "trips_per_day_all_pairs": float(trips_per_day),
    }
    return first[order].astype(np.int64), second[order].astype(np.int64), flows, counts


def town_graph(
    lon: FloatArray, lat: FloatArray, *, neighbours: int, circuity: float
) -> sp.csr_matrix:
    """Places joined to their ``neighbours`` nearest (both ways), edges in km × circuity."""
    points = unit_vectors(lon, lat)
    k = min(neighbours + 1, lon.size)
    _, nearest = cKDTree(points).query(points, k=k)
    rows = np.repeat(np.arange(lon.size), k - 1)
    cols = np.asarray(nearest)[:, 1:].ravel()
    km = great_circle_km(lon[rows], lat[rows], lon[cols], lat[cols]) * circuity
    # A tiny floor keeps coincident places joined (a zero would be no edge).
    graph = sp.csr_matrix((np.maximum(km, 1e-6), (rows, cols)), shape=(lon.size, lon.size))
    return graph.maximum(graph.T).tocsr()


#: Distances and predecessors held at once, sources × places (12 bytes each):
#: every origin at once took 2.2 GB for 13,500 origins over 13,500 places.
_SEARCH_CELLS = 2**25


def _shortest_paths(
    graph: sp.csr_matrix, origin: IntArray, destination: IntArray
) -> tuple[FloatArray, list[IntArray]]:
    """Length and node sequence of each trip's shortest path (inf and empty when none)."""
    sources, where = np.unique(origin, return_inverse=True)
    lengths = np.full(origin.size, np.inf)
    nodes: list[IntArray] = [np.empty(0, dtype=np.int64)] * origin.size
    by_source = np.argsort(where, kind="stable")
    block = max(1, _SEARCH_CELLS // max(graph.shape[0], 1))
    for first in range(0, sources.size, block):
        dist, pred = dijkstra(
            graph, directed=False, indices=sources[first : first + block],
            return_predecessors=True,
        )  # fmt: skip
        low, high = np.searchsorted(where[by_source], [first, first + block])
        trips = by_source[low:high]
        tree = where[trips] - first
        start, end = origin[trips], destination[trips].astype(np.int64)
        lengths[trips] = dist[tree, end]
        reached = np.isfinite(lengths[trips])
        # Back from the destinations one step for every trip at once (a node
        # at a time per trip took eight times as long).
        trail, at = [end], end
        moving = reached & (end != start)
        while moving.any():
            at = at.copy()
            at[moving] = pred[tree[moving], at[moving]]
            trail.append(at)
            moving &= at != start
        steps = np.vstack(trail)
        # A path is simple: every node before the origin differs from it.
        count = (steps != start).sum(axis=0) + 1
        for q in np.flatnonzero(reached).tolist():
            nodes[trips[q]] = steps[: count[q], q][::-1].copy()
    return lengths, nodes


def _sites_near(
    path: IntArray,
    town_lon: FloatArray,
    town_lat: FloatArray,
    site_tree: cKDTree,
    site_lon: FloatArray,
    site_lat: FloatArray,
    detour_km: float,
    circuity: float,
) -> list[tuple[int, float]]:
    """(site, position km) of the sites within ``detour_km`` of the path's polyline."""
    sites, positions, _ = project_onto_line(
        town_lon[path],
        town_lat[path],
        site_lon,
        site_lat,
        max_offset_km=detour_km,
        tree=site_tree,
        scale=circuity,
    )
    return list(zip(sites.tolist(), positions.tolist(), strict=True))


def trips_along_paths(
    town_lon: FloatArray,
    town_lat: FloatArray,
    origin: IntArray,
    destination: IntArray,
    flows: FloatArray,
    site_lon: FloatArray,
    site_lat: FloatArray,
    *,
    graph: sp.csr_matrix,
    detour_km: float,
    circuity: float,
    counts: dict[str, float] | None = None,
    n_candidates: int | None = None,
) -> Trips:
    """Route each trip over ``graph`` and list the sites within ``detour_km`` of its path.

    The sites after the first ``n_candidates`` (all of them by default) are
    existing stations: on the paths like the others, open in every plan, and
    written as site ``-1`` (see :class:`~planner.optimise.flow.paths.TripPaths`).
    """
    lengths, nodes = _shortest_paths(graph, origin, destination)
    routed = np.isfinite(lengths)
    site_tree = cKDTree(unit_vectors(site_lon, site_lat))
    stops = [
        _sites_near(path, town_lon, town_lat, site_tree, site_lon, site_lat, detour_km, circuity)
        if ok
        else []
        for path, ok in zip(nodes, routed.tolist(), strict=True)
    ]
    # A path's own length, segment by segment, so site positions never exceed it.
    lengths = np.where(routed, lengths, 0.0)
    positions_ok = [
        [(site, min(position, float(lengths[q]))) for site, position in trip]
        for q, trip in enumerate(stops)
    ]
    candidates = site_lon.size if n_candidates is None else n_candidates
    stops_of = [
        [(site if site < candidates else -1, position) for site, position in trip]
        for trip in positions_ok
    ]
    paths = TripPaths.from_lists(np.where(routed, flows, 0.0), lengths, stops_of, candidates)
    summary = _summary(counts, origin, flows, lengths, routed, stops)
    return Trips(origin, destination, lengths, paths, nodes, summary, flows=flows)


def trips_along_roads(
    routes: list[tuple[FloatArray, FloatArray, float] | None],
    origin: IntArray,
    destination: IntArray,
    flows: FloatArray,
    site_lon: FloatArray,
    site_lat: FloatArray,
    *,
    detour_km: float,
    n_candidates: int,
    counts: dict[str, float] | None = None,
) -> Trips:
    """Trips along road routes (:func:`planner.travel.road_paths.road_routes`), with their stops.

    As :func:`trips_along_paths`, sites after the first ``n_candidates`` are
    existing stations (site ``-1``); a trip without a route keeps no flow.
    """
    site_tree = cKDTree(unit_vectors(site_lon, site_lat))
    stops: list[list[tuple[int, float]]] = []
    lengths = np.zeros(origin.size)
    lines: list[tuple[FloatArray, FloatArray]] = []
    for q, route in enumerate(routes):
        if route is None:
            stops.append([])
            lines.append((np.empty(0), np.empty(0)))
            continue
        lon, lat, km = route
        lengths[q] = km
        lines.append((lon, lat))
        found, positions, _ = project_onto_line(
            lon, lat, site_lon, site_lat, max_offset_km=detour_km, tree=site_tree
        )
        stops.append(
            [
                (site if site < n_candidates else -1, min(position, km))
                for site, position in zip(found.tolist(), positions.tolist(), strict=True)
            ]
        )
    routed = np.array([route is not None for route in routes], dtype=bool)
    paths = TripPaths.from_lists(np.where(routed, flows, 0.0), lengths, stops, n_candidates)
    summary = _summary(counts, origin, flows, lengths, routed, stops)
    empty = [np.empty(0, dtype=np.int64) for _ in routes]
    return Trips(origin, destination, lengths, paths, empty, summary, lines, flows=flows)


def _summary(
    counts: dict[str, float] | None,
    origin: IntArray,
    flows: FloatArray,
    lengths: FloatArray,
    routed: npt.NDArray[np.bool_],
    stops: list[list[tuple[int, float]]],
) -> dict[str, float]:
    """``counts`` and the trips' figures for ``report.json``."""
    return {
        **(counts or {}),
        "trips": float(origin.size),
        "trips_without_path": float((~routed).sum()),
        "trips_per_day_without_path": float(flows[~routed].sum()),
        "trips_without_site": float(sum(1 for trip in stops if not trip)),
        "trips_per_day": float(flows.sum()),
        "mean_trip_km": float(lengths[routed].mean()) if routed.any() else 0.0,
        "mean_sites_per_trip": float(np.mean([len(trip) for trip in stops])) if stops else 0.0,
    }
