"""Road reach: drive minutes or road km on an OpenStreetMap network, stored sparse.

Method
------
1. **Snap.** Every demand point and site is snapped to the nearest drivable
   road by OSRM; the distance to it is the point's *snap distance*. A point
   farther than ``snap_max_m`` cannot be reached by car: it is dropped by the
   caller, named and counted, as *outside the extract* when it lies outside
   the roads' bounding box, else as *off-road*.
2. **Bound.** A drive of ``T`` minutes covers at most ``v_max · T`` km of road
   (the car profile caps every speed at ``v_max``,
   :data:`~planner.travel.routing_folder.MAX_SPEED_KMH`), and road km between
   the snapped points are at least their crow-fly km, which differ from the
   points' own crow-fly km by at most the two snap distances. So

       c_ij ≤ T  ⟹  d_gc(i, j) ≤ v_max · T + 2 · snap_max,

   and the candidate pairs are those within that great-circle radius (the
   test of :func:`planner.travel.great_circle.reach_matrix`): sparse, exact,
   and never a dense demand × sites matrix. With ``max_km`` the bound is
   ``max_km + 2 · snap_max``.
3. **Ask the engine in blocks.** Demand points are put in Morton (Z) order,
   so a run of them is a compact patch sharing candidate sites. A block is
   such a run; its candidate sites come from a k-d tree of the sites (a ball
   around the patch), then the bound is tested pair by pair on the block.
   Each block is one many-to-many OSRM table on the contraction hierarchy,
   the block's points × the union of their candidate sites, asking only the
   annotation needed (durations or distances) and no waypoints. A table
   costs the engine about :data:`POINT_CELLS` cells for each of its points
   (snapping, one search each) plus its cells, so a block of more than
   :data:`BLOCK_ROWS` points or :data:`BLOCK_CELLS` cells is halved, and so
   is one whose two halves cost less than it. The table is read as one array;
   only the candidate pairs are kept, placed straight into CSR order.
   OSRM's binding holds Python's GIL, so tables run one at a time.
4. **Keep** the pairs within the limit. A candidate pair with no route (an
   island without a ferry) is out of reach and counted.

The result is a CSR matrix (demand × sites) whose data are drive minutes
(``max_minutes``) or road km (``max_km``) from the demand point to the site,
explicit zeros kept. It is cached by content (:mod:`planner.travel.reach_cache`).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.spatial import cKDTree

from planner._text import one_line
from planner.errors import InputError, Problem
from planner.travel.reach_cache import load_reach, reach_key, store_reach
from planner.travel.routing_folder import RoutingFolder
from planner.travel.sphere import (
    EARTH_RADIUS_KM,
    EARTH_RADIUS_M,
    chord_length,
    great_circle_distance,
    unit_vectors,
)

__all__ = [
    "BLOCK_CELLS",
    "BLOCK_ROWS",
    "POINT_CELLS",
    "RoadReach",
    "Snapped",
    "candidate_radius_km",
    "road_reach",
    "road_table",
    "snap_points",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Metric = Literal["minutes", "km"]

#: Most demand points in one engine table.
BLOCK_ROWS = 4096
#: Most cells (points × candidate sites) in one engine table. Each table has
#: a fixed cost (one search per site), so fewer, larger tables are faster;
#: the engine's answer takes about 120 bytes a cell until it is read.
BLOCK_CELLS = 1_000_000
#: What one point of a table costs the engine (snapping it, its search), in
#: cells: measured on OSRM's contraction hierarchy, about 0.13 ms a point and
#: 0.25 µs a cell. A block is halved while that makes it cheaper.
POINT_CELLS = 500
#: Points snapped per engine call.
_SNAP_CHUNK = 5_000


@dataclass(frozen=True)
class Snapped:
    """Where points meet the road network.

    Attributes
    ----------
    distance_m
        Metres from each point to the road OSRM snapped it to.
    off_road
        Farther than ``snap_max_m`` from a road inside the extract's area.
    outside
        Farther than ``snap_max_m`` and outside the roads' bounding box.
    """

    distance_m: FloatArray
    off_road: npt.NDArray[np.bool_]
    outside: npt.NDArray[np.bool_]

    @property
    def dropped(self) -> npt.NDArray[np.bool_]:
        return self.off_road | self.outside


@dataclass(frozen=True)
class RoadReach:
    """Road reach and what it took.

    Attributes
    ----------
    matrix
        CSR (demand × sites): minutes or road km of every pair within the limit.
    candidate_pairs
        Pairs within the crow-fly bound, asked of the engine.
    no_route_pairs
        Candidate pairs the engine found no road between.
    seconds
        Wall-clock seconds (0 when read from the cache).
    from_cache
        Whether the matrix came from the cache.
    """

    matrix: sp.csr_matrix
    candidate_pairs: int
    no_route_pairs: int
    seconds: float
    from_cache: bool


def snap_points(
    folder: RoutingFolder, lon: npt.ArrayLike, lat: npt.ArrayLike, *, snap_max_m: float
) -> Snapped:
    """Snap points to the road network and say which are too far from a road."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    distance = np.full(len(lon), np.inf)
    for start in range(0, len(lon), _SNAP_CHUNK):
        stop = min(start + _SNAP_CHUNK, len(lon))
        waypoints = _table(folder, lon[start:stop], lat[start:stop], lon[:1], lat[:1])[2]
        distance[start:stop] = waypoints
    west, south, east, north = folder.bbox
    # A point at the edge of the extract may still be near a road; the box
    # only tells a point far from the roads why it is.
    margin = snap_max_m / 111_000.0
    inside = (
        (lon >= west - margin / max(np.cos(np.radians(north)), 0.1))
        & (lon <= east + margin / max(np.cos(np.radians(north)), 0.1))
        & (lat >= south - margin)
        & (lat <= north + margin)
    )
    far = ~(distance <= snap_max_m)
    return Snapped(distance, far & inside, far & ~inside)


def candidate_radius_km(
    folder: RoutingFolder, *, metric: Metric, limit: float, snap_max_m: float
) -> float:
    """The crow-fly km beyond which no pair can be within ``limit`` (see the module docstring)."""
    reach_km = folder.max_speed_kmh * limit / 60.0 if metric == "minutes" else limit
    return reach_km + 2.0 * snap_max_m / 1000.0


def road_reach(
    folder: RoutingFolder,
    demand_lon: npt.ArrayLike,
    demand_lat: npt.ArrayLike,
    site_lon: npt.ArrayLike,
    site_lat: npt.ArrayLike,
    *,
    metric: Metric,
    limit: float,
    snap_max_m: float,
    use_cache: bool = True,
    progress: Callable[[str], None] | None = None,
) -> RoadReach:
    """Minutes (or road km) from every demand point to every site within ``limit``.

    Parameters
    ----------
    folder
        An opened routing folder.
    demand_lon, demand_lat, site_lon, site_lat
        WGS 84 degrees of points already snapped within ``snap_max_m``.
    metric, limit
        ``"minutes"`` of driving or road ``"km"``, and the reach in that unit.
    snap_max_m
        The snapping limit the points met; widens the crow-fly bound.
    use_cache
        Read and write the content-keyed cache.
    progress
        Called now and then with a line on the blocks done.
    """
    if limit <= 0:
        raise ValueError("limit must be positive")
    coords = [np.asarray(a, dtype=np.float64) for a in (demand_lon, demand_lat, site_lon, site_lat)]
    bound = candidate_radius_km(folder, metric=metric, limit=limit, snap_max_m=snap_max_m)
    key = reach_key(folder.build_id, ("demand->site", metric, limit, bound), coords)
    if use_cache:
        cached = load_reach(key)
        if cached is not None:
            matrix, counts = cached
            return RoadReach(matrix, counts["candidates"], counts["no_route"], 0.0, True)
    start = time.perf_counter()
    matrix, candidates, no_route = _reach_in_blocks(folder, coords, bound, metric, limit, progress)
    seconds = time.perf_counter() - start
    logger.info(
        "road reach: %d candidate pairs within %.1f km crow-fly, %d within %g %s, "
        "%d without a route, %.2f s",
        candidates,
        bound,
        matrix.nnz,
        limit,
        metric,
        no_route,
        seconds,
    )
    if use_cache:
        store_reach(key, matrix, {"candidates": candidates, "no_route": no_route})
    return RoadReach(matrix, candidates, no_route, seconds, False)


def _reach_in_blocks(
    folder: RoutingFolder,
    coords: list[FloatArray],
    bound_km: float,
    metric: Metric,
    limit: float,
    progress: Callable[[str], None] | None,
) -> tuple[sp.csr_matrix, int, int]:
    """The reach CSR, the candidate pairs and those without a route (see the module docstring)."""
    d_lon, d_lat, s_lon, s_lat = coords
    n_demand, n_sites = len(d_lon), len(s_lon)
    if n_demand == 0 or n_sites == 0:
        return sp.csr_matrix((n_demand, n_sites), dtype=np.float64), 0, 0
    d_xyz, s_xyz = unit_vectors(d_lon, d_lat), unit_vectors(s_lon, s_lat)
    site_tree = cKDTree(s_xyz)
    # The crow-fly test of great_circle.reach_matrix (circuity 1), pair by pair.
    chord = chord_length(bound_km) * (1 + 1e-12) + 1e-15
    order = _z_order(d_lon, d_lat)
    found: list[tuple[IntArray, IntArray, IntArray, FloatArray]] = []
    counts = np.zeros(n_demand, dtype=np.int64)
    candidates = no_route = 0
    done = 0
    last = time.monotonic()
    pending = [(0, n_demand)]
    while pending:
        first, stop = pending.pop()
        rows = order[first:stop]
        sites, near = _candidates(d_xyz[rows], s_xyz, site_tree, chord, bound_km)
        if near is None or _cheaper_halved(near):
            middle = (first + stop) // 2
            pending += [(middle, stop), (first, middle)]
            continue
        done += stop - first
        if len(sites):
            values = _table(
                folder,
                d_lon[rows],
                d_lat[rows],
                s_lon[sites],
                s_lat[sites],
                only=metric,
                snaps=False,
            )[0 if metric == "minutes" else 1]
            local_row, local_col = np.nonzero(near)
            cost = values[local_row, local_col]
            routed = np.isfinite(cost)
            candidates += len(cost)
            no_route += len(cost) - int(routed.sum())
            keep = routed & (cost <= limit)
            local_row, local_col, cost = local_row[keep], local_col[keep], cost[keep]
            counts[rows] = np.bincount(local_row, minlength=len(rows))
            found.append((rows, local_row, sites[local_col], cost))
        if progress is not None and time.monotonic() - last > 2.0:
            last = time.monotonic()
            progress(f"road reach: {done:,} of {n_demand:,} demand points")
    return _csr(found, counts, n_sites), candidates, no_route


def _candidates(
    xyz: FloatArray, s_xyz: FloatArray, site_tree: cKDTree, chord: float, bound_km: float
) -> tuple[IntArray, npt.NDArray[np.bool_] | None]:
    """One block's candidate sites (sorted) and which of its pairs are candidates.

    ``None`` for the pairs when the block is too big to ask at once (the caller
    halves it); a single point always goes.
    """
    centre = xyz.mean(axis=0)
    centre /= max(float(np.linalg.norm(centre)), 1e-300)
    spread = float(np.sqrt(((xyz - centre) ** 2).sum(axis=1)).max())
    near_block = np.sort(np.asarray(site_tree.query_ball_point(centre, spread + chord), np.int64))
    if len(xyz) > 1 and (len(xyz) > BLOCK_ROWS or len(xyz) * len(near_block) > BLOCK_CELLS):
        return near_block, None
    # Chord lengths, clipped as reach_matrix clips them, then great-circle km.
    chords = np.sqrt(((xyz[:, None, :] - s_xyz[near_block][None, :, :]) ** 2).sum(axis=2))
    km = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chords, 0.0, 2.0) / 2.0)
    near = (chords <= chord) & (km <= bound_km)
    used = near.any(axis=0)
    return near_block[used], near[:, used]


def _cheaper_halved(near: npt.NDArray[np.bool_]) -> bool:
    """Whether the block's two halves cost the engine less than the block (see POINT_CELLS)."""
    rows, cols = near.shape
    if rows < 2:
        return False
    half = rows // 2
    first, second = int(near[:half].any(axis=0).sum()), int(near[half:].any(axis=0).sum())
    whole = POINT_CELLS * (rows + cols) + rows * cols
    halves = POINT_CELLS * (rows + first + second) + half * first + (rows - half) * second
    return halves < whole


def _z_order(lon: FloatArray, lat: FloatArray) -> IntArray:
    """Points in Morton order on a 2¹⁶ grid of their box: runs of it are compact patches."""
    key = np.zeros(len(lon), dtype=np.uint64)
    for shift, values in ((0, lon), (1, lat)):
        low, high = float(values.min()), float(values.max())
        cells = ((values - low) / max(high - low, 1e-12) * 65535.0).astype(np.uint64)
        for bit in range(16):
            key |= ((cells >> np.uint64(bit)) & np.uint64(1)) << np.uint64(2 * bit + shift)
    return np.argsort(key, kind="stable").astype(np.int64)


def _csr(
    found: list[tuple[IntArray, IntArray, IntArray, FloatArray]],
    counts: IntArray,
    n_sites: int,
) -> sp.csr_matrix:
    """Place each block's pairs (row-major, columns ascending) straight into CSR order."""
    indptr = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    cols = np.zeros(indptr[-1], dtype=np.int64)
    data = np.zeros(indptr[-1], dtype=np.float64)
    for rows, local_row, site, cost in found:
        # Each demand point is in exactly one block: its pairs fill its whole row.
        per_row = np.bincount(local_row, minlength=len(rows))
        first_of_row = np.cumsum(per_row) - per_row
        place = indptr[rows][local_row] + np.arange(len(local_row)) - first_of_row[local_row]
        cols[place] = site
        data[place] = cost
    # Built from its arrays so explicit zeros (a site at the demand point) survive.
    return sp.csr_matrix((data, cols, indptr), shape=(len(counts), n_sites))


def road_table(
    folder: RoutingFolder,
    from_lon: npt.ArrayLike,
    from_lat: npt.ArrayLike,
    to_lon: npt.ArrayLike,
    to_lat: npt.ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Dense minutes and road km of every (from, to) pair, asked in blocks.

    Returns
    -------
    minutes, km
        Shape (n_from, n_to); NaN where no road joins the two.
    from_snap_m, to_snap_m
        Each point's distance to the road it was snapped to, metres.
    """
    f_lon, f_lat, t_lon, t_lat = (
        np.asarray(a, dtype=np.float64) for a in (from_lon, from_lat, to_lon, to_lat)
    )
    n, m = len(f_lon), len(t_lon)
    minutes = np.full((n, m), np.nan)
    km = np.full((n, m), np.nan)
    snap_from = np.full(n, np.nan)
    snap_to = np.full(m, np.nan)
    rows = max(1, min(BLOCK_ROWS, BLOCK_CELLS // max(m, 1)))
    cols = max(1, BLOCK_CELLS // rows)
    for r0 in range(0, n, rows):
        for c0 in range(0, m, cols):
            r1, c1 = min(r0 + rows, n), min(c0 + cols, m)
            block = _table(
                folder, f_lon[r0:r1], f_lat[r0:r1], t_lon[c0:c1], t_lat[c0:c1], targets=True
            )
            minutes[r0:r1, c0:c1], km[r0:r1, c0:c1] = block[0], block[1]
            snap_from[r0:r1], snap_to[c0:c1] = block[2], block[3]
    return minutes, km, snap_from, snap_to


def _table(
    folder: RoutingFolder,
    from_lon: FloatArray,
    from_lat: FloatArray,
    to_lon: FloatArray,
    to_lat: FloatArray,
    *,
    targets: bool = False,
    only: Metric | None = None,
    snaps: bool = True,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """One OSRM table: minutes, km, the sources' snap metres (and the targets' when asked).

    ``only`` asks for one of minutes and km; the other is then NaN. Without
    ``snaps`` the engine writes no waypoints and the snap metres are empty.
    """
    import osrm

    n = len(from_lon)
    points = list(zip(from_lon.tolist(), from_lat.tolist(), strict=True))
    points += zip(to_lon.tolist(), to_lat.tolist(), strict=True)
    parameters = osrm.TableParameters(
        coordinates=points,
        sources=range(n),
        destinations=range(n, len(points)),
        annotations=["duration"]
        if only == "minutes"
        else ["distance"]
        if only
        else ["duration", "distance"],
        generate_hints=False,
    )
    parameters.skip_waypoints = not snaps
    try:
        answer = folder.osrm.Table(parameters)
    except RuntimeError as exc:
        if "mapping" in str(exc) or "Problem opening file" in str(exc):
            # OSRM maps its data files at the first query: an empty or cut-short
            # file (a copy interrupted, a disk full during the build), or one
            # overwritten in a folder built before manifests held digests, fails here.
            raise InputError(
                Problem(
                    str(folder.path),
                    f"its OSRM data cannot be read ({one_line(exc)}): the routing folder is "
                    "damaged; rebuild it with planner routing build",
                    field="travel.routing",
                )
            ) from None
        raise RuntimeError(f"OSRM table of {n} x {len(points) - n} points failed: {exc}") from exc
    shape = (n, len(points) - n)
    minutes = np.full(shape, np.nan) if only == "km" else _cells(answer["durations"], shape) / 60.0
    km = np.full(shape, np.nan) if only == "minutes" else _cells(answer["distances"], shape) / 1e3
    if not snaps:
        return minutes, km, np.zeros(0), np.zeros(0)
    snap_from = _snap_metres(answer["sources"], from_lon, from_lat)
    snap_to = _snap_metres(answer["destinations"], to_lon, to_lat) if targets else np.zeros(0)
    return minutes, km, snap_from, snap_to


def _snap_metres(waypoints: Any, lon: FloatArray, lat: FloatArray) -> FloatArray:
    """Great-circle metres from each point to where the engine snapped it.

    Measured here rather than taken from the engine, whose flat-earth figure
    grows past half the globe for a point far from the extract (21,527 km).
    """
    snapped = np.array([w["location"] for w in waypoints], dtype=np.float64).reshape(-1, 2)
    return great_circle_distance(lon, lat, snapped[:, 0], snapped[:, 1], EARTH_RADIUS_M)


def _cells(rows: Any, shape: tuple[int, int]) -> FloatArray:
    """The engine's rows of numbers as one array; its nulls (no route) as NaN."""
    try:
        return np.fromiter(
            itertools.chain.from_iterable(rows), dtype=np.float64, count=shape[0] * shape[1]
        ).reshape(shape)
    except TypeError:
        # A null among them: the slower reader that takes None for NaN.
        return np.array([list(row) for row in rows], dtype=np.float64).reshape(shape)
