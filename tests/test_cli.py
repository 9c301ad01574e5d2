"""The command line end to end on a tiny Luxembourg scenario.

Every output file is checked against the data: the chosen sites and the
coverage in ``report.json`` are recomputed from ``sites.csv`` and the demand
points, and the objective is compared with brute force over all site pairs.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from planner.cli.main import _inputs_line
from planner.inputs.demand import load_demand
from planner.scenario.schema import DEFAULT_P, load_scenario
from planner.travel.great_circle import great_circle_km
from tests.conftest import run_cli as _run

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
    # Arlon (Belgium) is outside the scenario's countries; two dealers share a site.
    assert (
        "inputs: 7 dealer rows (1 outside the scenario's countries, 1 merged into another "
        "dealer's site), 5 candidate sites;"
    ) in stdout
    assert sorted(p.name for p in out.iterdir()) == [
        ".planner-output",
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


def test_validate_reads_existing_chargers_and_side_constraints(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What run would read and build, validate reads and builds too.
    stations = """
[[existing_chargers.files]]
path = "stations.csv"
format = "generic"
"""
    tiny.write_text(SCENARIO + stations, encoding="utf-8")
    code, _, stderr = _run(["validate", str(tiny)], capsys)
    assert code == 2
    assert "stations.csv" in stderr and "Traceback" not in stderr
    (tmp_path / "stations.csv").write_text(
        "id,operator,power_kw,points,lon,lat\n"
        "s1,Ionity,300,4,6.1300,49.6100\n"
        "s2,Town,50,2,5.9800,49.5000\n",
        encoding="utf-8",
    )
    code, stdout, _ = _run(
        ["validate", str(tiny), "--set", "constraints.brand_min_share={Nissan = 0.4}"], capsys
    )
    assert code == 0
    assert "existing stations read 2, kept 1" in stdout
    assert "1 side-constraint rows" in stdout and stdout.rstrip().endswith("scenario OK")
    code, _, stderr = _run(
        ["validate", str(tiny), "--set", "constraints.country_min_sites={FR = 1}"], capsys
    )
    assert code == 2 and "FR" in stderr
    # Before: read twice, and every station counted twice.
    twice = '[{path = "stations.csv", format = "generic"}, {path = "./stations.csv"}]'
    code, _, stderr = _run(
        ["validate", str(tiny), "--set", f"existing_chargers.files={twice}"], capsys
    )
    assert code == 2
    assert "stations.csv, field 'existing_chargers.files': listed twice (entries 1 and 2)" in stderr


def test_run_says_which_station_and_trip_rows_it_left_out(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: counted in report.json only, with nothing on the terminal.
    tiny.write_text(
        SCENARIO + '[[existing_chargers.files]]\npath = "stations.csv"\n', encoding="utf-8"
    )
    (tmp_path / "stations.csv").write_text(
        "id,operator,power_kw,points,lon,lat\n"
        "s1,Ionity,300,4,6.1300,49.6100\n"
        "s2,Town,50,2,5.9800,49.5000\n",
        encoding="utf-8",
    )
    code, stdout, stderr = _run(["run", str(tiny), "--out", str(tmp_path / "out")], capsys)
    assert code == 0, stderr
    (line,) = [line for line in stdout.splitlines() if line.startswith("inputs:")]
    assert line.endswith("; 1 of 2 existing stations kept (1 below 150 kW left out)")
    trips = {"zero_trips_dropped": 2.0, "blank_rows_dropped": 1.0, "duplicate_rows_dropped": 0.0}
    assert _inputs_line({"trips": trips}).endswith(
        "; trip file rows left out: 2 with no trips, 1 blank"
    )
    assert "trip file" not in _inputs_line({"trips": {"zero_trips_dropped": 0.0}})
    stations = {"read": 5, "kept": 3, "below_min_power": 2, "min_power_kw": 150, "in_no_country": 1}
    assert _inputs_line({"existing_chargers": stations}).endswith(
        "; 3 of 5 existing stations kept (2 below 150 kW left out; 1 kept in no country)"
    )


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


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ([], ["run", "validate", "frontier", "compare", "sample"]),
        (["run"], ["[SCENARIO.toml]", "--set KEY=VALUE", "--out DIR", "--map-assets inline|cdn"]),
        (["frontier"], ["--p RANGE", "--time-limit SECONDS", "--set KEY=VALUE"]),
        (["compare"], ["DIR_A", "DIR_B", "--out DIR"]),
        (["validate"], ["Reads what planner run reads", "--set KEY=VALUE"]),
        (["sample"], ["--scale demo|full", "--seed N"]),
    ],
)
def test_help_is_plain_text(
    command: list[str], shown: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, _ = _run([*command, "--help"], capsys)
    assert code == 0
    # No reStructuredText quotes from the docstrings, no type labels as metavars.
    assert "``" not in stdout
    assert not re.search(r"<(bool|str|int|float|list\[str\])>", stdout), stdout
    for text in shown:
        assert text in stdout, stdout


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


def test_run_with_cdn_assets_links_pinned_libraries(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inline, cdn = tmp_path / "inline", tmp_path / "cdn"
    assert _run(["run", str(tiny), "--out", str(inline)], capsys)[0] == 0
    code, _, stderr = _run(["run", str(tiny), "--out", str(cdn), "--map-assets", "cdn"], capsys)
    assert code == 0, stderr
    page = (cdn / "map.html").read_text(encoding="utf-8")
    assert '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js">' in page
    assert "@main" not in page
    assert (cdn / "map.html").stat().st_size < (inline / "map.html").stat().st_size - 140_000
    code, _, stderr = _run(["run", str(tiny), "--out", str(cdn), "--map-assets", "web"], capsys)
    assert code == 2
    assert (
        stderr.strip().splitlines()[-1] == "error: --map-assets: 'web' is not one of: inline, cdn"
    )


@pytest.fixture
def two_plans(tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    a, b = tmp_path / "p1", tmp_path / "p2"
    assert _run(["run", str(tiny), "--out", str(a), "--set", "model.p=1"], capsys)[0] == 0
    assert _run(["run", str(tiny), "--out", str(b)], capsys)[0] == 0
    return a, b


def test_compare_writes_map_and_diff(
    two_plans: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = two_plans
    out = tmp_path / "cmp"
    code, stdout, stderr = _run(["compare", str(a), str(b), "--out", str(out)], capsys)
    assert code == 0, stderr
    assert "different candidate sites" not in stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".planner-output",
        "compare.html",
        "diff.json",
        "diff_countries.csv",
        "diff_sites.csv",
    ]
    diff = json.loads((out / "diff.json").read_text(encoding="utf-8"))
    sites_a = pd.read_csv(a / "sites.csv", dtype={"site_id": str})
    sites_b = pd.read_csv(b / "sites.csv", dtype={"site_id": str})
    chosen_a = set(sites_a.loc[sites_a["chosen"], "site_id"])
    chosen_b = set(sites_b.loc[sites_b["chosen"], "site_id"])
    assert diff["scenario_changes"] == [{"field": "model.p", "a": 1, "b": 2}]
    assert diff["sites"]["kept"] == len(chosen_a & chosen_b)
    assert set(diff["sites"]["added_ids"]) == chosen_b - chosen_a
    assert set(diff["sites"]["removed_ids"]) == chosen_a - chosen_b
    report_a = json.loads((a / "report.json").read_text(encoding="utf-8"))
    report_b = json.loads((b / "report.json").read_text(encoding="utf-8"))
    coverage = diff["figures"]["coverage_pct"]
    assert coverage["a"] == report_a["coverage_pct"] and coverage["b"] == report_b["coverage_pct"]
    assert coverage["change"] == pytest.approx(report_b["coverage_pct"] - report_a["coverage_pct"])
    assert diff["figures"]["sites_selected"] == {"a": 1, "b": 2, "change": 1}
    changes = pd.read_csv(out / "diff_sites.csv", dtype={"site_id": str})
    assert set(changes["site_id"]) == chosen_a | chosen_b
    kept = changes[changes["change"] == "kept"]
    assert set(kept["site_id"]) == chosen_a & chosen_b
    countries = pd.read_csv(out / "diff_countries.csv")
    assert countries["country"].tolist() == ["LU"]
    assert countries["sites_b"].tolist() == [2]
    page = (out / "compare.html").read_text(encoding="utf-8")
    # Both plans are scenario "tiny": the labels tell them apart by folder and p.
    assert (
        '<b>A: p1</b><span class="planner-pane-detail"><br>scenario tiny<br>model.p = 1<br>' in page
    )
    assert (
        '<b>B: p2</b><span class="planner-pane-detail"><br>scenario tiny<br>model.p = 2<br>' in page
    )
    assert '<script src="http' not in page
    assert "sites kept" in stdout


def test_compare_refuses_a_folder_that_is_no_plan(
    two_plans: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, _ = two_plans
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "cmp"
    code, _, stderr = _run(["compare", str(a), str(empty), "--out", str(out)], capsys)
    assert code == 2
    errors = [line for line in stderr.splitlines() if not line.startswith("  ")]
    assert errors == [
        f"error: {empty}: not a plan folder (no report.json, no sites.csv): "
        "give a folder written by planner run"
    ]
    assert not out.exists()
    # Writing the comparison over one of the plans would destroy it.
    code, _, stderr = _run(["compare", str(a), str(two_plans[1]), "--out", str(a)], capsys)
    assert code == 2 and "--out" in stderr
    assert (a / "report.json").exists() and not (a / "compare.html").exists()


def test_frontier_writes_its_plot_into_the_plan_and_solves_the_scenario_once(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import planner.pipeline.frontier

    solved: list[int] = []
    real = planner.pipeline.frontier.max_coverage

    def counting(reach: Any, weights: Any, p: int, **kwargs: Any) -> Any:
        solved.append(p)
        return real(reach, weights, p, **kwargs)

    monkeypatch.setattr(planner.pipeline.frontier, "max_coverage", counting)
    out = tmp_path / "frontier"
    # The scenario's p = 2 is not on the grid 1, 3: it is solved too, and only once.
    code, _, stderr = _run(["frontier", str(tiny), "--p", "1,3", "--out", str(out)], capsys)
    assert code == 0, stderr
    assert solved == [1, 2, 3]
    table = pd.read_csv(out / "frontier.csv")
    assert table["p"].tolist() == [1, 2, 3]
    assert table["scenario"].tolist() == [False, True, False]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["sites_selected"] == 2
    assert report["coverage_pct"] == pytest.approx(table.loc[1, "coverage_pct"], abs=1e-4)
    assert sorted(p.name for p in out.iterdir()) == [
        ".planner-output",
        "frontier.csv",
        "frontier.png",
        "map.html",
        "report.json",
        "scenario.toml",
        "sites.csv",
        "sites.geojson",
    ]
    page = (out / "map.html").read_text(encoding="utf-8")
    assert 'id="planner-frontier"' in page and "data:image/png;base64," in page
    # Each p's progress line carries that p's own result.
    lines = [line.strip() for line in stderr.splitlines() if "frontier: p =" in line]
    assert [line.split(":")[1].strip() for line in lines] == ["p = 1", "p = 2", "p = 3"]
    for line, row in zip(lines, table.itertuples(), strict=True):
        assert f"{row.coverage_pct:.2f} %" in line


def test_frontier_marks_the_default_p_and_solves_a_constrained_plan_on_its_own(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import planner.pipeline.frontier

    marked: list[tuple[int | None, Any]] = []
    real_plot = planner.pipeline.frontier.plot_frontier

    def recording(points: Any, path: Path, **kwargs: Any) -> None:
        marked.append((kwargs["chosen_p"], kwargs.get("scenario_point")))
        real_plot(points, path, **kwargs)

    monkeypatch.setattr(planner.pipeline.frontier, "plot_frontier", recording)
    # model.p unset: the plan opens the default number of sites, a point of the frontier.
    tiny.write_text(SCENARIO.replace("p = 2\n", ""), encoding="utf-8")
    out = tmp_path / "default_p"
    code, _, stderr = _run(["frontier", str(tiny), "--p", "1,2", "--out", str(out)], capsys)
    assert code == 0, stderr
    table = pd.read_csv(out / "frontier.csv")
    assert table["p"].tolist() == [1, 2, DEFAULT_P]
    assert table["scenario"].tolist() == [False, False, True]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["sites_selected"] == table.loc[2, "sites_selected"]
    assert marked == [(DEFAULT_P, None)]  # the plot marks the plan's point
    # A brand share is not a constraint of the frontier's solves: the plan is solved apart.
    out = tmp_path / "brand_share"
    code, _, stderr = _run(
        [
            "frontier",
            str(tiny),
            "--p",
            "1,2",
            "--out",
            str(out),
            "--set",
            "model.p=2",
            "--set",
            "constraints.brand_min_share={Nissan = 0.5}",
        ],
        capsys,
    )
    assert code == 0, stderr
    table = pd.read_csv(out / "frontier.csv")
    assert table["p"].tolist() == [1, 2] and not table["scenario"].any()
    sites = pd.read_csv(out / "sites.csv")
    chosen = sites[sites["chosen"]]
    assert len(chosen) <= 2
    assert chosen["brands"].str.contains("Nissan").sum() >= 0.5 * len(chosen)
    assert marked[1][0] is None and marked[1][1][0] == len(chosen)


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["model.p=3", "model.p=4"], "'model.p' is given twice"),
        (["model.p=3", "model={p = 4}"], "'model' and 'model.p' set the same field"),
    ],
)
def test_a_field_set_twice_on_the_command_line_is_refused(
    tiny: Path, sets: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: the later --set won without a word (p = 4), as the API's overrides did once.
    args = ["validate", str(tiny)] + [arg for item in sets for arg in ("--set", item)]
    code, _, stderr = _run(args, capsys)
    assert code == 2
    # Named by the option the user typed; "overrides" is the Python API's argument.
    assert stderr.splitlines() == [f"error: --set: {message}; give each field once"]


@pytest.mark.parametrize("command", ["run", "frontier"])
@pytest.mark.parametrize("given", ["solver.time_limit_s=3", "solver={time_limit_s = 3}"])
def test_a_time_limit_given_twice_names_both_options(
    tiny: Path, command: str, given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: "overrides: 'solver.time_limit_s' is given twice", of an override never typed.
    args = [command, str(tiny), "--time-limit", "5", "--set", given]
    code, _, stderr = _run(args, capsys)
    assert code == 2
    assert stderr.splitlines() == [
        f"error: --time-limit: also set by --set {given}; give one of them"
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('path = "dealers\\u0000.csv"', "field 'dealers.files.0.path': 'dealers\\x00.csv' is no"),
        ('path = "dealers.csv"\nencoding = "utf\\u00008"', "unknown text encoding 'utf\\x008'"),
        (f'path = "{"c" * 5000}.csv"', "file cannot be opened: File name too long"),
        ('path = "loop.csv"', "file cannot be opened: Too many levels of symbolic links"),
        ('path = "dealers.csv"\ncrs = "+proj=longlat +a=1"', "cannot be converted to EPSG:4326"),
    ],
    ids=["nul-path", "nul-encoding", "name-too-long", "link-loop", "crs-off-earth"],
)
def test_dealer_file_entries_the_system_cannot_open_are_named(
    tiny: Path, entry: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: exit 1, "unexpected failure: embedded null byte", "[Errno 36]
    # File name too long", "Symlink loop from …" or PROJ's "Non-Earth body".
    (tiny.parent / "loop.csv").symlink_to(tiny.parent / "loop.csv")
    tiny.write_text(SCENARIO.replace('path = "dealers.csv"', entry), encoding="utf-8")
    code, _, stderr = _run(["validate", str(tiny)], capsys)
    assert code == 2, stderr
    assert len(stderr.strip().splitlines()) == 1 and message in stderr, stderr


@pytest.mark.parametrize("command", ["run", "frontier", "sweep"])
@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_a_bad_time_limit_is_named_as_the_option(
    tiny: Path, command: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: "override 'solver.time_limit_s=0.0', field 'solver.time_limit_s'", an
    # override the user never wrote.
    code, _, stderr = _run([command, str(tiny), "--time-limit", value], capsys)
    assert code == 2
    assert stderr.splitlines() == [
        f"error: --time-limit: {float(value):g} s: give a finite number of seconds above 0"
    ]


def test_outputs_through_a_loop_of_links_or_into_an_output_are_refused(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: a loop of links as --out was "unexpected failure: Symlink loop
    # from …" (exit 1) for run and compare, and `planner sample --out` wrote
    # into a plan folder, which later runs then refused to replace.
    loop = tmp_path / "loop1"
    loop.symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(loop)
    plan = tmp_path / "plan"
    assert _run(["run", str(tiny), "--out", str(plan)], capsys)[0] == 0
    for args in (["run", str(tiny)], ["compare", str(plan), str(plan)]):
        code, _, stderr = _run([*args, "--out", str(loop)], capsys)
        assert code == 2
        assert stderr.splitlines() == [
            f"error: output folder {loop}: cannot be examined (a loop of symbolic links)"
        ]
    code, _, stderr = _run(["sample", "--out", str(plan / "more")], capsys)
    assert code == 2
    assert stderr.splitlines() == [
        f"error: --out: '{plan / 'more' / 'sample_dealers_demo.csv'}' is inside {plan}, a "
        "plan planner wrote; write the file elsewhere"
    ]
    assert not (plan / "more").exists()


def test_frontier_refuses_the_option_of_the_other_kind_of_frontier(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: --trip-weights on a covering scenario, even "garbage", and --p on
    # a flow scenario were ignored without a word.
    out = str(tmp_path / "out")
    code, _, stderr = _run(["frontier", str(tiny), "--trip-weights", "0,1", "--out", out], capsys)
    assert code == 2
    assert stderr.splitlines() == [
        "error: --trip-weights: only a flow_refuelling scenario sweeps its trip weight; "
        "max_coverage sweeps p: give --p"
    ]
    flow = ["--set", "model.name=flow_refuelling", "--p", "1,2", "--out", out]
    code, _, stderr = _run(["frontier", str(tiny), *flow], capsys)
    assert code == 2
    assert stderr.splitlines() == [
        "error: --p: flow_refuelling sweeps its trip weight, not p: give --trip-weights"
    ]
    assert not (tmp_path / "out").exists()
    # Before: an empty --p solved the default range 10:100:10.
    code, _, stderr = _run(["frontier", str(tiny), "--p", "", "--out", out], capsys)
    assert code == 2
    assert stderr.splitlines() == ["error: --p: '' is not START:STOP[:STEP] or a list like 5,10,40"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["run", "--bogus"], "--bogus"),
        (["run", "--time-limit", "abc"], "--time-limit"),
        (["run", "--out"], "--out"),
        (["validate", "a.toml", "b.toml"], "b.toml"),
        (["frobnicate"], "frobnicate"),
    ],
    ids=["unknown-option", "bad-number", "missing-value", "extra-argument", "unknown-command"],
)
def test_usage_errors_exit_2_with_one_line(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stdout, stderr = _run(args, capsys)
    assert code == 2
    assert stdout == ""
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("error: planner")
    assert named in stderr
    for type_name in ("BadParameter", "NoSuchOption", "UsageError", "BadOptionUsage", "Error:"):
        assert type_name not in stderr


def test_unexpected_error_is_one_clean_line(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import planner.pipeline.api

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire\nsecond line \x1b[31m")

    monkeypatch.setattr(planner.pipeline.api, "run", broken)
    code, _, stderr = _run(["run", str(tiny), "--out", str(tmp_path / "out")], capsys)
    assert code == 1
    assert stderr.splitlines() == [
        "error: unexpected failure: disk on fire\\nsecond line \\x1b[31m "
        "(rerun with --debug for the traceback)"
    ]
    with pytest.raises(RuntimeError, match="disk on fire"):
        _run(["--debug", "run", str(tiny), "--out", str(tmp_path / "out")], capsys)


@pytest.mark.parametrize("kind", ["working", "foreign", "file", "proc"])
def test_bad_out_folder_exits_2_before_reading_inputs(
    tiny: Path,
    tmp_path: Path,
    kind: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No dealer file: reading inputs would fail with another message.
    (tmp_path / "dealers.csv").unlink(missing_ok=True)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    targets = {
        "working": (".", "is the working folder"),
        "foreign": (str(tmp_path), "is the working folder"),
        "file": ("notes.txt", "is a file"),
        "proc": ("/proc/planner-out", "cannot be created"),
    }
    if kind == "foreign":
        folder = tmp_path / "papers"
        folder.mkdir()
        (folder / "thesis.tex").write_text("mine")
        targets["foreign"] = (str(folder), "holds files planner did not write (thesis.tex)")
        kept = folder / "thesis.tex"
    else:
        kept = tmp_path / "notes.txt"
    if kind == "proc" and not Path("/proc/self").exists():
        pytest.skip("needs /proc")
    target, reason = targets[kind]
    code, _, stderr = _run(["run", str(tiny), "--out", target], capsys)
    assert code == 2
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("error: output folder ")
    assert reason in stderr
    assert kept.read_text() == "mine"


def test_summary_without_a_gap_says_n_a(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import planner.pipeline.plan

    real = planner.pipeline.plan.build_report

    def without_bound(*args: object, **kwargs: object) -> dict[str, object]:
        report = real(*args, **kwargs)  # type: ignore[arg-type]
        return {**report, "bound": None, "gap": None}

    monkeypatch.setattr(planner.pipeline.plan, "build_report", without_bound)
    code, stdout, stderr = _run(["run", str(tiny), "--out", str(tmp_path / "out")], capsys)
    assert code == 0, stderr
    assert "(gap n/a, solve " in stdout


def test_validate_lists_warnings_after_errors(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dealers.csv").write_text(
        "dealer_id,brand,name,country,lon,lat\n"
        "R1,Renault,A,LU,6.1,123\n"
        ",,,,,\n"
        "R3,Renault,C,LU,,\n"
        "R4,Renault,D,LU,6.1,49.6\n",
        encoding="utf-8",
    )
    code, _, stderr = _run(["validate", str(tiny)], capsys)
    assert code == 2
    lines = stderr.splitlines()
    assert [line.split(":")[0] for line in lines] == ["error", "warning", "warning"]
    assert "row 2" in lines[0]
    assert "row 4" in lines[1] and "missing coordinates" in lines[1]
    assert "blank row" in lines[2]


def _run_warnings(tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The ``warning:`` lines of a run of ``tiny`` that succeeds."""
    code, _, stderr = _run(["run", str(tiny), "--out", str(tmp_path / "out")], capsys)
    assert code == 0, stderr
    return [line for line in stderr.splitlines() if line.startswith("warning")]


def test_run_summarises_warnings_on_one_line(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with (tmp_path / "dealers.csv").open("a", encoding="utf-8") as fh:
        fh.write(",,,,,\nR9,Renault,No place,LU,,\nR9,Renault,No place,LU,,\n")
    assert _run_warnings(tiny, tmp_path, capsys) == [
        "warning: 3 dealer rows dropped (blank row: 1, duplicate row: 1, missing coordinates: 1), "
        "3 warnings in all; planner validate lists them"
    ]


def test_run_shows_how_a_dealer_column_was_read_in_full(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: "warning: 1 warning in all; planner validate lists them", while a
    # site's cost of '250.000' had been read as 250 EUR.
    lines = DEALERS.splitlines()
    costed = [lines[0] + ",site_cost_eur", lines[1] + ",250.000"]
    costed += [line + ",300000" for line in lines[2:]]
    costed.append("R9,Renault,No place,LU,,,300000")
    (tmp_path / "dealers.csv").write_text("\n".join(costed) + "\n", encoding="utf-8")
    assert _run_warnings(tiny, tmp_path, capsys) == [
        "warning: dealers.csv, field 'site_cost_eur': the column shows no decimal mark of its "
        "own, so numbers like '250.000' are read as decimals by the file's mark ('.' in its "
        "other columns): 250; if '.' groups thousands in this column, write the numbers "
        "without it or state decimal = ',' in its scenario entry",
        "warning: 1 dealer rows dropped (missing coordinates: 1), 1 more warning; planner "
        "validate lists them",
    ]


def test_run_notes_a_p_above_the_candidate_sites(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: silent; 5,000 for 50 is as likely a slip as a wish for every useful site.
    args = ["run", str(tiny), "--set", "model.p=50", "--out", str(tmp_path / "out")]
    code, _, stderr = _run(args, capsys)
    assert code == 0, stderr
    (note,) = [line for line in stderr.splitlines() if line.startswith("note")]
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert note == (
        f"note: model.p = 50 is more than the 5 candidate sites; {report['sites_selected']} opened"
    )
    # A roll-out's p is its phases', not model.p.
    phased = [
        "run", str(tiny), "--out", str(tmp_path / "phased"),
        "--set", "constraints.phases=[{year=2026, p=1}, {year=2028, p=50}]",
    ]  # fmt: skip
    code, _, stderr = _run(phased, capsys)
    assert code == 0, stderr
    notes = [line for line in stderr.splitlines() if line.startswith("note")]
    assert notes[0].startswith("note: a phase's p = 50 is more than the 5 candidate sites")
    # The scenario's own model.p is not used beside the phases, and said so
    # (before: silently).
    assert notes[1:] == [
        f"note: model.p = {load_scenario(tiny).model.p} is not used: with constraints.phases "
        "each phase's p or budget limits the sites"
    ]


def test_run_warns_of_a_plan_without_sites(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: "optimal: 0 sites ... coverage 0.00 %" and nothing more.
    phases = "constraints.phases=[{year=2026, budget_eur=0.0}]"
    args = ["run", str(tiny), "--out", str(tmp_path / "out"), "--set", phases]
    code, _, stderr = _run(args, capsys)
    assert code == 0, stderr
    assert any(line.startswith("warning: the plan opens no site") for line in stderr.splitlines())


def test_messages_escape_control_and_bidi_characters(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = "Lat\x1b[2J\u202e"
    (tmp_path / "dealers.csv").write_text(
        f"dealer_id,brand,name,country,lon,{header}\nR1,Renault,A\x1b]0;x\x07,LU,6.1,north\n",
        encoding="utf-8",
    )
    scenario = tiny.read_text(encoding="utf-8").replace(
        'path = "dealers.csv"', 'path = "dealers.csv"\ncolumns.lat = "Lat\\u001b[2J\\u202e"'
    )
    tiny.write_text(scenario, encoding="utf-8")
    code, _, stderr = _run(["validate", str(tiny)], capsys)
    assert code == 2
    assert "\x1b" not in stderr and "\u202e" not in stderr
    assert stderr.splitlines() == [
        "error: dealers.csv, row 2, field 'Lat\\x1b[2J\\u202e': 'north' is not a number"
    ]
    # The data itself is kept as written.
    assert header in (tmp_path / "dealers.csv").read_text(encoding="utf-8")


def test_a_library_warning_is_one_line_without_source(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import warnings

    import planner.pipeline.api

    real = planner.pipeline.api.run

    def warning_run(*args: Any, **kwargs: Any) -> Any:
        warnings.warn("overflow encountered in reduce", RuntimeWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(planner.pipeline.api, "run", warning_run)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        code, _, stderr = _run(["run", str(tiny), "--out", str(tmp_path / "out")], capsys)
    assert code == 0, stderr
    lines = [line for line in stderr.splitlines() if "overflow" in line]
    assert lines == ["warning: overflow encountered in reduce"]
    assert "warnings.warn" not in stderr and "RuntimeWarning" not in stderr


def test_a_plan_stopped_at_the_time_limit_gets_one_line_saying_what_to_try() -> None:
    from planner.cli.main import time_limit_hint

    scenario = load_scenario(None, overrides=["solver.time_limit_s=60", "solver.relative_gap=1e-4"])
    stopped = {"status": "time_limit", "gap": 0.039}
    hint = time_limit_hint(stopped, scenario, sense="min")
    assert hint is not None
    assert hint.startswith("note: the solver stopped at its time limit (60 s) with a gap of 3.9 %")
    assert "no plan can cost less than this one by more than that" in hint
    assert "--time-limit" in hint and "solver.relative_gap (now 0.01 %)" in hint
    assert time_limit_hint({"status": "optimal", "gap": 0.0}, scenario, sense="max") is None
    within = {"status": "time_limit", "gap": 5e-5}
    assert time_limit_hint(within, scenario, sense="max") is None
    # No bound at all (before: not a word beyond the summary's "gap n/a").
    unbounded = time_limit_hint({"status": "time_limit", "gap": None}, scenario, sense="max")
    assert unbounded is not None
    assert "before it could bound the best plan" in unbounded and "--time-limit" in unbounded


def test_a_plan_stopped_before_the_time_limit_is_not_told_to_take_more_time() -> None:
    from planner.cli.main import time_limit_hint

    scenario = load_scenario(None, overrides=["solver.time_limit_s=60", "solver.relative_gap=1e-4"])
    ended = {"status": "stopped", "gap": 0.0147, "solve_seconds": 29.31}
    hint = time_limit_hint(ended, scenario, sense="min")
    assert hint is not None
    assert hint.startswith(
        "note: the solver ended after 29.3 s, before its time limit (60 s), with a gap of 1.47 %"
    )
    assert "more time alone is unlikely to close it" in hint
    assert "--time-limit" not in hint and "solver.relative_gap (now 0.01 %)" in hint
    assert time_limit_hint({**ended, "gap": 5e-5}, scenario, sense="min") is None


def test_a_rollout_warns_of_the_queue_in_every_year_that_misses_it() -> None:
    from planner.cli.main import queue_warning

    rollout = load_scenario(
        None, overrides=["constraints.phases=[{year = 2026, p = 3}, {year = 2028, p = 6}]"]
    )
    queue = {"sites_missing_target": 2, "chargers_short": 5, "sessions_over_capacity": 40.0}
    phases = [
        {"year": 2026, "sites_missing_queue_target": 1},
        {"year": 2028, "sites_missing_queue_target": 2},
    ]
    warning = queue_warning({"queue": queue, "phases": phases}, rollout)
    assert warning is not None
    assert warning.startswith(
        "warning: 2 chosen site(s) miss the queueing target in 2028 (5 chargers short, "
        "40.0 sessions/day over capacity; 1 in 2026; see sites.csv)"
    )
    # Before: only the last year counted, so a roll-out fine by 2028 said nothing.
    fine_at_the_end = {**queue, "sites_missing_target": 0}
    phases[1]["sites_missing_queue_target"] = 0
    warning = queue_warning({"queue": fine_at_the_end, "phases": phases}, rollout)
    assert warning is not None
    assert "miss the queueing target in earlier years (1 in 2026;" in warning
    phases[0]["sites_missing_queue_target"] = 0
    assert queue_warning({"queue": fine_at_the_end, "phases": phases}, rollout) is None
    # A plan of one year names none.
    plain = load_scenario(None)
    warning = queue_warning({"queue": queue}, plain)
    assert warning is not None
    assert warning.startswith("warning: 2 chosen site(s) miss the queueing target (5 chargers")


def test_the_solve_on_screen_is_the_solve_in_the_report(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, stderr = _run(["run", str(tiny), "--out", str(tmp_path / "out")], capsys)
    assert code == 0, stderr
    # Charger sizing and the report are a stage of their own, not part of the solve.
    assert "sizing chargers" in stderr


def test_a_sizing_run_says_the_coverage_its_target_counts(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", str(tiny), "--out", str(tmp_path / "out"), "--set", "model.name=sizing"]
    code, stdout, stderr = _run([*args, "--set", "model.coverage_target=0.5"], capsys)
    assert code == 0, stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    within = 100 * report["sizing"]["coverage_of_reachable"]
    assert within >= 50.0 - 1e-6
    assert f"coverage {report['coverage_pct']:.2f} % ({within:.2f} % within reach) " in stdout


def test_sample_refuses_a_negative_seed_or_a_file_as_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: both ended as an unexpected failure (exit 1).
    code, _, stderr = _run(["sample", "--seed", "-1", "--out", str(tmp_path)], capsys)
    assert (code, stderr.strip()) == (2, "error: --seed: must be 0 or more, not -1")
    a_file = tmp_path / "dealers.csv"
    a_file.write_text("id\n", encoding="utf-8")
    code, _, stderr = _run(["sample", "--out", str(a_file)], capsys)
    assert (code, stderr.strip()) == (2, f"error: --out: '{a_file}' is a file, not a folder")
    # Before: /dev/null was said to be a file.
    code, _, stderr = _run(["sample", "--out", "/dev/null"], capsys)
    assert (code, stderr.strip()) == (
        2,
        "error: --out: '/dev/null' is a device, pipe or socket, not a folder",
    )
    # Before: '' was the working folder, and the sample was written there.
    monkeypatch.chdir(tmp_path)
    code, _, stderr = _run(["sample", "--out", ""], capsys)
    assert (code, stderr.strip()) == (2, "error: --out: give a path, not empty text")


@pytest.mark.parametrize(
    "args",
    [
        ["dealers", "import-osm", "extract.osm.pbf", "--out", ""],
        ["dealers", "import-atp", "places.geojson", "--out", ""],
        ["routing", "matrix", "routing", "--from", "a.csv", "--to", "b.csv", "--out", ""],
    ],
)
def test_an_empty_out_file_is_refused_as_empty(
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Before: '' became the working folder: "error: .: the dealer file is written as CSV…".
    monkeypatch.chdir(tmp_path)
    code, _, stderr = _run(args, capsys)
    assert (code, stderr.strip()) == (2, "error: --out: give a path, not empty text")


def test_run_lists_every_problem_of_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: the first problem and "(and 2 more problem(s))", so a user fixed
    # one mistake per run without seeing the others.
    overrides = ["model.p=0", "travel.radius_km=-1", "model.pp=3"]
    command = ["run", "--out", str(tmp_path / "out")]
    code, _, stderr = _run([*command, *(f"--set={item}" for item in overrides)], capsys)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: override '") for line in lines)
    assert {line.split("'")[1] for line in lines} == set(overrides)
    assert not (tmp_path / "out").exists()


def test_an_input_error_of_many_problems_lists_twenty_and_counts_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "".join(f"R{i},Renault,A,LU,6.1,north\n" for i in range(30))
    dealers = tmp_path / "dealers.csv"
    dealers.write_text("dealer_id,brand,name,country,lon,lat\n" + rows, encoding="utf-8")
    files = f'dealers.files=[{{path="{dealers.as_posix()}"}}]'
    code, _, stderr = _run(["run", "--out", str(tmp_path / "out"), "--set", files], capsys)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert all("dealers.csv" in line and "'lat'" in line for line in lines[:20]), lines
    assert lines[20:] == ["error: … and 10 more problem(s)"]


def test_compare_of_plans_among_different_candidates_says_so(
    two_plans: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: "sites kept 1, added 1, removed 0" and nothing on why.
    a, b = two_plans
    fewer = tmp_path / "fewer"
    shutil.copytree(b, fewer)
    sites = pd.read_csv(fewer / "sites.csv", dtype={"site_id": str})
    closed = sites.index[~sites["chosen"]][0]
    sites.drop(index=closed).to_csv(fewer / "sites.csv", index=False)
    out = tmp_path / "cmp"
    code, _, stderr = _run(["compare", str(a), str(fewer), "--out", str(out)], capsys)
    assert code == 0, stderr
    n = len(sites)
    assert (
        f"note: the plans chose among different candidate sites ({n} in A, {n - 1} in B, "
        f"{n - 1} in both)"
    ) in stderr
