"""Dealers from All The Places GeoJSON files, and the brand matching both importers share.

The fixtures follow the published schema: a FeatureCollection with
``dataset_attributes`` (``@spider``, ``spider:collection_time``) and features
with an ``id``, a point and OpenStreetMap-style properties; the Renault and
Nissan spiders publish a dealer's sales and service as two items at one point.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import planner
from planner.inputs.importers.brands import match_brands, requested_brands
from planner.inputs.sites import load_sites
from planner.scenario.schema import DealerFile, DealersConfig
from tests.conftest import run_cli as _run

COLLECTED = "2025-03-01T10:11:12.123456"

#: Luxembourg-Gare, Esch-sur-Alzette, Ettelbruck (LU); Arlon (BE); Delhi (outside every country).
LUX, ESCH, ETTELBRUCK, ARLON, DELHI = (
    (6.1296, 49.6001),
    (5.9806, 49.4958),
    (6.1042, 49.8475),
    (5.8167, 49.6833),
    (77.2, 28.6),
)


def feature(ref: str, point: Any, *, geometry: Any = "point", **properties: Any) -> dict[str, Any]:
    """One All The Places item: ``point`` is (lon, lat), or ``geometry`` is given whole."""
    shape = {"type": "Point", "coordinates": list(point)} if geometry == "point" else geometry
    return {
        "type": "Feature",
        "id": f"hash-{ref}",
        "properties": {"ref": ref, **{k.replace("__", ":"): v for k, v in properties.items()}},
        "geometry": shape,
    }


def write_atp(path: Path, features: list[Any], *, spider: str = "renault") -> Path:
    document = {
        "type": "FeatureCollection",
        "dataset_attributes": {
            "@spider": spider,
            "spider:collection_time": COLLECTED,
            "license": "CC-0",
        },
        "features": features,
    }
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


RENAULT = {"brand": "Renault", "brand__wikidata": "Q6686"}


def renault_file(path: Path) -> Path:
    return write_atp(
        path,
        [
            feature(
                "101-renault",
                LUX,
                shop="car",
                name="Renault Gare",
                **RENAULT,
                addr__street_address="1 Rue de Strasbourg",
                addr__postcode="2560",
                addr__city="Luxembourg",
                addr__country="LU",
            ),
            feature("101-renault_service", LUX, shop="car_repair", name="Renault Gare", **RENAULT),
            feature(
                "102-dacia",
                ESCH,
                shop="car",
                name="Dacia Esch",
                brand="Dacia",
                brand__wikidata="Q27460",
            ),
            feature(
                "103-alpine",
                ETTELBRUCK,
                shop="car",
                name="Alpine Ettelbruck",
                brand="Alpine",
                brand__wikidata="Q26944",
                addr__country="FR",
            ),
            feature("104-renault", ARLON, shop="car", name="Renault Arlon", **RENAULT),
            feature("105-renault", DELHI, shop="car", name="Renault Delhi", **RENAULT),
            feature("106-renault", None, geometry=None, shop="car", **RENAULT),
            feature("107-renault", [float("nan"), 49.6], shop="car", **RENAULT),
            feature("108-renault", [1e400, 49.6], shop="car", **RENAULT),
            feature("109-renault", [6.1, 95.0], shop="car", **RENAULT),
            feature("110-charger", LUX, amenity="charging_station", **RENAULT),
            feature("111-parts", LUX, shop="car_parts", **RENAULT),
            feature("112-peugeot", LUX, shop="car", brand="Peugeot", brand__wikidata="Q6742"),
            "not a feature",
            feature(
                "113-renault",
                None,
                geometry={
                    "type": "Polygon",
                    "coordinates": [
                        [[6.0, 49.7], [6.002, 49.7], [6.002, 49.702], [6.0, 49.702], [6.0, 49.7]]
                    ],
                },
                shop="car_repair",
                **RENAULT,
            ),
            feature(
                "114-renault",
                None,
                geometry={"type": "Polygon", "coordinates": "x"},
                shop="car",
                **RENAULT,
            ),
            feature("115-renault", LUX, shop="car", name="Renault Gare", **RENAULT),
        ],
    )


def test_atp_file_keeps_sales_and_service_apart(tmp_path: Path) -> None:
    source = renault_file(tmp_path / "renault.geojson")
    result = planner.import_dealers(source)
    rows = {row["dealer_id"]: row for row in result.dealers.to_dict("records")}
    assert list(rows) == [
        "renault/104-renault",
        "renault/101-renault",
        "renault/101-renault_service",
        "renault/102-dacia",
        "renault/103-alpine",
        "renault/113-renault",
        "renault/115-renault",
    ]
    assert rows["renault/101-renault"]["shop"] == "car"
    assert rows["renault/101-renault_service"]["shop"] == "car_repair"
    assert rows["renault/101-renault"]["address"] == "1 Rue de Strasbourg, 2560 Luxembourg"
    assert rows["renault/104-renault"]["country"] == "BE"
    assert rows["renault/102-dacia"]["makes"] == "Dacia"
    assert rows["renault/103-alpine"]["makes"] == "Alpine"
    assert {r["brand"] for r in rows.values()} == {"Renault"}
    assert {r["source"] for r in rows.values()} == {"All The Places renault"}
    assert {r["source_timestamp"] for r in rows.values()} == {COLLECTED}
    assert rows["renault/113-renault"]["lon"] == pytest.approx(6.001)
    assert rows["renault/113-renault"]["lat"] == pytest.approx(49.701)
    assert result.read == 17
    assert result.dropped == {
        # 109 at latitude 95 has a location, off the globe: counted apart.
        "no location": 4,
        "coordinates out of range": 1,
        "not a car dealer or workshop": 2,
        "other brand": 1,
        "not a feature": 1,
        "outside every country": 1,
    }
    assert result.counts["by_shop"] == {"car": 5, "car_repair": 2}
    assert result.counts["by_country"] == {"LU": 6, "BE": 1}
    # Sales, service and a second sales item at one point: near-duplicates, said once.
    near = [w for w in result.warnings if "points lie within" in w]
    assert len(near) == 1
    assert "3 pairs of Renault points" in near[0]
    assert "merge_same_brand = true" in near[0]
    # addr:country FR on a point in Luxembourg.
    assert any("addr:country FR, point in LU" in w for w in result.warnings), result.warnings
    assert "CC0" in result.licences()[0]


def test_atp_files_of_both_brands_make_a_dealer_file_and_merge_across_brands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    renault = renault_file(tmp_path / "renault.geojson")
    nissan = write_atp(
        tmp_path / "nissan.geojson",
        [
            feature(
                "N1-sales",
                (LUX[0] + 0.0002, LUX[1]),
                shop="car",
                brand="Nissan",
                brand__wikidata="Q20165",
                name="Nissan Gare",
            ),
            feature(
                "N2-sales",
                ESCH,
                shop="car",
                brand="Infiniti",
                brand__wikidata="Q29714",
                name="Infiniti Esch",
            ),
            # ATP's old schema carried the spider in each feature.
            feature(
                "N3-sales",
                ETTELBRUCK,
                shop="car",
                name="Nissan Ettelbruck",
                **{"@spider": "nissan_lu"},
            ),
        ],
        spider="nissan",
    )
    out = tmp_path / "dealers.csv"
    code, stdout, stderr = _run(
        ["dealers", "import-atp", str(renault), str(nissan), "--out", str(out)], capsys
    )
    assert code == 0, stderr
    assert "kept 10 dealers: Renault 7, Nissan 3" in stdout
    assert "makes: Renault 5, Nissan 2, Alpine 1, Dacia 1, Infiniti 1" in stdout
    assert "different brands lie within 150 m" in stdout
    assert "CC0" in stdout
    assert "warning: 3 pairs of Renault points" in stderr
    config = DealersConfig(files=[DealerFile(path=out)])
    loaded = load_sites(config, countries=["LU"])
    assert loaded.counts["read"] == 10
    assert loaded.counts["outside_countries"] == 1
    assert "nissan_lu/N3-sales" in set(loaded.dealers["dealer_id"])
    # The Nissan dealer beside Renault's items at the station joins them in one site;
    # Esch (Dacia and Infiniti at one point) is one site as well.
    by_dealers = sorted(loaded.sites["n_dealers"].tolist())
    assert by_dealers[-2:] == [2, 4]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("renault.geojson", b"", "is empty"),
        ("renault.geojson", b'{"type": "FeatureCollection", "features": [', "is not GeoJSON"),
        ("renault.geojson", b"\xff\xfe\x00garbage", "not UTF-8 text"),
        ("renault.geojson", b"[1, 2, 3]", "is a JSON list, not a GeoJSON FeatureCollection"),
        (
            "renault.geojson",
            b'{"type": "Feature", "geometry": null, "properties": {}}',
            "is a GeoJSON Feature, not a GeoJSON FeatureCollection",
        ),
        (
            "renault.geojson",
            b'{"type": "FeatureCollection", "features": {}}',
            "FeatureCollection without a list of features",
        ),
        ("renault.geojson", b"[" * 100_000, "is not GeoJSON"),
        ("renault.csv", b"dealer_id,brand\n", "is not a GeoJSON file"),
        ("missing.geojson", None, "no such file"),
    ],
)
def test_hostile_geojson_stops_with_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "dealers.csv"
    with pytest.raises(planner.InputError, match=message):
        planner.import_dealers(path, kind="atp", out=out)
    code, _, stderr = _run(["dealers", "import-atp", str(path), "--out", str(out)], capsys)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], stderr
    assert not out.exists()


def test_features_without_a_usable_point_leave_no_dealer(tmp_path: Path) -> None:
    path = write_atp(
        tmp_path / "renault.geojson",
        [
            feature("1", None, geometry=None, shop="car", **RENAULT),
            feature("2", ["6.1", "49.6"], shop="car", **RENAULT),
            feature("3", [True, 49.6], shop="car", **RENAULT),
            feature("4", None, geometry={"type": "Point"}, shop="car", **RENAULT),
            feature(
                "5", None, geometry={"type": "LineString", "coordinates": []}, shop="car", **RENAULT
            ),
            {"type": "Feature", "properties": None, "geometry": None},
        ],
    )
    with pytest.raises(planner.InputError) as caught:
        planner.import_dealers(path)
    message = str(caught.value)
    assert "no location 5" in message and "no brand in tags or name 1" in message, message
    assert "read 6 features in renault.geojson" in message


def test_control_characters_in_texts_become_spaces(tmp_path: Path) -> None:
    path = write_atp(
        tmp_path / "renault.geojson",
        [
            feature("1\u0000x", LUX, shop="car", name="Renault\u0000Gare\r\nNord\t", **RENAULT),
            feature(
                "2",
                ESCH,
                shop="car",
                name="\u202eRenault Esch",
                **RENAULT,
                addr__city="Esch\nsur Alzette",
            ),
        ],
    )
    out = tmp_path / "dealers.csv"
    result = planner.import_dealers(path, out=out)
    rows = {row["dealer_id"]: row for row in result.dealers.to_dict("records")}
    assert rows["renault/1 x"]["name"] == "Renault Gare Nord"
    # Only control characters go: a right-to-left mark is text, escaped by each output.
    assert rows["renault/2"]["name"] == "\u202eRenault Esch"
    assert rows["renault/2"]["address"] == "Esch sur Alzette"
    loaded = load_sites(DealersConfig(files=[DealerFile(path=out)]), countries=["LU"])
    assert sorted(loaded.dealers["name"]) == ["Renault Gare Nord", "\u202eRenault Esch"]


def test_an_item_without_ref_or_id_is_named_by_its_position(tmp_path: Path) -> None:
    item = feature("", LUX, shop="car", **RENAULT)
    del item["id"]
    item["properties"].pop("ref")
    path = write_atp(
        tmp_path / "renault.geojson", [feature("9", ESCH, shop="car", **RENAULT), item]
    )
    result = planner.import_dealers(path)
    assert sorted(result.dealers["dealer_id"]) == ["renault/#2", "renault/9"]


@pytest.mark.parametrize(
    ("tags", "brands", "matched_by", "makes"),
    [
        ({"brand:wikidata": "Q6686"}, ("Renault",), "brand:wikidata", ("Renault",)),
        ({"brand:wikidata": "q20165"}, ("Nissan",), "brand:wikidata", ("Nissan",)),
        ({"brand:wikidata": "Q27460;Q26944"}, ("Renault",), "brand:wikidata", ("Alpine", "Dacia")),
        ({"brand:wikidata": "Q29714"}, ("Nissan",), "brand:wikidata", ("Infiniti",)),
        (
            {"brand:wikidata": "Q6686", "brand": "Renault;Nissan"},
            ("Nissan", "Renault"),
            "brand:wikidata",
            ("Nissan", "Renault"),
        ),
        ({"brand": " RENAULT "}, ("Renault",), "brand", ("Renault",)),
        ({"brand": "renault-dacia"}, ("Renault",), "brand", ("Renault",)),
        ({"brand": "Alpine"}, ("Renault",), "brand", ("Alpine",)),
        ({"brand": "Renault Retail Group"}, ("Renault",), "brand", ("Renault",)),
        ({"brand": "Peugeot; Nissan"}, ("Nissan",), "brand", ("Nissan",)),
        ({"name": "Nissan-Zentrum Süd"}, ("Nissan",), "name", ("Nissan",)),
        ({"name": "Garage DACIA & Renault"}, ("Renault",), "name", ("Dacia", "Renault")),
        ({"name": "Garage Renault", "brand": "Peugeot"}, (), "", ()),
        ({"name": "Alpine Motors"}, (), "", ()),
        ({"brand": "Alpine Electronics"}, (), "", ()),
        ({"brand": "Renault Trucks"}, (), "", ()),
        ({"name": "Renault VI Service"}, (), "", ()),
        ({"name": "Renaultstrasse Garage"}, (), "", ()),
        ({"brand:wikidata": "Q1364463"}, (), "", ()),
        ({}, (), "", ()),
    ],
)
def test_brand_matching(
    tags: dict[str, str], brands: tuple[str, ...], matched_by: str, makes: tuple[str, ...]
) -> None:
    match = match_brands(tags)
    assert (match.brands, match.matched_by, match.makes) == (brands, matched_by, makes)
    if not brands:
        expected = "other brand" if {"brand", "brand:wikidata"} & set(tags) else "no brand"
        assert match.reason.startswith(expected)


def test_requested_brands() -> None:
    assert requested_brands(None) == ("Nissan", "Renault")
    assert requested_brands("Renault") == ("Renault",)
    assert requested_brands(["nissan", "RENAULT"]) == ("Nissan", "Renault")
    for bad, message in (
        ("infiniti", "count as Nissan"),
        ("kia", "unknown brand 'kia'"),
        ("", "no brand given"),
    ):
        with pytest.raises(planner.InputError, match=message):
            requested_brands(bad)


def test_every_bad_file_is_named_before_anything_is_written(tmp_path: Path) -> None:
    good = renault_file(tmp_path / "renault.geojson")
    empty = tmp_path / "dacia.geojson"
    empty.write_bytes(b"")
    listed = tmp_path / "nissan.geojson"
    listed.write_text("[]", encoding="utf-8")
    out = tmp_path / "dealers.csv"
    with pytest.raises(planner.InputError) as caught:
        planner.import_dealers([good, empty, listed], out=out)
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 2
    assert "dacia.geojson: is empty" in problems[0]
    assert "nissan.geojson: is a JSON list" in problems[1]
    assert not out.exists()
