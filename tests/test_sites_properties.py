"""Property-based tests: random dealer tables, with and without garbage, in every format.

Two properties hold for any table:

* reading raises nothing but :class:`~planner.errors.InputError`, whose
  problems print on one line each;
* when it succeeds, every row read is a dealer in a site, a dealer left out
  for its country, or counted as dropped.

For tables without garbage it must succeed, and the counts are known exactly.

Every reader sees at least 200 tables (:data:`EXAMPLES`; XLSX in two tests
of 100) and 200 files of random bytes; the examples are the same on every run (the "ci" profile of
``tests/conftest.py``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas
import hypothesis.strategies as st
import openpyxl
import pandas
import pytest
import shapely
from hypothesis import given, settings

from planner.errors import InputError, Problem
from planner.inputs.sites import SiteLoad, load_sites
from planner.scenario.schema import DealerFile, DealersConfig

#: Towns well inside their countries, so a few hundred metres of jitter keeps them there.
TOWNS = {
    "FR": (2.3522, 48.8566),
    "BE": (4.3517, 50.8503),
    "DE": (13.405, 52.52),
    "NL": (4.9041, 52.3676),
}
BRANDS = ["Renault", "nissan", " NISSAN ", "Dacia", "Alpine", "Infiniti", "Renault / Nissan"]
HEADER = ["dealer_id", "name", "brand", "country", "lat", "lon", "grid_kw", "fixed"]
#: Examples per property test; the rest of the settings come from the profile.
EXAMPLES = 200
SETTINGS = settings(max_examples=EXAMPLES)

names = st.text(st.characters(blacklist_categories=["Cs"]), min_size=0, max_size=30)
garbage = st.one_of(
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=20),
    st.sampled_from(["", " ", "nan", "inf", "-", "1,2,3", "N/A", "#VALUE!", "1e999", "°"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
)


@dataclass(frozen=True)
class Table:
    rows: list[list[str]]
    #: What each row is: "dealer", "blank", "duplicate", "no coordinates".
    kinds: list[str]


@st.composite
def clean_tables(draw: Any) -> Table:
    n = draw(st.integers(1, 25))
    # The first row is always a dealer in France, so some dealer lies in the countries.
    rows: list[list[str]] = [
        ["D-first", "Renault Paris", "Renault", "FR", "48.8566", "2.3522", "", ""]
    ]
    kinds: list[str] = ["dealer"]
    decimal_comma = draw(st.booleans())
    for i in range(n):
        kind = draw(st.sampled_from(["dealer"] * 6 + ["blank", "duplicate", "no coordinates"]))
        if kind == "duplicate" and rows and kinds[-1] == "dealer":
            rows.append(list(rows[-1]))
            kinds.append(kind)
            continue
        if kind == "blank" and i < n - 1:
            rows.append([""] * len(HEADER))
            kinds.append(kind)
            continue
        country = draw(st.sampled_from(sorted(TOWNS)))
        lon, lat = TOWNS[country]
        lon += draw(st.integers(-20, 20)) * 0.0005
        lat += draw(st.integers(-20, 20)) * 0.0005
        coords = [f"{lat:.5f}", f"{lon:.5f}"]
        if decimal_comma:
            coords = [c.replace(".", ",") for c in coords]
        if kind == "no coordinates":
            coords = ["", ""]
        else:
            kind = "dealer"
        grid = draw(st.sampled_from(["", "150", "1200,5", "350.0"]))
        fixed = draw(st.sampled_from(["", "yes", "no", "0", "1", "TRUE"]))
        rows.append(
            [
                f"D{i}",
                draw(names),
                draw(st.sampled_from(BRANDS)),
                country.lower(),
                *coords,
                grid,
                fixed,
            ]
        )
        kinds.append(kind)
    return Table(rows, kinds)


@st.composite
def garbled_tables(draw: Any) -> Table:
    table = draw(clean_tables())
    rows = [list(r) for r in table.rows]
    for _ in range(draw(st.integers(1, 6))):
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(HEADER) - 1))
        rows[r][c] = draw(garbage)
    if draw(st.booleans()):
        rows.append(draw(st.lists(garbage, min_size=0, max_size=len(HEADER) + 2)))
    return Table(rows, table.kinds)


def write_csv(table: Table, path: Path, delimiter: str, encoding: str) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(table.rows)
    path.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    return path


def write_xlsx(table: Table, path: Path) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in table.rows:
        # Excel cannot hold control characters; a real export would not have them.
        sheet.append(["".join(ch for ch in v if ch.isprintable() or ch == " ") for v in row])
    book.save(path)
    return path


def write_geojson(table: Table, path: Path) -> Path:
    features = []
    for row in table.rows:
        props = dict(zip(HEADER, row, strict=False))
        lat, lon = props.pop("lat", ""), props.pop("lon", "")
        try:
            geometry: Any = {
                "type": "Point",
                "coordinates": [float(lon.replace(",", ".")), float(lat.replace(",", "."))],
            }
            if not all(map(math.isfinite, geometry["coordinates"])):
                geometry = None
        except ValueError:
            geometry = None
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def write_geopackage(table: Table, path: Path) -> Path:
    records, points = [], []
    for row in table.rows:
        props = dict(zip(HEADER, row, strict=False))
        lat, lon = props.pop("lat", ""), props.pop("lon", "")
        try:
            x, y = float(lon.replace(",", ".")), float(lat.replace(",", "."))
            point = shapely.Point(x, y) if math.isfinite(x) and math.isfinite(y) else None
        except ValueError:
            point = None
        records.append({k: props.get(k, "") for k in HEADER if k not in ("lat", "lon")})
        points.append(point)
    frame = geopandas.GeoDataFrame(records, geometry=points, crs="EPSG:4326")
    frame.to_file(path, driver="GPKG", engine="pyogrio")
    return path


def write_parquet(table: Table, path: Path) -> Path:
    frame = pandas.DataFrame(
        [r[: len(HEADER)] + [""] * (len(HEADER) - len(r)) for r in table.rows], columns=HEADER
    )
    frame.to_parquet(path, index=False)
    return path


def load(path: Path) -> SiteLoad:
    return load_sites(DealersConfig(files=[DealerFile(path=path)]), countries=["FR", "BE", "NL"])


def check_accounted(result: SiteLoad) -> None:
    counts = result.counts
    assert counts["read"] == (len(result.dealers) + counts["dropped"] + counts["outside_countries"])
    assert counts["read"] == (
        counts["sites"] + counts["merged"] + counts["dropped"] + counts["outside_countries"]
    )
    assert counts["dropped"] == sum(counts["dropped_by_reason"].values())
    assert set(result.dealers["site_id"]) == set(result.sites["site_id"])
    assert result.dealers["dealer_id"].is_unique
    assert result.sites["n_dealers"].sum() == len(result.dealers)


def check_rows(result: SiteLoad, table: Table) -> None:
    """Each dealer row of a planned country is a dealer, on its spreadsheet row."""
    planned = {
        number
        for number, (row, kind) in enumerate(zip(table.rows, table.kinds, strict=True), start=2)
        if kind == "dealer" and row[3].upper() in {"FR", "BE", "NL"}
    }
    assert set(result.dealers["row"]) == planned


def check_only_input_errors(path: Path) -> None:
    try:
        result = load(path)
    except InputError as exc:
        for problem in exc.problems:
            assert isinstance(problem, Problem)
            assert "\n" not in str(problem) and "\r" not in str(problem)
        return
    check_accounted(result)


def expected_counts(table: Table) -> dict[str, int]:
    kinds = list(table.kinds)
    counts = {
        "blank row": kinds.count("blank"),
        "duplicate row": kinds.count("duplicate"),
        "missing coordinates": kinds.count("no coordinates"),
    }
    return {k: v for k, v in counts.items() if v}


@SETTINGS
@given(
    table=clean_tables(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
)
def test_clean_csv_loads_and_accounts_for_every_row(
    tmp_path: Path, table: Table, delimiter: str, encoding: str
) -> None:
    result = load(write_csv(table, tmp_path / "dealers.csv", delimiter, encoding))
    check_accounted(result)
    assert result.counts["read"] == len(table.rows)
    assert result.counts["dropped_by_reason"] == expected_counts(table)
    check_rows(result, table)


@SETTINGS
@given(
    table=garbled_tables(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_garbled_csv_raises_only_input_errors(
    tmp_path: Path, table: Table, delimiter: str, encoding: str
) -> None:
    check_only_input_errors(write_csv(table, tmp_path / "dealers.csv", delimiter, encoding))


@SETTINGS
@given(data=st.binary(max_size=300))
def test_random_bytes_raise_only_input_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "dealers.csv"
    path.write_bytes(b"id,name,brand,country,lat,lon\n" + data)
    check_only_input_errors(path)


# XLSX is the slowest format to write: 100 tables here and 100 clean ones below.
@settings(SETTINGS, max_examples=EXAMPLES // 2)
@given(table=st.one_of(clean_tables(), garbled_tables()))
def test_xlsx_raises_only_input_errors(tmp_path: Path, table: Table) -> None:
    check_only_input_errors(write_xlsx(table, tmp_path / "dealers.xlsx"))


@settings(SETTINGS, max_examples=EXAMPLES // 2)
@given(table=clean_tables())
def test_clean_xlsx_accounts_for_every_row(tmp_path: Path, table: Table) -> None:
    result = load(write_xlsx(table, tmp_path / "dealers.xlsx"))
    check_accounted(result)
    assert result.counts["dropped_by_reason"] == expected_counts(table)
    check_rows(result, table)


@SETTINGS
@given(table=st.one_of(clean_tables(), garbled_tables()))
def test_geojson_raises_only_input_errors(tmp_path: Path, table: Table) -> None:
    check_only_input_errors(write_geojson(table, tmp_path / "dealers.geojson"))


@SETTINGS
@given(table=st.one_of(clean_tables(), garbled_tables()))
def test_geopackage_raises_only_input_errors(tmp_path: Path, table: Table) -> None:
    path = tmp_path / "dealers.gpkg"
    path.unlink(missing_ok=True)
    check_only_input_errors(write_geopackage(table, path))


@SETTINGS
@given(table=st.one_of(clean_tables(), garbled_tables()))
def test_parquet_raises_only_input_errors(tmp_path: Path, table: Table) -> None:
    check_only_input_errors(write_parquet(table, tmp_path / "dealers.parquet"))


@pytest.mark.parametrize("suffix", [".xlsx", ".geojson", ".gpkg", ".parquet", ".txt"])
@SETTINGS
@given(data=st.binary(max_size=400), keep_magic=st.booleans())
def test_random_bytes_in_any_format_raise_only_input_errors(
    tmp_path: Path, suffix: str, data: bytes, keep_magic: bool
) -> None:
    # A format's own signature in front makes the reader go further before failing.
    magic = {
        ".xlsx": b"PK\x03\x04",
        ".gpkg": b"SQLite format 3\x00",
        ".parquet": b"PAR1",
        ".geojson": b'{"type": "FeatureCollection", "features": [',
        ".txt": b"",
    }
    path = tmp_path / f"dealers{suffix}"
    path.write_bytes((magic[suffix] if keep_magic else b"") + data)
    check_only_input_errors(path)
