"""Road travel: routing build, road reach, its cache, the matrix command, isochrones.

The engines (osrm-bindings, pyvalhalla) have wheels for Python 3.12 and later
only: every test here skips with that reason when they are not importable.
The Malta extract comes from ``../shared/data`` and is built once per session.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

import planner
from planner.errors import InputError
from planner.scenario.schema import load_scenario
from tests.conftest import problems_of, shared_path
from tests.conftest import run_cli as _run

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("osrm") is None or importlib.util.find_spec("valhalla") is None,
    reason="road travel needs osrm-bindings and pyvalhalla (wheels for Python >= 3.12 only)",
)

MALTA = ("data", "malta_2018-08.osm.pbf")
#: Valletta, Mdina and Victoria (Gozo, across the ferry).
TOWNS = pd.DataFrame(
    {
        "id": ["valletta", "mdina", "victoria"],
        "name": ["Valletta", "Mdina", "Victoria"],
        "lon": [14.5146, 14.4032, 14.2392],
        "lat": [35.8989, 35.8867, 36.0443],
    }
)


@pytest.fixture(scope="session")
def malta_routing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    extract = shared_path(*MALTA)
    out = tmp_path_factory.mktemp("routing") / "malta"
    planner.build_routing(extract, out)
    return out


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache" / "road-reach"
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(cache))
    return cache


def test_build_writes_a_manifest_with_counts_and_dates(malta_routing: Path) -> None:
    manifest = json.loads((malta_routing / "routing.json").read_text(encoding="utf-8"))
    assert manifest["extract"]["replication_timestamp"] == "2018-08-27T20:14:02Z"
    roads = manifest["roads"]
    assert roads["nodes"] > 50_000 and roads["edges"] > roads["nodes"] // 2
    assert 2_000 < roads["km"] < 3_500
    west, south, east, north = roads["bbox"]
    assert 14.1 < west < east < 14.7 and 35.7 < south < north < 36.2
    assert (malta_routing / ".planner-output").is_file()
    assert not list(malta_routing.parent.glob(".malta.*"))


def test_road_reach_is_the_thresholded_dense_matrix(malta_routing: Path) -> None:
    from planner.travel.road import road_reach, road_table
    from planner.travel.routing_folder import open_routing

    folder = open_routing(malta_routing)
    rng = np.random.default_rng(3)
    d_lon, d_lat = rng.uniform(14.35, 14.55, 120), rng.uniform(35.83, 35.95, 120)
    s_lon, s_lat = rng.uniform(14.35, 14.55, 25), rng.uniform(35.83, 35.95, 25)
    reach = road_reach(
        folder, d_lon, d_lat, s_lon, s_lat, metric="minutes", limit=5.0, snap_max_m=300
    )
    minutes = road_table(folder, d_lon, d_lat, s_lon, s_lat)[0]
    expected = np.nan_to_num(minutes, nan=np.inf) <= 5.0
    assert reach.matrix.nnz == int(expected.sum()) > 0
    dense = reach.matrix.toarray()
    np.testing.assert_allclose(dense[expected], minutes[expected])
    assert reach.candidate_pairs < 120 * 25 and not reach.from_cache


def test_road_reach_is_the_same_in_any_blocks(
    malta_routing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from planner.travel import road
    from planner.travel.great_circle import reach_matrix
    from planner.travel.routing_folder import open_routing

    folder = open_routing(malta_routing)
    rng = np.random.default_rng(5)
    points = (
        rng.uniform(14.2, 14.57, 300),
        rng.uniform(35.82, 36.07, 300),
        rng.uniform(14.2, 14.57, 40),
        rng.uniform(35.82, 36.07, 40),
    )

    def reach() -> road.RoadReach:
        return road.road_reach(
            folder, *points, metric="minutes", limit=8.0, snap_max_m=300.0, use_cache=False
        )

    whole = reach()
    monkeypatch.setattr(road, "BLOCK_ROWS", 7)
    monkeypatch.setattr(road, "BLOCK_CELLS", 60)
    small = reach()
    bound = road.candidate_radius_km(folder, metric="minutes", limit=8.0, snap_max_m=300.0)
    crow = reach_matrix(*points, radius_km=bound, circuity=1.0)
    assert whole.candidate_pairs == small.candidate_pairs == crow.nnz < 300 * 40
    assert whole.matrix.nnz > 0 and whole.matrix.has_sorted_indices
    np.testing.assert_array_equal(whole.matrix.indptr, small.matrix.indptr)
    np.testing.assert_array_equal(whole.matrix.indices, small.matrix.indices)
    np.testing.assert_array_equal(whole.matrix.data, small.matrix.data)
    # Every pair in reach is a crow-fly candidate.
    assert (whole.matrix.astype(bool) > crow.astype(bool)).nnz == 0


def test_engine_nulls_read_as_nan() -> None:
    from planner.travel.road import _cells

    np.testing.assert_array_equal(_cells([[60.0, None]], (1, 2)), [[60.0, np.nan]])
    np.testing.assert_array_equal(_cells([[1.0], [2.0]], (2, 1)), [[1.0], [2.0]])


def test_reach_cache_is_keyed_by_content(malta_routing: Path, _own_cache: Path) -> None:
    from planner.travel.road import road_reach
    from planner.travel.routing_folder import open_routing

    folder = open_routing(malta_routing)
    args = (TOWNS["lon"], TOWNS["lat"], TOWNS["lon"], TOWNS["lat"])
    first = road_reach(folder, *args, metric="minutes", limit=30.0, snap_max_m=1000)
    again = road_reach(folder, *args, metric="minutes", limit=30.0, snap_max_m=1000)
    assert again.from_cache and (again.matrix != first.matrix).nnz == 0
    other = road_reach(folder, *args, metric="minutes", limit=20.0, snap_max_m=1000)
    assert not other.from_cache
    moved = road_reach(
        folder, TOWNS["lon"] + 1e-4, TOWNS["lat"], TOWNS["lon"], TOWNS["lat"],
        metric="minutes", limit=30.0, snap_max_m=1000,
    )  # fmt: skip
    assert not moved.from_cache
    assert len(list(_own_cache.glob("*.npz"))) == 3


def _matrix(
    capsys: pytest.CaptureFixture[str], routing: Path, points: Path, *more: str
) -> tuple[int, str]:
    """``planner routing matrix`` from and to the same points: exit code and stderr."""
    command = ["routing", "matrix", str(routing), "--from", str(points), "--to", str(points)]
    code, _, stderr = _run([*command, *more], capsys)
    return code, stderr


def test_matrix_command_writes_minutes_and_km(
    malta_routing: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    towns = tmp_path / "towns.csv"
    pd.concat([TOWNS, TOWNS.iloc[[1]]]).to_csv(towns, index=False)
    out = tmp_path / "m.csv"
    code, stderr = _matrix(capsys, malta_routing, towns, "--out", str(out))
    assert code == 0, stderr
    # Points, not demand: the warning says neither.
    expected = "towns.csv: 1 repeated row(s) dropped (row 5), each place counted once"
    assert expected in caplog.text, caplog.text
    table = pd.read_csv(out)
    assert len(table) == 9
    pair = table[(table["from_id"] == "valletta") & (table["to_id"] == "victoria")].iloc[0]
    # Gozo is across the ferry: far longer than its 30 km crow-fly.
    assert pair["minutes"] > 45 and pair["km"] > pair["crow_km"] > 25
    same = table[table["from_id"] == table["to_id"]]
    assert (same["minutes"] < 1).all()
    # Without --out the same bytes go to standard output.
    command = ["routing", "matrix", str(malta_routing), "--from", str(towns), "--to", str(towns)]
    code, stdout, stderr = _run(command, capsys)
    assert code == 0, stderr
    assert stdout == out.read_text(encoding="utf-8")


def test_matrix_command_refuses_a_point_file_without_coordinates(
    malta_routing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\n1,Valletta\n", encoding="utf-8")
    code, stderr = _matrix(capsys, malta_routing, bad)
    assert code == 2 and "bad.csv" in stderr, stderr
    # One line per problem: each coordinate that is missing.
    lines = stderr.strip().splitlines()
    assert [("no lon column" in line, "no lat column" in line) for line in lines] == [
        (True, False),
        (False, True),
    ]


def test_matrix_leaves_pairs_with_a_point_far_from_any_road_empty(
    malta_routing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: Paris was snapped to Malta's nearest road, 1,700 km away, and
    # given drives of a few minutes, without a word.
    towns = pd.concat(
        [TOWNS, pd.DataFrame({"id": ["paris"], "name": ["Paris"], "lon": [2.35], "lat": [48.86]})]
    )
    points = tmp_path / "points.csv"
    towns.to_csv(points, index=False)
    out = tmp_path / "m.csv"
    code, stderr = _matrix(capsys, malta_routing, points, "--out", str(out))
    assert code == 0, stderr
    assert "1 origin(s) and 1 destination(s) lie farther than 1,000 m from any road" in stderr
    table = pd.read_csv(out)
    paris = (table["from_id"] == "paris") | (table["to_id"] == "paris")
    assert table.loc[paris, ["minutes", "km"]].isna().all().all()
    assert table.loc[~paris, ["minutes", "km"]].notna().all().all()
    assert (table.loc[table["from_id"] == "paris", "from_snap_m"] > 1_000_000).all()
    # Printed rather than written, the count of empty pairs goes to standard
    # error (before: said only with --out).
    code, stderr = _matrix(capsys, malta_routing, points)
    assert code == 0, stderr
    assert stderr.strip().splitlines()[-1] == "16 pairs, 7 without a road between them"
    # The API names its argument, the command its option.
    with pytest.raises(InputError, match=r"^snap_max_m: .*at most 20,000 m"):
        planner.routing_matrix(malta_routing, towns, towns, snap_max_m=1e12)
    # numpy's numbers are numbers (np.int64 was refused).
    half_km: Any = np.int64(500)
    assert planner.routing_matrix(malta_routing, TOWNS, TOWNS, snap_max_m=half_km).snap_max_m == 500
    code, stderr = _matrix(capsys, malta_routing, points, "--snap-max-m", "0")
    assert code == 2 and "error: --snap-max-m: must be above 0" in stderr, stderr


def test_matrix_refuses_to_overwrite_its_points_and_writes_text_as_text(
    malta_routing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: --out naming the --from file replaced the user's points with the
    # matrix, and a name like =HYPERLINK(...) went into the CSV as a formula.
    towns = TOWNS.assign(name=['=HYPERLINK("http://x")', "Mdina", "@SUM(A1)"])
    points = tmp_path / "points.csv"
    towns.to_csv(points, index=False)
    before = points.read_bytes()
    code, stderr = _matrix(capsys, malta_routing, points, "--out", str(points))
    assert code == 2 and f"--out: '{points}' is the file of the origins" in stderr, stderr
    assert points.read_bytes() == before
    out = tmp_path / "m.csv"
    code, stderr = _matrix(capsys, malta_routing, points, "--out", str(out))
    assert code == 0, stderr
    names = set(pd.read_csv(out)["from_name"])
    assert names == {'\'=HYPERLINK("http://x")', "Mdina", "'@SUM(A1)"}


def test_matrix_tables_are_checked_as_point_files_are(malta_routing: Path) -> None:
    # Before: a table's coordinate that was no number became NaN and OSRM's
    # "Coordinates are invalid" a RuntimeError; an id given twice passed.
    cases: list[tuple[Any, str]] = [
        (TOWNS.assign(lon=["x", 14.4032, 14.2392]), "origins table, row 2, field 'lon'"),
        (TOWNS.assign(lat=[35.9, 95.0, 36.0]), "origins table, row 3, field 'lat'"),
        (TOWNS.assign(id=["a", "a", "b"]), "origins table, row 3, field 'id': duplicate id"),
        (TOWNS.drop(columns="lat"), "origins table, field 'lat': no lat column"),
        (None, "origins: give a point file's path or a DataFrame, not None"),
    ]
    for table, message in cases:
        with pytest.raises(InputError) as caught:
            planner.routing_matrix(malta_routing, table, TOWNS)
        assert str(caught.value).startswith(message), str(caught.value)


def test_matrix_is_never_written_into_a_folder_planner_wrote(tmp_path: Path) -> None:
    # Before: out=<routing folder>/routing.json replaced the folder's manifest
    # with the matrix, and every later use of the folder failed.
    folder = planner.build_routing(shared_path("data", "monaco_2021-12.osm.pbf"), tmp_path / "r")
    manifest = (folder.path / "routing.json").read_bytes()
    points = pd.DataFrame({"id": ["a", "b"], "lon": [7.42, 7.43], "lat": [43.73, 43.74]})
    for out in (folder.path / "routing.json", folder.path / "more" / "m.csv"):
        with pytest.raises(InputError, match=r"^out: .* is inside .*, a routing folder planner"):
            planner.routing_matrix(folder.path, points, points, out=out)
    assert (folder.path / "routing.json").read_bytes() == manifest
    assert not (folder.path / "more").exists()
    matrix = planner.routing_matrix(folder.path, points, points)
    # Before: the dataclass repr, the whole table and the routing manifest.
    assert repr(matrix) == "<RoutingMatrix 2 × 2 points, 4 pairs, 4 by road>"
    with pytest.raises(InputError, match=r"^path: give a path"):
        matrix.save(None)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"^out: .* is inside"):
        planner.import_dealers(
            shared_path("data", "monaco_2021-12.osm.pbf"), out=folder.path / "d.csv"
        )


def test_matrix_with_standard_output_closed_asks_for_out(tmp_path: Path) -> None:
    # Before: `planner routing matrix … >&-` computed the matrix, printed it
    # nowhere and ended with exit 0.
    points = tmp_path / "points.csv"
    points.write_text("id,lon,lat\na,14.5,35.9\n", encoding="utf-8")
    command = 'exec "$0" -m planner routing matrix "$1" --from "$2" --to "$2" >&-'
    done = subprocess.run(
        ["sh", "-c", command, sys.executable, str(tmp_path / "no-routing"), str(points)],
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: --out: standard output is closed: give --out M.csv"


def test_a_sweep_that_loaded_an_engine_ends_with_its_one_error_line(
    malta_routing: Path, tmp_path: Path
) -> None:
    # Before: the engine, cached in the sweep's own process, was still alive
    # when the interpreter ended, and its bindings printed "nanobind: leaked …"
    # lines around the one error line.
    truncated = tmp_path / "cut.osm.pbf"
    truncated.write_bytes(shared_path(*MALTA).read_bytes()[:300_000])
    project = Path(__file__).resolve().parents[1]
    grid = f"travel.routing={malta_routing},{truncated}"
    command = ["sweep", "scenarios/malta.toml", "--workers", "1", "--grid", grid]
    done = subprocess.run(
        [sys.executable, "-m", "planner", *command, "--out", str(tmp_path / "sweep")],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "nanobind" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {truncated}: is not a readable")


def test_a_workbook_of_several_sheets_as_points_gets_advice_a_matrix_can_follow(
    malta_routing: Path, tmp_path: Path
) -> None:
    # Before: "name the one to read with sheet = 'A' in the scenario's entry for
    # this file", and a matrix has no scenario.
    book = openpyxl.Workbook()
    for index, name in enumerate(["A", "B"]):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = name
        sheet.append(["id", "lon", "lat"])
        sheet.append([name, 14.5, 35.9])
    points = tmp_path / "points.xlsx"
    book.save(points)
    with pytest.raises(InputError) as caught:
        planner.routing_matrix(malta_routing, points, points)
    assert str(caught.value) == (
        "points.xlsx, field 'sheet': has 2 sheets: 'A', 'B'; save the sheet of points as a file "
        "of its own (CSV, or a workbook of one sheet), or read it with pandas and pass the "
        "table to planner.routing_matrix"
    )


def test_matrix_too_large_is_refused_before_any_routing(
    malta_routing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: 20,000 × 20,000 points took 6.6 GB and more than 3 minutes, and
    # 100,000 × 100,000 ended with "Unable to allocate 74.5 GiB".
    import planner.pipeline.routing as routing

    monkeypatch.setattr(routing, "MAX_MATRIX_PAIRS", 8)
    with pytest.raises(InputError) as caught:
        planner.routing_matrix(malta_routing, TOWNS, TOWNS)
    (problem,) = problems_of(caught)
    assert problem.message.startswith("3 × 3 points make 9 pairs; at most 8 in one matrix")


def test_matrix_names_an_extract_or_a_file_given_as_its_folder(tmp_path: Path) -> None:
    # Before: an extract was said to be "no such routing folder" under a cache
    # path the user never gave, and so was a file.
    extract = tmp_path / "malta.osm.pbf"
    extract.write_bytes(b"not read")
    with pytest.raises(InputError) as caught:
        planner.routing_matrix(extract, TOWNS, TOWNS)
    (problem,) = problems_of(caught)
    assert problem.source == f"routing folder {extract}"
    assert problem.message.startswith("is an extract, not a routing folder; build one first")
    with pytest.raises(InputError) as caught:
        planner.routing_matrix(tmp_path / "towns.csv", TOWNS, TOWNS)
    assert "no such routing folder" in str(caught.value)
    (tmp_path / "towns.csv").write_text("id,lon,lat\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        planner.routing_matrix(tmp_path / "towns.csv", TOWNS, TOWNS)
    assert "is a file, not a routing folder" in str(caught.value)


def test_snap_limit_of_a_run_is_bounded() -> None:
    # Before: travel.snap_max_m = 1e12 put Malta's points on Monaco's roads,
    # 1,000 km away, and reported full coverage.
    from planner.scenario.build import scenario_from

    with pytest.raises(InputError) as caught:
        scenario_from(None, overrides={"travel.snap_max_m": 1e12})
    (problem,) = problems_of(caught)
    assert problem.field == "travel.snap_max_m" and "20000" in problem.message


def _tiny_extract(path: Path) -> Path:
    from tests.test_import_dealers import write_extract

    return write_extract(path, [(1, (14.5, 35.9), {"shop": "car", "name": "Garage"})])


def test_build_reads_an_extract_named_in_upper_case(tmp_path: Path) -> None:
    # osmium and the build programs tell the format by the suffix, in lower case only.
    extract = tmp_path / "MONACO.OSM.PBF"
    extract.symlink_to(shared_path("data", "monaco_2021-12.osm.pbf"))
    manifest = planner.build_routing(extract, tmp_path / "monaco").manifest
    assert manifest["extract"]["file"] == "MONACO.OSM.PBF"
    assert manifest["roads"]["km"] > 50
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("roads.csv", "is not an OpenStreetMap .pbf extract"),
        ("empty.osm.pbf", "is empty"),
        ("truncated.osm.pbf", "is not a readable OpenStreetMap extract"),
        ("shops.osm.pbf", "holds no drivable road"),
        ("missing.osm.pbf", "no such file"),
        # Before: exit 1, "osrm-extract failed (exit code -6): what(): invalid location".
        ("off-globe.osm.pbf", "node 2 of way 1 lies at longitude 190, latitude 95, off the globe"),
        # Before: "holds no drivable road", of a file holding roads.
        ("nodeless.osm.pbf", "holds 1 way(s) tagged as drivable roads, but none has two nodes"),
    ],
)
def test_build_refuses_bad_extracts_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    path = tmp_path / name
    if name == "roads.csv":
        path.write_text("lon,lat\n", encoding="utf-8")
    elif name == "empty.osm.pbf":
        path.write_bytes(b"")
    elif name == "truncated.osm.pbf":
        data = shared_path(*MALTA).read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif name == "shops.osm.pbf":
        _tiny_extract(path)
    elif name in ("off-globe.osm.pbf", "nodeless.osm.pbf"):
        from tests.test_import_dealers import write_extract

        points: list[Any] = [(1, (14.5, 35.9), {}), (2, (190.0, 95.0), {}), (3, (14.51, 35.9), {})]
        road = [(1, [1, 2, 3], {"highway": "residential"})]
        write_extract(path, points if name == "off-globe.osm.pbf" else [], road)
    out = tmp_path / "routing"
    code, _, stderr = _run(["routing", "build", str(path), "--out", str(out)], capsys)
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], stderr
    # Nothing half-built is left behind.
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".routing")]


def test_routing_folder_missing_or_of_another_version(malta_routing: Path, tmp_path: Path) -> None:
    from planner.travel.routing_folder import open_routing

    with pytest.raises(InputError, match="no such routing folder"):
        open_routing(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match="is not a routing folder"):
        open_routing(tmp_path / "plain")
    old = tmp_path / "old"
    shutil.copytree(malta_routing, old)
    manifest = json.loads((old / "routing.json").read_text(encoding="utf-8"))
    manifest["engines"]["osrm-bindings"] = "5.27.1"
    (old / "routing.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match=r"built by osrm-bindings 5\.27\.1.*rebuild it"):
        open_routing(old)


def test_a_damaged_routing_folder_is_named(malta_routing: Path, tmp_path: Path) -> None:
    # Before: OSRM's failure to map an emptied data file ended as an unexpected failure.
    from planner.travel.road import road_table
    from planner.travel.routing_folder import open_routing

    damaged = tmp_path / "damaged"
    shutil.copytree(malta_routing, damaged)
    (damaged / "osrm" / "roads.osrm.ebg_nodes").write_bytes(b"")
    with pytest.raises(InputError) as caught:
        open_routing(damaged)
    (problem,) = problems_of(caught)
    assert "damaged routing folder (osrm/roads.osrm.ebg_nodes has 0 bytes" in problem.message
    # A folder whose manifest lists no files (as built before it did) is still
    # caught when the engine maps the file.
    manifest = json.loads((damaged / "routing.json").read_text(encoding="utf-8"))
    del manifest["files"], manifest["sha256"]
    (damaged / "routing.json").write_text(json.dumps(manifest), encoding="utf-8")
    folder = open_routing(damaged)
    lon, lat = TOWNS["lon"].to_numpy(), TOWNS["lat"].to_numpy()
    with pytest.raises(InputError) as caught:
        road_table(folder, lon, lat, lon, lat)
    (problem,) = problems_of(caught)
    assert problem.field == "travel.routing"
    assert problem.message.endswith(
        "the routing folder is damaged; rebuild it with planner routing build"
    )


def _copy_to_damage(malta_routing: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A copy of the Malta folder, its OSRM fileIndex (to damage) and the towns as a CSV."""
    damaged = tmp_path / "damaged"
    shutil.copytree(malta_routing, damaged)
    towns = tmp_path / "towns.csv"
    TOWNS.to_csv(towns, index=False)
    return damaged, damaged / "osrm" / "roads.osrm.fileIndex", towns


@pytest.mark.parametrize("damage", ["delete", "truncate"])
def test_an_engine_file_missing_or_cut_short_is_named(
    malta_routing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    # Before: exit 1 with OSRM's "Config Parameters are Invalid" for a deleted
    # file, and a segmentation fault for OSRM's fileIndex cut in half.
    damaged, victim, towns = _copy_to_damage(malta_routing, tmp_path)
    if damage == "delete":
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    code, stderr = _matrix(capsys, damaged, towns)
    assert code == 2, stderr
    assert "damaged routing folder (osrm/roads.osrm.fileIndex " in stderr
    assert ("is missing" if damage == "delete" else "bytes, the build wrote") in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_an_engine_file_overwritten_at_its_size_is_named(
    malta_routing: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Before: a segmentation fault (exit 139) for OSRM's fileIndex overwritten
    # with other bytes of its own size, which the size check let through.
    from planner.travel import routing_folder

    damaged, victim, towns = _copy_to_damage(malta_routing, tmp_path)
    victim.write_bytes(np.random.default_rng(7).bytes(victim.stat().st_size))
    code, stderr = _matrix(capsys, damaged, towns)
    assert code == 2, stderr
    assert (
        "damaged routing folder (osrm/roads.osrm.fileIndex is not the file the build wrote "
        "(its content differs)); rebuild it" in stderr
    )
    # A folder that matched is not read again until a file changes.
    reads: list[str] = []
    real = routing_folder.file_sha256

    def counted(path: Path) -> str:
        reads.append(path.name)
        return real(path)

    monkeypatch.setattr(routing_folder, "file_sha256", counted)
    good = tmp_path / "good"
    shutil.copytree(malta_routing, good)
    files = json.loads((good / "routing.json").read_text(encoding="utf-8"))["sha256"]
    routing_folder.open_routing(good)
    assert sorted(reads) == sorted(Path(name).name for name in files)
    reads.clear()
    routing_folder._open.cache_clear()
    routing_folder.open_routing(good)
    assert reads == []
    (good / "osrm" / "roads.osrm.names").touch()
    routing_folder._open.cache_clear()
    routing_folder.open_routing(good)
    assert reads == ["roads.osrm.names"]


def test_a_header_overwritten_in_a_folder_without_digests_is_named(
    malta_routing: Path, tmp_path: Path
) -> None:
    # Before: "unexpected failure: OSRM table of 3 x 3 points failed: Problem
    # opening file … Unrecognized archive format", for a folder built before
    # manifests held digests.
    from planner.travel.road import road_table
    from planner.travel.routing_folder import open_routing

    damaged = tmp_path / "damaged"
    shutil.copytree(malta_routing, damaged)
    victim = damaged / "osrm" / "roads.osrm.hsgr"
    victim.write_bytes(np.random.default_rng(3).bytes(victim.stat().st_size))
    manifest = json.loads((damaged / "routing.json").read_text(encoding="utf-8"))
    del manifest["sha256"]
    (damaged / "routing.json").write_text(json.dumps(manifest), encoding="utf-8")
    folder = open_routing(damaged)
    lon, lat = TOWNS["lon"].to_numpy(), TOWNS["lat"].to_numpy()
    with pytest.raises(InputError) as caught:
        road_table(folder, lon, lat, lon, lat)
    (problem,) = problems_of(caught)
    assert "roads.osrm.hsgr" in problem.message
    assert problem.message.endswith(
        "the routing folder is damaged; rebuild it with planner routing build"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"engines": "osrm"}, "no engine versions"),
        ({"extract": None}, "no extract file name"),
        ({"roads": {"km": 1.0}}, "no road bounding box"),
        ({"max_speed_kmh": 0}, "max_speed_kmh 0 is not a speed"),
        ({"max_speed_kmh": "fast"}, "max_speed_kmh 'fast' is not a speed"),
        ({"files": ["osrm"]}, "its file list is not one of names and sizes"),
        ({"sha256": {"osrm/x": "00"}}, "its digests are not one of names and SHA-256 digests"),
        ({"format": "1"}, "routing folder of format '1', this planner reads format 1"),
    ],
)
def test_a_hand_edited_manifest_is_refused_with_one_line(
    malta_routing: Path, tmp_path: Path, change: dict[str, object], message: str
) -> None:
    # Before: exit 1 with 'extract', "'str' object has no attribute 'items'", or
    # a speed of 0 accepted, shrinking every reach without a word.
    from planner.travel.routing_folder import open_routing

    edited = tmp_path / "edited"
    shutil.copytree(malta_routing, edited)
    manifest = json.loads((edited / "routing.json").read_text(encoding="utf-8"))
    manifest.update(change)
    (edited / "routing.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        open_routing(edited)
    (problem,) = problems_of(caught)
    assert message in problem.message
    # Before: a manifest that is no JSON object was "a routing folder of format None".
    (edited / "routing.json").write_text("[1]", encoding="utf-8")
    with pytest.raises(InputError, match=r"is not a routing folder \(routing.json holds no"):
        open_routing(edited)


def test_build_names_an_unsorted_extract_and_too_many_threads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: exit 1 with Valhalla's "Detected unsorted input data" and no file
    # named; --threads 100000 ended with "Resource temporarily unavailable".
    import osmium
    from osmium.osm.mutable import Node, Way

    extract = tmp_path / "unsorted.osm.pbf"
    points = [(14.50 + 0.002 * i, 35.90) for i in range(6)]
    with osmium.SimpleWriter(str(extract)) as writer:
        for node_id, location in reversed(list(enumerate(points, start=1))):
            writer.add_node(Node(id=node_id, location=location))
        writer.add_way(Way(id=1, nodes=list(range(1, 7)), tags={"highway": "primary"}))
    code, _, stderr = _run(
        ["routing", "build", str(extract), "--out", str(tmp_path / "out"), "--threads", "1"],
        capsys,
    )
    assert code == 2, stderr
    assert "its objects are not sorted by type and id" in stderr
    assert "osmium sort unsorted.osm.pbf" in stderr
    assert not (tmp_path / "out").exists()
    code, _, stderr = _run(
        ["routing", "build", str(extract), "--out", str(tmp_path / "out"), "--threads", "100000"],
        capsys,
    )
    assert code == 2 and "--threads: must be at most 256, not 100000" in stderr, stderr


@pytest.mark.parametrize("threads", ["0", "-3"])
def test_build_refuses_fewer_than_one_thread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], threads: str
) -> None:
    # Before: passed on as osrm-extract -t -3, which spun without end.
    out = tmp_path / "routing"
    extract = shared_path(*MALTA)
    code, _, stderr = _run(
        ["routing", "build", str(extract), "--out", str(out), "--threads", threads], capsys
    )
    assert code == 2
    assert stderr.strip() == f"error: --threads: must be 1 or more, not {threads}"
    assert not out.exists()
    with pytest.raises(InputError, match=f"^threads: must be 1 or more, not {threads}"):
        planner.build_routing(extract, out, threads=int(threads))


def _malta(routing: Path, **values: object) -> planner.Scenario:
    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "malta.toml"
    return load_scenario(scenario, values={"travel.routing": str(routing), **values})


def test_road_run_drops_points_off_road_and_reports_the_travel_model(
    malta_routing: Path,
) -> None:
    demand = pd.DataFrame(
        {
            # The last point lies within Malta's box (a demand point plainly in
            # another country is refused) but beyond the road extract.
            "name": ["Valletta", "Mdina", "Victoria", "Open sea", "Beyond the extract"],
            "population": [6000, 300, 7000, 1000, 5000],
            "lon": [14.5146, 14.4032, 14.2392, 14.45, 14.85],
            "lat": [35.8989, 35.8867, 36.0443, 36.0, 36.35],
            "country": ["MT"] * 5,
        }
    )
    plan = planner.run(_malta(malta_routing), demand=demand)
    travel = plan.report["travel"]
    assert travel["mode"] == "road" and travel["metric"] == "minutes"
    assert travel["extract_date"] == "2018-08-27T20:14:02Z" and travel["built"]
    assert travel["dropped"]["demand_off_road"] == 1
    assert travel["dropped"]["demand_outside_extract"] == 1
    assert travel["snapped"]["demand"] == 3
    assert travel["pairs_in_reach"] == plan.report["inputs"]["reach_pairs"] > 0
    assert len(plan.demand) == 3
    warnings = plan.report["inputs"]["warnings"]
    assert any("Open sea" in w and "Beyond the extract" not in w for w in warnings)


def test_run_says_what_the_road_network_left_out_beside_its_coverage(
    malta_routing: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: "69 demand points" and a coverage figure, though the roads had
    # left out some of them (101 of 103 in a run on Helsinki), said only in
    # the log and in report.json.
    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "malta.toml"
    sets = [f"travel.routing={malta_routing}", "travel.snap_max_m=20"]
    args = ["run", str(scenario), "--out", str(tmp_path / "plan")]
    code, stdout, stderr = _run([*args, *(a for s in sets for a in ("--set", s))], capsys)
    assert code == 0, stderr
    report = json.loads((tmp_path / "plan" / "report.json").read_text(encoding="utf-8"))
    dropped, snapped = report["travel"]["dropped"], report["travel"]["snapped"]
    points = dropped["demand_outside_extract"] + dropped["demand_off_road"]
    sites = dropped["sites_outside_extract"] + dropped["sites_off_road"]
    assert points > 0 and sites > 0
    people = f"{dropped['population_dropped']:,.0f}"
    assert (
        f"; off the road network or outside the extract: {points:,} demand points ({people} "
        f"people) and {sites:,} sites left out, so coverage is of the {snapped['demand']:,} "
        "demand points on it"
    ) in stdout.replace("\n", " ")


def test_every_point_off_road_is_an_input_error(malta_routing: Path) -> None:
    demand = pd.DataFrame(
        {"name": ["a", "b"], "population": [10, 10], "lon": [14.62, 14.7], "lat": [35.75, 35.7],
         "country": ["MT", "MT"]}
    )  # fmt: skip
    with pytest.raises(InputError, match="every demand point"):
        planner.run(_malta(malta_routing), demand=demand)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"travel.max_minutes": 0}, "greater than 0"),
        ({"travel.max_minutes": -5}, "greater than 0"),
        ({"travel.max_km": 20.0}, "exactly one of max_minutes"),
    ],
)
def test_road_scenarios_that_cannot_mean_anything(
    malta_routing: Path, values: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        _malta(malta_routing, **values)


def test_road_mode_needs_a_routing_folder() -> None:
    with pytest.raises(InputError, match="routing"):
        load_scenario(None, values={"travel.mode": "road", "travel.max_minutes": 20})


def test_a_missing_extract_says_where_to_get_one(tmp_path: Path) -> None:
    scenario = _malta(tmp_path / "malta-latest.osm.pbf")
    with pytest.raises(InputError, match="extract not found; download"):
        planner.run(scenario)


def test_map_draws_isochrones_offline(malta_routing: Path, tmp_path: Path) -> None:
    plan = planner.run(_malta(malta_routing))
    plan.save(tmp_path / "plan")
    page = (tmp_path / "plan" / "map.html").read_text(encoding="utf-8")
    assert "plannerMap.isochrones(" in page and "plannerMap.circles(" not in page
    assert "10-minute drive" in page
    # Before: the only credit was Leaflet's, though the reach came from OSM roads (ODbL).
    assert page.count("plannerMap.credit(") == 1 and "Roads \\u0026copy;" in page
    assert "each point&#x27;s own drive time decides its coverage" in page
    chosen = int(plan.sites["chosen"].sum())
    assert chosen == 3
    # p-median costs are minutes on the road network too.
    median = planner.run(
        _malta(malta_routing, **{"model.name": "p_median", "travel.max_minutes": 60.0})
    )
    assert median.report["travel"]["metric"] == "minutes"


def test_isochrones_are_cached_by_content(malta_routing: Path, _own_cache: Path) -> None:
    from planner.travel.isochrones import isochrones
    from planner.travel.routing_folder import open_routing

    folder = open_routing(malta_routing)
    lon, lat = [14.5146, 14.4025], [35.8989, 35.9171]
    first = isochrones(folder, lon, lat, metric="minutes", limit=10.0)
    entries = sorted((_own_cache / "isochrones").glob("*.json"))
    assert len(entries) == 2 and all(polygons for polygons in first)
    # Read back from the cache: the same polygons, without Valhalla.
    folder_without_engine = type("NoEngine", (), {"build_id": folder.build_id})()
    again = isochrones(folder_without_engine, lon, lat, metric="minutes", limit=10.0)
    assert again == first
    # Another limit is another entry.
    isochrones(folder, lon[:1], lat[:1], metric="minutes", limit=5.0)
    assert len(list((_own_cache / "isochrones").glob("*.json"))) == 3


def test_trips_follow_road_routes(malta_routing: Path) -> None:
    values = {
        "model.name": "flow_refuelling",
        "model.p": 3,
        "model.range_km": 12.0,
        "trips.min_km": 8.0,
        "trips.max_km": 100.0,
        "trips.min_population": 5000,
    }
    plan = planner.run(_malta(malta_routing, **values))
    counts = plan.report["inputs"]["trips"]
    assert counts["paths"].startswith("road network")
    assert counts["trips_without_path"] == 0 and counts["trips"] > 100
    assert plan.trips is not None
    # Road paths have many points (a route's geometry), not a handful of towns.
    assert plan.trips["path_lon"].map(len).median() > 20
    served = plan.trips.loc[plan.trips["served"], "trips_per_day"].sum()
    assert plan.report["trips"]["served_per_day"] == pytest.approx(served, rel=1e-6)


def test_compare_page_draws_road_reach_as_isochrones(malta_routing: Path, tmp_path: Path) -> None:
    three = planner.run(_malta(malta_routing))
    four = planner.run(_malta(malta_routing, **{"model.p": 4}))
    three.save(tmp_path / "p3")
    four.save(tmp_path / "p4")
    planner.compare(tmp_path / "p3", tmp_path / "p4").save(tmp_path / "cmp")
    page = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    assert page.count("plannerMap.isochrones(") == 2 and "plannerMap.circles(" not in page
    assert "Reach A: 10-minute drive from the site (isochrone" in page
    assert page.count("plannerMap.credit(") == 2


def test_matrix_on_a_dask_cluster_is_the_matrix_in_process(
    malta_routing: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import planner.pipeline.routing_cluster as routing_cluster

    rng = np.random.default_rng(7)
    spread = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(40)],
            "name": [f"point {i}" for i in range(40)],
            "lon": rng.uniform(14.35, 14.56, 40),
            "lat": rng.uniform(35.82, 35.98, 40),
        }
    )
    # Paris is far from Malta's roads: its pairs stay empty on the cluster too.
    paris = pd.DataFrame({"id": ["paris"], "name": ["Paris"], "lon": [2.35], "lat": [48.86]})
    origins = pd.concat([TOWNS, spread, paris], ignore_index=True)
    destinations = pd.concat([TOWNS, spread.iloc[:20]], ignore_index=True)
    # Parts of 100 pairs: 44 origins × 23 destinations make 11 parts.
    monkeypatch.setattr(routing_cluster, "PART_PAIRS", 100)
    here = planner.routing_matrix(malta_routing, origins, destinations)
    lines: list[str] = []
    there = planner.routing_matrix(
        malta_routing, origins, destinations, workers=2, progress=lines.append
    )
    pd.testing.assert_frame_equal(there.table, here.table)
    assert there.far_from_road == here.far_from_road
    assert there.table.loc[there.table["from_id"] == "paris", "minutes"].isna().all()
    assert lines[0] == "routing 1,012 pairs in 11 parts on 2 Dask workers"
    assert lines[-1].startswith("routing: 11 of 11 parts done (dashboard http")
    # The command: the same bytes from a local cluster of one worker.
    points_from, points_to = tmp_path / "from.csv", tmp_path / "to.csv"
    origins.to_csv(points_from, index=False)
    destinations.to_csv(points_to, index=False)
    out = tmp_path / "m.csv"
    command = ["routing", "matrix", str(malta_routing), "--from", str(points_from)]
    code, _, stderr = _run(
        [*command, "--to", str(points_to), "--workers", "1", "--out", str(out)], capsys
    )
    assert code == 0, stderr
    assert out.read_text(encoding="utf-8") == here.csv()


def test_matrix_cluster_arguments_are_checked_before_any_work(
    malta_routing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InputError, match=r"^workers: must be 1 or more, not 0"):
        planner.routing_matrix(malta_routing, TOWNS, TOWNS, workers=0)
    with pytest.raises(InputError, match=r"^workers: sets the size of a local cluster; not with"):
        planner.routing_matrix(malta_routing, TOWNS, TOWNS, workers=2, scheduler="tcp://x:1")
    with pytest.raises(InputError, match=r"^scheduler: 'nowhere' is not a scheduler address"):
        planner.routing_matrix(malta_routing, TOWNS, TOWNS, scheduler="nowhere")
    code, stderr = _matrix(capsys, malta_routing, shared_path(*MALTA), "--workers", "0")
    assert code == 2 and "error: --workers: must be 1 or more, not 0" in stderr
    # Before: tls:// and ucx:// ended with exit 1 and a traceback, a closed
    # Client with an AttributeError, a routing folder of None with a TypeError.
    for address in ("tls://127.0.0.1:1", "ucx://127.0.0.1:1", "inproc://x"):
        with pytest.raises(InputError, match=r"^scheduler: .*only tcp:// scheduler addresses"):
            planner.routing_matrix(malta_routing, TOWNS, TOWNS, scheduler=address)
    code, stderr = _matrix(capsys, malta_routing, shared_path(*MALTA), "--scheduler", "tls://x:1")
    assert code == 2 and "error: --scheduler: 'tls://x:1': only tcp://" in stderr, stderr
    code, stderr = _matrix(
        capsys, malta_routing, shared_path(*MALTA), "--scheduler", "tcp://x:1", "--workers", "2"
    )
    assert (
        code == 2
        and "error: --workers: sets the size of a local cluster; not with --scheduler" in stderr
    )
    with pytest.raises(InputError, match=r"^routing: "):
        planner.routing_matrix(None, TOWNS, TOWNS)  # type: ignore[arg-type]


def test_a_worker_refuses_a_part_of_another_build(malta_routing: Path, tmp_path: Path) -> None:
    # A worker on another machine may hold another build at the same path (or
    # none): its rows would be of other roads.
    from planner.pipeline.routing_cluster import part_table

    lon, lat = TOWNS["lon"].to_numpy(), TOWNS["lat"].to_numpy()
    destinations = np.stack([lon, lat])
    minutes, *_ = part_table(str(malta_routing), _build_id(malta_routing), lon, lat, destinations)
    assert minutes.shape == (3, 3) and (np.diag(minutes) < 1).all()
    with pytest.raises(InputError, match=r"is another build on the Dask workers than here"):
        part_table(str(malta_routing), "a-build-elsewhere", lon, lat, destinations)
    with pytest.raises(InputError, match=r"^routing folder .*missing"):
        part_table(str(tmp_path / "missing"), "x", lon, lat, destinations)


def _build_id(folder: Path) -> str:
    return str(json.loads((folder / "routing.json").read_text(encoding="utf-8"))["build_id"])


def test_matrix_points_keep_dealer_and_site_ids(malta_routing: Path, tmp_path: Path) -> None:
    # Before: only id and demand_id were ids: a dealer file's dealer_id and a
    # plan's site_id gave way to "dealers:1", "dealers:2" without a word.
    dealers = TOWNS.rename(columns={"id": "dealer_id"}).assign(dealer_id=["R-1", "N-2", "R-3"])
    sites = TOWNS.rename(columns={"id": "site_id"})
    table = planner.routing_matrix(malta_routing, dealers, sites).table
    assert sorted(set(table["from_id"])) == ["N-2", "R-1", "R-3"]
    assert sorted(set(table["to_id"])) == ["mdina", "valletta", "victoria"]
    path = tmp_path / "dealers.csv"
    dealers.to_csv(path, index=False)
    table = planner.routing_matrix(malta_routing, path, TOWNS.drop(columns="id")).table
    assert sorted(set(table["from_id"])) == ["N-2", "R-1", "R-3"]
    assert sorted(set(table["to_id"])) == [
        "destinations_table:1",
        "destinations_table:2",
        "destinations_table:3",
    ]
    with pytest.raises(InputError, match=r"missing\.csv: file not found"):
        planner.routing_matrix(malta_routing, tmp_path / "missing.csv", TOWNS)


def test_matrix_out_that_cannot_be_written_is_refused_before_routing(
    malta_routing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planner.pipeline.routing as routing

    def no_routing(*args: object) -> None:
        raise AssertionError("routed before the output was checked")

    monkeypatch.setattr(routing, "road_table", no_routing)
    with pytest.raises(InputError, match=r"^.*x{300}\.csv: cannot be written \(File name too long"):
        planner.routing_matrix(malta_routing, TOWNS, TOWNS, out=tmp_path / ("x" * 300 + ".csv"))


def test_a_scenario_extract_is_built_with_its_steps_as_progress(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from planner.pipeline.load import Clock
    from planner.pipeline.routing import ensure_routing
    from planner.scenario.travel import TravelConfig

    extract = tmp_path / "monaco.osm.pbf"
    extract.symlink_to(shared_path("data", "monaco_2021-12.osm.pbf"))
    stages: list[object] = []
    travel = TravelConfig(mode="road", routing=extract, max_minutes=10)
    with caplog.at_level(logging.INFO):
        routing = ensure_routing(travel, progress=Clock(stages.append).announce)
    assert routing is not None and routing.manifest["roads"]["km"] > 50
    # Before: one "warning: building the routing data …" line, then minutes of silence.
    assert stages[0] == "building the routing data of monaco.osm.pbf"
    assert any("drivable ways" in str(line) for line in stages[1:])
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_snap_distances_are_great_circle_metres(malta_routing: Path) -> None:
    from planner.travel.road import snap_points
    from planner.travel.routing_folder import open_routing
    from planner.travel.sphere import EARTH_RADIUS_M

    # Valletta, and a point near the antipode of Malta.
    snapped = snap_points(
        open_routing(malta_routing), [14.5146, -165.5], [35.8989, -35.9], snap_max_m=1000.0
    )
    assert snapped.distance_m[0] < 50.0
    # Before: 21,527 km, the engine's flat-earth figure, more than half the globe.
    assert 19_000_000 < snapped.distance_m[1] <= np.pi * EARTH_RADIUS_M
    assert snapped.outside.tolist() == [False, True]


def test_a_road_report_leaves_the_great_circle_fields_empty(malta_routing: Path) -> None:
    plan = planner.run(_malta(malta_routing))
    # Before: radius_km 50 and circuity 1.3, unused by a 10-minute drive.
    assert (plan.report["radius_km"], plan.report["circuity"]) == (None, None)
    assert plan.report["travel"]["mode"] == "road"
