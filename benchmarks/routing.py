"""Road reach: build, throughput, a Dijkstra baseline, crow-fly against road, and projections.

Usage (Python 3.12, with osrm-bindings and pyvalhalla)::

    python benchmarks/routing.py [--demand 4000] [--sites 400] [--minutes 30]

Reads the Malta and Liechtenstein extracts from ``../shared/data`` and prints:

1. **Build**: seconds per step and peak memory (this process, and the
   largest of the engines' build programs) of ``planner routing build``,
   and the folder's size on disk.
2. **Throughput**: road reach (:func:`planner.travel.road.road_reach`, OSRM's
   contraction hierarchy in blocks, cache off) for ``--demand`` random points
   on Malta's roads × ``--sites`` random sites within ``--minutes``: candidate
   pairs, pairs in reach, seconds, pairs per second.
3. **Baseline**: the same reach the way a user would otherwise compute it, in
   the same run: the extract's drivable ways read into a
   ``scipy.sparse.csgraph`` graph (free-flow speeds by road class, the
   ``maxspeed`` tag × 0.8 where given, one-way streets, the Gozo ferry at
   15 km/h), each point at its nearest graph node, one Dijkstra per site on
   the reversed graph with the same limit. Its time (graph build included
   and apart), the speedup, and how the two agree on the pairs both reach.
4. **Crow-fly × 1.3 against road** on Malta and Liechtenstein (GeoNames places
   ≥ 500 as demand and as sites): at the same km (``radius_km`` = ``max_km``)
   and at 15 km against 15 minutes, the share of pairs classified
   differently; and on Malta the sample plan (``scenarios/malta.toml``)
   solved under both models: sites chosen, coverage claimed, and the
   crow-fly plan's coverage measured on the roads.
5. **Projection** for France and Europe from the measured throughput.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

import planner
from planner.inputs.geonames import populated_places
from planner.travel.great_circle import reach_matrix
from planner.travel.road import road_reach, snap_points
from planner.travel.routing_build import DRIVABLE_HIGHWAYS
from planner.travel.routing_folder import RoutingFolder, open_routing
from planner.travel.sphere import EARTH_RADIUS_KM, unit_vectors

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EXTRACTS = {"Malta": "malta_2018-08.osm.pbf", "Liechtenstein": "liechtenstein_2015-10.osm.pbf"}
SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "malta.toml"

#: Free-flow km/h of the baseline graph (OSRM's car profile defaults).
SPEEDS = {
    "motorway": 90, "motorway_link": 45, "trunk": 85, "trunk_link": 40, "primary": 65,
    "primary_link": 30, "secondary": 55, "secondary_link": 25, "tertiary": 40,
    "tertiary_link": 20, "unclassified": 25, "residential": 25, "living_street": 10,
    "service": 15, "road": 25,
}  # fmt: skip
FERRY_KMH = 15.0


def _mb(kilobytes: float) -> float:
    return kilobytes / 1024.0


def build(name: str, out: Path) -> RoutingFolder:
    """Build in a fresh process, so its peak memory is the build's, not this benchmark's."""
    extract = SHARED / EXTRACTS[name]
    start = time.perf_counter()
    code = (
        "import sys; from planner.pipeline.routing import build_routing; "
        "build_routing(sys.argv[1], sys.argv[2])"
    )
    process = subprocess.Popen([sys.executable, "-c", code, str(extract), str(out)])
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"routing build of {extract} failed")
    seconds = time.perf_counter() - start
    folder = open_routing(out)
    disk = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    # The largest of the build process and the engines' programs it ran.
    peak = _mb(usage.ru_maxrss)
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in folder.manifest["seconds"].items())
    roads = folder.manifest["roads"]
    print(
        f"build {name} ({extract.stat().st_size / 1e6:.1f} MB): {seconds:.1f} s ({steps}); "
        f"peak memory {peak:.0f} MB; "
        f"disk {disk / 1e6:.1f} MB; {roads['nodes']:,} nodes, {roads['edges']:,} edges, "
        f"{roads['km']:,.0f} km of road"
    )
    return folder


def random_road_points(
    folder: RoutingFolder, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uniform points of the roads' box within 300 m of a road."""
    west, south, east, north = folder.bbox
    lon_out: list[float] = []
    lat_out: list[float] = []
    while len(lon_out) < n:
        lon = rng.uniform(west, east, 4 * n)
        lat = rng.uniform(south, north, 4 * n)
        near = ~snap_points(folder, lon, lat, snap_max_m=300.0).dropped
        lon_out += lon[near].tolist()
        lat_out += lat[near].tolist()
    return np.array(lon_out[:n]), np.array(lat_out[:n])


def road_graph(extract: Path) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The drivable ways as a directed graph of minutes, with node lon/lat."""
    import osmium

    index: dict[int, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    tails: list[int] = []
    heads: list[int] = []
    minutes: list[float] = []
    ways = (
        osmium.FileProcessor(str(extract), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
    )
    for way in ways:
        if not isinstance(way, osmium.osm.Way):
            continue
        tags = way.tags
        highway = tags.get("highway")
        ferry = tags.get("route") == "ferry"
        if not ferry and (highway not in DRIVABLE_HIGHWAYS or tags.get("area") == "yes"):
            continue
        if tags.get("access") in ("no", "private"):
            continue
        kmh = FERRY_KMH if ferry else float(SPEEDS[str(highway)])
        limit = (tags.get("maxspeed") or "").split()[0] if tags.get("maxspeed") else ""
        if not ferry and limit.isdigit():
            kmh = 0.8 * float(limit)
        nodes = [n for n in way.nodes if n.location.valid()]
        ids = []
        for n in nodes:
            if n.ref not in index:
                index[n.ref] = len(lon)
                lon.append(n.location.lon)
                lat.append(n.location.lat)
            ids.append(index[n.ref])
        oneway = tags.get("oneway") or ("yes" if highway in ("motorway", "roundabout") else "")
        if tags.get("junction") == "roundabout":
            oneway = "yes"
        for a, b in itertools.pairwise(ids):
            km = _km(lon[a], lat[a], lon[b], lat[b])
            cost = 60.0 * km / kmh
            if oneway != "-1":
                tails.append(a)
                heads.append(b)
                minutes.append(cost)
            if oneway not in ("yes", "true", "1", "-1") or oneway == "-1":
                tails.append(b)
                heads.append(a)
                minutes.append(cost)
    size = len(lon)
    graph = sp.csr_matrix((minutes, (tails, heads)), shape=(size, size))
    return graph, np.array(lon), np.array(lat)


def _km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    )
    return float(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h)))


def dijkstra_reach(
    graph: sp.csr_matrix,
    node_lon: np.ndarray,
    node_lat: np.ndarray,
    points: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    minutes: float,
) -> sp.csr_matrix:
    """Demand × sites minutes within ``minutes``: one Dijkstra per site on the reversed graph."""
    d_lon, d_lat, s_lon, s_lat = points
    tree = cKDTree(unit_vectors(node_lon, node_lat))
    d_node = tree.query(unit_vectors(d_lon, d_lat))[1]
    s_node = tree.query(unit_vectors(s_lon, s_lat))[1]
    reverse = graph.T.tocsr()
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    data: list[np.ndarray] = []
    for first in range(0, len(s_node), 50):
        chunk = s_node[first : first + 50]
        dist = dijkstra(reverse, directed=True, indices=chunk, limit=minutes)
        to_demand = dist[:, d_node]
        site, demand = np.nonzero(np.isfinite(to_demand))
        rows.append(demand)
        cols.append(site + first)
        data.append(to_demand[site, demand])
    return sp.csr_matrix(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(d_lon), len(s_lon)),
    )


def python_dijkstra_seconds(
    graph: sp.csr_matrix,
    node_lon: np.ndarray,
    node_lat: np.ndarray,
    s_lon: np.ndarray,
    s_lat: np.ndarray,
) -> float:
    """Seconds of full single-source Dijkstras in Python from the sites (reversed graph)."""
    reverse = graph.T.tocsr()
    adjacency = [
        list(
            zip(
                reverse.indices[reverse.indptr[i] : reverse.indptr[i + 1]].tolist(),
                reverse.data[reverse.indptr[i] : reverse.indptr[i + 1]].tolist(),
                strict=True,
            )
        )
        for i in range(reverse.shape[0])
    ]
    sources = cKDTree(unit_vectors(node_lon, node_lat)).query(unit_vectors(s_lon, s_lat))[1]
    start = time.perf_counter()
    for source in sources.tolist():
        dist = {source: 0.0}
        heap = [(0.0, source)]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist.get(u, np.inf):
                continue
            for v, w in adjacency[u]:
                nd = d + w
                if nd < dist.get(v, np.inf):
                    dist[v] = nd
                    heapq.heappush(heap, (nd, v))
    return time.perf_counter() - start


def throughput(folder: RoutingFolder, args: argparse.Namespace) -> float:
    rng = np.random.default_rng(7)
    d_lon, d_lat = random_road_points(folder, args.demand, rng)
    s_lon, s_lat = random_road_points(folder, args.sites, rng)
    road = road_reach(
        folder, d_lon, d_lat, s_lon, s_lat,
        metric="minutes", limit=args.minutes, snap_max_m=300.0, use_cache=False,
    )  # fmt: skip
    rate = road.candidate_pairs / road.seconds
    print(
        f"road reach Malta: {args.demand:,} demand points x {args.sites:,} sites within "
        f"{args.minutes:g} min: {road.candidate_pairs:,} candidate pairs, "
        f"{road.matrix.nnz:,} in reach, {road.no_route_pairs} without a route, "
        f"{road.seconds:.2f} s = {rate:,.0f} pairs/s"
    )
    start = time.perf_counter()
    graph, node_lon, node_lat = road_graph(SHARED / EXTRACTS["Malta"])
    graph_s = time.perf_counter() - start
    start = time.perf_counter()
    base = dijkstra_reach(graph, node_lon, node_lat, (d_lon, d_lat, s_lon, s_lat), args.minutes)
    search_s = time.perf_counter() - start
    print(
        f"scipy.sparse.csgraph Dijkstra, same points and limit: graph {graph.shape[0]:,} nodes, "
        f"{graph.nnz:,} arcs read in {graph_s:.2f} s; {args.sites} searches {search_s:.2f} s; "
        f"{base.nnz:,} pairs in reach"
    )
    sample = 20
    python_s = python_dijkstra_seconds(graph, node_lon, node_lat, s_lon[:sample], s_lat[:sample])
    python_all = python_s * len(s_lon) / sample
    print(
        f"pure-Python Dijkstra (heapq on adjacency lists, as NetworkX/OSMnx run it): "
        f"{sample} searches {python_s:.2f} s -> {python_all:.0f} s for {len(s_lon)} "
        f"(extrapolated); speedup {python_all / road.seconds:.0f}x"
    )
    print(
        f"speedup: {search_s / road.seconds:.1f}x (searches only), "
        f"{(graph_s + search_s) / road.seconds:.1f}x (graph build included)"
    )
    both = road.matrix.multiply(base.astype(bool)).tocoo()
    osrm_min = both.data
    dijkstra_min = np.asarray(base[both.row, both.col]).ravel()
    ratio = osrm_min / np.maximum(dijkstra_min, 1e-6)
    road_only = (road.matrix.astype(bool) > base.astype(bool)).nnz
    base_only = (base.astype(bool) > road.matrix.astype(bool)).nnz
    print(
        f"agreement on {len(ratio):,} pairs both reach: OSRM/Dijkstra minutes median "
        f"{np.median(ratio):.2f} (10-90 %: {np.percentile(ratio, 10):.2f}-"
        f"{np.percentile(ratio, 90):.2f}), within 25 %: {np.mean(np.abs(ratio - 1) <= 0.25):.0%}; "
        f"in reach by OSRM only {road_only:,}, by Dijkstra only {base_only:,}"
    )
    return rate


def crow_against_road(name: str, folder: RoutingFolder) -> None:
    country = {"Malta": "MT", "Liechtenstein": "LI"}[name]
    places = populated_places([country], min_population=500)
    places = places[~snap_points(folder, places.lon, places.lat, snap_max_m=1000).dropped]
    xy = (places.lon, places.lat, places.lon, places.lat)
    for km, minutes in ((10.0, None), (15.0, None), (15.0, 15.0)):
        crow = reach_matrix(*xy, radius_km=km, circuity=1.3).astype(bool)
        road = road_reach(
            folder,
            *xy,
            metric="minutes" if minutes else "km",
            limit=minutes or km,
            snap_max_m=1000,
            use_cache=False,
        ).matrix.astype(bool)
        union = (crow + road).nnz
        differ = (crow != road).nnz
        crow_only = (crow > road).nnz
        what = f"{minutes:g} min" if minutes else f"{km:g} road km"
        print(
            f"{name} ({len(places)} places): crow-fly x 1.3 <= {km:g} km against {what}: "
            f"{differ:,} of {union:,} pairs in either classified differently "
            f"({differ / max(union, 1):.1%}; crow-fly only {crow_only:,}, road only "
            f"{differ - crow_only:,})"
        )


def plan_change(folder: RoutingFolder) -> None:
    road = planner.load_scenario(SCENARIO, values={"travel.routing": str(folder.path)})
    crow = planner.load_scenario(
        SCENARIO, values={"travel.mode": "great_circle", "travel.radius_km": 10.0}
    )
    road_plan = planner.run(road)
    crow_plan = planner.run(crow)
    for label, plan in (("road, 10 min", road_plan), ("crow-fly x 1.3, 10 km", crow_plan)):
        chosen = plan.sites.loc[plan.sites["chosen"], "name"].tolist()
        print(
            f"Malta plan ({label}): coverage {plan.report['coverage_pct']:.1f} %, "
            f"sites {', '.join(chosen)}"
        )
    # The crow-fly plan measured on the roads: demand with a chosen site within 10 minutes.
    demand = road_plan.demand
    sites = road_plan.sites.set_index("site_id")
    crow_chosen = crow_plan.sites.loc[crow_plan.sites["chosen"], "site_id"]
    columns = np.flatnonzero(sites.index.isin(crow_chosen))
    reach = road_reach(
        folder, demand.lon, demand.lat, sites.lon, sites.lat,
        metric="minutes", limit=10.0, snap_max_m=1000,
    ).matrix  # fmt: skip
    covered = np.asarray(reach[:, columns].sum(axis=1)).ravel() > 0
    weight = demand["weight"].to_numpy()
    print(
        f"the crow-fly plan on the roads: {100 * weight[covered].sum() / weight.sum():.1f} % "
        f"covered within 10 min (it claimed {crow_plan.report['coverage_pct']:.1f} %)"
    )


def projection(rate: float, minutes: float) -> None:
    bound_km = 130.0 * minutes / 60.0 + 2.0
    for region, area_km2, places, sites in (
        ("France", 551_000, 15_362, 12_669),
        ("Europe", 5_000_000, 100_500, 26_000),
    ):
        share = min(1.0, np.pi * bound_km**2 / area_km2)
        pairs = places * sites * share
        print(
            f"projection {region}: {places:,} places x {sites:,} sites, {share:.1%} within "
            f"{bound_km:.0f} km crow-fly (uniform spread) = {pairs / 1e6:,.0f} M candidate "
            f"pairs, {pairs / rate:,.0f} s at {rate:,.0f} pairs/s on one core; the reach "
            f"matrix about {pairs * 0.5 * 12 / 1e6:,.0f} MB (half in reach, 12 bytes a pair)"
        )
    print(
        "projection build: OSRM needs about 14x the .pbf in memory (France 4.5 GB -> ~60 GB, "
        "filtered to roads about a third), and its data take about 6x the .pbf on disk"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demand", type=int, default=4000)
    parser.add_argument("--sites", type=int, default=400)
    parser.add_argument("--minutes", type=float, default=30.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="planner-routing-bench-") as tmp:
        os.environ["PLANNER_CACHE_DIR"] = str(Path(tmp) / "cache")
        folders = {name: build(name, Path(tmp) / name) for name in EXTRACTS}
        folders = {name: open_routing(f.path) for name, f in folders.items()}
        rate = throughput(folders["Malta"], args)
        for name, folder in folders.items():
            crow_against_road(name, folder)
        plan_change(folders["Malta"])
        projection(rate, args.minutes)


if __name__ == "__main__":
    main()
