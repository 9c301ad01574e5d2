"""Input cases that once passed silently or with a poor message (each failed before its fix)."""

from __future__ import annotations

import json
import math
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from planner.errors import InputError
from planner.inputs.demand import load_demand
from planner.inputs.demand_points import read_demand_file
from planner.inputs.sites import load_sites
from planner.scenario.schema import DealerFile, DealersConfig, DemandConfig
from tests.conftest import problems_of

HEADER = ["id", "name", "brand", "country", "lon", "lat"]


def _load(path: Path, **options: object) -> pd.DataFrame:
    config = DealersConfig(files=[DealerFile(path=path, **options)])
    return load_sites(config, countries=["FR"]).sites


def _workbook(path: Path, sheets: dict[str, Sequence[Sequence[Any]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


RENAULT: list[list[Any]] = [HEADER, ["r1", "Paris", "Renault", "FR", 2.35, 48.85]]
NISSAN: list[list[Any]] = [HEADER, ["n1", "Lyon", "Nissan", "FR", 4.83, 45.76]]
NOTES: list[list[Any]] = [["Exported from the CRM"], ["Contact: the network team"]]


def test_workbook_of_several_sheets_is_refused_until_one_is_named(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "dealers.xlsx", {"Renault": RENAULT, "Nissan": NISSAN})
    with pytest.raises(InputError, match="has 2 sheets: 'Renault', 'Nissan'; name the one"):
        _load(path)
    assert list(_load(path, sheet="Nissan")["name"]) == ["Lyon"]
    assert sorted(_load(path, sheet="*")["name"]) == ["Lyon", "Paris"]


def test_workbook_ids_of_more_digits_than_a_number_keeps_are_refused(tmp_path: Path) -> None:
    # Before: ids of 17 digits came out as '1.234567890123457e+16' and two of
    # them were refused as one id given twice.
    rows: list[list[Any]] = [
        HEADER,
        [12345678901234567, "Paris", "Renault", "FR", 2.35, 48.85],
        [12345678901234568, "Lyon", "Nissan", "FR", 4.83, 45.76],
        [123456789012345, "Lille", "Nissan", "FR", 3.06, 50.63],
    ]
    path = _workbook(tmp_path / "dealers.xlsx", {"Dealers": rows})
    with pytest.raises(InputError) as caught:
        _load(path)
    problems = caught.value.problems
    assert [(p.row, p.field) for p in problems] == [(2, "id"), (3, "id")]  # type: ignore[union-attr]
    assert "is a number of 16 or more digits" in str(problems[0])
    assert "store the ids as text" in str(problems[0])


def test_notes_sheet_is_not_a_table(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Before: the note ("Dealer list, exported ...") was read as the header.
    path = _workbook(tmp_path / "dealers.xlsx", {"Notes": NOTES, "Dealers": NISSAN})
    with caplog.at_level("WARNING"):
        assert list(_load(path)["name"]) == ["Lyon"]
    assert "reading sheet 'Dealers'; 'Notes' not a table" in caplog.text
    two = _workbook(tmp_path / "two.xlsx", {"Notes": NOTES, "A": NISSAN, "B": NISSAN})
    with pytest.raises(InputError) as error:
        _load(two)
    message = str(error.value)
    assert "'Notes' (not a table), 'A', 'B'" in message
    assert "sheet = 'A'" in message
    with pytest.raises(InputError, match="sheet 'Notes' does not look like a table"):
        _load(path, sheet="Notes")
    assert list(_load(path, sheet="*")["name"]) == ["Lyon"]
    alone = _workbook(tmp_path / "notes.xlsx", {"Notes": NOTES})
    with pytest.raises(InputError, match="sheet 'Notes' does not look like a table"):
        _load(alone)


def test_repeated_demand_rows_are_counted_once(tmp_path: Path) -> None:
    path = tmp_path / "demand.csv"
    brussels = "Brussels,4.35,50.85,1000\n"
    path.write_text("name,lon,lat,population\n" + brussels * 4 + "Ghent,3.72,51.05,500\n")
    demand = load_demand(DemandConfig(source=path, countries=["BE"]))
    assert demand["population"].sum() == 1500
    assert demand.attrs["counts"]["duplicates_dropped"] == 3
    assert demand.attrs["counts"]["read"] == 5


def test_same_demand_id_with_other_data_names_both_rows(tmp_path: Path) -> None:
    path = tmp_path / "demand.csv"
    path.write_text(
        "id,name,lon,lat,population\nb1,Brussels,4.35,50.85,1000\nb1,Brussels,4.35,50.85,900\n"
    )
    with pytest.raises(InputError, match=r"row 3, field 'id': duplicate id: also on row 2"):
        read_demand_file(path)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("name,lon,lat,population,Population", "population could be any of 2 columns headed"),
        ("id,ID,name,lon,lat,population", "id could be any of 2 columns headed 'id' (columns 1, 2"),
    ],
)
def test_demand_columns_headed_alike_are_refused(
    tmp_path: Path, header: str, expected: str
) -> None:
    # Only the first would be read: 1,000 people in Brussels, the 5,000 beside them ignored.
    path = tmp_path / "demand.csv"
    row = "Brussels,4.35,50.85,1000,5000" if header.startswith("name") else "b1,b2,B,4.35,50.85,1"
    path.write_text(f"{header}\n{row}\n")
    with pytest.raises(InputError) as info:
        read_demand_file(path)
    assert expected in str(info.value)


def test_a_folder_named_as_a_demand_file_is_refused(tmp_path: Path) -> None:
    # Before: the folder was opened as a data set of its files' layers, and the
    # message asked for a sheet among them.
    folder = tmp_path / "points"
    folder.mkdir()
    for name in ("a", "b"):
        (folder / f"{name}.csv").write_text("name,lon,lat\nx,6.1,49.6\n")
    with pytest.raises(InputError) as info:
        read_demand_file(folder)
    assert str(info.value) == f"points: is a folder, not a file: {folder}"


def test_binary_files_renamed_csv(tmp_path: Path) -> None:
    archive = tmp_path / "dealers.csv"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.txt", "hello")
    with pytest.raises(InputError, match=r"is a ZIP archive \(XLSX, zipped shapefile\?\), not a"):
        _load(archive)
    binary = tmp_path / "other.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match="is not a text file") as error:
        _load(binary)
    assert "\\x01" not in str(error.value)


def test_a_file_that_is_no_table_is_not_quoted(tmp_path: Path) -> None:
    path = tmp_path / "dealers.csv"
    path.write_text("root:x:0:0:root:/root:/bin/bash,secret,stuff\ndaemon:x:1:1,a,b\n")
    with pytest.raises(InputError, match="does not look like a dealer table") as error:
        _load(path)
    assert "root" not in str(error.value)


@pytest.mark.parametrize("value", ["inf", "1e999", "nan"])
def test_non_finite_population_names_file_row_and_field(tmp_path: Path, value: str) -> None:
    path = tmp_path / "demand.csv"
    path.write_text(f"name,lon,lat,population\nA,4.35,50.85,{value}\n")
    with pytest.raises(InputError) as error:
        read_demand_file(path)
    assert str(error.value).startswith("demand.csv, row 2, field 'population'")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_geojson_population_names_file_feature_and_field(
    tmp_path: Path, value: str
) -> None:
    # Python's json reads these bare words as floats; the reader must not take
    # the column for an empty table or carry the value into the weights.
    path = tmp_path / "demand.geojson"
    features = [
        f'{{"type": "Feature", "geometry": {{"type": "Point", "coordinates": [{lon}, 50.85]}}, '
        f'"properties": {{"name": "{name}", "population": {population}}}}}'
        for name, lon, population in [("A", 4.35, value), ("B", 4.4, "1000")]
    ]
    path.write_text('{"type": "FeatureCollection", "features": [' + ", ".join(features) + "]}")
    with pytest.raises(InputError) as error:
        read_demand_file(path)
    said = {
        "NaN": "no value, where a number is needed",
        "Infinity": "'inf' is not a finite number",
        "-Infinity": "'-inf' is not a finite number",
    }[value]
    assert str(error.value).startswith(f"demand.geojson, field 'population': feature 1: {said}")


def test_non_finite_population_in_a_table_names_row_and_field() -> None:
    import numpy as np
    import pandas as pd

    import planner

    table = pd.DataFrame(
        {"name": ["A", "B"], "lon": [6.13, 6.0], "lat": [49.61, 49.5], "population": [np.inf, 1e3]}
    )
    said = r"demand table, row 2, field 'population': 'inf' is not a finite number"
    with pytest.raises(InputError, match=said):
        planner.check(overrides={"demand.countries": ["LU"]}, demand=table)


def test_multipoint_dealer_is_refused(tmp_path: Path) -> None:
    feature = {
        "type": "Feature",
        "properties": {"id": "r1", "name": "P", "brand": "Renault", "country": "FR"},
        "geometry": {"type": "MultiPoint", "coordinates": [[2.35, 48.85], [4.83, 45.76]]},
    }
    path = tmp_path / "dealers.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(InputError, match="MultiPoint geometry of 2 points: give one point per row"):
        _load(path)


def _geojson_points(path: Path, coordinates: list[list[float]], properties: dict[str, Any]) -> Path:
    # Python's json writes NaN and Infinity as bare words, as careless tools do.
    features = [
        {
            "type": "Feature",
            "properties": properties,
            "geometry": {"type": "Point", "coordinates": xy},
        }
        for xy in coordinates
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_dealer_with_nan_or_infinite_coordinates_is_refused(tmp_path: Path) -> None:
    # Before: read as (0, 0) and refused as "lon 0.0, lat 0.0 lies outside FR".
    props = {"id": "r1", "name": "P", "brand": "Renault", "country": "FR"}
    path = _geojson_points(
        tmp_path / "dealers.geojson", [[math.nan, 48.85], [2.35, math.inf], [2.35, 48.85]], props
    )
    with pytest.raises(InputError) as caught:
        _load(path)
    assert [(p.row, p.field, p.message) for p in problems_of(caught)] == [
        (row, "geometry", "coordinates are not numbers (NaN or infinite)") for row in (2, 3)
    ]


def test_demand_point_with_nan_coordinates_is_refused(tmp_path: Path) -> None:
    # Before: an unexplained GEOSException from the country lookup.
    path = _geojson_points(tmp_path / "people.geojson", [[math.nan, 49.6]], {"population": 10})
    with pytest.raises(InputError) as caught:
        read_demand_file(path)
    (problem,) = problems_of(caught)
    assert problem.field == "geometry"
    assert problem.message == "feature 1: coordinates are not numbers (NaN or infinite)"


def test_a_line_is_not_a_dealer_location(tmp_path: Path) -> None:
    # Before: read silently as a point somewhere along the line.
    feature = {
        "type": "Feature",
        "properties": {"id": "r1", "name": "P", "brand": "Renault", "country": "FR"},
        "geometry": {"type": "LineString", "coordinates": [[2.35, 48.85], [2.40, 48.86]]},
    }
    path = tmp_path / "dealers.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    with pytest.raises(InputError, match="a LineString is neither a point nor a polygon"):
        _load(path)


def test_two_longitude_columns_are_refused_unless_mapped(tmp_path: Path) -> None:
    path = tmp_path / "dealers.csv"
    path.write_text("id,name,brand,country,lon,lat,longitude\nr1,Paris,Renault,FR,2.35,48.85,99\n")
    expected = r"2 columns could be the longitude: \('lon', 'longitude'\)"
    with pytest.raises(InputError, match=expected):
        _load(path)
    sites = _load(path, columns={"lon": "lon"})
    assert list(sites["lon"]) == [2.35]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            "id,id,name,brand,country,lon,lat\nr1,r2,Paris,Renault,FR,2.35,48.85",
            "the dealer id could be any of 2 columns headed 'id' (columns 1, 2)",
        ),
        (
            "id,name,brand,country,lon,lat,lat\nr1,Paris,Renault,FR,2.35,48.85,45.76",
            "the latitude could be any of 2 columns headed 'lat' (columns 6, 7)",
        ),
    ],
)
def test_two_columns_headed_alike_are_refused(tmp_path: Path, table: str, expected: str) -> None:
    # Read by header, only the first of the two would be read ("r1", 48.85)
    # and the other's value ("r2", 45.76) silently ignored.
    path = tmp_path / "dealers.csv"
    path.write_text(table + "\n")
    with pytest.raises(InputError) as info:
        _load(path)
    assert len(info.value.problems) == 1
    assert expected in str(info.value)


def _scenario(dealers: Path, **chargers: object) -> object:
    from planner.scenario.build import scenario_from

    return scenario_from(
        {
            "dealers": {"files": [{"path": str(dealers)}]},
            "demand": {"countries": ["LU"]},
            "chargers": chargers,
        }
    )


def test_sites_that_can_take_no_charger_are_excluded(tmp_path: Path) -> None:
    from planner.pipeline.load import load_inputs

    path = tmp_path / "dealers.csv"
    path.write_text(
        "id,name,brand,country,lon,lat,max_chargers,grid_kw\n"
        "a,Lux,Renault,LU,6.13,49.61,0,\n"
        "b,Esch,Nissan,LU,5.98,49.50,,100\n"
        "c,Ettelbruck,Renault,LU,6.10,49.85,,\n"
    )
    inputs = load_inputs(_scenario(path, power_kw=150))  # type: ignore[arg-type]
    excluded = dict(zip(inputs.sites["name"], inputs.sites["excluded"], strict=True))
    assert excluded == {"Lux": True, "Esch": True, "Ettelbruck": False}
    assert inputs.counts["dealers"]["no_charger_room"] == 2
    assert any("2 site(s) excluded" in w for w in inputs.counts["warnings"])


def test_fixed_site_that_can_take_no_charger_is_an_error(tmp_path: Path) -> None:
    from planner.pipeline.load import load_inputs

    path = tmp_path / "dealers.csv"
    path.write_text(
        "id,name,brand,country,lon,lat,max_chargers,fixed\n"
        "a,Lux,Renault,LU,6.13,49.61,0,yes\n"
        "c,Ettelbruck,Renault,LU,6.10,49.85,,\n"
    )
    with pytest.raises(InputError, match=r"dealers a\).*is fixed but its max_chargers"):
        load_inputs(_scenario(path))  # type: ignore[arg-type]


def test_absurd_numbers_are_refused_naming_the_row(tmp_path: Path) -> None:
    """1e308 people or €1e308 overflowed sums and hung the charger sizing; now refused."""
    from planner.inputs.demand import load_demand
    from planner.inputs.sites import load_sites
    from planner.scenario.schema import DealerFile, DealersConfig, DemandConfig

    demand = tmp_path / "people.csv"
    demand.write_text("name,lon,lat,population\nA,6.13,49.61,1e308\nB,6.0,49.5,100\n")
    with pytest.raises(InputError) as caught:
        load_demand(DemandConfig(countries=["LU"], source=demand))
    assert "row 2, field 'population': population above 1,000,000,000" in str(caught.value)

    dealers = tmp_path / "dealers.csv"
    dealers.write_text(
        "dealer_id,brand,name,country,lon,lat,site_cost_eur\nR1,Renault,Gare,LU,6.13,49.60,1e308\n"
    )
    with pytest.raises(InputError) as caught:
        load_sites(DealersConfig(files=[DealerFile(path=dealers)]), countries=["LU"])
    assert "field 'site_cost_eur': 1e+308 is above 10,000,000,000" in str(caught.value)


def test_a_named_pipe_given_as_an_input_file_is_refused(tmp_path: Path) -> None:
    # Before: opening a pipe blocks until something writes to it, so the run hung.
    from planner.inputs.corridors import load_corridors
    from planner.scenario.schema import load_scenario

    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    expected = "is not a regular file (a pipe, socket or device); give a file"
    for read in (_load, read_demand_file, load_corridors, load_scenario):
        with pytest.raises(InputError, match=re.escape(expected)):
            read(pipe)


def test_a_scenario_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    # Windows editors save UTF-8 with a mark; before, TOML read it as a stray character.
    from planner.scenario.schema import load_scenario

    path = tmp_path / "s.toml"
    path.write_bytes("\ufeff[model]\np = 7\n".encode())
    assert load_scenario(path).model.p == 7


def test_a_dealer_file_listed_twice_is_refused(tmp_path: Path) -> None:
    # Before: every dealer became two sites with the same id.
    path = tmp_path / "dealers.csv"
    path.write_text(
        "id,name,brand,country,lon,lat\nr1,Paris,Renault,FR,2.35,48.85\n", encoding="utf-8"
    )
    config = DealersConfig(
        files=[DealerFile(path=path), DealerFile(path=tmp_path / "." / path.name)]
    )
    with pytest.raises(InputError, match=r"listed twice \(entries 1 and 2\); list it once"):
        load_sites(config, countries=["FR"])


def test_a_brand_column_overruled_by_the_scenario_is_warned(tmp_path: Path) -> None:
    # Before: brand = "Nissan" turned every Renault row into Nissan without a word.
    path = tmp_path / "dealers.csv"
    path.write_text(
        "id,name,brand,country,lon,lat\n"
        "r1,Paris,Renault,FR,2.35,48.85\nn1,Lyon,Nissan,FR,4.83,45.76\n",
        encoding="utf-8",
    )
    config = DealersConfig(files=[DealerFile(path=path, brand="Nissan")])
    loaded = load_sites(config, countries=["FR"])
    assert set(loaded.sites["brands"]) == {"Nissan"}
    assert [(w.row, w.field, w.message) for w in loaded.warnings] == [
        (2, "brand", "the brand column says Renault, the scenario's brand (Nissan) is used")
    ]
