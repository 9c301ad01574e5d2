"""The corpus of dealer files under tests/data/dealers: what a user sees for each."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from planner.errors import InputError
from planner.inputs.sites import SiteLoad, load_sites
from planner.scenario.schema import DealerFile, DealersConfig

CORPUS = Path(__file__).parent / "data" / "dealers"

SWAP_HINT = (
    "lon 50.6292, lat 3.0573 lies outside FR (France) but inside once swapped: latitude and "
    "longitude look swapped (set fix_swapped_coordinates = true for this file to swap them)"
)

#: Every bad file and the exact lines the command line prints for it.
BAD = {
    "bad_empty.csv": ["bad_empty.csv: the file is empty"],
    "bad_header_only.csv": ["bad_header_only.csv: the file has a header but no data rows"],
    "bad_missing_column.csv": [
        "bad_missing_column.csv: no latitude column: none of the columns ('id', 'name', "
        "'brand', 'country', 'lon') looks like one; name it with columns.lat in the scenario"
    ],
    "bad_text_coordinate.csv": [
        "bad_text_coordinate.csv, row 3, field 'lat': 'north' is not a number"
    ],
    "bad_latitude_123.csv": [
        "bad_latitude_123.csv, row 4, field 'lat': 123.0 is out of range [-90, 90]"
    ],
    "bad_unknown_country.csv": [
        "bad_unknown_country.csv, row 2, field 'country': 'XX' is not an ISO 3166-1 alpha-2 "
        "country code"
    ],
    "bad_unknown_brand.csv": [
        "bad_unknown_brand.csv, row 2, field 'brand': unknown brand 'Tesla'; expected Renault "
        "or Nissan (or Dacia, Alpine, Infiniti)"
    ],
    "bad_duplicate_ids.csv": [
        "bad_duplicate_ids.csv, row 3, field 'id': dealer id '7' is also on row 2"
    ],
    "bad_outside_country.csv": [
        "bad_outside_country.csv, row 2, field 'lon/lat': lon 13.405, lat 52.52 lies in "
        "DE (Germany), not in FR (France) (540 km beyond its border)"
    ],
    "swapped.csv": [f"swapped.csv, row 3, field 'lon/lat': {SWAP_HINT}"],
    "bad_optional_values.csv": [
        "bad_optional_values.csv, row 2, field 'grid_kw': 'abc' is not a number",
        "bad_optional_values.csv, row 2, field 'site_cost_eur': -5.0 must not be negative",
        "bad_optional_values.csv, row 2, field 'max_chargers': 2.5 is not a whole number of "
        "chargers",
        "bad_optional_values.csv, row 2, field 'fixed': 'maybe' is not yes/no (use yes, no, "
        "true, false, 1 or 0)",
        "bad_optional_values.csv, row 3, field 'excluded': a dealer cannot be both fixed and "
        "excluded",
    ],
    "bad_many_problems.csv": [
        "bad_many_problems.csv, row 3, field 'id': dealer id is empty",
        "bad_many_problems.csv, row 4, field 'country': 'FRANCIA' is not an ISO 3166-1 "
        "alpha-2 country code",
        "bad_many_problems.csv, row 5, field 'lon': 'x' is not a number",
        "bad_many_problems.csv, row 6, field 'lat': -91.0 is out of range [-90, 90]",
    ],
    "bad_unquoted_delimiter.csv": [
        "bad_unquoted_delimiter.csv, row 2: has 7 cells but the header has 6; does a value "
        "hold the delimiter without quotes?"
    ],
    "bad_projected_no_crs.csv": [
        "bad_projected_no_crs.csv, row 2, field 'x': 261845.7 is out of range [-180, 180]; "
        "projected coordinates? state the file's crs in the scenario",
        "bad_projected_no_crs.csv, row 2, field 'y': 6250566.7 is out of range [-90, 90]; "
        "projected coordinates? state the file's crs in the scenario",
    ],
    "bad_metres_without_crs.geojson": [
        "bad_metres_without_crs.geojson, row 2, field 'geometry': 160768.9 is out of range "
        "[-180, 180]; projected coordinates? state the file's crs in the scenario",
        "bad_metres_without_crs.geojson, row 2, field 'geometry': 5404091.3 is out of range "
        "[-90, 90]; projected coordinates? state the file's crs in the scenario",
    ],
    "bad_excel_text_coordinate.xlsx": [
        "bad_excel_text_coordinate.xlsx, row 2, field 'lat': '48.8566 N' is not a number"
    ],
    "bad_not_a_workbook.xlsx": [
        "bad_not_a_workbook.xlsx: is not a readable Excel workbook: File is not a zip file"
    ],
    "bad_unknown_type.dat": [
        "bad_unknown_type.dat: unknown file type '.dat'; use CSV, XLSX, GeoJSON, GeoPackage "
        "or Parquet"
    ],
}

#: Every good file: rows read, dropped by reason, sites and dealers merged.
GOOD = {
    "semicolon_decimal_comma_cp1252.csv": (3, {}, 2, 1),
    "comma_utf8_bom.csv": (4, {}, 3, 1),
    "pipe_latin1.txt": (2, {}, 1, 1),
    "tab_utf16.txt": (2, {}, 1, 1),
    "blank_duplicate_missing.csv": (
        8,
        {"blank row": 2, "duplicate row": 1, "missing coordinates": 1},
        3,
        1,
    ),
    "excel.xlsx": (4, {"blank row": 1}, 2, 1),
    "webmercator_3857.geojson": (3, {}, 2, 1),
    "lambert93.gpkg": (3, {}, 2, 1),
    "geo.parquet": (3, {}, 2, 1),
    "plain.parquet": (3, {}, 2, 1),
}


def _load(name: str, **file_options: Any) -> SiteLoad:
    spec = DealerFile(path=CORPUS / name, **file_options)
    return load_sites(DealersConfig(files=[spec]), countries=None)


def test_corpus_is_complete() -> None:
    on_disk = {p.name for p in CORPUS.iterdir() if p.suffix != ".md"}
    assert on_disk == set(BAD) | set(GOOD) | {"bad_broken.geojson"}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_gives_every_problem(name: str) -> None:
    with pytest.raises(InputError) as caught:
        _load(name)
    assert [str(p) for p in caught.value.problems] == BAD[name]
    first = BAD[name][0]
    more = len(BAD[name]) - 1
    assert str(caught.value) == (first if not more else f"{first} (and {more} more problem(s))")


def test_broken_geojson_names_the_file() -> None:
    with pytest.raises(InputError) as caught:
        _load("bad_broken.geojson")
    (problem,) = caught.value.problems
    assert str(problem).startswith("bad_broken.geojson: is not a readable geodata file: ")


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_file_counts(name: str) -> None:
    read, dropped, sites, merged = GOOD[name]
    load = _load(name)
    counts = load.counts
    assert counts["read"] == read
    assert counts["dropped_by_reason"] == dropped
    assert counts["sites"] == sites
    assert counts["merged"] == merged
    assert counts["read"] == (
        counts["sites"] + counts["merged"] + counts["dropped"] + counts["outside_countries"]
    )


def test_warnings_of_the_blank_duplicate_missing_file() -> None:
    load = _load("blank_duplicate_missing.csv")
    assert [str(w) for w in load.warnings] == [
        "blank_duplicate_missing.csv, row 5: same as row 4: row dropped (duplicate row)",
        "blank_duplicate_missing.csv, row 7, field 'lon/lat': no coordinates: row dropped "
        "(missing coordinates)",
        "blank_duplicate_missing.csv, row 8, field 'name': name is empty: the dealer id stands in",
        "blank_duplicate_missing.csv: 2 blank rows skipped (rows 3, 6)",
    ]


def test_swapped_coordinates_fixed_when_asked() -> None:
    load = _load("swapped.csv", fix_swapped_coordinates=True)
    dealers = load.dealers.set_index("dealer_id")
    assert (dealers.loc["S2", "lon"], dealers.loc["S2", "lat"]) == (3.0573, 50.6292)
    assert [str(w) for w in load.warnings] == [
        "swapped.csv, row 3, field 'lon/lat': lon 50.6292, lat 3.0573 lies outside FR but "
        "inside once swapped: swapped"
    ]
    assert load.counts["swapped_fixed"] == 1
    assert load.counts["sites"] == 1


def test_german_headers_cp1252_and_decimal_commas() -> None:
    load = _load("semicolon_decimal_comma_cp1252.csv")
    dealers = load.dealers.set_index("dealer_id")
    assert dealers.loc["D-100", "name"] == "Autohaus Müller GmbH"
    assert dealers.loc["D-102", "name"] == "Garage Überlingen"
    assert dealers.loc["D-102", "brand"] == "Renault"  # Dacia belongs to the Renault group
    assert (dealers.loc["D-100", "lon"], dealers.loc["D-100", "lat"]) == (13.405, 52.52)
    assert dealers.loc["D-101", "country"] == "DE"


def test_names_are_preserved_exactly() -> None:
    load = _load("comma_utf8_bom.csv")
    dealers = load.dealers.set_index("dealer_id")
    assert dealers.loc["F-1", "name"] == 'Garage "Le Lion" <b>Paris</b>'
    assert dealers.loc["F-2", "name"] == "Nissan Paris\nCentre"
    assert dealers.loc["F-3", "name"] == "مرآب الشرق & Cie"
    assert dealers.loc["F-4", "name"] == "Concession très longue " * 40 + "end"
    assert dealers.loc["F-1", "grid_kw"] == 400.0
    assert dealers.loc["F-3", "grid_kw"] == 1200.5
    assert math.isnan(dealers.loc["F-2", "grid_kw"])
    assert bool(dealers.loc["F-1", "fixed"]) and not bool(dealers.loc["F-3", "fixed"])
    # Spreadsheet rows: F-2's name spans two lines but is one row.
    assert dealers.loc["F-3", "row"] == 4
    sites = load.sites.set_index("site_id")
    assert sites.loc["F-1", "name"] == 'Garage "Le Lion" <b>Paris</b> / Nissan Paris\nCentre'
    assert sites.loc["F-1", "brands"] == "Nissan;Renault"
    assert bool(sites.loc["F-1", "fixed"])


def test_excel_sheet_numbers_and_blank_row() -> None:
    load = _load("excel.xlsx")
    dealers = load.dealers.set_index("dealer_id")
    assert list(dealers.index) == ["1001", "1002", "1003"]
    assert dealers.loc["1003", "row"] == 5
    assert (dealers.loc["1003", "lon"], dealers.loc["1003", "lat"]) == (7.262, 43.7102)
    assert dealers.loc["1001", "grid_kw"] == 350.0


@pytest.mark.parametrize(
    "name", ["webmercator_3857.geojson", "lambert93.gpkg", "geo.parquet", "plain.parquet"]
)
def test_every_crs_ends_in_wgs84(name: str) -> None:
    load = _load(name)
    dealers = load.dealers.set_index("dealer_id")
    assert load.sites.crs.to_epsg() == 4326
    assert dealers.loc["G1", "lon"] == pytest.approx(1.4442, abs=1e-6)
    assert dealers.loc["G1", "lat"] == pytest.approx(43.6047, abs=1e-6)
    assert dealers.loc["G3", "lon"] == pytest.approx(-0.5792, abs=1e-6)


def test_crs_from_the_scenario_overrides_a_silent_geojson() -> None:
    load = _load("bad_metres_without_crs.geojson", crs="EPSG:3857")
    assert load.dealers.loc[0, "lon"] == pytest.approx(1.4442, abs=1e-4)
    assert load.dealers.loc[0, "lat"] == pytest.approx(43.6022, abs=1e-4)
