"""Sweeps on a real Dask ``LocalCluster``: outputs, failed runs, resume, one sweep per folder."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import planner
from planner.errors import InputError
from planner.outputs.sweep_runs import RunJournal, runs_folder
from planner.pipeline.sweep_spec import sweep_spec
from planner.pipeline.sweep_tasks import RunResult
from planner.scenario.build import scenario_from
from tests.test_api import _tiny
from tests.test_cli import _run

BEV_LU = "demand.sessions.by_country.LU.bev_share_of_fleet"
GRID: dict[str, list[Any]] = {"model.p": [1, 2], "constraints.country_min_sites": [{}, {"LU": 3}]}


def _raw(folder: Path) -> dict[str, object]:
    raw = _tiny(folder)
    raw["uncertainty"] = {BEV_LU: {"dist": "triangular", "low": 0.03, "mode": 0.05, "high": 0.1}}
    return raw


def test_sweep_on_a_local_cluster(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = planner.sweep(_raw(tmp_path), grid=GRID, samples=3, seed=1, workers=2, out=out)
    table = result.table
    assert len(table) == 2 * 2 * 3
    assert list(table["run"]) == list(range(1, 13))
    # p = 1 or 2 with at least 3 sites in LU cannot hold: recorded, not raised.
    impossible = table["constraints.country_min_sites"] == '{"LU": 3}'
    assert set(table.loc[impossible, "status"]) == {"infeasible"}
    assert table.loc[impossible, "message"].str.contains("at least 3 sites").all()
    assert set(table.loc[~impossible, "status"]) == {"optimal"}

    # A run of the sweep is the plan planner.run makes of the same scenario.
    row = table[~impossible].iloc[-1]
    plan = planner.run(
        _raw(tmp_path), overrides={"model.p": int(row["model.p"]), BEV_LU: row[BEV_LU]}
    )
    assert row["coverage_pct"] == pytest.approx(plan.report["coverage_pct"], abs=1e-6)
    assert row["chargers_total"] == plan.report["chargers_total"]

    # Robustness agrees with the runs; the written files with the result.
    robustness = result.robustness.set_index("site_id")
    chosen = plan.sites.loc[plan.sites["chosen"], "site_id"]
    assert (robustness.loc[list(chosen), "runs_chosen"] > 0).all()
    assert robustness["runs_chosen"].max() <= 6
    assert sorted(p.name for p in out.iterdir()) == [
        ".planner-output",
        "map.html",
        "scenario.toml",
        "site_robustness.csv",
        "sweep.csv",
        "sweep.json",
        "sweep.png",
    ]
    written = pd.read_csv(out / "sweep.csv")
    assert list(written["status"]) == list(table["status"])
    summary = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert summary["runs"] == 12 and summary["runs_by_status"] == {"infeasible": 6, "optimal": 6}
    assert summary["no_regret_sites"] == result.no_regret
    assert not runs_folder(out).exists()


def test_resume_solves_only_the_runs_not_kept(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    spec = sweep_spec(scenario_from(_raw(tmp_path)), grid={"model.p": [1, 2, 3]})
    journal = RunJournal.open(out, resume=False)
    # A kept run with figures no solve gives: if it were solved again they would change.
    kept = spec.runs[1]
    journal.record(
        kept.run_id,
        RunResult(
            run_id=kept.run_id, status="optimal", coverage_pct=12.5, site_ids=("N1",), chargers=(9,)
        ).record(),
    )
    with pytest.raises(InputError, match="--resume"):
        planner.sweep(_raw(tmp_path), grid={"model.p": [1, 2, 3]}, workers=1, out=out)
    result = planner.sweep(
        _raw(tmp_path), grid={"model.p": [1, 2, 3]}, workers=1, out=out, resume=True
    )
    table = result.table.set_index("model.p")
    assert table.loc[2, "coverage_pct"] == 12.5
    assert table.loc[1, "coverage_pct"] != 12.5 and table.loc[3, "status"] == "optimal"
    assert result.summary["runs_resumed"] == 1
    assert not runs_folder(out).exists()


def test_a_second_sweep_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from planner.outputs.folder import check_target
                check_target(Path({str(out)!r}), keep_lock=True)
                print("locked", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(InputError, match=f"another planner run \\(process {holder.pid}\\)"):
            planner.sweep(_raw(tmp_path), grid={"model.p": [1, 2]}, workers=1, out=out)
    finally:
        holder.kill()
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()


def test_cli_sweep_with_samples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = _raw(tmp_path)
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(
        'name = "tiny"\n[[dealers.files]]\npath = "dealers.csv"\n'
        '[demand]\ncountries = ["LU"]\nmin_population = 1000\n'
        "[travel]\nradius_km = 15.0\n[model]\np = 2\n"
        f'[uncertainty]\n"{BEV_LU}" = {{dist = "uniform", low = 0.03, high = 0.1}}\n',
        encoding="utf-8",
    )
    assert raw["name"] == "tiny"
    out = tmp_path / "out"
    code, stdout, stderr = _run(
        [
            "sweep",
            str(scenario),
            "--grid",
            "travel.radius_km=10,20",
            "--samples",
            "2",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stderr
    assert "sweep: 4 runs (0 without a plan)" in stdout
    assert "no-regret site(s), chosen in ≥ 90 % of the runs with a plan" in stdout
    table = pd.read_csv(out / "sweep.csv")
    assert list(table.columns[:5]) == ["run", "run_id", "sample", "travel.radius_km", BEV_LU]
    assert list(table["sample"]) == [0, 1, 0, 1]


def test_numbers_of_sites_above_the_candidates_are_said_to_repeat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: p = 8 and 9 on 5 candidate sites ran without a word (frontier cuts them).
    with caplog.at_level("WARNING", logger="planner.pipeline.sweep"):
        result = planner.sweep(_tiny(tmp_path), grid={"model.p": [2, 8, 9]}, workers=1)
    said = [r.getMessage() for r in caplog.records if r.name == "planner.pipeline.sweep"]
    assert said == [
        "model.p = 8, 9: above the 5 candidate sites, so these runs open no more sites than "
        "p = 5 would"
    ]
    assert len(result.table) == 3
