"""Demand and station files read like dealer files: encodings, delimiters, number conventions.

The old demand reader read every CSV as UTF-8 and took ``"132.780"`` for
132.78; these tests pin the shared reader's behaviour instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.errors import InputError, Problem
from planner.inputs.demand import load_demand
from planner.inputs.demand_points import read_demand_file
from planner.inputs.sites import load_sites
from planner.inputs.stations import load_chargers
from planner.scenario.schema import DealerFile, DealersConfig, DemandConfig

#: A municipal statistics export as Excel saves it in Luxembourg or Germany:
#: semicolons, decimal commas in the coordinates, dots grouping thousands.
LUXEMBOURG_EXPORT = (
    "Gemeinde;Longitude;Latitude;population\n"
    'Luxembourg;6,1296;49,6116;"132.780"\n'
    'Esch-sur-Alzette;5,9806;49,4958;"36.625"\n'
    'Düdelingen;6,0875;49,4806;"21.291"\n'
    "Ettelbruck;6,1042;49,8475;9.452\n"
)


def _write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _problems(caught: pytest.ExceptionInfo[InputError]) -> list[Problem]:
    return [p for p in caught.value.problems if isinstance(p, Problem)]


def _load(path: Path, **options: object) -> object:
    return load_demand(DemandConfig(countries=["LU"], source=path, **options))


def test_windows_1252_semicolons_decimal_commas_and_thousands_dots(tmp_path: Path) -> None:
    # Old reader: "not a readable CSV file" (the ü is not UTF-8).
    path = _write(tmp_path, LUXEMBOURG_EXPORT.replace("Gemeinde", "name"), "cp1252")
    demand = load_demand(DemandConfig(countries=["LU"], source=path))
    by_name = demand.set_index("name")
    assert list(by_name.index) == ["Luxembourg", "Esch-sur-Alzette", "Düdelingen", "Ettelbruck"]
    # The file writes decimals with a comma, so the dot groups thousands.
    assert by_name.loc["Luxembourg", "population"] == 132_780
    assert by_name.loc["Esch-sur-Alzette", "population"] == 36_625
    assert by_name.loc["Düdelingen", "population"] == 21_291
    assert by_name.loc["Ettelbruck", "population"] == 9_452
    assert by_name.loc["Luxembourg", "lon"] == pytest.approx(6.1296)
    assert by_name.loc["Luxembourg", "lat"] == pytest.approx(49.6116)
    assert (demand["country"] == "LU").all()


def test_the_same_export_in_utf8_is_not_read_as_132_78_people(tmp_path: Path) -> None:
    # Old reader: read this file, with Luxembourg City at 132.78 inhabitants.
    path = _write(tmp_path, LUXEMBOURG_EXPORT.replace("Gemeinde", "name"))
    demand = load_demand(DemandConfig(countries=["LU"], source=path))
    assert demand["population"].tolist() == [132_780.0, 36_625.0, 21_291.0, 9_452.0]


def test_decimal_comma_file_reads_a_lone_comma_as_decimal(tmp_path: Path) -> None:
    path = _write(tmp_path, "lon;lat;population\n6,1296;49,6116;1,500\n6,13;49,61;12,25\n")
    demand = _load(path)
    assert demand["population"].tolist() == [1.5, 12.25]  # type: ignore[index]


def test_decimal_point_file_reads_a_lone_dot_as_decimal(tmp_path: Path) -> None:
    path = _write(tmp_path, "lon,lat,population\n6.1296,49.6116,2.500\n")
    demand = _load(path)
    assert demand["population"].tolist() == [2.5]  # type: ignore[index]


def test_a_column_mixing_comma_and_dot_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "lon;lat;population\n6,13;49,61;1,234\n6,10;49,60;1.5\n")
    with pytest.raises(InputError) as caught:
        _load(path)
    (problem,) = _problems(caught)
    assert (problem.row, problem.field) == (2, "population")
    assert problem.message.startswith("'1,234' is ambiguous: 1234 if ',' separates thousands")
    assert "1.234 if it is the decimal mark" in problem.message
    assert "write 1234 without a thousands separator, or 1,2340" in problem.message
    assert f"{path.name}, row 2, field 'population': '1,234' is ambiguous" in str(caught.value)


def test_a_file_without_any_decimal_mark_refuses_ambiguous_numbers(tmp_path: Path) -> None:
    # Whole-degree coordinates show no decimal mark: nothing tells what "132.780" is.
    path = _write(tmp_path, "name;lon;lat;population\nLuxembourg;6;50;132.780\nB;6;50;100\n")
    with pytest.raises(InputError) as caught:
        _load(path)
    (problem,) = _problems(caught)
    assert (problem.row, problem.field) == (2, "population")
    assert "no other number in the file shows its decimal mark" in problem.message
    assert "132780" in problem.message and "132.78" in problem.message
    assert "decimal = ',' or '.'" in problem.message


def test_the_scenario_states_the_decimal_mark_a_file_leaves_open(tmp_path: Path) -> None:
    path = _write(tmp_path, "name;lon;lat;population\nLuxembourg;6;50;132.780\nB;6;50;100\n")
    people = load_demand(DemandConfig(countries=["LU"], source=path, decimal=","))
    assert sorted(people["population"]) == [100, 132_780]
    tiny = load_demand(DemandConfig(countries=["LU"], source=path, decimal="."))
    assert sorted(tiny["population"]) == pytest.approx([100, 132.78])
    dealers = _write(
        tmp_path,
        'dealer_id,brand,name,country,lon,lat,grid_kw\nR1,Renault,Gare,LU,6,50,"1,500"\n',
        name="dealers.csv",
    )
    with pytest.raises(InputError, match="grid_kw"):
        load_sites(DealersConfig(files=[DealerFile(path=dealers)]), countries=["LU"])
    stated = DealersConfig(files=[DealerFile(path=dealers, decimal=".")])
    assert load_sites(stated, countries=["LU"]).dealers["grid_kw"].tolist() == [1500.0]


def test_coordinates_have_only_their_decimal_reading(tmp_path: Path) -> None:
    # 6130 degrees is no longitude: "6,130" can only be 6.13, whatever the file.
    path = _write(tmp_path, "name;lon;lat;population\nLux;6,130;49,611;5\n")
    demand = load_demand(DemandConfig(countries=["LU"], source=path))
    assert demand["lon"].tolist() == pytest.approx([6.13])
    assert demand["lat"].tolist() == pytest.approx([49.611])


def test_geojson_text_population_without_convention_is_refused(tmp_path: Path) -> None:
    # GeoJSON numbers are typed and show no decimal mark; a text "132.780" stays open.
    features = [
        {
            "type": "Feature",
            "properties": {"id": "lux", "population": "132.780"},
            "geometry": {"type": "Point", "coordinates": [6.1296, 49.6116]},
        }
    ]
    path = tmp_path / "people.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(InputError) as caught:
        _load(path)
    (problem,) = _problems(caught)
    assert problem.field == "population"
    assert problem.message.startswith("feature 1: '132.780' is ambiguous")


def test_geojson_text_population_follows_the_stated_decimal_mark(tmp_path: Path) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {"id": name, "population": population},
            "geometry": {"type": "Point", "coordinates": [6.1296, 49.6116 + i / 100]},
        }
        for i, (name, population) in enumerate([("a", "1.500"), ("b", "2.000")])
    ]
    path = tmp_path / "people.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    # Before: the stated mark was not passed to a vector file's reader, which
    # refused the cells as ambiguous (or, beside an unambiguous "1,234.5",
    # read them as 1.5 and 2).
    demand = read_demand_file(path, decimal=",")
    assert demand["population"].tolist() == [1500.0, 2000.0]


def test_station_file_uses_the_same_number_convention(tmp_path: Path) -> None:
    text = "id;lon;lat;power_kw\na;6,1296;49,6116;1.200\nb;6,13;49,61;350\n"
    path = _write(tmp_path, text, "cp1252", name="stations.csv")
    chargers = load_chargers(path)
    assert chargers["power_kw"].tolist() == [1200.0, 350.0]


def test_station_column_mixing_comma_and_dot_is_refused(tmp_path: Path) -> None:
    text = "id;lon;lat;power_kw\na;6,1296;49,6116;1.200\nb;6,13;49,61;22,5\n"
    path = _write(tmp_path, text, name="stations.csv")
    with pytest.raises(InputError) as caught:
        load_chargers(path)
    assert "stations.csv, row 2, field 'power_kw': '1.200' is ambiguous" in str(caught.value)
    assert "its column writes numbers both with ',' and with '.'" in str(caught.value)


def test_station_file_with_an_ambiguous_power_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "id,lon,lat,power_kw\na,6,50,1.200\n", name="stations.csv")
    with pytest.raises(InputError) as caught:
        load_chargers(path)
    assert "stations.csv, row 2, field 'power_kw': '1.200' is ambiguous" in str(caught.value)
    # Before: "…or state the file's decimal mark with decimal = …", a field
    # a station file's entry does not have.
    assert str(caught.value).endswith("or 1.2000 for the decimal number")


def test_station_file_with_two_power_columns_is_refused(tmp_path: Path) -> None:
    # Only the first would be read: 22 kW, the 350 kW beside it ignored.
    path = _write(tmp_path, "id,lon,lat,power_kw,Power kW\na,6,50,22,350\n", name="stations.csv")
    with pytest.raises(InputError) as caught:
        load_chargers(path)
    assert "the power_kw could be any of 2 columns headed 'power_kw' (columns 4, 5)" in str(
        caught.value
    )


def test_dealer_coordinates_of_three_decimals_are_read_as_decimals(tmp_path: Path) -> None:
    # Rounded to 100 m: every coordinate has one dot and three digits, and
    # nothing else in the file shows the decimal mark.
    text = "dealer_id,brand,name,country,lon,lat\nR1,Renault,Gare,LU,6.130,49.600\n"
    path = _write(tmp_path, text, name="dealers.csv")
    sites = load_sites(DealersConfig(files=[DealerFile(path=path)]), countries=["LU"]).sites
    assert sites["lon"].tolist() == pytest.approx([6.13])
    assert sites["lat"].tolist() == pytest.approx([49.6])


def test_an_unquoted_thousands_separator_is_refused_not_cut(tmp_path: Path) -> None:
    # Before: "120,000" split into 120 and a cell beyond the header, which was
    # dropped unsaid: 120 people, a 1 kW station. Dealer files refused it already.
    shifted = "has 7 cells but the header has 6; does a value hold the delimiter without quotes?"
    people = _write(
        tmp_path,
        "demand_id,name,country,lon,lat,population\nD1,Luxembourg,LU,6.13,49.61,120,000\n",
    )
    with pytest.raises(InputError) as caught:
        _load(people)
    assert [(p.row, p.message) for p in _problems(caught)] == [(2, shifted)]
    stations = _write(
        tmp_path,
        "station_id,operator,lon,lat,power_kw,points\nS1,Ionity,6.13,49.61,1,500,4\n",
        name="stations.csv",
    )
    with pytest.raises(InputError) as caught:
        load_chargers(stations)
    assert [(p.row, p.message) for p in _problems(caught)] == [(2, shifted)]


def test_a_station_of_absurd_power_or_points_is_refused(tmp_path: Path) -> None:
    # Before: 1e12 kW and 1e15 points were read as they stand.
    stations = _write(
        tmp_path,
        "station_id,operator,lon,lat,power_kw,points\n"
        "S1,Ionity,6.13,49.61,1e12,4\nS2,Ionity,6.14,49.62,350,1e15\n",
        name="stations.csv",
    )
    with pytest.raises(InputError) as caught:
        load_chargers(stations)
    assert [(p.row, p.field, p.message) for p in _problems(caught)] == [
        (2, "power_kw", "1e+12 kW: more than any station"),
        (3, "points", "1e+15 charging points: more than any station"),
    ]


def test_a_station_power_column_in_watts_is_read_in_kw(tmp_path: Path) -> None:
    # Before: units in brackets were dropped with the brackets, so "Power [W]"
    # of 22,000 was a 22,000 kW station, and with min_power_kw = 150 every
    # AC post counted as a high-power charger.
    rows = "S1,6.13,49.61,22000,2\nS2,6.14,49.62,350000,4\n"
    for header, kw in (
        ("Power [W]", [350.0]),
        # Before: read as kW, the unit not the bracket's whole text.
        ("Power (in W)", [350.0]),
        ("Power [W AC]", [350.0]),
        ("power (MW)", None),
        ("Power [kW]", None),
    ):
        stations = _write(
            tmp_path, f"station_id,lon,lat,{header},points\n{rows}", name="stations.csv"
        )
        if kw is None:
            with pytest.raises(InputError, match="more than any station"):
                load_chargers(stations, min_power_kw=150)
            continue
        assert load_chargers(stations, min_power_kw=150)["power_kw"].tolist() == kw
    stations = _write(tmp_path, f"station_id,lon,lat,Power [kVA],points\n{rows}", "utf-8", "s.csv")
    with pytest.raises(InputError) as caught:
        load_chargers(stations)
    assert str(caught.value) == (
        "s.csv, field 'Power [kVA]': the column 'Power [kVA]' states the unit 'kVA'; "
        "give the values in kW (or W or MW), named in the header"
    )


def test_a_demand_row_of_no_country_is_refused(tmp_path: Path) -> None:
    # Before: XX passed the two-letter check and the row counted as outside the countries.
    people = _write(tmp_path, "id,country,lon,lat,population\nD1,XX,6.13,49.61,1000\n")
    with pytest.raises(InputError) as caught:
        _load(people)
    assert [(p.row, p.field, p.message) for p in _problems(caught)] == [
        (2, "country", "not an ISO 3166-1 alpha-2 country code")
    ]


def test_a_demand_point_clearly_outside_its_stated_country_is_refused(tmp_path: Path) -> None:
    # Before: a point in Chile written LU counted as uncovered Luxembourg demand.
    text = (
        "id,country,lon,lat,population\n"
        "D1,LU,6.13,49.61,1000\n"  # Luxembourg City
        "D2,LU,-70,-30,5000\n"  # Chile
        "D3,LU,4.35,50.85,8000\n"  # Brussels
    )
    with pytest.raises(InputError) as caught:
        _load(_write(tmp_path, text))
    assert [(p.row, p.field, p.message) for p in _problems(caught)] == [
        (3, "lon", "lon -70, lat -30 lies outside LU"),
        (4, "lon", "lon 4.35, lat 50.85 lies in BE, not in LU (137 km beyond its border)"),
    ]


@pytest.mark.parametrize(
    ("decimal", "cell"), [(",", "1,234.5"), (",", "48.85"), (".", "1.234,5"), (".", "48,85")]
)
def test_a_number_against_the_stated_decimal_mark_is_refused(
    tmp_path: Path, decimal: str, cell: str
) -> None:
    # Read before by its own mark: "1,234.5" became 1234.5 in a file stated to use commas.
    path = _write(tmp_path, f'name;lon;lat;population\nLux;6;50;"{cell}"\nB;6;50;100\n')
    with pytest.raises(InputError) as caught:
        _load(path, decimal=decimal)
    (problem,) = _problems(caught)
    assert (problem.row, problem.field) == (2, "population")
    assert f"'{cell}' writes" in problem.message
    assert f"the scenario states decimal = '{decimal}'" in problem.message


def test_a_dealer_number_against_the_stated_decimal_mark_is_refused(tmp_path: Path) -> None:
    dealers = _write(
        tmp_path,
        'dealer_id,brand,name,country,lon,lat,grid_kw\nR1,Renault,Gare,LU,6,50,"1.500,5"\n',
        name="dealers.csv",
    )
    stated = DealersConfig(files=[DealerFile(path=dealers, decimal=".")])
    with pytest.raises(InputError) as caught:
        load_sites(stated, countries=["LU"])
    (problem,) = _problems(caught)
    assert (problem.row, problem.field) == (2, "grid_kw")
    assert "'1.500,5' writes ',' as its decimal mark" in problem.message


#: A polygon whose ring stops short of its first point, as a hand-edited GeoJSON has it.
OPEN_RING = {
    "type": "Feature",
    "properties": {"dealer_id": "R1", "brand": "Renault", "population": 1000},
    "geometry": {"type": "Polygon", "coordinates": [[[6.1, 49.6], [6.2, 49.6]]]},
}


def test_an_open_polygon_ring_is_refused_in_plain_words(
    tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    # Before: a dealer file crashed on shapely's GEOSException; a demand file
    # showed GDAL's warning and "IllegalArgumentException: Points of LinearRing...".
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [OPEN_RING]}))
    plain = "a polygon's ring is not closed (its last point must repeat its first)"
    with pytest.raises(InputError) as caught:
        load_sites(DealersConfig(files=[DealerFile(path=path)]), countries=["LU"])
    assert str(caught.value) == f"{path.name}: is not a readable geodata file: {plain}"
    with pytest.raises(InputError) as caught:
        _load(path)
    assert str(caught.value) == f"{path.name}: not a readable vector file: {plain}"
    assert not [w for w in recwarn if "Non closed ring" in str(w.message)]


def test_true_among_geojson_numbers_is_refused_not_read_as_one(tmp_path: Path) -> None:
    # Before: GDAL typed the property as a number, so true was 1 person, or a
    # site of at most 1 charger.
    def collection(field: str, values: list[object], **more: object) -> Path:
        features = [
            {
                "type": "Feature",
                "properties": {"id": f"p{k}", field: value, **more},
                "geometry": {"type": "Point", "coordinates": [6.13, 49.61 + k / 100]},
            }
            for k, value in enumerate(values)
        ]
        path = tmp_path / f"{field}.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        return path

    with pytest.raises(InputError) as caught:
        read_demand_file(collection("population", [1200, True, 800]))
    (problem,) = _problems(caught)
    assert (problem.field, problem.message) == ("population", "feature 2: 'true' is not a number")
    dealers = collection("max_chargers", [4, True], name="G", brand="Renault", country="LU")
    with pytest.raises(InputError, match=r"row 3, field 'max_chargers': 'true' is not a number"):
        load_sites(DealersConfig(files=[DealerFile(path=dealers)]), countries=["LU"])


def test_a_population_read_as_decimals_by_the_coordinates_mark_is_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _write(tmp_path, "id,lon,lat,population\na,6.13,49.61,132.780\nb,6.14,49.62,900\n")
    with caplog.at_level("WARNING"):
        demand = read_demand_file(path)
    assert demand["population"].tolist() == [132.78, 900.0]
    # Before: 132.78 people, without a word.
    assert "field 'population': the column shows no decimal mark of its own" in caplog.text


def test_a_point_with_more_people_than_any_metropolis_is_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: 500,000,000 people at a town took a run's coverage from 85 % to 99.7 %, unsaid.
    rows = "a,6.13,49.61,12000\nb,6.14,49.62,500000000\nc,6.15,49.63,41000000\n"
    path = _write(tmp_path, "id,lon,lat,population\n" + rows)
    with caplog.at_level("WARNING"):
        demand = read_demand_file(path)
    assert demand["population"].tolist() == [12000.0, 500e6, 41e6]  # kept: it may be an aggregate
    assert (
        "field 'population': 2 point(s) with more than 40,000,000 people, more than the largest "
        "metropolitan area (first: row 3, 500,000,000): an aggregate, or a digit too many?"
    ) in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        read_demand_file(_write(tmp_path, "id,lon,lat,population\na,6.13,49.61,39000000\n"))
    assert "metropolitan" not in caplog.text


def test_an_empty_vector_file_is_named_as_empty(tmp_path: Path) -> None:
    # Before: GDAL's "not recognized as being in a supported file format; It might
    # help to specify the correct driver explicitly by prefixing the file path ...".
    path = tmp_path / "areas.geojson"
    path.write_bytes(b"")
    with pytest.raises(InputError) as caught:
        _load(path)
    assert str(caught.value) == "areas.geojson: the file is empty"
