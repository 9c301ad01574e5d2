"""Reading dealers into sites: the full-scale sample network, and the merge at continental size.

Usage::

    python benchmarks/dealers.py [--sizes 30000,100000,300000] [--seed 3]

1. Loads ``geodata/sample_dealers_full.csv`` (every dealer of the five default
   countries) as ``planner run`` does: dealers read, sites, dealers merged into
   a partner's site, seconds.
2. Merges random dealers spread over Europe (lon −10…30, lat 36…70), with a
   partner dealer 40 m north of every tenth, at each of ``--sizes``: seconds,
   sites, and whether every partner joined its dealer's site. The merge finds
   neighbours in a spatial index, so its time should grow about linearly.

One JSON object per measurement on stdout, a table on stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from planner.inputs.merge import EARTH_RADIUS_M, site_labels
from planner.inputs.sites import load_sites
from planner.scenario.schema import DealerFile, DealersConfig

ROOT = Path(__file__).resolve().parents[1]
FULL = ROOT / "geodata" / "sample_dealers_full.csv"
#: Metres per degree of latitude on the sphere planner measures on.
M_PER_DEG = 2 * math.pi * EARTH_RADIUS_M / 360
PARTNER_M = 40.0
MERGE_M = 150.0


def load_full_network() -> dict[str, object]:
    """Read the full-scale sample network into sites, as a run does."""
    started = time.perf_counter()
    result = load_sites(DealersConfig(files=[DealerFile(path=FULL)]), countries=None)
    seconds = time.perf_counter() - started
    counts = result.counts
    return {
        "measure": "load",
        "file": FULL.name,
        "dealers": int(counts["read"]),
        "sites": int(counts["sites"]),
        "merged": int(counts["merged"]),
        "seconds": round(seconds, 3),
    }


def merge_random(n: int, seed: int) -> dict[str, object]:
    """Merge ``n`` random dealers and a partner beside every tenth one."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-10, 30, n)
    lat = rng.uniform(36, 70, n)
    partners = np.arange(0, n, 10)
    lon = np.concatenate([lon, lon[partners]])
    lat = np.concatenate([lat, lat[partners] + PARTNER_M / M_PER_DEG])
    brands = np.array(["Renault"] * n + ["Nissan"] * len(partners), dtype=object)
    started = time.perf_counter()
    labels = site_labels(lon, lat, brands, distance_m=MERGE_M)
    seconds = time.perf_counter() - started
    return {
        "measure": "merge",
        "dealers": len(lon),
        "sites": int(np.unique(labels).size),
        "partners_joined": bool(np.array_equal(labels[partners], labels[n:])),
        "seconds": round(seconds, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="30000,100000,300000", help="dealers, comma-separated")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    results = []
    if FULL.is_file():
        results.append(load_full_network())
    else:
        print(f"{FULL} is missing (planner sample --scale full): load skipped", file=sys.stderr)
    results.extend(merge_random(n, args.seed) for n in sizes)
    for result in results:
        print(json.dumps(result), flush=True)
    print(f"{'measure':<8}{'dealers':>10}{'sites':>10}{'seconds':>10}", file=sys.stderr)
    for result in results:
        print(
            f"{result['measure']:<8}{result['dealers']:>10,}{result['sites']:>10,}"
            f"{result['seconds']:>10.2f}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
