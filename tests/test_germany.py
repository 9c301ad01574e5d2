"""The German scenario with the real Bundesnetzagentur register as existing chargers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.scenario.schema import load_scenario
from tests.conftest import run_cli as _cli
from tests.conftest import shared_path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

GERMANY = PROJECT_ROOT / "scenarios" / "germany.toml"


def test_scenario_points_at_the_shared_register() -> None:
    scenario = load_scenario(GERMANY)
    spec = scenario.existing_chargers.files[0]
    assert spec.format == "bnetza"
    assert spec.path.name == "bnetza_ladesaeulenregister_2019-07-19.csv"
    assert spec.path.parent.parent.name == "shared"


def test_germany_with_the_register_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared_path("data", "bnetza_ladesaeulenregister_2019-07-19.csv")
    out = tmp_path / "de"
    args = ["run", str(GERMANY), "--out", str(out), "--time-limit", "20"]
    code, _, stderr = _cli([*args, "--set", "output.map=false"], capsys)
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    existing = report["existing_chargers"]
    # The 2019-07-19 edition: 9,690 stations, 293 of them 150 kW or more.
    assert existing["read"] == 9690
    assert existing["kept"] == 293
    assert existing["below_min_power"] == 9690 - 293
    assert 50.0 < existing["sessions_within_reach_pct"] < 100.0
    assert [row["country"] for row in existing["by_country"]] == ["DE"]
    # Half of the reached sessions are left to the existing network.
    assert report["demand_total"] == pytest.approx(
        report["sessions_per_day_total"] - existing["sessions_discounted"], rel=1e-6
    )
    assert report["sites_selected"] == 40


def test_missing_register_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = GERMANY.read_text(encoding="utf-8").replace(
        "../../shared/data/bnetza_ladesaeulenregister_2019-07-19.csv", "absent/register.csv"
    )
    text = text.replace("../geodata/", f"{PROJECT_ROOT.as_posix()}/geodata/")
    path = tmp_path / "germany.toml"
    path.write_text(text, encoding="utf-8")
    code, _, stderr = _cli(["run", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert "register.csv" in stderr
    assert "existing charger file not found" in stderr
    assert "Bundesnetzagentur" in stderr
    assert not (tmp_path / "out").exists()
