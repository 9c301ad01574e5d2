"""Text that would run as a formula in a spreadsheet is written as text."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from planner.outputs.spreadsheet import spreadsheet_safe, write_csv

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
