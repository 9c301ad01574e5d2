"""The pieces under load_sites: cell parsing, column guessing, country boxes, readers."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from planner._text import one_line
from planner.errors import InputError
from planner.inputs.cells import (
    number_style,
    parse_brands,
    parse_country,
    parse_flag,
    parse_number,
)
from planner.inputs.columns import choose_columns, normalise_header
from planner.inputs.extents import box_of, build_extents, country_box, in_box
from planner.inputs.tables import read_table
from planner.scenario.schema import ColumnMapping, DealerFile


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("48.8566", 48.8566),
        ("48,8566", 48.8566),
        (" -2,35 ", -2.35),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("1 200", 1200.0),
        ("12°", 12.0),
        ("\u22124.5", -4.5),
        ("1e3", 1000.0),
        # Groups of three by the separator that is not the decimal mark, a space
        # of any width or a Swiss apostrophe.
        ("1,250,000", 1250000.0),
        ("1.250.000", 1250000.0),
        ("1.234.567,89", 1234567.89),
        ("1\u202f234\u00a0567,5", 1234567.5),
        ("1'234.5", 1234.5),
        ("1\u2019234.5", 1234.5),
        # Full-width and other scripts' digits read as the digits they are.
        ("\uff11\uff12,\uff15", 12.5),
        ("\u0661\u0662\u0663", 123.0),
        (7, 7.0),
        (2.5, 2.5),
        ("", None),
        (None, None),
    ],
)
def test_numbers(cell: object, value: float | None) -> None:
    assert parse_number(cell) == (value, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("abc", "'abc' is not a number"),
        # Before: 123, 46, 12.3, 1234.5 and 250000, the separators dropped wherever they stood.
        ("1,2,3", "'1,2,3' is not a number: ',' groups thousands only between groups of three"),
        ("4 6", "'4 6' is not a number: ' ' groups thousands only between groups of three"),
        ("1.2,3", "'1.2,3' is not a number: '.' groups thousands only between groups of three"),
        ("12,34.5", "'12,34.5' is not a number: ',' groups thousands only between groups of three"),
        (
            "25 00 00",
            "'25 00 00' is not a number: ' ' groups thousands only between groups of three",
        ),
        (
            "12.03.2024",
            "'12.03.2024' is not a number: '.' groups thousands only between groups of three",
        ),
        ("1.234,5,6", "'1.234,5,6' is not a number"),
        # Before: OverflowError, "unexpected failure".
        (10**400, "'1000000000000000000000000000000000000...' is not a finite number"),
        ("nan", "'nan' is not a number"),
        ("1e999", "'1e999' is not a finite number"),
        (float("inf"), "'inf' is not a finite number"),
        (True, "'true' is not a number"),
        ("a\nb", "'a\\nb' is not a number"),
    ],
)
def test_not_numbers(cell: object, message: str) -> None:
    value, said = parse_number(cell)  # type: ignore[arg-type]
    assert value is None and said is not None and said.startswith(message)


@pytest.mark.parametrize(
    ("columns", "cell", "value"),
    [
        # The file writes decimals with a comma: a dot groups thousands.
        ({"lat": ["49,61"], "pop": ["132.780"]}, "132.780", 132780.0),
        ({"lat": ["49,61"], "pop": ["1,500"]}, "1,500", 1.5),
        # The file writes decimals with a dot: a comma groups thousands.
        ({"lat": ["49.61"], "pop": ["1,500"]}, "1,500", 1500.0),
        # The column's own convention wins over the file's.
        ({"lat": ["49.61"], "pop": ["1.234,5", "132.780"]}, "132.780", 132780.0),
        # A leading zero never starts a thousands group; typed numbers are not text.
        ({"pop": ["0.250"]}, "0.250", 0.25),
        ({"pop": [1.5]}, 1.5, 1.5),
        # Before: 1.5; full-width digits slipped past the ambiguity rule.
        (
            {"lat": ["49.61"], "pop": ["\uff11,\uff15\uff10\uff10"]},
            "\uff11,\uff15\uff10\uff10",
            1500.0,
        ),
        # Before: "1.250.000" was "not a number" and settled nothing, so the
        # next "250.000" read as 250.
        ({"pop": ["1.250.000", "250.000"]}, "250.000", 250000.0),
        ({"pop": ["1,250,000", "250,000"]}, "250,000", 250000.0),
    ],
)
def test_number_style_settles_ambiguous_cells(
    columns: dict[str, list[object]], cell: object, value: float
) -> None:
    style = number_style(columns)  # type: ignore[arg-type]
    assert parse_number(cell, style, "pop") == (value, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("columns", "reason"),
    [
        ({"pop": ["1,234", "1.5"]}, "its column writes numbers both with ',' and with '.'"),
        ({"lat": ["49"], "pop": ["1,234"]}, "no other number in the file shows its decimal mark"),
        ({"lat": ["49.6"], "lon": ["6,1"], "pop": ["1,234"]}, "the file uses both"),
    ],
)
def test_number_style_refuses_what_the_file_leaves_open(
    columns: dict[str, list[object]], reason: str
) -> None:
    value, message = parse_number("1,234", number_style(columns), "pop")  # type: ignore[arg-type]
    assert value is None and message is not None
    assert message.startswith("'1,234' is ambiguous: 1234 if ',' separates thousands")
    assert reason in message


def test_dealer_file_numbers_follow_the_file_convention(tmp_path: Path) -> None:
    from planner.inputs.sites import load_sites
    from planner.scenario.schema import DealersConfig

    path = tmp_path / "haendler.csv"
    text = (
        "id;name;brand;country;lat;lon;grid_kw\n"
        "1;Renault Düsseldorf;Renault;DE;51,2277;6,7735;1.500\n"
        "2;Nissan Köln;Nissan;DE;50,9375;6,9603;350\n"
    )
    path.write_bytes(text.encode("cp1252"))
    dealers = load_sites(DealersConfig(files=[DealerFile(path=path)]), countries=None).dealers
    assert dealers["grid_kw"].tolist() == [1500.0, 350.0]
    # Whole-degree coordinates show no decimal mark, so nothing settles "1.500".
    whole_degrees = text.replace("51,2277;6,7735", "51;7").replace("50,9375;6,9603", "51;7")
    path.write_bytes(whole_degrees.encode("cp1252"))
    with pytest.raises(InputError, match=r"row 2, field 'grid_kw': '1.500' is ambiguous"):
        load_sites(DealersConfig(files=[DealerFile(path=path)]), countries=None)


def test_a_column_read_by_the_other_columns_decimal_mark_is_warned(tmp_path: Path) -> None:
    from planner.inputs.sites import load_sites
    from planner.scenario.schema import DealersConfig

    path = tmp_path / "dealers.csv"
    path.write_text(
        "id,name,brand,country,lat,lon,site_cost_eur\n"
        "1,Renault Lille,Renault,FR,50.6292,3.0573,250.000\n"
        "2,Nissan Lille,Nissan,FR,50.6365,3.0635,180000\n",
        encoding="utf-8",
    )
    loaded = load_sites(DealersConfig(files=[DealerFile(path=path)]), countries=None)
    # The documented reading stands (the file writes '.' decimals) ...
    assert loaded.dealers["site_cost_eur"].tolist() == [250.0, 180000.0]
    # ... but, before, nothing said that a site of 250 EUR came from "250.000".
    assert any(
        "dealers.csv, field 'site_cost_eur': the column shows no decimal mark of its own, so "
        "numbers like '250.000' are read as decimals by the file's mark ('.' in its other "
        "columns): 250" in str(w)
        for w in loaded.warnings
    )


def test_flags() -> None:
    truthy: list[str | bool] = ["yes", "Ja", "oui", "1", "x", True]
    falsy: list[str | bool | None] = ["", None, "no", "nein", "0", False]
    assert [parse_flag(c)[0] for c in truthy] == [True] * 6
    assert [parse_flag(c)[0] for c in falsy] == [False] * 6
    assert parse_flag("maybe") == (None, "'maybe' is not yes/no (use yes, no, true, false, 1 or 0)")


@pytest.mark.parametrize(
    ("text", "brands"),
    [
        ("Renault", ("Renault",)),
        (" RENAULT ", ("Renault",)),
        ("Dacia", ("Renault",)),
        ("alpine", ("Renault",)),
        ("Renault-Dacia", ("Renault",)),
        ("Infiniti", ("Nissan",)),
        ("Nissan & Renault", ("Nissan", "Renault")),
        ("Renault / Nissan", ("Nissan", "Renault")),
    ],
)
def test_brands(text: str, brands: tuple[str, ...]) -> None:
    assert parse_brands(text) == (brands, None)


def test_unknown_and_empty_brands() -> None:
    assert parse_brands("  ") == (None, "brand is empty")
    assert parse_brands("Renault/Tesla")[1] == (
        "unknown brand 'Renault/Tesla'; expected Renault or Nissan (or Dacia, Alpine, Infiniti)"
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("fr", "FR"),
        (" BE ", "BE"),
        ("DEU", "DE"),
        ("Netherlands", "NL"),
        ("Deutschland", "DE"),
        ("België", "BE"),
        ("UK", "GB"),
        ("EL", "GR"),
    ],
)
def test_countries(text: str, code: str) -> None:
    assert parse_country(text) == (code, None)


def test_unknown_country() -> None:
    assert parse_country("XX") == (None, "'XX' is not an ISO 3166-1 alpha-2 country code")
    assert parse_country("") == (None, "country is empty")


@pytest.mark.parametrize(
    ("header", "normalised"),
    [
        ("Längengrad [DG]", "langengrad"),
        ("Dealer ID", "dealerid"),
        ("LAT (WGS84)", "lat"),
        ("Straße", "strasse"),
        ("Código", "codigo"),
        ("Długość", "dlugosc"),
        ("SZEROKOŚĆ", "szerokosc"),
        ("Søndergaard", "sondergaard"),
        ("Ærø", "aero"),
        ("Đakovo", "dakovo"),
        ("Zeměpisná šířka", "zemepisnasirka"),
        ("ǅ", "dz"),
    ],
)
def test_normalise_header(header: str, normalised: str) -> None:
    assert normalise_header(header) == normalised


@pytest.mark.parametrize(
    ("headers", "lon", "lat"),
    [
        (["lng", "lat"], "lng", "lat"),
        (["Längengrad [DG]", "Breitengrad [DG]"], "Längengrad [DG]", "Breitengrad [DG]"),
        (["longitud", "latitud"], "longitud", "latitud"),
        (["Longitudine", "Latitudine"], "Longitudine", "Latitudine"),
        (["lengte", "breedte"], "lengte", "breedte"),
        (["x", "y", "longitude", "latitude"], "longitude", "latitude"),
        (["X", "Y"], "X", "Y"),
        (["Długość", "Szerokość"], "Długość", "Szerokość"),
        (["Länge", "Breite"], "Länge", "Breite"),
        (["Zeměpisná délka", "Zeměpisná šířka"], "Zeměpisná délka", "Zeměpisná šířka"),
        (["Longitude (WGS84)", "Latitude (WGS84)"], "Longitude (WGS84)", "Latitude (WGS84)"),
    ],
)
def test_coordinate_columns_guessed(headers: list[str], lon: str, lat: str) -> None:
    all_headers = ["Händlernummer", "Name", "Marke", "Land", *headers]
    choice, problems = choose_columns(
        all_headers, ColumnMapping(), source="f.csv", need_brand=True, need_coordinates=True
    )
    assert problems == []
    assert (choice.get("lon"), choice.get("lat")) == (lon, lat)
    assert choice.get("id") == "Händlernummer"
    assert choice.get("brand") == "Marke"
    assert choice.get("country") == "Land"


def test_other_columns_guessed_in_french() -> None:
    choice, problems = choose_columns(
        ["Code concession", "Raison sociale", "Marque", "Pays", "lat", "lon", "Exclu"],
        ColumnMapping(),
        source="f.csv",
        need_brand=True,
        need_coordinates=True,
    )
    assert problems == []
    assert choice.columns["id"] == "Code concession"
    assert choice.columns["name"] == "Raison sociale"
    assert choice.columns["excluded"] == "Exclu"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["Identyfikator", "Nazwa", "Marka", "Kraj"], ("Identyfikator", "Nazwa", "Marka", "Kraj")),
        (["Kód", "Název", "Značka", "Země"], ("Kód", "Název", "Značka", "Země")),
        (["Código", "Razón social", "Marca", "País"], ("Código", "Razón social", "Marca", "País")),
        (
            ["Codice", "Ragione sociale", "Marca", "Nazione"],
            ("Codice", "Ragione sociale", "Marca", "Nazione"),
        ),
        (["Nummer", "Bedrijfsnaam", "Merk", "Land"], ("Nummer", "Bedrijfsnaam", "Merk", "Land")),
        (["Código", "Denominação", "Marca", "País"], ("Código", "Denominação", "Marca", "País")),
    ],
    ids=["polish", "czech", "spanish", "italian", "dutch", "portuguese"],
)
def test_id_name_brand_country_guessed(headers: list[str], expected: tuple[str, ...]) -> None:
    choice, problems = choose_columns(
        [*headers, "lat", "lon"],
        ColumnMapping(),
        source="f.csv",
        need_brand=True,
        need_coordinates=True,
    )
    assert problems == []
    assert tuple(choice.get(f) for f in ("id", "name", "brand", "country")) == expected


def test_one_line() -> None:
    assert one_line("a\nb\t\u202ec\x00") == "a\\nb\\t\\u202ec\\x00"
    assert one_line("x" * 50, limit=10) == "xxxxxxx..."


def test_box_wraps_the_antimeridian() -> None:
    box = box_of([(179.5, -17.0), (-179.8, -16.5)], margin=0.0)
    assert box == (179.5, -17.0, -179.8, -16.5)
    assert in_box(box, 179.9, -16.8) and in_box(box, -179.9, -16.8)
    assert not in_box(box, 0.0, -16.8)


def test_box_of_a_plain_country() -> None:
    assert box_of([(2.0, 48.0), (4.0, 45.0)], margin=0.5) == (1.5, 44.5, 4.5, 48.5)


def test_country_boxes_hold_capitals() -> None:
    capitals = {
        "FR": (2.35, 48.86),
        "DE": (13.4, 52.52),
        "LU": (6.13, 49.61),
        "CH": (7.45, 46.95),
        "PT": (-9.14, 38.72),
        "NO": (10.75, 59.91),
    }
    for code, (lon, lat) in capitals.items():
        box = country_box(code)
        assert box is not None and in_box(box, lon, lat), code
        assert not in_box(box, lat, lon), code
    assert country_box("ZZ") is None


def test_build_extents_from_a_cities_file(tmp_path: Path) -> None:
    cities = {
        "1": {"countrycode": "LU", "longitude": 6.13, "latitude": 49.61},
        "2": {"countrycode": "LU", "longitude": 5.98, "latitude": 49.5},
        "3": {"countrycode": "MC", "longitude": 7.42, "latitude": 43.73},
    }
    path = tmp_path / "cities.json"
    path.write_text(json.dumps(cities))
    assert build_extents(path) == {
        "LU": (5.68, 49.2, 6.43, 49.91),
        "MC": (7.12, 43.43, 7.72, 44.03),
    }


def _read(path: Path, **options: object) -> object:
    return read_table(DealerFile(path=path, **options), source=path.name)


@pytest.mark.parametrize(
    ("text", "encoding", "delimiter"),
    [
        ("id;name\n1;Zoë\n", "utf-8", ";"),
        ("id\tname\n1\tZoë\n", "cp1252", "\t"),
        ("id|name\n1|Zoë\n", "latin-1", "|"),
        ("id,name\n1,Zoë\n", "utf-8-sig", ","),
        ('id,name\n1,"Zoë; et fils"\n', "utf-16", ","),
        ("id;name\n1;Zoë\n", "utf-32", ";"),
    ],
)
def test_csv_dialects(tmp_path: Path, text: str, encoding: str, delimiter: str) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode(encoding))
    table = _read(path)
    assert table.headers == ["id", "name"]  # type: ignore[attr-defined]
    assert table.rows[0][1].startswith("Zoë")  # type: ignore[attr-defined]
    assert repr(delimiter) in table.notes[0]  # type: ignore[attr-defined]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_byte_order_mark(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes("id;name\n1;Łódź Motors\n2;Zoë\n".encode(encoding))
    table = _read(path)
    assert table.headers == ["id", "name"]  # type: ignore[attr-defined]
    assert table.rows == [["1", "Łódź Motors"], ["2", "Zoë"]]  # type: ignore[attr-defined]
    assert table.notes[0].startswith(f"encoding {encoding}")  # type: ignore[attr-defined]


def test_title_lines_do_not_decide_the_delimiter(tmp_path: Path) -> None:
    # Before: the delimiter was sniffed from the first line, a title of one cell,
    # and the decimal commas below made "," win: columns 'X;A 1;350;6', '13;49', ...
    path = tmp_path / "d.csv"
    text = "Ladesäulenregister\nStand: 2019\n\nid;name;lon;lat\n1;A 1;6,13;49,61\n2;B;6,2;49,7\n"
    path.write_bytes(text.encode("cp1252"))
    table = _read(path)
    assert table.headers == ["id", "name", "lon", "lat"]  # type: ignore[attr-defined]
    assert table.rows[0] == ["1", "A 1", "6,13", "49,61"]  # type: ignore[attr-defined]


def test_utf32_big_endian_with_byte_order_mark(tmp_path: Path) -> None:
    # Its mark is not UTF-16's; the little-endian one begins with UTF-16's.
    path = tmp_path / "d.csv"
    path.write_bytes(b"\x00\x00\xfe\xff" + "id;name\n1;Zoë\n".encode("utf-32-be"))
    table = _read(path)
    assert table.rows == [["1", "Zoë"]]  # type: ignore[attr-defined]
    assert table.notes[0].startswith("encoding utf-32")  # type: ignore[attr-defined]


def test_csv_encoding_and_delimiter_from_the_scenario(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes("id:name\n1:Zoë\n".encode("cp1252"))
    table = _read(path, encoding="cp1252", delimiter=":")
    assert table.rows == [["1", "Zoë"]]  # type: ignore[attr-defined]
    with pytest.raises(InputError) as caught:
        _read(path, encoding="utf-8")
    assert str(caught.value) == (
        "d.csv: cannot be read as utf-8: byte 0xeb at position 12; set the right encoding in "
        "the scenario"
    )


def test_a_utf8_file_with_lines_of_another_encoding_is_refused(tmp_path: Path) -> None:
    # Before: read whole as Windows-1252, so every correct accent was garbled
    # ("Nissan NeufchÃ¢teau") and no word said so.
    path = tmp_path / "d.csv"
    lines = ["id,name", "1,Nissan Neufchâteau", "2,Renault Châtelet", "3,Renault Liège"]
    data = "\n".join(lines).encode("utf-8") + b"\n4,Autohaus D\xfcsseldorf\n"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        _read(path)
    assert str(caught.value) == (
        "d.csv: mixes text encodings: line 5 holds byte 0xfc, which is not UTF-8, where the "
        "rest of the file is UTF-8; save the whole file as UTF-8 (or, if it is all "
        'Windows-1252, set encoding = "cp1252" for it)'
    )
    # A Windows-1252 file is read as before, also with a pair of bytes that UTF-8 would take.
    path.write_bytes("id,name\n1,Zoë\n2,Â© Motors\n3,Liège\n".encode("cp1252"))
    assert _read(path).rows[1] == ["2", "Â© Motors"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("option", ["sheet", "layer"])
def test_a_sheet_or_layer_named_for_a_csv_file_is_refused(tmp_path: Path, option: str) -> None:
    # Before: ignored, and the file's one table read as if the named sheet were.
    path = tmp_path / "d.csv"
    path.write_text("id;name\n1;A\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        _read(path, **{option: "Dealers 2026"})
    assert str(caught.value) == (
        f"d.csv, field '{option}': is a CSV file, which has no sheets or layers; remove "
        f"{option} from its scenario entry"
    )


def test_geojson_with_polygons_and_null_geometry(tmp_path: Path) -> None:
    square = [[[2.0, 48.0], [2.002, 48.0], [2.002, 48.002], [2.0, 48.002], [2.0, 48.0]]]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": "a"},
                "geometry": {"type": "Polygon", "coordinates": square},
            },
            {"type": "Feature", "properties": {"id": "b"}, "geometry": None},
        ],
    }
    path = tmp_path / "d.geojson"
    path.write_text(json.dumps(collection))
    table = _read(path)
    (lon, lat), missing = table.points  # type: ignore[attr-defined]
    assert 2.0 < lon < 2.002 and 48.0 < lat < 48.002
    assert missing == (None, None)


def test_geopackage_with_two_layers_needs_a_name(tmp_path: Path) -> None:
    import geopandas
    from shapely.geometry import Point

    path = tmp_path / "d.gpkg"
    frame = geopandas.GeoDataFrame({"id": ["a"]}, geometry=[Point(2, 48)], crs=4326)
    frame.to_file(path, layer="renault")
    frame.to_file(path, layer="nissan")
    with pytest.raises(InputError) as caught:
        _read(path)
    assert str(caught.value) == "d.gpkg: has 2 layers ('renault', 'nissan'); name one with layer"
    assert _read(path, layer="nissan").points == [(2.0, 48.0)]  # type: ignore[attr-defined]


def test_old_excel_and_folders(tmp_path: Path) -> None:
    (tmp_path / "d.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError) as caught:
        _read(tmp_path / "d.xls")
    assert str(caught.value) == "d.xls: is an old-style .xls workbook; save it as .xlsx or CSV"
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputError, match="is a folder, not a file"):
        _read(tmp_path / "dir.csv")


def test_excel_sheet_by_name(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["ignored"])
    sheet = book.create_sheet("Nissan")
    sheet.append([])
    sheet.append(["id", "name"])
    sheet.append([17, "Nissan Gent"])
    path = tmp_path / "d.xlsx"
    book.save(path)
    table = _read(path, layer="Nissan")
    assert table.rows == [[17, "Nissan Gent"]]  # type: ignore[attr-defined]
    assert table.row_numbers == [3]  # type: ignore[attr-defined]
    with pytest.raises(InputError) as caught:
        _read(path, layer="Renault")
    assert str(caught.value) == (
        "d.xlsx, field 'layer': has no sheet 'Renault'; its sheets are 'Sheet', 'Nissan'"
    )


def test_excel_formulas_without_saved_results_are_refused(tmp_path: Path) -> None:
    # A workbook written by a script is saved uncalculated. Before: each formula
    # read as an empty cell, so an optional grid power went missing unsaid.
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Dealers"
    sheet.append(["id", "name", "grid_kw"])
    sheet.append([1, "Garage Gare", "=1000+500"])
    sheet.append([2, "Garage Nord", 800])
    path = tmp_path / "d.xlsx"
    book.save(path)
    with pytest.raises(InputError) as caught:
        _read(path)
    assert str(caught.value) == (
        "d.xlsx: sheet 'Dealers': cell(s) C2 hold formulas whose results were never saved "
        "(the program that wrote the workbook does not calculate); open and save it in Excel "
        "or LibreOffice, or save the sheet as CSV"
    )
    # A formula saved with its result, as a spreadsheet program saves it, reads as the result.
    xml_path = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts[xml_path] = parts[xml_path].replace(b"<f>1000+500</f>", b"<f>1000+500</f><v>1500</v>")
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    assert _read(path).rows[0] == [1, "Garage Gare", 1500]  # type: ignore[attr-defined]


def test_excel_sep_line_and_a_title_above_the_header(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("sep=;\nDealer list, May 2024;;\nid;name;x\n1;Zoë, fils;2,5\n")
    table = _read(path)
    assert table.headers == ["id", "name", "x"]  # type: ignore[attr-defined]
    assert table.rows == [["1", "Zoë, fils", "2,5"]]  # type: ignore[attr-defined]
    # Excel hides the sep line: the title is row 1, the header row 2.
    assert table.row_numbers == [3]  # type: ignore[attr-defined]


def test_a_stated_decimal_mark_holds_for_coordinates_too() -> None:
    # Before: "6,151" was read as 6.151 under decimal = ".", while "6,1511" was
    # refused: the longitude's range decided before the statement did.
    style = number_style({"lon": ["6,151"]}, bounds={"lon": 180.0}, decimal=".")
    value, message = parse_number("6,151", style, "lon")
    assert value is None and message is not None
    assert "can only be read with ',' as its decimal mark" in message
    assert parse_number("6,151", number_style({}, bounds={"lon": 180.0}), "lon") == (6.151, None)


def test_typed_decimals_of_a_frame_are_numbers() -> None:
    from decimal import Decimal

    from planner.inputs.tables import read_frame

    # Before: written out as text, then refused under decimal = "," ("writes '.'").
    table = read_frame(pd.DataFrame({"cost": [Decimal("NaN"), Decimal("250000.50")]}), source="t")
    assert [row[0] for row in table.rows] == [None, 250000.5]


def test_a_quote_never_closed_is_named_not_read_as_one_long_cell(tmp_path: Path) -> None:
    # Before: the lenient reader took every line after the open quote into one
    # cell; two dealers were dropped unsaid and the message was "country is empty".
    path = tmp_path / "dealers.csv"
    path.write_text(
        'id,brand,name,country,lon,lat\nN1,Nissan,"C,FR,4.83,45.76\n'
        "N2,Nissan,B,FR,4.8,45.7\nN3,Nissan,D,FR,4.9,45.8\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        read_table(DealerFile(path=path), source="dealers.csv")
    assert str(caught.value) == (
        'dealers.csv: a quote (") opened on line 2 is never closed, so the 2 line(s) after it '
        "would be read as one cell; close the quote or remove it"
    )
    # Quotes that close, across lines and doubled inside, read as before.
    path.write_text(
        'id,name\nN1,"two\nlines"\nN2,"say ""hi"""\nN3,"last, quoted"\n', encoding="utf-8"
    )
    table = read_table(DealerFile(path=path), source="dealers.csv")
    assert [row[1] for row in table.rows] == ["two\nlines", 'say "hi"', "last, quoted"]
