"""Dealers from OpenStreetMap extracts: `planner dealers import-osm`, `planner.import_dealers`.

Small extracts are written here with pyosmium's writer: nodes, closed and open
ways, a multipolygon and a site relation, brands by each route (Wikidata,
brand tag, name), other brands, other shop types and points outside every
country. The real extracts in ``../shared/data`` are read when present.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import osmium
import pandas as pd
import pytest
from osmium.osm.mutable import Node, Relation, Way

import planner
from planner.inputs.importers.dealer_table import IMPORT_COLUMNS
from planner.inputs.sites import load_sites
from planner.scenario.schema import DealerFile, DealersConfig
from tests.conftest import run_cli as _run
from tests.conftest import shared_path

TIMESTAMP = "2024-05-06T07:08:09Z"

#: Central Liechtenstein (near Vaduz), Zürich (CH) and a point in the Atlantic, far from every
#: country.
VADUZ = (9.555, 47.11)
ZURICH = (8.5417, 47.3769)
ATLANTIC = (-40.0, 40.0)


def _offset(point: tuple[float, float], east_m: float, north_m: float) -> tuple[float, float]:
    lon, lat = point
    return (
        lon + east_m / (111_320.0 * math.cos(math.radians(lat))),
        lat + north_m / 111_320.0,
    )


def write_extract(
    path: Path,
    nodes: Sequence[tuple[int, tuple[float, float], dict[str, str]]],
    ways: Sequence[tuple[int, list[int], dict[str, str]]] = (),
    relations: Sequence[tuple[int, list[tuple[str, int, str]], dict[str, str]]] = (),
    *,
    timestamp: str | None = TIMESTAMP,
) -> Path:
    """An OSM file (.osm.pbf or .osm by its name) of the given objects, in id order."""
    header = osmium.io.Header()
    if timestamp is not None:
        header.set("osmosis_replication_timestamp", timestamp)
    with osmium.SimpleWriter(str(path), header=header, overwrite=True) as writer:
        for osm_id, location, tags in sorted(nodes, key=lambda n: n[0]):
            writer.add_node(Node(id=osm_id, location=location, tags=tags))
        for osm_id, refs, tags in sorted(ways, key=lambda w: w[0]):
            writer.add_way(Way(id=osm_id, nodes=refs, tags=tags))
        for osm_id, members, tags in sorted(relations, key=lambda r: r[0]):
            writer.add_relation(Relation(id=osm_id, members=members, tags=tags))
    return path


def _square(first_id: int, centre: tuple[float, float], half_m: float) -> list[Any]:
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    return [
        (first_id + i, _offset(centre, dx * half_m, dy * half_m), {})
        for i, (dx, dy) in enumerate(corners)
    ]


def mixed_extract(path: Path) -> Path:
    """Every kind of object and tag spelling the importer must handle."""
    renault_way_centre = _offset(VADUZ, 400, 0)
    multipolygon_centre = _offset(VADUZ, 0, 800)
    nodes: list[Any] = [
        (1, VADUZ, {"shop": "car", "brand:wikidata": "Q6686", "name": "Renault Vaduz"}),
        (2, _offset(VADUZ, 0, -600), {"shop": "car_repair", "brand": "NISSAN", "name": "Garage K"}),
        (3, _offset(VADUZ, 0, -1200), {"shop": "car", "name": "Autohaus Müller (Dacia-Partner)"}),
        (4, _offset(VADUZ, 0, -1800), {"shop": "car", "name": "Garage Alpin"}),
        (5, _offset(VADUZ, 0, -2400), {"shop": "car", "brand": "Peugeot", "name": "Renault"}),
        (6, _offset(VADUZ, 600, -2400), {"shop": "car", "brand": "Renault;Peugeot"}),
        (7, _offset(VADUZ, 1200, -2400), {"shop": "car;car_repair", "brand:wikidata": "Q29714"}),
        (8, _offset(VADUZ, 1800, -2400), {"shop": "car_repair", "brand": "Renault Trucks"}),
        (9, _offset(VADUZ, 2400, -2400), {"shop": "car", "name": "Renault Trucks Service"}),
        (10, _offset(VADUZ, 3000, -2400), {"shop": "car_parts", "brand": "Renault"}),
        (11, ATLANTIC, {"shop": "car", "brand": "Renault", "name": "Renault Atlantis"}),
        (12, ZURICH, {"shop": "car", "brand": "Nissan", "name": "Nissan Zürich"}),
        # 20 m from node 1, another brand: the site merge makes them one site.
        (13, _offset(VADUZ, 20, 0), {"shop": "car", "brand": "Nissan", "name": "Nissan Vaduz"}),
        (14, _offset(VADUZ, -3000, 0), {"shop": "car", "brand": "Toyota"}),
        (15, _offset(VADUZ, -3600, 0), {"shop": "car"}),
        (16, _offset(VADUZ, 1000, 1000), {"shop": "car", "name": '=HYPERLINK("x") Renault'}),
        # Member node of the site relation.
        (17, _offset(VADUZ, -1000, 1500), {}),
        *_square(100, renault_way_centre, 20),
        *_square(200, multipolygon_centre, 30),
        (300, _offset(VADUZ, -2000, -500), {}),
        (301, _offset(VADUZ, -2000, -400), {}),
        (302, _offset(VADUZ, -2000, -300), {}),
        # 30 m from node 1: the same brand's workshop beside its showroom.
        *_square(400, _offset(VADUZ, 0, 30), 5),
    ]
    ways: list[Any] = [
        (1000, [100, 101, 102, 103, 100], {"shop": "car", "brand": "Renault", "name": "R way"}),
        (1001, [200, 201, 202, 203, 200], {}),
        (1002, [300, 301, 302], {"shop": "car_repair", "brand": "Nissan", "name": "N line"}),
        (1003, [400, 401, 402, 403, 400], {"shop": "car_repair", "brand:wikidata": "Q6686"}),
    ]
    relations: list[Any] = [
        (
            5000,
            [("w", 1001, "outer")],
            {"type": "multipolygon", "shop": "car", "brand:wikidata": "Q27460", "name": "D mp"},
        ),
        (
            5001,
            [("n", 17, ""), ("w", 1002, "")],
            {"type": "site", "shop": "car", "brand": "Nissan", "name": "N site"},
        ),
    ]
    return write_extract(path, nodes, ways, relations)


def _by_id(table: pd.DataFrame) -> dict[str, Any]:
    return {str(row["dealer_id"]): row for row in table.to_dict("records")}


def test_nodes_ways_and_relations_by_every_brand_route(tmp_path: Path) -> None:
    extract = mixed_extract(tmp_path / "mixed.osm.pbf")
    result = planner.import_dealers(extract)
    table = result.dealers
    assert list(table.columns) == list(IMPORT_COLUMNS)
    # Before: the dataclass repr printed the whole table.
    counts = table["brand"].value_counts()
    assert repr(result) == (
        f"<DealerImport {len(table)} dealers ("
        + ", ".join(f"{brand} {count}" for brand, count in counts.items())
        + f") from osm, {sum(result.dropped.values())} left out>"
    )
    rows = _by_id(table)
    assert set(rows) == {
        "node/1",
        "node/2",
        "node/3",
        "node/6",
        "node/7",
        "node/12",
        "node/13",
        "node/16",
        "way/1000",
        "way/1002",
        "way/1003",
        "relation/5000",
        "relation/5001",
    }
    expected = {
        "node/1": ("Renault", "Renault", "brand:wikidata", "car"),
        "node/2": ("Nissan", "Nissan", "brand", "car_repair"),
        "node/3": ("Renault", "Dacia", "name", "car"),
        "node/6": ("Renault", "Renault", "brand", "car"),
        "node/7": ("Nissan", "Infiniti", "brand:wikidata", "car;car_repair"),
        "node/12": ("Nissan", "Nissan", "brand", "car"),
        "relation/5000": ("Renault", "Dacia", "brand:wikidata", "car"),
        "relation/5001": ("Nissan", "Nissan", "brand", "car"),
    }
    for dealer_id, (brand, makes, matched_by, shop) in expected.items():
        row = rows[dealer_id]
        assert (row["brand"], row["makes"], row["matched_by"], row["shop"]) == (
            brand,
            makes,
            matched_by,
            shop,
        ), dealer_id
    assert rows["node/12"]["country"] == "CH"
    assert {rows[d]["country"] for d in rows if d != "node/12"} == {"LI"}
    assert (table["source_timestamp"] == TIMESTAMP).all()
    assert (table["source"] == "OpenStreetMap mixed.osm.pbf").all()
    # A node without a name is named by its brand.
    assert rows["node/6"]["name"] == "Renault"
    # Areas at their centroid, an open way at its line's, a site relation at its members' mean.
    assert rows["way/1000"]["lon"] == pytest.approx(_offset(VADUZ, 400, 0)[0], abs=1e-6)
    assert rows["way/1000"]["lat"] == pytest.approx(VADUZ[1], abs=1e-6)
    centre = _offset(VADUZ, 0, 800)
    assert (rows["relation/5000"]["lon"], rows["relation/5000"]["lat"]) == pytest.approx(
        centre, abs=1e-6
    )
    assert rows["way/1002"]["lat"] == pytest.approx(_offset(VADUZ, 0, -400)[1], abs=1e-6)
    site_points = [_offset(VADUZ, -1000, 1500)] + [
        _offset(VADUZ, -2000, north) for north in (-500, -400, -300)
    ]
    mean = (sum(p[0] for p in site_points) / 4, sum(p[1] for p in site_points) / 4)
    assert (rows["relation/5001"]["lon"], rows["relation/5001"]["lat"]) == pytest.approx(
        mean, abs=1e-6
    )

    # Shops of the dealer types read: 19 (not the car_parts shop); what was left out and why.
    assert result.read == 20
    assert result.dropped == {
        "no brand in tags or name": 3,
        "other brand": 3,
        "outside every country": 1,
    }
    assert result.counts["by_brand"] == {"Renault": 7, "Nissan": 6}
    assert result.counts["by_shop"] == {"car": 9, "car_repair": 3, "car;car_repair": 1}
    assert result.counts["by_make"]["Dacia"] == 2
    # The showroom and the workshop 30 m apart, and Renault beside Nissan.
    assert any(
        "Renault points lie within 150 m" in w and "merge_same_brand" in w for w in result.warnings
    ), result.warnings
    assert any("different brands" in note for note in result.notes)


def test_osm_xml_files_and_several_extracts(tmp_path: Path) -> None:
    xml = write_extract(
        tmp_path / "small.osm",
        [(1, VADUZ, {"shop": "car", "brand": "Renault"})],
        timestamp=None,
    )
    pbf = write_extract(
        tmp_path / "overlap.osm.pbf",
        [
            (1, VADUZ, {"shop": "car", "brand": "Renault"}),
            (2, ZURICH, {"shop": "car", "brand": "Nissan"}),
        ],
    )
    result = planner.import_dealers([xml, pbf])
    assert list(result.dealers["dealer_id"]) == ["node/2", "node/1"]  # CH before LI
    assert result.dropped == {"duplicate id": 1}
    assert "no timestamp in the file" in result.sources[0]
    only_nissan = planner.import_dealers(pbf, brands="nissan")
    assert list(only_nissan.dealers["brand"]) == ["Nissan"]
    assert only_nissan.dropped == {"brand not requested": 1}
    # Before: read twice, each of its dealers a "duplicate id" of itself.
    with pytest.raises(planner.InputError) as caught:
        planner.import_dealers([pbf, xml, tmp_path / "." / "overlap.osm.pbf"])
    assert str(caught.value) == (
        f"{tmp_path / '.' / 'overlap.osm.pbf'}: listed twice (files 1 and 3); list it once"
    )


@pytest.mark.parametrize("written", ["mixed.osm.pbf", "mixed.osm.gz"])
def test_extract_names_in_upper_case_read_the_same(tmp_path: Path, written: str) -> None:
    # osmium tells the format by the name's suffix in lower case only.
    extract = mixed_extract(tmp_path / written)
    shouted = extract.rename(tmp_path / written.upper())
    expected = planner.import_dealers(mixed_extract(tmp_path / f"again-{written}"))
    result = planner.import_dealers(shouted)
    assert set(result.dealers["source"]) == {f"OpenStreetMap {shouted.name}"}
    same = ["source"]
    assert result.dealers.drop(columns=same).equals(expected.dealers.drop(columns=same))
    assert result.dropped == expected.dropped
    assert shouted.name in result.sources[0]


def test_no_matching_dealer_names_the_tags_searched(tmp_path: Path) -> None:
    extract = write_extract(
        tmp_path / "none.osm.pbf",
        [(1, VADUZ, {"shop": "car", "brand": "Toyota"}), (2, ATLANTIC, {"shop": "car"})],
    )
    with pytest.raises(planner.InputError) as caught:
        planner.import_dealers(extract)
    message = str(caught.value)
    for text in (
        "none.osm.pbf",
        "shop=car",
        "shop=car_repair",
        "Q6686",
        "Q20165",
        "other brand 1",
        "no brand in tags or name 1",
    ):
        assert text in message, message
    lonely = write_extract(
        tmp_path / "sea.osm.pbf", [(1, ATLANTIC, {"shop": "car", "brand": "Renault"})]
    )
    with pytest.raises(planner.InputError, match="outside every country 1"):
        planner.import_dealers(lonely)


def _truncated(tmp_path: Path) -> Path:
    full = write_extract(
        tmp_path / "full.osm.pbf",
        [
            (i, _offset(VADUZ, i, 0), {"shop": "car", "brand": "Renault", "name": f"R{i}" * 20})
            for i in range(1, 3000)
        ],
    )
    data = full.read_bytes()
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(data[: len(data) // 2])
    return cut


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("text.osm.pbf", b"dealer_id,brand\n1,Renault\n", "is not a readable OpenStreetMap"),
        ("empty.osm.pbf", b"", "is empty"),
        ("broken.osm", b"<osm version='0.6'><node id='1' lat='1'", "is not a readable"),
        ("dealers.csv", b"dealer_id,brand\n", "is not an OpenStreetMap extract"),
        ("missing.osm.pbf", None, "no such file"),
        ("truncated", None, "is not a readable OpenStreetMap extract"),
    ],
)
def test_hostile_extracts_stop_with_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    message: str,
) -> None:
    if name == "truncated":
        path = _truncated(tmp_path)
    else:
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
    out = tmp_path / "dealers-out.csv"
    out.write_text("earlier,import\n", encoding="utf-8")
    with pytest.raises(planner.InputError, match=message):
        planner.import_dealers(path, kind="osm", out=out)
    code, _, stderr = _run(["dealers", "import-osm", str(path), "--out", str(out)], capsys)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], stderr
    assert "Traceback" not in stderr
    # All or nothing: the earlier file is untouched and no temporary file is left.
    assert out.read_text(encoding="utf-8") == "earlier,import\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_command_line_writes_a_dealer_file_the_reader_takes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extract = mixed_extract(tmp_path / "mixed.osm.pbf")
    out = tmp_path / "dealers.csv"
    code, stdout, stderr = _run(["dealers", "import-osm", str(extract), "--out", str(out)], capsys)
    assert code == 0, stderr
    assert "kept 13 dealers: Renault 7, Nissan 6" in stdout
    assert "shop: car 9, car_repair 3, car;car_repair 1" in stdout
    assert "left out 7: no brand in tags or name 3, other brand 3, outside every country 1" in (
        stdout
    )
    assert "ODbL" in stdout and "wrote" in stdout
    assert "warning: " in stderr and "merge_same_brand" in stderr
    text = out.read_text(encoding="utf-8")
    # Spreadsheet-safe: a name that would run as a formula is written as text.
    assert "'=HYPERLINK" in text
    # The dealer reader takes the file as it is, without a column mapping.
    config = DealersConfig(files=[DealerFile(path=out)])
    loaded = load_sites(config, countries=["LI", "CH"])
    assert loaded.counts["read"] == 13
    assert loaded.counts["dropped"] == 0
    # Renault's showroom, its workshop 30 m away and a Nissan dealer between them
    # (20 m and 36 m): one dual-brand site of three dealers.
    assert loaded.counts["merged"] == 2
    joint = loaded.sites[loaded.sites["n_dealers"] == 3].iloc[0]
    assert joint["brands"] == "Nissan;Renault"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--brands", "peugeot"], "--brands: unknown brand 'peugeot'"),
        (["--brands", "dacia"], "count as Renault dealers"),
        (["--brands", " , "], "no brand given"),
    ],
)
def test_bad_brands_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    extract = mixed_extract(tmp_path / "mixed.osm.pbf")
    out = tmp_path / "dealers.csv"
    code, _, stderr = _run(
        ["dealers", "import-osm", str(extract), "--out", str(out), *args], capsys
    )
    assert code == 2
    assert message in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert not out.exists()


@pytest.mark.parametrize("lat", ["", "abc"])
def test_an_osm_xml_file_with_a_bad_coordinate_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lat: str
) -> None:
    # Before: exit 1 with osmium's "wrong format for coordinate: ''", naming no file.
    extract = tmp_path / "dealers.osm"
    extract.write_text(
        '<?xml version="1.0"?><osm version="0.6">'
        '<node id="3" lat="47.14" lon="9.52"><tag k="shop" v="car"/></node>'
        f'<node id="9" lat="{lat}" lon="9.5"><tag k="shop" v="car"/></node></osm>',
        encoding="utf-8",
    )
    out = tmp_path / "dealers.csv"
    code, _, stderr = _run(["dealers", "import-osm", str(extract), "--out", str(out)], capsys)
    assert code == 2, stderr
    assert f"{extract}: is not a readable OpenStreetMap extract: wrong format for coordinate" in (
        stderr
    )
    assert not out.exists()


def test_output_must_be_a_csv_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extract = mixed_extract(tmp_path / "mixed.osm.pbf")
    for out, message in (
        (tmp_path / "dealers.xlsx", "ending in .csv"),
        (tmp_path, "ending in .csv"),
    ):
        code, _, stderr = _run(["dealers", "import-osm", str(extract), "--out", str(out)], capsys)
        assert code == 2 and message in stderr, stderr
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(planner.InputError, match="is a folder"):
        planner.import_dealers(extract, out=folder)


def test_liechtenstein_nissan_workshop_runs_a_plan(tmp_path: Path) -> None:
    extract = shared_path("data", "liechtenstein_2015-10.osm.pbf")
    out = tmp_path / "liechtenstein.csv"
    result = planner.import_dealers(extract, out=out)
    rows = result.dealers.to_dict("records")
    assert [(r["dealer_id"], r["brand"], r["name"], r["country"], r["shop"]) for r in rows] == [
        ("node/1417092269", "Nissan", "Garage Konrad AG", "LI", "car_repair")
    ]
    assert rows[0]["source_timestamp"] == "2015-10-07T21:22:03Z"
    assert result.read == 10
    plan = planner.run(
        {
            "name": "liechtenstein",
            "dealers": {"files": [{"path": str(out)}]},
            "demand": {"countries": ["LI"], "min_population": 1000},
            "travel": {"radius_km": 15.0},
            "model": {"p": 1},
        }
    )
    assert plan.report["status"] == "optimal"
    assert list(plan.sites["site_id"]) == ["node/1417092269"]
    assert plan.report["coverage_pct"] > 50


@pytest.mark.parametrize(
    ("name", "read", "left_out"),
    [
        ("malta_2018-08.osm.pbf", 42, "no brand in tags or name 42"),
        ("monaco_2021-12.osm.pbf", 19, "other brand 11, no brand in tags or name 8"),
    ],
)
def test_extracts_without_dealers_of_the_brands(name: str, read: int, left_out: str) -> None:
    extract = shared_path("data", name)
    with pytest.raises(planner.InputError) as caught:
        planner.import_dealers(extract)
    message = str(caught.value)
    assert f"read {read} shops tagged shop=car or shop=car_repair" in message, message
    assert left_out in message, message


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["dealers"], ["import-osm", "import-atp"]),
        (["dealers", "import-osm"], ["EXTRACT.osm.pbf", "--out FILE.csv", "--brands BRANDS"]),
        (["dealers", "import-atp"], ["FILE.geojson", "--out FILE.csv", "CC0"]),
    ],
)
def test_help_is_plain_text(
    command: list[str], shown: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, _ = _run([*command, "--help"], capsys)
    assert code == 0
    assert "``" not in stdout
    for text in shown:
        assert text in stdout, stdout


def test_a_way_cut_at_the_extracts_edge_is_placed_and_warned_of(tmp_path: Path) -> None:
    # Before: placed at the nodes present without a word (a building cut by the
    # extract's boundary may stand far from them).
    square = _square(100, VADUZ, 20)
    extract = write_extract(
        tmp_path / "cut.osm.pbf",
        square,
        [(1000, [100, 101, 102, 103, 104, 105, 100], {"shop": "car", "brand": "Renault"})],
    )
    imported = planner.import_dealers([extract])
    assert list(imported.dealers["dealer_id"]) == ["way/1000"]
    assert imported.warnings == (
        "cut.osm.pbf: 1 way(s) of the network's brands lack nodes the extract does not hold "
        "(cut at its edge?), placed at the nodes it holds: way/1000",
    )
