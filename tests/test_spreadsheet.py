"""Text that would run as a formula in a spreadsheet is written as text."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.outputs.spreadsheet import csv_chunks, spreadsheet_safe, write_csv

HOSTILE = [
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=HYPERLINK("http://example.invalid","click")',
    "+1+1",
    "-2+3",
    "\t=1+1",
]


def test_formula_starts_get_an_apostrophe_and_numbers_stay(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {"name": [*HOSTILE, "Renault Gare"], "chargers": list(range(len(HOSTILE) + 1))}
    )
    table["lon"] = -1.5
    path = tmp_path / "sites.csv"
    write_csv(table, path)
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [row["name"] for row in rows] == [*("'" + h for h in HOSTILE), "Renault Gare"]
    # Negative numbers are numbers, not text: they keep their sign.
    assert {row["lon"] for row in rows} == {"-1.5"}
    assert table["name"].iloc[0] == HOSTILE[0]  # the caller's table is not changed


def test_a_carriage_return_before_a_formula_is_text_too() -> None:
    assert spreadsheet_safe(pd.DataFrame({"name": ["\r=1+1"]}))["name"].iloc[0] == "'\r=1+1"


@pytest.mark.parametrize("text", ["Garage =", "1=1", "'quoted", ""])
def test_harmless_text_is_unchanged(text: str) -> None:
    table = pd.DataFrame({"name": [text]})
    assert spreadsheet_safe(table)["name"].iloc[0] == text


def test_sites_csv_of_a_run_is_spreadsheet_safe(tmp_path: Path) -> None:
    """A dealer named like a formula is text in sites.csv and itself in the GeoJSON."""
    import json

    import planner

    (tmp_path / "dealers.csv").write_text(
        "dealer_id,brand,name,country,lon,lat\n"
        'R1,Renault,"=HYPERLINK(""http://example.invalid"",""x"")",LU,6.1296,49.6001\n'
        "R2,Renault,Renault Esch,LU,5.9806,49.4958\n",
        encoding="utf-8",
    )
    scenario = {
        "name": "formula",
        "dealers": {"files": [{"path": str(tmp_path / "dealers.csv")}]},
        "demand": {"countries": ["LU"], "min_population": 1000},
        "model": {"p": 1},
    }
    folder = planner.run(scenario).save(tmp_path / "out")
    with (folder / "sites.csv").open(newline="", encoding="utf-8") as f:
        names = {row["site_id"]: row["name"] for row in csv.DictReader(f)}
    assert any(name.startswith("'=HYPERLINK(") for name in names.values())
    geo = json.loads((folder / "sites.geojson").read_text(encoding="utf-8"))
    assert any(f["properties"]["name"].startswith("=HYPERLINK(") for f in geo["features"])


#: Text that pandas quotes, escapes or passes through as it is.
AWKWARD_TEXT = [
    *HOSTILE,
    "Renault Gare",
    "a,b",
    'say "hi"',
    "two\nlines",
    "cr\ronly",
    "crlf\r\n",
    "",
    " lead",
    "'",
    "'=1",
    "Citroën, Zürich",
    None,
]


def _awkward_table(seed: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # Values on a thousandth plus a half: the ties of %.3f, where the float
    # just above or below the decimal decides the last digit.
    numbers = rng.integers(-(10**7), 10**7, rows) / 1000 + 0.0005 * rng.integers(0, 2, rows)
    numbers[rng.random(rows) < 0.1] = np.nan
    numbers[rng.random(rows) < 0.02] = np.inf
    numbers[rng.random(rows) < 0.02] = -np.inf
    numbers[rng.random(rows) < 0.02] = -0.0
    numbers[rng.random(rows) < 0.01] = 1e300
    texts = np.array(AWKWARD_TEXT, dtype=object)
    return pd.DataFrame(
        {
            "name": rng.choice(texts, rows),
            "minutes": numbers,
            "km": rng.normal(scale=50.0, size=rows),
            "single": rng.normal(size=rows).astype(np.float32),
            "count": rng.integers(-5, 10**12, rows),
            "id": pd.Series(rng.choice(texts[:-1], rows), dtype="str"),
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("decimals", [0, 3, 6])
def test_csv_chunks_are_the_bytes_pandas_writes(seed: int, decimals: int) -> None:
    table = _awkward_table(seed, 5_000)
    expected = spreadsheet_safe(table).to_csv(
        index=False, float_format=f"%.{decimals}f", lineterminator="\n"
    )
    pieces = list(csv_chunks(table, decimals=decimals, rows=700))
    assert len(pieces) == 1 + 8  # the header, then 5,000 rows in pieces of 700
    assert b"".join(pieces).decode("utf-8") == expected


@pytest.mark.parametrize(
    "column",
    [
        [True, False, True],  # pandas writes True / False
        ["a", 1, 2.5],  # numbers among the text
        pd.array([1, None, 3], dtype="Int64"),  # nullable integers
    ],
)
def test_csv_chunks_leave_other_columns_to_pandas(column: object) -> None:
    table = pd.DataFrame({"name": ["=x", "b", None], "value": column})
    expected = spreadsheet_safe(table).to_csv(index=False, float_format="%.3f", lineterminator="\n")
    assert b"".join(csv_chunks(table, decimals=3)).decode("utf-8") == expected


def test_csv_chunks_of_one_column_or_no_row() -> None:
    # pandas quotes an empty cell when it is a row's only one.
    one = pd.DataFrame({"name": ["", "a"]})
    assert b"".join(csv_chunks(one, decimals=3)) == b'name\n""\na\n'
    empty = _awkward_table(0, 0)
    assert b"".join(csv_chunks(empty, decimals=3)) == b"name,minutes,km,single,count,id\n"
    twice = pd.DataFrame([["a", 1.5], ["b", 2.0]], columns=["x", "x"])
    assert b"".join(csv_chunks(twice, decimals=1)) == b"x,x\na,1.5\nb,2.0\n"


def test_every_text_reads_back_as_it_was() -> None:
    from planner.outputs.spreadsheet import read_back_text

    # Before: "=1" and "'=1" were both written "'=1", and planner compare then
    # refused a folder planner wrote ("site ''=1' is listed again").
    texts = ["=1", "'=1", "''=1", "'quoted", "'", "plain", "-5"]
    safe = spreadsheet_safe(pd.DataFrame({"id": texts}))["id"]
    assert safe.tolist() == ["'=1", "''=1", "'''=1", "'quoted", "'", "plain", "'-5"]
    assert read_back_text(safe).tolist() == texts
