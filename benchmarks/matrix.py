"""Routing matrices at the size cap: in this process, on a local Dask cluster, and their CSV.

Usage (Python 3.12, with osrm-bindings)::

    python benchmarks/matrix.py [--points 3162] [--workers 2] [--routing DIR]

Builds Malta's routing folder from ``../shared/data`` (or uses ``--routing``),
draws ``--points`` random points over the main island (some fall in the sea:
their pairs stay empty, as a user's would) and computes the matrix of every
pair, as ``planner routing matrix`` does, in one run:

1. in this process (the default), seconds and peak memory;
2. on a ``LocalCluster`` of ``--workers`` processes, its start included, and
   whether the table is the same;
3. the CSV written by :func:`planner.outputs.spreadsheet.csv_chunks` against
   pandas' ``to_csv`` with ``float_format`` (the writer before it), seconds of
   each and whether the bytes are the same.
"""

from __future__ import annotations

import argparse
import filecmp
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import planner
from planner.outputs.spreadsheet import spreadsheet_safe

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
MALTA = SHARED / "malta_2018-08.osm.pbf"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=3162, help="points on each side")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--routing", type=Path, help="a Malta routing folder already built")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="planner-matrix-bench-") as tmp:
        folder = Path(tmp) / "malta"
        if args.routing is not None:
            folder = args.routing
        elif not MALTA.is_file():
            raise SystemExit(f"{MALTA} is missing: give --routing DIR")
        else:
            started = time.perf_counter()
            planner.build_routing(MALTA, folder)
            print(f"built {folder.name} in {time.perf_counter() - started:.1f} s")
        rng = np.random.default_rng(1)
        n = args.points
        points = pd.DataFrame(
            {
                "id": [f"P{i}" for i in range(n)],
                "name": [f"point, {i}" if i % 7 == 0 else f"pt {i}" for i in range(n)],
                "lon": rng.uniform(14.35, 14.56, n),
                "lat": rng.uniform(35.82, 35.98, n),
            }
        )
        started = time.perf_counter()
        here = planner.routing_matrix(folder, points, points)
        seconds_here = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        pairs = len(here.table)
        print(f"{pairs:,} pairs in this process: {seconds_here:.1f} s, peak {peak:.2f} GB")
        started = time.perf_counter()
        there = planner.routing_matrix(folder, points, points, workers=args.workers)
        seconds_there = time.perf_counter() - started
        same = here.table.equals(there.table)
        print(
            f"{pairs:,} pairs on {args.workers} local Dask workers (start included): "
            f"{seconds_there:.1f} s, the same table: {same}"
        )
        new, old = Path(tmp) / "new.csv", Path(tmp) / "old.csv"
        started = time.perf_counter()
        here.save(new)
        seconds_new = time.perf_counter() - started
        started = time.perf_counter()
        spreadsheet_safe(here.table).to_csv(
            old, index=False, float_format="%.3f", lineterminator="\n"
        )
        seconds_old = time.perf_counter() - started
        identical = filecmp.cmp(new, old, shallow=False)
        print(
            f"CSV ({new.stat().st_size / 1e6:,.0f} MB): column-wise {seconds_new:.1f} s, "
            f"pandas' to_csv {seconds_old:.1f} s, the same bytes: {identical}"
        )


if __name__ == "__main__":
    main()
