"""Readers for the standard facility-location test sets (OR-Library, TSPLIB, Swain).

They turn each file into the arrays the models take, following the rules of
each format (which edge wins when one repeats, how distances round), so the
optimiser can be checked against published optima. A seeded generator of
random capacitated instances in the same style serves the shapes whose files
are not shipped.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from planner.errors import InputError, Problem
from planner.optimise._numbers import Numbers, read_text
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


def read_pmed(path: Path) -> Instance:
    """OR-Library p-median: ``n m p`` then ``m`` edges ``i j cost``; last repeated edge wins.

    Distances are shortest paths over the edges (an edge of cost 0 is an
    edge). Raises :class:`InputError` naming the line when the file does not
    follow the layout, and when some node cannot reach another (every
    distance must be finite).
    """
    numbers = Numbers(path, "OR-Library p-median: n m p, then m edges i j cost")
    n = numbers.integer("the number of nodes", 1)
    m = numbers.integer("the number of edges", 0)
    p = numbers.integer("p", 1, n)
    edges = numbers.floats(3 * m, "the edges").reshape(m, 3)
    numbers.end(f"the {m:,} edges")
    nodes = edges[:, :2]
    bad = (nodes != np.floor(nodes)) | (nodes < 1) | (nodes > n)
    if np.any(bad):
        edge, end = (int(k) for k in np.argwhere(bad)[0])
        raise numbers.error(
            f"edge {edge + 1:,} has node {numbers.tokens[3 + 3 * edge + end]!r}, "
            f"not a whole number in 1…{n:,}",
            3 + 3 * edge + end,
        )
    if np.any(edges[:, 2] < 0):
        edge = int(np.flatnonzero(edges[:, 2] < 0)[0])
        raise numbers.error(f"edge {edge + 1:,} has a negative cost", 3 + 3 * edge + 2)
    weight: dict[tuple[int, int], float] = {}
    for i, j, cost in edges:
        a, b = int(i) - 1, int(j) - 1
        weight[(min(a, b), max(a, b))] = cost  # Beasley's rule: the last occurrence wins.
    pairs = np.asarray(list(weight), dtype=np.int64).reshape(-1, 2)
    graph = sp.csr_matrix(
        (np.asarray(list(weight.values()), dtype=np.float64), (pairs[:, 0], pairs[:, 1])),
        shape=(n, n),
    )
    distances = shortest_path(graph, method="D", directed=False)
    if not np.all(np.isfinite(distances)):
        a, b = (int(k) + 1 for k in np.argwhere(~np.isfinite(distances))[0])
        raise InputError(
            Problem(
                str(path),
                f"node {a:,} cannot reach node {b:,}: the edges leave the graph in pieces",
            )
        )
    return Instance(path.stem, complete_reach(distances), np.ones(n), p=p)


#: The two layouts of OR-Library set-covering files.
_SCP_BY_ROW = "read by rows: m n, n column costs, then each row's count and columns"
_SCP_BY_COLUMN = "read by columns as the rail files: m n, then each column's cost, count and rows"


def read_scp(path: Path) -> Instance:
    """OR-Library set covering, in either of its layouts; costs must be ≥ 0.

    Most files (scp4x–scpnrh, scpclr, scpcyc) give ``m n``, the ``n`` column
    costs, then for each row the number of columns covering it and those
    columns (1-based). The rail files give ``m n``, then for each column its
    cost, the number of rows it covers and those rows. The layout that reads
    the whole file exactly is the one used; when neither does, the
    :class:`InputError` says where each stopped.
    """
    problems = []
    numbers = Numbers(path, _SCP_BY_ROW)
    for layout in (_SCP_BY_ROW, _SCP_BY_COLUMN):
        numbers.layout, numbers.at = layout, 0
        try:
            n_rows = numbers.integer("the number of rows", 1)
            n_cols = numbers.integer("the number of columns", 1)
            if layout is _SCP_BY_ROW:
                costs = numbers.floats(n_cols, "the column costs")
                _, indptr, indices = numbers.records(n_rows, 0, "row", n_cols)
                numbers.end(f"the {n_rows:,} rows")
                by_row = sp.csr_matrix(
                    (np.zeros(indices.size), indices, indptr), shape=(n_rows, n_cols)
                )
            else:
                heads, indptr, indices = numbers.records(n_cols, 1, "column", n_rows)
                numbers.end(f"the {n_cols:,} columns")
                costs = heads[:, 0]
                by_row = sp.csc_matrix(
                    (np.zeros(indices.size), indices, indptr), shape=(n_rows, n_cols)
                ).tocsr()
        except InputError as error:
            problem = error.problems[0]
            problems.append(problem.message if isinstance(problem, Problem) else problem)
            continue
        if np.any(costs < 0):
            column = int(np.flatnonzero(costs < 0)[0]) + 1
            raise InputError(
                Problem(str(path), f"column {column:,} has a negative cost ({layout})")
            )
        # A column listed twice in one row is the same pair.
        by_row.sum_duplicates()
        bare = np.flatnonzero(np.diff(by_row.indptr) == 0)
        if bare.size:
            # No cover exists; set_cover would skip the row and call a cover of the rest optimal.
            raise InputError(
                Problem(
                    str(path),
                    f"row {int(bare[0]) + 1:,} is covered by no column, so nothing covers "
                    f"every row ({bare.size:,} such row(s); {layout})",
                )
            )
        by_row.data[:] = 0.0
        return Instance(path.stem, by_row, np.ones(n_rows), costs=costs)
    raise InputError(
        Problem(str(path), f"not OR-Library set covering in either layout: {'; '.join(problems)}")
    )


def read_facility(path: Path) -> Instance:
    """OR-Library cap/uncap: ``m n``, ``m`` lines ``capacity fixed_cost``, then per
    customer ``demand`` and ``m`` costs of serving all of its demand.

    The reach is customers × warehouses. Capacities written as the word
    ``capacity`` (as in some uncap files) read as infinite; demands,
    capacities and opening costs must be ≥ 0.
    """
    numbers = Numbers(
        path,
        "OR-Library cap/uncap: m n, m lines capacity cost, then per customer demand and m costs",
    )
    m = numbers.integer("the number of warehouses", 1)
    n = numbers.integer("the number of customers", 1)
    capacities = np.empty(m)
    fixed = np.empty(m)
    for j in range(m):
        if numbers.at < len(numbers.tokens) and numbers.tokens[numbers.at].lower() == "capacity":
            numbers.word()
            capacities[j] = np.inf
        else:
            capacities[j] = _at_least_zero(numbers, f"warehouse {j + 1:,}'s capacity")
        fixed[j] = _at_least_zero(numbers, f"warehouse {j + 1:,}'s opening cost")
    demand = np.empty(n)
    costs = np.empty((n, m))
    for i in range(n):
        demand[i] = _at_least_zero(numbers, f"customer {i + 1:,}'s demand")
        start = numbers.at
        costs[i] = numbers.floats(m, f"customer {i + 1:,}'s costs")
        if np.any(costs[i] < 0):
            j = int(np.flatnonzero(costs[i] < 0)[0])
            raise numbers.error(
                f"customer {i + 1:,}'s cost at warehouse {j + 1:,} is negative ({costs[i, j]:g})",
                start + j,
            )
    numbers.end(f"the {n:,} customers")
    return Instance(path.stem, complete_reach(costs), demand, costs=fixed, capacities=capacities)


def _at_least_zero(numbers: Numbers, what: str) -> float:
    value = numbers.number(what)
    if value < 0:
        raise numbers.error(f"{what} is negative ({value:g})", numbers.at - 1)
    return value


#: TSPLIB edge-weight types whose coordinates are points of a plane. The
#: p-median test sets measure them by their own convention (see
#: :func:`floor_euclidean`); the other types (GEO's latitudes and longitudes,
#: Manhattan, maximum, 3-D, explicit matrices) mean other distances and are refused.
_TSPLIB_PLANAR = ("EUC_2D", "CEIL_2D", "ATT")


def read_tsplib(path: Path) -> FloatArray:
    """Coordinates (n × 2) of a TSPLIB ``NODE_COORD_SECTION``, in file order.

    Checks that every node line is ``id x y`` with finite coordinates, that
    no id repeats, that the count equals ``DIMENSION`` when the header gives
    one and that ``EDGE_WEIGHT_TYPE`` (when given) is one of planar points;
    the coordinates end at the next keyword (``EOF``, any ``*_SECTION``).
    Files without coordinates (explicit weight matrices) raise :class:`InputError`.
    """
    text = read_text(path, "a TSPLIB file with a NODE_COORD_SECTION")
    points: list[tuple[float, float]] = []
    ids: dict[int, int] = {}
    dimension: int | None = None
    in_section = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not in_section:
            key, _, value = stripped.partition(":")
            key = key.strip().upper()
            if key == "DIMENSION":
                try:
                    dimension = int(value.strip())
                except ValueError:
                    raise InputError(
                        Problem(
                            str(path),
                            f"line {number}: DIMENSION {value.strip()!r} is not a whole number",
                        )
                    ) from None
            elif key == "EDGE_WEIGHT_TYPE" and value.strip().upper() not in _TSPLIB_PLANAR:
                raise InputError(
                    Problem(
                        str(path),
                        f"line {number}: EDGE_WEIGHT_TYPE {value.strip()!r}: only points of a "
                        f"plane are read ({', '.join(_TSPLIB_PLANAR)}), as the p-median test "
                        "sets use",
                    )
                )
            if stripped.upper().startswith("NODE_COORD_SECTION"):
                in_section = True
            continue
        if not stripped:
            continue
        head = stripped.split()[0].rstrip(":").upper()
        if head == "EOF" or head.endswith("_SECTION"):
            break
        parts = stripped.split()
        try:
            x, y = float(parts[1]), float(parts[2])
            node = int(parts[0])
        except (ValueError, IndexError):
            raise InputError(
                Problem(
                    str(path),
                    f"line {number}: expected a node as 'id x y', found {stripped[:60]!r}",
                )
            ) from None
        if len(parts) > 3 or not (math.isfinite(x) and math.isfinite(y)):
            raise InputError(
                Problem(
                    str(path),
                    f"line {number}: expected a node as 'id x y', found {stripped[:60]!r}",
                )
            )
        if node in ids:
            raise InputError(
                Problem(
                    str(path),
                    f"line {number}: node {node} is listed twice (first on line {ids[node]})",
                )
            )
        ids[node] = number
        points.append((x, y))
    if not in_section:
        raise InputError(
            Problem(
                str(path), "no NODE_COORD_SECTION: only TSPLIB files with coordinates can be read"
            )
        )
    if not points:
        raise InputError(Problem(str(path), "NODE_COORD_SECTION lists no node"))
    if dimension is not None and dimension != len(points):
        raise InputError(
            Problem(
                str(path),
                f"DIMENSION says {dimension:,} nodes, NODE_COORD_SECTION lists {len(points):,}",
            )
        )
    return np.asarray(points, dtype=np.float64)


def floor_euclidean(points: FloatArray) -> sp.csr_matrix:
    """All pairs at ``floor(sqrt(dx² + dy²))`` (the p-median TSPLIB convention)."""
    delta = points[:, np.newaxis, :] - points[np.newaxis, :, :]
    return complete_reach(np.floor(np.sqrt(np.sum(delta * delta, axis=2))))


def read_swain(path: Path) -> tuple[FloatArray, FloatArray]:
    """Swain's 55 nodes, as ``id, x, y, demand`` lines: coordinates and demand, in file order.

    Both published layouts read: ``swain.dat`` (``01, 32, 31, 71,``: commas,
    perhaps a trailing one) and ``swain.txt`` (a first line with the node
    count, then ``01 32. 31. 71.``), whose count is checked. Blank lines are
    skipped, and so is a first line without a single number (a header). Any
    other line that is not four numbers, a negative demand, or an id listed
    twice raises :class:`InputError` naming the line.
    """
    text = read_text(path, "Swain's nodes as lines 'id, x, y, demand'")
    rows: list[list[float]] = []
    first_line = True
    stated: tuple[int, int] | None = None
    seen: dict[float, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = [field for field in line.replace(",", " ").split() if field]
        if not fields:
            continue
        values = [_float_or_nan(field) for field in fields]
        was_first, first_line = first_line, False
        if was_first and all(math.isnan(v) for v in values):
            continue  # a header of words
        if was_first and len(values) == 1 and values[0].is_integer() and values[0] > 0:
            stated = (int(values[0]), number)  # swain.txt: the number of nodes
            continue
        if len(values) != 4 or not all(math.isfinite(v) for v in values) or values[3] < 0:
            raise InputError(
                Problem(
                    str(path),
                    f"line {number}: expected 'id, x, y, demand' with demand ≥ 0, "
                    f"found {line.strip()[:60]!r}",
                )
            )
        if values[0] in seen:
            raise InputError(
                Problem(
                    str(path),
                    f"line {number}: node {fields[0]} is listed twice (first on line "
                    f"{seen[values[0]]})",
                )
            )
        seen[values[0]] = number
        rows.append(values)
    if not rows:
        raise InputError(Problem(str(path), "no node lines 'id, x, y, demand'"))
    if stated is not None and stated[0] != len(rows):
        raise InputError(
            Problem(
                str(path),
                f"line {stated[1]} says {stated[0]:,} nodes, the file lists {len(rows):,}",
            )
        )
    table = np.asarray(rows)
    return table[:, 1:3], table[:, 3]


def _float_or_nan(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def euclidean(points: FloatArray) -> FloatArray:
    """Dense Euclidean distances between all points (small instances only)."""
    delta = points[:, np.newaxis, :] - points[np.newaxis, :, :]
    return np.asarray(np.sqrt(np.sum(delta * delta, axis=2)))


def within(costs: FloatArray, radius: float, *, tolerance: float = 1e-9) -> sp.csr_matrix:
    """The pairs of a dense cost matrix with cost ≤ radius (+ tolerance), zeros kept."""
    rows, cols = np.nonzero(costs <= radius + tolerance)
    return sp.csr_matrix((costs[rows, cols], (rows, cols)), shape=costs.shape)


def _table(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """A CSV file's rows with their numbers (the header is row 1); it must have ``columns``."""
    text = read_text(path, f"a CSV file with columns {', '.join(columns)}")
    # "from, to, length": a space after each comma is no part of the name or value.
    reader = csv.DictReader(io.StringIO(text, newline=""), skipinitialspace=True)
    missing = [name for name in columns if name not in (reader.fieldnames or [])]
    if missing:
        raise InputError(
            Problem(str(path), f"no column {', '.join(missing)} (header: {reader.fieldnames})")
        )
    # The line a row ends on, so that blank lines before it do not shift the number.
    return [(reader.line_num, row) for row in reader]


def _finite(path: Path, number: int, row: dict[str, str], field: str) -> float:
    try:
        value = float(row[field] or "")
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InputError(
            Problem(str(path), f"{row[field]!r} is not a number ≥ 0", row=number, field=field)
        )
    return value


def read_flow_network(folder: Path) -> tuple[TripPaths, list[str]]:
    """A flow network (``nodes.csv``, ``arcs.csv``, ``od.csv``) as trips over its nodes.

    Every node is a candidate site. Each O-D row's ``path`` (node ids joined by
    ``-``) is the trip's path, and a node's position is the summed length of
    the path's arcs up to it. Returns the trips and the node ids (site order).
    A repeated node id, an arc listed again with another length, an arc or
    path through an unknown node, a path step with no arc, a path through a
    node twice or not between the row's ``origin`` and ``destination`` (when
    given), no pair at all, or a length or flow that is not a number ≥ 0
    raises :class:`InputError` naming the file, row (the line it ends on) and field.
    """
    nodes_csv, arcs_csv, od_csv = folder / "nodes.csv", folder / "arcs.csv", folder / "od.csv"
    index: dict[str, int] = {}
    for number, row in _table(nodes_csv, ("id",)):
        if not (row["id"] or "").strip():
            raise InputError(Problem(str(nodes_csv), "a node without an id", number, "id"))
        if row["id"] in index:
            raise InputError(
                Problem(str(nodes_csv), f"node {row['id']!r} is listed twice", number, "id")
            )
        index[row["id"]] = len(index)
    arc_length: dict[tuple[str, str], float] = {}
    for number, row in _table(arcs_csv, ("from", "to", "length")):
        for end in ("from", "to"):
            if row[end] not in index:
                raise InputError(
                    Problem(str(arcs_csv), f"node {row[end]!r} is not in nodes.csv", number, end)
                )
        length = _finite(arcs_csv, number, row, "length")
        before = arc_length.get((row["from"], row["to"]))
        if before is not None and before != length:
            raise InputError(
                Problem(
                    str(arcs_csv),
                    f"the arc {row['from']!r}–{row['to']!r} is listed again with another "
                    f"length ({length:g}, before {before:g})",
                    number,
                    "length",
                )
            )
        arc_length[(row["from"], row["to"])] = length
        arc_length[(row["to"], row["from"])] = length
    flows: list[float] = []
    lengths: list[float] = []
    stops: list[list[tuple[int, float]]] = []
    for number, row in _table(od_csv, ("path", "flow")):
        nodes = [node.strip() for node in (row["path"] or "").split("-")]
        unknown = [node for node in nodes if node not in index]
        if unknown:
            raise InputError(
                Problem(str(od_csv), f"node {unknown[0]!r} is not in nodes.csv", number, "path")
            )
        if len(set(nodes)) < len(nodes):
            again = next(node for k, node in enumerate(nodes) if node in nodes[:k])
            raise InputError(
                Problem(str(od_csv), f"the path passes node {again!r} twice", number, "path")
            )
        ends = {nodes[0], nodes[-1]}
        for end in ("origin", "destination"):
            if row.get(end) not in (None, "") and row[end] not in ends:
                raise InputError(
                    Problem(
                        str(od_csv),
                        f"the path runs {nodes[0]!r} to {nodes[-1]!r}, not from or to {row[end]!r}",
                        number,
                        end,
                    )
                )
        positions = [0.0]
        for a, b in itertools.pairwise(nodes):
            if (a, b) not in arc_length:
                raise InputError(
                    Problem(str(od_csv), f"no arc joins {a!r} and {b!r}", number, "path")
                )
            positions.append(positions[-1] + arc_length[(a, b)])
        flows.append(_finite(od_csv, number, row, "flow"))
        lengths.append(positions[-1])
        stops.append([(index[n], x) for n, x in zip(nodes, positions, strict=True)])
    if not flows:
        raise InputError(Problem(str(od_csv), "lists no origin-destination pair"))
    return TripPaths.from_lists(flows, lengths, stops, len(index)), list(index)


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
