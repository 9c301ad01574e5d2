"""Road reach: build, throughput, a Dijkstra baseline, crow-fly against road, and projections.

Usage (Python 3.12, with osrm-bindings and pyvalhalla)::

    python benchmarks/routing.py [--demand 4000] [--sites 400] [--minutes 30] [--networkx-sites N]

Reads the Malta and Liechtenstein extracts from ``../shared/data`` and prints:

1. **Build**: seconds per step and peak memory (this process, and the
   largest of the engines' build programs) of ``planner routing build``,
   and the folder's size on disk.
2. **Throughput**: road reach (:func:`planner.travel.road.road_reach`, OSRM's
   contraction hierarchy in blocks, cache off) for ``--demand`` random points
   on Malta's roads × ``--sites`` random sites within ``--minutes``: candidate
   pairs, pairs in reach, seconds, pairs per second.
3. **Baselines**: the same reach the way a user would otherwise compute it,
   in the same run, over one graph: the extract's drivable ways (free-flow
   speeds by road class, the ``maxspeed`` tag × 0.8 where given, one-way
   streets, the Gozo ferry at 15 km/h), each point at its nearest graph node,
   one Dijkstra per site on the reversed graph with the same limit, by
   ``scipy.sparse.csgraph`` and by NetworkX (``single_source_dijkstra_path_length``
   with ``cutoff``, what OSMnx users run; skipped with a reason when networkx,
   in the ``bench`` extra, is not installed; ``--networkx-sites`` times fewer
   sites and extrapolates). Their times (graph build apart), and how OSRM and
   Dijkstra agree on the pairs both reach.
4. **Crow-fly × 1.3 against road** on Malta and Liechtenstein (GeoNames places
   ≥ 500 as demand and as sites): at the same km (``radius_km`` = ``max_km``)
   and at 15 km against 15 minutes, the share of pairs classified
   differently; and on Malta the sample plan (``scenarios/malta.toml``)
   solved under both models: sites chosen, coverage claimed, and the
   crow-fly plan's coverage measured on the roads.
5. **Projection** for France and Europe from the measured throughput.
6. **Speedups**, last: road reach against each baseline, searches alone and
   with the baseline's graph build, and whether the ≥ 50× target holds.
"""

from __future__ import annotations

import argparse
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


def networkx_reach(
    graph: sp.csr_matrix,
    node_lon: np.ndarray,
    node_lat: np.ndarray,
    points: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    minutes: float,
    sites: int,
) -> tuple[sp.csr_matrix, float, float] | None:
    """The same reach with NetworkX (as OSMnx users route): graph build seconds, search seconds.

    One ``single_source_dijkstra_path_length`` with ``cutoff`` per site on the
    reversed graph, for the first ``sites`` sites. None when NetworkX is not installed.
    """
    try:
        import networkx as nx
    except ImportError:
        return None
    start = time.perf_counter()
    reverse = nx.from_scipy_sparse_array(graph.T.tocsr(), create_using=nx.DiGraph)
    build_s = time.perf_counter() - start
    d_lon, d_lat, s_lon, s_lat = points
    start = time.perf_counter()
    tree = cKDTree(unit_vectors(node_lon, node_lat))
    d_node = tree.query(unit_vectors(d_lon, d_lat))[1].tolist()
    s_node = tree.query(unit_vectors(s_lon[:sites], s_lat[:sites]))[1].tolist()
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    data: list[np.ndarray] = []
    for site, source in enumerate(s_node):
        dist = nx.single_source_dijkstra_path_length(reverse, source, cutoff=minutes)
        to_demand = np.array([dist.get(node, np.inf) for node in d_node])
        (demand,) = np.nonzero(np.isfinite(to_demand))
        rows.append(demand)
        cols.append(np.full(len(demand), site))
        data.append(to_demand[demand])
    search_s = time.perf_counter() - start
    reach = sp.csr_matrix(
        (np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(d_lon), len(s_node)),
    )
    return reach, build_s, search_s


def throughput(folder: RoutingFolder, args: argparse.Namespace) -> dict[str, float]:
    """Road reach against the Dijkstra baselines; seconds of each, keyed by what was timed."""
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
        f"{road.seconds:.2f} s = {rate:,.0f} pairs/s (one core: the engine holds the GIL)"
    )
    times = {"rate": rate, "road": road.seconds}
    start = time.perf_counter()
    graph, node_lon, node_lat = road_graph(SHARED / EXTRACTS["Malta"])
    times["graph"] = time.perf_counter() - start
    points = (d_lon, d_lat, s_lon, s_lat)
    start = time.perf_counter()
    base = dijkstra_reach(graph, node_lon, node_lat, points, args.minutes)
    times["scipy"] = time.perf_counter() - start
    print(
        f"scipy.sparse.csgraph Dijkstra, same points and limit: graph {graph.shape[0]:,} nodes, "
        f"{graph.nnz:,} arcs read in {times['graph']:.2f} s; {args.sites} searches "
        f"{times['scipy']:.2f} s; {base.nnz:,} pairs in reach"
    )
    sites = min(args.networkx_sites or args.sites, args.sites)
    found = networkx_reach(graph, node_lon, node_lat, points, args.minutes, sites)
    if found is None:
        print("NetworkX Dijkstra: skipped, networkx is not installed (pip install '.[bench]')")
    else:
        reach, build_s, search_s = found
        times["networkx_build"] = build_s
        times["networkx"] = search_s * args.sites / sites
        same = base[:, :sites].tocsr()
        same.sort_indices()
        agree = (
            np.array_equal(reach.indptr, same.indptr)
            and np.array_equal(reach.indices, same.indices)
            and np.allclose(reach.data, same.data, rtol=1e-9, atol=1e-9)
        )
        whole = (
            f"{sites} searches"
            if sites == args.sites
            else f"{sites} of {args.sites} searches {search_s:.2f} s, extrapolated to all:"
        )
        print(
            f"NetworkX single_source_dijkstra_path_length (cutoff), same graph, points and "
            f"limit: graph {build_s:.2f} s; {whole} {times['networkx']:.2f} s; "
            f"{reach.nnz:,} pairs in reach ({'the same as' if agree else 'NOT the same as'} "
            f"scipy's)"
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
    return times


def speedups(times: dict[str, float]) -> str:
    """The closing line: road reach against each baseline, searches alone and with their graph."""
    road = times["road"]
    parts = [
        f"scipy.sparse.csgraph {times['scipy'] / road:.1f}x "
        f"({(times['scipy'] + times['graph']) / road:.1f}x with its graph build)"
    ]
    if "networkx" in times:
        graph = times["graph"] + times["networkx_build"]
        parts.append(
            f"NetworkX {times['networkx'] / road:.0f}x "
            f"({(times['networkx'] + graph) / road:.0f}x with its graph build)"
        )
    else:
        parts.append("NetworkX not measured (not installed)")
    verdicts = [
        f"{'met' if times[key] / road >= 50 else 'not met'} against {name}"
        for key, name in (("networkx", "NetworkX"), ("scipy", "scipy.sparse.csgraph"))
        if key in times
    ]
    return (
        f"speedup of road reach ({road:.2f} s) over the same reach by Dijkstra, searches alone: "
        f"{'; '.join(parts)}; target >= 50x {', '.join(verdicts)}"
    )


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
    parser.add_argument(
        "--networkx-sites",
        type=int,
        default=0,
        help="time NetworkX on this many sites and extrapolate (default: every site)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="planner-routing-bench-") as tmp:
        os.environ["PLANNER_CACHE_DIR"] = str(Path(tmp) / "cache")
        folders = {name: build(name, Path(tmp) / name) for name in EXTRACTS}
        folders = {name: open_routing(f.path) for name, f in folders.items()}
        times = throughput(folders["Malta"], args)
        for name, folder in folders.items():
            crow_against_road(name, folder)
        plan_change(folders["Malta"])
        projection(times["rate"], args.minutes)
        print(speedups(times))


if __name__ == "__main__":
    main()
