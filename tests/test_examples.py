"""The examples in examples/ run as a user runs them: the script and the notebook."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_script_runs_compares_and_writes_both_plans(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "compare_p.py"), str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("default: 60 sites")
    assert lines[1].startswith("default-p90: 90 sites")
    assert lines[2].startswith("coverage ")
    for plan in ("p60", "p90"):
        report = json.loads((out / plan / "report.json").read_text())
        assert report["sites_selected"] == int(plan[1:])
        assert (out / plan / "map.html").stat().st_size > 100_000
    diff = json.loads((out / "compare" / "diff.json").read_text())
    coverage = diff["figures"]["coverage_pct"]
    # More sites never cover less demand.
    assert coverage["b"] >= coverage["a"]
    assert (out / "compare" / "compare.html").exists()


def test_notebook_runs_and_shows_plan_map_and_frontier(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(EXAMPLES / "planner.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    outputs = [cell.get("outputs", []) for cell in notebook.cells if cell.cell_type == "code"]
    assert not any(out.get("output_type") == "error" for cell in outputs for out in cell)
    summary, folium_map = outputs[0][0]["data"], outputs[1][0]["data"]
    assert "coverage" in summary["text/html"] and "40 of " in summary["text/html"]
    assert "leaflet" in folium_map["text/html"].lower()
    frontier = outputs[3][0]["data"]["text/html"]
    assert "data:image/png;base64," in frontier and "coverage_pct" in frontier
    written = outputs[4][0]["data"]["text/plain"]
    assert "map.html" in written and "report.json" in written
    assert (tmp_path / "maps" / "notebook-p40" / "report.json").exists()
