"""Readers for the standard facility-location test sets (OR-Library, TSPLIB, Swain).

They turn each file into the arrays the models take, following the rules of
each format (which edge wins when one repeats, how distances round), so the
optimiser can be checked against published optima. A seeded generator of
random capacitated instances in the same style serves the shapes whose files
are not shipped.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from planner.optimise.flow.paths import TripPaths

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Instance:
    """A test instance as model inputs.

    Attributes
    ----------
    name
        File stem.
    reach
        Demand × sites travel costs (every stored pair within reach).
    weights
        Demand weights (ones when the format has none).
    p
        Number of sites to open, when the format states it.
    costs
        Site costs (set covering) or fixed opening costs (facility location).
    capacities
        Site capacities (capacitated facility location).
    """

    name: str
    reach: sp.csr_matrix
    weights: FloatArray
    p: int | None = None
    costs: FloatArray | None = None
    capacities: FloatArray | None = None


def complete_reach(costs: FloatArray) -> sp.csr_matrix:
    """All pairs of a dense cost matrix as stored entries (zeros kept as pairs)."""
    n_rows, n_cols = costs.shape
    indptr = np.arange(0, n_rows * n_cols + 1, n_cols, dtype=np.int64)
    indices = np.tile(np.arange(n_cols, dtype=np.int32), n_rows)
    return sp.csr_matrix(
        (costs.ravel().astype(np.float64), indices, indptr), shape=(n_rows, n_cols)
    )


def _numbers(path: Path) -> list[str]:
    return path.read_text().split()


def read_pmed(path: Path) -> Instance:
    """OR-Library p-median: ``n m p`` then ``m`` edges ``i j cost``; last repeated edge wins."""
    tokens = _numbers(path)
    n, m, p = int(tokens[0]), int(tokens[1]), int(tokens[2])
    edges = np.asarray(tokens[3 : 3 + 3 * m], dtype=np.float64).reshape(m, 3)
    weight: dict[tuple[int, int], float] = {}
    for i, j, cost in edges:
        a, b = int(i) - 1, int(j) - 1
        weight[(min(a, b), max(a, b))] = cost  # Beasley's rule: the last occurrence wins.
    graph = np.zeros((n, n))
    for (a, b), cost in weight.items():
        graph[a, b] = graph[b, a] = cost
    distances = shortest_path(sp.csr_matrix(graph), method="D", directed=False)
    return Instance(path.stem, complete_reach(distances), np.ones(n), p=p)


def read_scp(path: Path) -> Instance:
    """OR-Library set covering: ``rows cols``, column costs, then each row's columns (1-based)."""
    tokens = _numbers(path)
    n_rows, n_cols = int(tokens[0]), int(tokens[1])
    costs = np.asarray(tokens[2 : 2 + n_cols], dtype=np.float64)
    position = 2 + n_cols
    indptr = [0]
    indices: list[int] = []
    for _ in range(n_rows):
        count = int(tokens[position])
        columns = [int(token) - 1 for token in tokens[position + 1 : position + 1 + count]]
        indices.extend(sorted(set(columns)))
        indptr.append(len(indices))
        position += 1 + count
    reach = sp.csr_matrix(
        (np.zeros(len(indices)), np.asarray(indices), np.asarray(indptr)),
        shape=(n_rows, n_cols),
    )
    return Instance(path.stem, reach, np.ones(n_rows), costs=costs)


def read_facility(path: Path) -> Instance:
    """OR-Library cap/uncap: ``m n``, ``m`` lines ``capacity fixed_cost``, then per
    customer ``demand`` and ``m`` costs of serving all of its demand.

    The reach is customers × warehouses. Capacities written as the word
    ``capacity`` (as in some uncap files) read as infinite.
    """
    tokens = _numbers(path)
    m, n = int(tokens[0]), int(tokens[1])
    position = 2
    capacities = np.empty(m)
    fixed = np.empty(m)
    for j in range(m):
        raw = tokens[position]
        capacities[j] = float(raw) if raw.replace(".", "", 1).isdigit() else np.inf
        fixed[j] = float(tokens[position + 1])
        position += 2
    demand = np.empty(n)
    costs = np.empty((n, m))
    for i in range(n):
        demand[i] = float(tokens[position])
        costs[i] = np.asarray(tokens[position + 1 : position + 1 + m], dtype=np.float64)
        position += 1 + m
    return Instance(path.stem, complete_reach(costs), demand, costs=fixed, capacities=capacities)


def read_tsplib(path: Path) -> FloatArray:
    """Coordinates (n × 2) of a TSPLIB ``NODE_COORD_SECTION``."""
    points: list[tuple[float, float]] = []
    in_section = False
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("NODE_COORD_SECTION"):
            in_section = True
            continue
        if not in_section or not stripped or stripped == "EOF":
            continue
        parts = stripped.split()
        points.append((float(parts[1]), float(parts[2])))
    return np.asarray(points, dtype=np.float64)


def floor_euclidean(points: FloatArray) -> sp.csr_matrix:
    """All pairs at ``floor(sqrt(dx² + dy²))`` (the p-median TSPLIB convention)."""
    delta = points[:, np.newaxis, :] - points[np.newaxis, :, :]
    return complete_reach(np.floor(np.sqrt(np.sum(delta * delta, axis=2))))


def read_swain(path: Path) -> tuple[FloatArray, FloatArray]:
    """Swain's 55 nodes from ``swain.dat`` (``id,x,y,demand``): coordinates and demand."""
    rows = []
    for line in path.read_text().splitlines():
        fields = [field for field in line.replace(",", " ").split() if field]
        if len(fields) >= 4:
            rows.append([float(field) for field in fields[:4]])
    table = np.asarray(rows)
    return table[:, 1:3], table[:, 3]


def euclidean(points: FloatArray) -> FloatArray:
    """Dense Euclidean distances between all points (small instances only)."""
    delta = points[:, np.newaxis, :] - points[np.newaxis, :, :]
    return np.asarray(np.sqrt(np.sum(delta * delta, axis=2)))


def within(costs: FloatArray, radius: float, *, tolerance: float = 1e-9) -> sp.csr_matrix:
    """The pairs of a dense cost matrix with cost ≤ radius (+ tolerance), zeros kept."""
    rows, cols = np.nonzero(costs <= radius + tolerance)
    return sp.csr_matrix((costs[rows, cols], (rows, cols)), shape=costs.shape)


def read_flow_network(folder: Path) -> tuple[TripPaths, list[str]]:
    """A flow network (``nodes.csv``, ``arcs.csv``, ``od.csv``) as trips over its nodes.

    Every node is a candidate site. Each O-D row's ``path`` (node ids joined by
    ``-``) is the trip's path, and a node's position is the summed length of
    the path's arcs up to it. Returns the trips and the node ids (site order).
    """
    with (folder / "nodes.csv").open(newline="") as handle:
        ids = [row["id"] for row in csv.DictReader(handle)]
    index = {node: k for k, node in enumerate(ids)}
    arc_length: dict[tuple[str, str], float] = {}
    with (folder / "arcs.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            length = float(row["length"])
            arc_length[(row["from"], row["to"])] = length
            arc_length[(row["to"], row["from"])] = length
    flows: list[float] = []
    lengths: list[float] = []
    stops: list[list[tuple[int, float]]] = []
    with (folder / "od.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            nodes = row["path"].split("-")
            positions = [0.0]
            for a, b in itertools.pairwise(nodes):
                positions.append(positions[-1] + arc_length[(a, b)])
            flows.append(float(row["flow"]))
            lengths.append(positions[-1])
            stops.append([(index[n], x) for n, x in zip(nodes, positions, strict=True)])
    return TripPaths.from_lists(flows, lengths, stops, len(ids)), ids


def random_capacitated(
    n_sites: int,
    n_customers: int,
    capacity_ratio: float,
    *,
    seed: int,
    opening_scale: float = 15.0,
) -> Instance:
    """A random capacitated facility-location instance in the style of OR-Library's cap sets.

    Sites and customers are uniform points in a 100 × 100 square; demand is
    uniform on the integers 5 … 35 and serving all of customer i's demand
    from site j costs distance × d_i, rounded to 0.01 (the OR-Library
    convention: costs already carry the demand). Every site has the same
    capacity, ``capacity_ratio`` × total demand / ``n_sites`` rounded up, so
    1.1 is very tight (almost every site must open) and 3 leaves room to
    choose. Opening costs vary by site, uniform on [0.5, 1.5] ×
    ``opening_scale`` × √capacity (economies of scale as in Cornuéjols,
    Sridharan and Thizy, 1991). The default 15 makes opening about a fifth
    of the optimum, near the tenth to sixth of OR-Library's cap41–cap134;
    100 makes it about half, and the LP gap about 1 % instead of 0.01–0.1 %.

    Parameters
    ----------
    n_sites, n_customers
        Instance shape; OR-Library uses 16 × 50, 25 × 50, 50 × 50 and 100 × 1,000.
    capacity_ratio
        Total capacity over total demand (at least 1 for a feasible instance).
    seed
        Seed of the generator; the same seed gives the same instance.
    opening_scale
        Opening cost per √capacity, on average.
    """
    rng = np.random.default_rng(seed)
    sites = rng.random((n_sites, 2)) * 100.0
    customers = rng.random((n_customers, 2)) * 100.0
    demand = rng.integers(5, 36, size=n_customers).astype(np.float64)
    capacity = math.ceil(capacity_ratio * float(demand.sum()) / n_sites)
    capacities = np.full(n_sites, float(capacity))
    opening = np.round(rng.uniform(0.5, 1.5, size=n_sites) * opening_scale * math.sqrt(capacity), 2)
    delta = customers[:, np.newaxis, :] - sites[np.newaxis, :, :]
    distance = np.sqrt(np.sum(delta * delta, axis=2))
    costs = np.round(distance * demand[:, np.newaxis], 2)
    name = f"rand{n_sites}x{n_customers}_r{capacity_ratio:g}_s{seed}"
    return Instance(name, complete_reach(costs), demand, costs=opening, capacities=capacities)
