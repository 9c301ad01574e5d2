"""The command line end to end on a tiny Luxembourg scenario.

Every output file is checked against the data: the chosen sites and the
coverage in ``report.json`` are recomputed from ``sites.csv`` and the demand
points, and the objective is compared with brute force over all site pairs.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from planner.cli import main
from planner.demand import load_demand
from planner.scenario import load_scenario
from planner.travel import great_circle_km

# Six dealers in Luxembourg (two of them at one address: a dual-brand site)
# and one in Belgium, which the Luxembourg scenario leaves out and counts.
DEALERS = """dealer_id,brand,name,country,lon,lat
R1,Renault,Renault Luxembourg-Gare,LU,6.1296,49.6001
N1,Nissan,Nissan Luxembourg-Gare,LU,6.1299,49.6003
R2,Renault,Renault Esch,LU,5.9806,49.4958
R3,Renault,Renault Ettelbruck,LU,6.1042,49.8475
N2,Nissan,"Nissan <b>Diekirch</b> & Fils",LU,6.1600,49.8680
R4,Renault,Renault Wiltz,LU,5.9322,49.9662
R5,Renault,Renault Arlon,BE,5.8167,49.6833
"""

SCENARIO = """
name = "tiny"
title = "Sample network: Luxembourg test"

[[dealers.files]]
path = "dealers.csv"

[demand]
countries = ["LU"]
min_population = 1000

[travel]
radius_km = 15.0
circuity = 1.3

[model]
name = "max_coverage"
p = 2
"""


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    old = sys.argv
    sys.argv = ["planner", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    (tmp_path / "dealers.csv").write_text(DEALERS, encoding="utf-8")
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    return scenario


def test_run_writes_consistent_outputs(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = _run(["run", str(tiny), "--out", str(out)], capsys)
    assert code == 0, stderr
    assert "max_coverage optimal" in stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "map.html",
        "report.json",
        "scenario.toml",
        "sites.csv",
        "sites.geojson",
    ]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    sites = pd.read_csv(out / "sites.csv", dtype={"site_id": str})
    geo = gpd.read_file(out / "sites.geojson")

    # Sites: six LU dealers, the two at Luxembourg-Gare merged; Arlon left out.
    assert len(sites) == 5
    merged = sites[sites["n_dealers"] == 2].iloc[0]
    assert merged["brands"] == "Nissan;Renault"
    assert report["inputs"]["dealers"]["read"] == 7
    assert report["inputs"]["dealers"]["outside_countries"] == 1
    assert report["inputs"]["dealers"]["merged"] == 1
    assert sorted(geo["site_id"]) == sorted(sites["site_id"])
    assert (
        geo.set_index("site_id")["chosen"].to_dict()
        == sites.set_index("site_id")["chosen"].to_dict()
    )

    # Chosen sites and chargers agree between the report and the table.
    chosen = sites[sites["chosen"]]
    assert report["sites_selected"] == len(chosen) == 2
    assert report["chargers_total"] == chosen["chargers"].sum()
    assert (chosen["chargers"] >= 2).all()
    assert (sites.loc[~sites["chosen"], "chargers"] == 0).all()

    # Coverage recomputed from the inputs: demand within 15 km of travel.
    scenario = load_scenario(tiny)
    demand = load_demand(scenario.demand)

    def covered_weight(lons: np.ndarray, lats: np.ndarray) -> float:
        travel = 1.3 * great_circle_km(
            demand["lon"].to_numpy()[:, None],
            demand["lat"].to_numpy()[:, None],
            lons[None, :],
            lats[None, :],
        )
        return float(demand["weight"].to_numpy()[(travel <= 15.0).any(axis=1)].sum())

    covered = covered_weight(chosen["lon"].to_numpy(), chosen["lat"].to_numpy())
    total = float(demand["weight"].sum())
    assert report["demand_total"] == pytest.approx(total, abs=1e-6)  # rounded to 6 digits
    assert report["demand_covered"] == pytest.approx(covered, rel=1e-6)
    assert report["coverage_pct"] == pytest.approx(100 * covered / total, rel=1e-6)
    assert report["by_country"][0]["country"] == "LU"
    assert report["by_country"][0]["covered"] == pytest.approx(covered, rel=1e-6)

    # Optimal: no pair of sites covers more (brute force over all 10 pairs).
    best = max(
        covered_weight(sites["lon"].to_numpy()[list(pair)], sites["lat"].to_numpy()[list(pair)])
        for pair in itertools.combinations(range(len(sites)), 2)
    )
    assert report["status"] == "optimal"
    assert covered == pytest.approx(best, rel=1e-6)
    assert report["bound"] >= report["objective"] - 1e-9
    assert report["gap"] <= 1e-4

    # The resolved scenario reproduces the run.
    resolved = tomllib.loads((out / "scenario.toml").read_text(encoding="utf-8"))
    assert resolved["model"]["p"] == 2
    assert resolved["demand"]["countries"] == ["LU"]
    assert Path(resolved["dealers"]["files"][0]["path"]).is_absolute()

    # The map is self-contained and shows the dealer name as text.
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "Luxembourg test" in page
    assert '<script src="http' not in page
    assert "<b>Diekirch</b>" not in page


def test_set_override_and_time_limit(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, _, stderr = _run(
        ["run", str(tiny), "--out", str(out), "--set", "model.p=1", "--time-limit", "30"], capsys
    )
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["sites_selected"] == 1
    resolved = tomllib.loads((out / "scenario.toml").read_text(encoding="utf-8"))
    assert resolved["solver"]["time_limit_s"] == 30.0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "dealer_id,brand,name,country,lon\nR1,Renault,A,LU,6.1\n",
            "dealers.csv",
        ),
        (
            "dealer_id,brand,name,country,lon,lat\nR1,Renault,A,LU,6.1,north\n",
            "row 2",
        ),
        (
            "dealer_id,brand,name,country,lon,lat\nR1,Renault,A,LU,6.1,123\n",
            "row 2",
        ),
        ("", "dealers.csv"),
    ],
    ids=["missing-column", "text-coordinate", "latitude-123", "empty-file"],
)
def test_bad_dealer_file_exits_2_with_one_line(
    tiny: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    expected: str,
) -> None:
    (tmp_path / "dealers.csv").write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    code, _, stderr = _run(["run", str(tiny), "--out", str(out)], capsys)
    assert code == 2
    # Progress lines may precede it; the error itself is one line.
    lines = [line for line in stderr.splitlines() if not line.startswith("  ")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "Traceback" not in stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_bad_dealer_file_keeps_previous_output(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _run(["run", str(tiny), "--out", str(out)], capsys)[0] == 0
    before = (out / "report.json").read_bytes()
    (tmp_path / "dealers.csv").write_text("dealer_id,brand\n", encoding="utf-8")
    assert _run(["run", str(tiny), "--out", str(out)], capsys)[0] == 2
    assert (out / "report.json").read_bytes() == before


def test_validate_lists_every_problem(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dealers.csv").write_text(
        "dealer_id,brand,name,country,lon,lat\n"
        "R1,Renault,A,LU,6.1,123\n"
        "R2,Renault,B,LU,east,49.6\n",
        encoding="utf-8",
    )
    code, _, stderr = _run(["validate", str(tiny)], capsys)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 2
    assert "row 2" in lines[0] and "row 3" in lines[1]


def test_validate_good_scenario(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = _run(["validate", str(tiny)], capsys)
    assert code == 0
    assert "dealers read 7" in stdout
    assert "5 sites" in stdout


def test_infeasible_scenario_exits_3(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A p-median must open exactly p sites: six cannot be chosen among five.
    out = tmp_path / "out"
    code, _, stderr = _run(
        ["run", str(tiny), "--out", str(out), "--set", "model.name=p_median", "--set", "model.p=6"],
        capsys,
    )
    assert code == 3, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: p_median: p = 6 sites must open but only 5 sites are not excluded"]
    assert not out.exists()


def test_bad_scenario_field_exits_2(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, stderr = _run(["run", str(tiny), "--set", "travel.radius_km=-5"], capsys)
    assert code == 2
    assert "travel.radius_km" in stderr


def test_console_script_runs(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "script-out"
    result = subprocess.run(
        [sys.executable, "-m", "planner", "run", str(tiny), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (out / "map.html").exists()


def test_output_outside_working_folder_needs_out(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # output.dir is resolved against the scenario's folder (tmp_path); from a
    # working folder elsewhere it may not be written without --out.
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, _, stderr = _run(["run", str(tiny), "--set", 'output.dir="plans/tiny"'], capsys)
    assert code == 2
    assert "output.dir" in stderr and "--out" in stderr
    assert not (tmp_path / "plans").exists()
    # From the scenario's own folder it is inside the working folder.
    monkeypatch.chdir(tmp_path)
    code, _, stderr = _run(["run", str(tiny), "--set", 'output.dir="plans/tiny"'], capsys)
    assert code == 0, stderr
    assert (tmp_path / "plans" / "tiny" / "report.json").exists()
