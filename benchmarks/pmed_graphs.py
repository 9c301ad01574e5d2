"""p-median on random graphs of the OR-Library pmed21–pmed40 shapes (n = 500–900).

Usage: ``python benchmarks/pmed_graphs.py [--time-limit 60] [--seed 1000] [--only 27,38]``

The OR-Library files of that size are not shipped, so this makes graphs of
the same shapes: n vertices, m = n²/50 edges (a random spanning tree keeps
the graph connected, the rest are random vertex pairs, a repeated pair keeps
its last cost as in Beasley's files), costs uniform on 1…100, and the p of
the OR-Library instance of that number. Every vertex is a client and a
candidate; distances are shortest paths. No optimum is known, so the check
is the proof: status, gap and seconds. One JSON object per instance on
stdout, a table and a summary on stderr.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import shortest_path

from planner.optimise import SolverSettings, p_median
from planner.optimise.instances import complete_reach

#: (number, n, p) of OR-Library pmed21–pmed40.
SHAPES = [
    (21, 500, 5), (22, 500, 10), (23, 500, 50), (24, 500, 100), (25, 500, 167),
    (26, 600, 5), (27, 600, 10), (28, 600, 60), (29, 600, 120), (30, 600, 200),
    (31, 700, 5), (32, 700, 10), (33, 700, 70), (34, 700, 140),
    (35, 800, 5), (36, 800, 10), (37, 800, 80),
    (38, 900, 5), (39, 900, 10), (40, 900, 90),
]  # fmt: skip


def pmed_graph(n: int, seed: int) -> sp.csr_matrix:
    """All-pairs shortest-path costs of a random pmed-shaped graph on ``n`` vertices."""
    rng = np.random.default_rng(seed)
    m = n * n // 50
    order = rng.permutation(n)
    tree = np.column_stack([order[1:], [order[rng.integers(0, k)] for k in range(1, n)]])
    extra = rng.integers(0, n, size=(2 * m, 2))
    extra = extra[extra[:, 0] != extra[:, 1]][: m - (n - 1)]
    edges = np.concatenate([tree, extra])
    edges = edges[rng.permutation(len(edges))]
    cost = rng.integers(1, 101, size=len(edges)).astype(np.float64)
    # The last occurrence of a pair wins: the first one in reverse order.
    low, high = np.minimum(edges[:, 0], edges[:, 1]), np.maximum(edges[:, 0], edges[:, 1])
    _, first = np.unique((low * n + high)[::-1], return_index=True)
    keep = len(edges) - 1 - first
    graph = sp.coo_matrix((cost[keep], (low[keep], high[keep])), shape=(n, n)).tocsr()
    graph = graph + graph.T
    return complete_reach(shortest_path(graph, method="D", directed=False))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1000, help="seed of the first graph")
    parser.add_argument("--only", default="", help="comma-separated instance numbers")
    args = parser.parse_args(argv)
    only = {int(x) for x in args.only.split(",") if x}
    records = []
    print(f"{'instance':10} {'n':>4} {'p':>4} {'objective':>10} {'bound':>12} "
          f"{'gap':>9} {'s':>7}  status", file=sys.stderr)  # fmt: skip
    for number, n, p in SHAPES:
        if only and number not in only:
            continue
        reach = pmed_graph(n, args.seed + number)
        started = time.perf_counter()
        solution = p_median(
            reach, np.ones(n), p, settings=SolverSettings(time_limit_s=args.time_limit)
        )
        seconds = time.perf_counter() - started
        record = {
            "instance": f"gmed{number}",
            "n": n,
            "p": p,
            "objective": solution.objective,
            "bound": solution.bound,
            "gap": solution.gap,
            "status": str(solution.status),
            "seconds": round(seconds, 3),
        }
        records.append(record)
        print(json.dumps(record), flush=True)
        print(
            f"{record['instance']:10} {n:>4} {p:>4} {solution.objective:>10.0f} "
            f"{solution.bound:>12.2f} {solution.gap:>9.2e} {seconds:>7.2f}  {solution.status}",
            file=sys.stderr,
        )
    if records:
        times = [float(r["seconds"]) for r in records]  # type: ignore[arg-type]
        proven = sum(r["status"] == "optimal" for r in records)
        print(
            f"\n{len(records)} instances, {proven} proven, "
            f"median {statistics.median(times):.2f} s, max {max(times):.2f} s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
