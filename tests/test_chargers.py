"""Existing charger layers: generic files, the BNetzA register, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from planner.errors import InputError, Problem
from planner.inputs.stations import CHARGER_COLUMNS, load_chargers
from tests.conftest import shared_path

DATA = Path(__file__).parent / "data" / "chargers"


def test_generic_csv() -> None:
    chargers = load_chargers(DATA / "generic.csv")
    assert tuple(chargers.columns) == CHARGER_COLUMNS
    assert chargers.crs.to_epsg() == 4326
    assert chargers.attrs["format"] == "generic"
    assert list(chargers["charger_id"]) == ["hpc-1", "hpc-2", "ac-3", "hpc-4"]
    np.testing.assert_allclose(chargers["power_kw"], [300, 350, 22, 150])
    # A station without a number of points has one.
    assert list(chargers["points"]) == [4, 6, 2, 1]
    assert chargers.loc[3, "name"] == "Allego Brussels, Ring"
    assert chargers.geometry.iloc[0].x == pytest.approx(4.8897)
    assert chargers.geometry.iloc[0].y == pytest.approx(52.3702)
    assert chargers["points"].dtype == np.int64


def test_min_power_drops_and_counts() -> None:
    chargers = load_chargers(DATA / "generic.csv", min_power_kw=150)
    assert list(chargers["charger_id"]) == ["hpc-1", "hpc-2", "hpc-4"]
    assert chargers.attrs["counts"] == {"read": 4, "kept": 3, "below_min_power": 1, "blank": 0}


def test_generic_geojson_takes_coordinates_from_the_geometry() -> None:
    chargers = load_chargers(DATA / "generic.geojson", min_power_kw=100)
    assert list(chargers["charger_id"]) == ["s1", "s2"]
    assert list(chargers["operator"]) == ["Electra", "Tesla"]
    assert list(chargers["name"]) == ["Electra Paris", "Supercharger Nice"]
    assert list(chargers["points"]) == [2, 8]
    np.testing.assert_allclose(chargers["lon"], [2.2945, 7.2620])
    np.testing.assert_allclose(chargers["lat"], [48.8584, 43.7102])


def test_bnetza_official_download_format() -> None:
    # Windows-1252, semicolons, decimal commas, title and note lines above the header.
    chargers = load_chargers(DATA / "bnetza_official.csv")
    assert chargers.attrs["format"] == "bnetza"
    assert chargers.attrs["counts"]["read"] == 3
    assert list(chargers["operator"]) == [
        "IONITY GmbH",
        "Stadtwerke Müllheim",
        "EnBW mobility+ AG und Co.KG",
    ]
    np.testing.assert_allclose(chargers["power_kw"], [350.0, 22.0, 150.0])
    np.testing.assert_allclose(chargers["lon"], [11.4702, 7.6290, 9.1829])
    np.testing.assert_allclose(chargers["lat"], [48.8190, 47.8080, 48.7840])
    assert list(chargers["points"]) == [6, 2, 2]
    assert chargers.loc[0, "name"] == "Raststätte Köschinger Forst Ost, 85120 Hepberg"
    # Ids are made from the row a user sees in a spreadsheet (header on row 4).
    assert chargers.loc[0, "charger_id"] == "bnetza-5"
    fast = load_chargers(DATA / "bnetza_official.csv", fmt="bnetza", min_power_kw=150)
    assert len(fast) == 2 and fast.attrs["counts"]["below_min_power"] == 1


def test_real_bnetza_register_matches_the_published_counts() -> None:
    # ../shared/data/README.md: 9,690 stations; 293 at ≥150 kW; 182 at ≥300 kW (170 IONITY).
    path = shared_path("data", "bnetza_ladesaeulenregister_2019-07-19.csv")
    fast = load_chargers(path, min_power_kw=150)
    assert fast.attrs["format"] == "bnetza"
    assert fast.attrs["counts"]["read"] == 9690
    assert len(fast) == 293
    very_fast = fast[fast["power_kw"] >= 300]
    assert len(very_fast) == 182
    assert int((very_fast["operator"] == "IONITY GmbH").sum()) == 170
    # Every station lies in Germany's bounding box.
    assert fast["lon"].between(5.8, 15.1).all() and fast["lat"].between(47.2, 55.1).all()
    assert fast["charger_id"].is_unique


def test_bad_cells_are_all_reported_with_row_and_field() -> None:
    with pytest.raises(InputError) as caught:
        load_chargers(DATA / "bad.csv")
    problems = [p for p in caught.value.problems if isinstance(p, Problem)]
    found = {(p.row, p.field) for p in problems}
    assert found == {
        (2, "power_kw"),  # 'fast' is not a number
        (3, "points"),  # 0 points
        (4, "lat"),  # latitude 95
        (5, "lon"),  # no coordinates
        (6, "power_kw"),  # negative power
        (7, "charger_id"),  # id 'a' used again
    }
    assert all(p.source == "bad.csv" for p in problems)
    assert "bad.csv, row 2, field 'power_kw'" in str(caught.value)


def test_missing_power_column_and_missing_file() -> None:
    with pytest.raises(InputError, match=r"no column for power_kw.*'id'"):
        load_chargers(DATA / "no_power.csv")
    with pytest.raises(InputError, match="not found"):
        load_chargers(DATA / "absent.csv")
    with pytest.raises(InputError, match="unknown charger file format"):
        load_chargers(DATA / "generic.csv", fmt="ocm")  # type: ignore[arg-type]


def test_forcing_the_register_format_on_a_generic_file_fails_clearly() -> None:
    # Before: "no column for power_kw, lon, lat in this bnetza charger file; its
    # columns are ..., 'power_kw', ..., 'lon', 'lat'", which contradicts itself.
    with pytest.raises(InputError) as caught:
        load_chargers(DATA / "generic.csv", fmt="bnetza")
    message = str(caught.value)
    assert "is not a BNetzA register export (its columns are " in message
    assert message.endswith('set format = "generic" or "auto" for it')


def test_two_columns_that_could_be_the_power_are_refused(tmp_path: Path) -> None:
    # Before: 'power_kw' was read and 'power' (22 kW on every row) ignored without a word.
    path = tmp_path / "stations.csv"
    path.write_text(
        "station_id,power_kw,lon,lat,power\nS1,150,4.35,50.85,22\nS2,350,4.40,50.80,22\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        load_chargers(path)
    (problem,) = caught.value.problems
    assert str(problem) == (
        "stations.csv, field 'power_kw': 2 columns could be the power: 'power_kw' and 'power'; "
        "keep one and remove or rename the others"
    )
    # A longitude named twice too; an axis name beside a geographic one is no rival.
    path.write_text(
        "station_id,power_kw,lon,longitude,lat,x\nS1,150,4.35,4.35,50.85,1\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="2 columns could be the longitude: 'lon' and 'longitude'"):
        load_chargers(path)
    path.write_text("station_id,power_kw,lon,lat,x,y\nS1,150,4.35,50.85,1,2\n", encoding="utf-8")
    assert load_chargers(path)["lon"].tolist() == [4.35]


def test_a_power_read_by_the_coordinates_decimal_mark_is_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: '1.500' became 1.5 kW and the station dropped below min_power_kw silently.
    path = tmp_path / "stations.csv"
    path.write_text(
        "station_id,power_kw,lon,lat\nS1,150,4.35,50.85\nS2,1.500,5.08646,50.68053\n",
        encoding="utf-8",
    )
    with caplog.at_level("WARNING"):
        stations = load_chargers(path, min_power_kw=150)
    assert stations.attrs["counts"]["below_min_power"] == 1  # the documented reading stands
    assert (
        "stations.csv, field 'power_kw': the column shows no decimal mark of its own, so "
        "numbers like '1.500' are read as decimals by the file's mark ('.' in its other "
        "columns): 1.5"
    ) in caplog.text
