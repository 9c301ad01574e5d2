"""Tests of the comparison of two written plans: reading folders, the diff, the page."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.maps import plan_map as maps
from planner.maps.assets import loaded_resources
from planner.outputs.written import compare_plans, read_plan_folder
from planner.pipeline.plan import Plan
from planner.scenario.schema import scenario_to_toml
from tests.conftest import run_cli
from tests.test_maps import HOSTILE_NAME, tiny_outlines, tiny_plan


def write_plan_folder(folder: Path, plan: Plan) -> Path:
    """The files a comparison reads, as ``planner run`` writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    plan.sites.drop(columns="geometry").to_csv(folder / "sites.csv", index=False)
    report = {**plan.report, "scenario": plan.scenario.name, "title": plan.scenario.title}
    (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")
    (folder / "scenario.toml").write_text(scenario_to_toml(plan.scenario), encoding="utf-8")
    return folder


def other_plan() -> Plan:
    """The tiny plan with S4 dropped and S2 (Arras) chosen instead, more chargers at S1."""
    plan = tiny_plan()
    sites = plan.sites.copy()
    sites["chosen"] = [True, True, False, False, False]
    sites["chargers"] = [8, 4, 0, 0, 0]
    report = {
        **plan.report,
        "coverage_pct": 70.1,
        "sites_selected": 2,
        "chargers_total": 12,
        "cost_eur": {**plan.report["cost_eur"], "total": 2_300_000.0},
        "by_country": [
            {"country": "FR", "sites": 2, "demand": 86.08, "covered": 70.0, "coverage_pct": 81.3},
            {"country": "BE", "sites": 0, "demand": 25.2, "covered": 8.0, "coverage_pct": 31.7},
        ],
    }
    scenario = plan.scenario.model_copy(update={"name": "tiny_b", "title": "Tiny plan B"})
    return Plan(scenario, sites, plan.demand, plan.solution, report)


@pytest.fixture(scope="module")
def plan_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("plans")
    return (
        write_plan_folder(root / "a", tiny_plan()),
        write_plan_folder(root / "b", other_plan()),
    )


def test_comparison_counts_sites_kept_added_removed(plan_folders: tuple[Path, Path]) -> None:
    diff = compare_plans(*(read_plan_folder(f) for f in plan_folders))
    assert (diff.kept, diff.added, diff.removed) == (["S1"], ["S2"], ["S4"])
    totals = {row[0]: row[1:] for row in diff.totals}
    assert totals["Coverage"] == ("60.6 %", "70.1 %", "+9.5 pp")
    assert totals["Chargers"] == ("8", "12", "+4")
    assert totals["Sites"] == ("2", "2", "+0")
    assert totals["Total cost"] == ("€1.7 M", "€2.3 M", "+€600,000")
    countries = {row[0]: row[1:] for row in diff.by_country}
    assert countries["BE"] == ("0.0 %", "31.7 %", "+31.7 pp", "0", "0")
    assert countries[HOSTILE_NAME][1:3] == ("n/a", "n/a")


def test_comparison_page_is_offline_and_escaped(plan_folders: tuple[Path, Path]) -> None:
    page = maps.render_comparison(*plan_folders, outlines=tiny_outlines())
    assert loaded_resources(page) == []
    assert ".sync(" in page  # the two maps move together
    assert page.count("plannerMap.sites(") == 2
    assert HOSTILE_NAME not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    label_a = re.search(r'id="planner-pane-a"[^>]*>(.*?)</div>', page)
    label_b = re.search(r'id="planner-pane-b"[^>]*>(.*?)</div>', page)
    assert label_a is not None and label_b is not None
    detail = '<span class="planner-pane-detail"><br>'
    assert label_a.group(1).startswith(f"<b>A: a</b>{detail}scenario tiny<br>coverage 60.6 %")
    assert label_b.group(1).startswith(f"<b>B: b</b>{detail}scenario tiny_b<br>coverage 70.1 %")
    assert "coverage 60.6 % · 2 sites · 8 chargers" in label_a.group(1)
    assert '"removed"]' in page and '"added"]' in page


def test_comparison_names_every_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        maps.render_comparison(tmp_path / "nowhere", tmp_path)
    problems = [str(p) for p in raised.value.problems]
    assert problems == [
        f"{tmp_path / 'nowhere'}: not a folder: give a folder written by planner run",
        f"{tmp_path}: not a plan folder (no report.json, no sites.csv): "
        "give a folder written by planner run",
    ]


def test_comparison_names_each_missing_file(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "report.json").write_text("{}", encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "sites.csv").write_text("site_id\nS1\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        maps.render_comparison(tmp_path / "a", tmp_path / "b")
    problems = [str(p) for p in raised.value.problems]
    assert len(problems) == 3
    assert problems[0] == f"{tmp_path / 'a' / 'sites.csv'}: missing: is this a plan folder?"
    assert problems[1] == f"{tmp_path / 'b' / 'report.json'}: missing: is this a plan folder?"
    assert problems[2].startswith(f"{tmp_path / 'b' / 'sites.csv'}: missing columns: name,")


def test_comparison_refuses_a_damaged_report_or_charger_count(tmp_path: Path) -> None:
    # Before: a report holding a JSON array crashed, and chargers 'many' became 0.
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "report.json").write_text("[1, 2]", encoding="utf-8")
    (folder / "sites.csv").write_text(
        "site_id,name,brands,country,lon,lat,chosen,chargers\n"
        "S1,A,Renault,LU,6.1,49.6,True,4\nS2,B,Nissan,LU,6.2,49.7,True,many\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as raised:
        read_plan_folder(folder)
    assert [str(p) for p in raised.value.problems] == [
        f"{folder / 'report.json'}: not a JSON object, as planner's reports are",
        f"{folder / 'sites.csv'}, row 3, field 'chargers': 'many' is not a number of chargers",
    ]


def test_comparison_refuses_a_sites_file_cut_short_or_edited(
    plan_folders: tuple[Path, Path], tmp_path: Path
) -> None:
    # Before: a sites.csv cut in half compared as a plan of fewer sites, chosen
    # 'maybe' read as not chosen, a repeated row counted its chargers twice,
    # lon 'abc' and a report's cost_eur of text ended as unexpected failures,
    # and -5 chargers were shown as np.int64(-5).
    folder = tmp_path / "a"
    shutil.copytree(plan_folders[0], folder)
    sites = (folder / "sites.csv").read_text(encoding="utf-8").splitlines()
    (folder / "sites.csv").write_text("\n".join(sites[:2]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read_plan_folder(folder)
    assert [str(p) for p in raised.value.problems] == [
        f"{folder / 'sites.csv'}: holds 1 chosen sites, report.json says 2: the folder was "
        "changed after planner wrote it",
        f"{folder / 'sites.csv'}: holds 6 chargers, report.json says 8: the folder was "
        "changed after planner wrote it",
    ]
    header, first = sites[0].split(","), sites[1].split(",")
    edited = dict(zip(header, first, strict=True)) | {"chosen": "maybe", "lon": "abc"}
    negative = dict(zip(header, first, strict=True)) | {"chargers": "-5", "lat": "95"}
    rows = [",".join(row[c] for c in header) for row in (edited, negative)]
    (folder / "sites.csv").write_text("\n".join([sites[0], *rows, sites[1]]) + "\n", "utf-8")
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    (folder / "report.json").write_text(
        json.dumps(report | {"cost_eur": "a lot", "coverage_pct": "high"}), "utf-8"
    )
    with pytest.raises(InputError) as raised:
        read_plan_folder(folder)
    where = f"{folder / 'sites.csv'}"
    assert [str(p) for p in raised.value.problems] == [
        f"{where}, row 3, field 'chargers': '-5' is not a number of chargers",
        f"{where}, row 2, field 'chosen': 'maybe' is not true or false",
        f"{where}, row 2, field 'lon': 'abc' is not a lon in degrees (-180 to 180)",
        f"{where}, row 3, field 'lat': '95' is not a lat in degrees (-90 to 90)",
        f"{where}, row 3, field 'site_id': site '{first[0]}' is listed again (first in row 2)",
        f"{where}, row 4, field 'site_id': site '{first[0]}' is listed again (first in row 2)",
        f"{folder / 'report.json'}, field 'cost_eur': is not an object of costs",
        # Before: shown as n/a in the comparison, and as null in comparison.json.
        f"{folder / 'report.json'}, field 'coverage_pct': is 'high', not a number",
    ]
    (folder / "sites.csv").write_text("\n".join(sites) + "\n", "utf-8")
    edited_report = report | {"cost_eur": {**report["cost_eur"], "total": True}}
    (folder / "report.json").write_text(json.dumps(edited_report), "utf-8")
    with pytest.raises(InputError, match=r"field 'cost_eur.total': is True, not a number"):
        read_plan_folder(folder)


def test_comparison_without_a_scenario_file_lists_no_changed_fields(
    plan_folders: tuple[Path, Path], tmp_path: Path
) -> None:
    # Before: every field of B's scenario showed as changed.
    folder = tmp_path / "a"
    shutil.copytree(plan_folders[0], folder)
    (folder / "scenario.toml").unlink()
    diff = compare_plans(read_plan_folder(folder), read_plan_folder(plan_folders[1]))
    assert diff.scenario_changes == []


def test_write_comparison(plan_folders: tuple[Path, Path], tmp_path: Path) -> None:
    target = maps.write_comparison(*plan_folders, tmp_path / "compare.html")
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_comparison_into_a_plan_folder_names_the_argument_or_option(
    plan_folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import planner

    first = plan_folders[0]
    with pytest.raises(InputError, match=r"^folder: .* holds the plan folder"):
        planner.compare(*plan_folders).save(first)
    code, _, stderr = run_cli(["compare", *map(str, plan_folders), "--out", str(first)], capsys)
    assert code == 2 and stderr.startswith(f"error: --out: {first} holds the plan folder"), stderr


def test_comparison_cdn_page_links_leaflet_and_sync(plan_folders: tuple[Path, Path]) -> None:
    loads = loaded_resources(maps.render_comparison(*plan_folders, assets="cdn"))
    assert all(url.startswith("https://") for url in loads)
    assert any("Sync" in url for url in loads) and any("leaflet.js" in url for url in loads)


def test_comparison_reads_site_text_as_the_run_wrote_it(tmp_path: Path) -> None:
    # Before: site ids NA and null were read as missing (the folder was refused:
    # "site '' is listed again"), a site named None lost its name, and the
    # apostrophe sites.csv puts before =, +, - and @ for spreadsheets came out
    # in diff.json and on the page.
    from planner.outputs.spreadsheet import write_csv

    plan = tiny_plan()
    ids = ["NA", "null", "-5", "=1+1", "S5"]
    names = ["None", "NA", '=HYPERLINK("http://example.invalid")', "-minus", "Arras"]
    sites = plan.sites.assign(site_id=ids, name=names)
    folder = write_plan_folder(
        tmp_path / "a", Plan(plan.scenario, sites, plan.demand, plan.solution, plan.report)
    )
    write_csv(sites.drop(columns="geometry"), folder / "sites.csv")
    assert "'=1+1" in (folder / "sites.csv").read_text(encoding="utf-8")
    written = read_plan_folder(folder)
    assert list(written.sites["site_id"]) == ids
    assert list(written.sites["name"]) == names


def test_comparison_refuses_unreadable_files_and_impossible_counts(tmp_path: Path) -> None:
    # Before: a folder named report.json ended with exit 1 ("Is a directory"),
    # a charger count of 1e23 overflowed into a negative number in the message,
    # and travel = "x" in scenario.toml with an AttributeError.
    folder = write_plan_folder(tmp_path / "a", tiny_plan())
    sites = (folder / "sites.csv").read_text(encoding="utf-8").splitlines()
    header = sites[0].split(",")
    cells = sites[1].split(",")
    cells[header.index("chargers")] = "99999999999999999999999"
    (folder / "sites.csv").write_text("\n".join([sites[0], ",".join(cells), *sites[2:]]) + "\n")
    (folder / "report.json").unlink()
    (folder / "report.json").mkdir()
    with pytest.raises(InputError) as raised:
        read_plan_folder(folder)
    assert [str(p) for p in raised.value.problems] == [
        f"{folder / 'report.json'}: cannot be read (Is a directory)",
        f"{folder / 'sites.csv'}, row 2, field 'chargers': '99999999999999999999999' is not a "
        "number of chargers",
    ]
    other = write_plan_folder(tmp_path / "b", tiny_plan())
    scenario = (other / "scenario.toml").read_text(encoding="utf-8")
    (other / "scenario.toml").write_text('travel = "x"\n' + scenario.replace("[travel]", "[x]"))
    page = maps.render_comparison(other, other)
    assert "km great-circle" in page


def test_an_output_folder_inside_another_is_refused(
    plan_folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: a comparison written into a plan's folder made planner refuse to
    # replace that plan later ("holds files planner did not write").
    import planner

    runs = plan_folders[0].parent / "runs"
    plan = planner.run(overrides={"model.p": 3, "output.map": False})
    outer = plan.save(runs / "plan")
    code, _, stderr = run_cli(
        ["compare", *map(str, plan_folders), "--out", str(outer / "sub")], capsys
    )
    assert code == 2, stderr
    expected = f"output folder {outer / 'sub'}: is inside {outer}, a plan planner wrote"
    assert f"{expected}; name a folder outside it" in stderr
    assert not (outer / "sub").exists()


def test_comparison_refuses_key_figures_no_plan_has(tmp_path: Path) -> None:
    # Before: coverage 1e308 %, a negative demand covered, and 31.0 sites
    # selected against 30 in sites.csv were compared without a word.
    folder = write_plan_folder(tmp_path / "a", tiny_plan())
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    chosen = report["sites_selected"]
    edited = {
        **report,
        "coverage_pct": 1e308,
        "demand_covered": -5.0,
        "sites_selected": chosen + 1.0,
        "chargers_total": 2.5,
    }
    (folder / "report.json").write_text(json.dumps(edited), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read_plan_folder(folder)
    source = folder / "report.json"
    assert [str(p) for p in raised.value.problems] == [
        f"{source}, field 'coverage_pct': is 1e+308, not a share from 0 to 100 %",
        f"{source}, field 'chargers_total': is 2.5, not a whole number of chargers",
        f"{source}, field 'demand_covered': is -5.0, below 0",
    ]
    (folder / "report.json").write_text(
        json.dumps({**report, "sites_selected": chosen + 1.0}), encoding="utf-8"
    )
    with pytest.raises(InputError, match=rf"holds {chosen} chosen sites, report.json says"):
        read_plan_folder(folder)


@pytest.mark.parametrize("name", ["report.json", "sites.csv", "scenario.toml"])
@pytest.mark.parametrize("kind", ["device", "pipe"])
def test_a_device_or_pipe_in_a_plan_folder_is_refused_unread(
    plan_folders: tuple[Path, Path], tmp_path: Path, name: str, kind: str
) -> None:
    # Before: report.json linked to /dev/zero took 16 GB in 13 s, and a pipe
    # named sites.csv waited for ever.
    folder = tmp_path / "a"
    shutil.copytree(plan_folders[0], folder)
    (folder / name).unlink()
    if kind == "device":
        (folder / name).symlink_to("/dev/zero")
    else:
        os.mkfifo(folder / name)
    with pytest.raises(InputError) as caught:
        read_plan_folder(folder)
    assert str(caught.value) == (
        f"{folder / name}: is not a regular file (a pipe, socket or device); give a file; "
        "a plan folder holds files"
    )


def test_compare_refuses_an_empty_site_id_and_reads_chosen_as_it_checks_it(
    plan_folders: tuple[Path, Path], tmp_path: Path
) -> None:
    # Before: one empty site_id was compared as a site named "", and " True"
    # passed the check as true but was read as false.
    folder = tmp_path / "a"
    shutil.copytree(plan_folders[0], folder)
    sites = (folder / "sites.csv").read_text(encoding="utf-8").splitlines()
    header = sites[0].split(",")
    at_id, at_chosen = header.index("site_id"), header.index("chosen")
    row = sites[1].split(",")
    assert row[at_chosen] == "True"
    row[at_chosen] = " True"
    sites[1] = ",".join(row)
    (folder / "sites.csv").write_text("\n".join(sites) + "\n", encoding="utf-8")
    plan = read_plan_folder(folder)
    assert bool(plan.sites["chosen"].iloc[0])
    row[at_id] = ""
    sites[1] = ",".join(row)
    (folder / "sites.csv").write_text("\n".join(sites) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_plan_folder(folder)
    assert str(caught.value) == (
        f"{folder / 'sites.csv'}, row 2, field 'site_id': the site id is empty"
    )


def test_compare_says_when_a_scenario_was_not_compared(
    plan_folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: a folder without scenario.toml gave "scenario_changes": [] and no word.
    folder = tmp_path / "b"
    shutil.copytree(plan_folders[1], folder)
    (folder / "scenario.toml").unlink()
    out = tmp_path / "out"
    code, _, stderr = run_cli(
        ["compare", str(plan_folders[0]), str(folder), "--out", str(out)], capsys
    )
    assert code == 0, stderr
    assert "note: B has no scenario.toml: its scenario is not compared" in stderr
    # A folder compared with itself: an empty comparison, said to be of one folder.
    code, _, stderr = run_cli(
        ["compare", str(folder), str(folder), "--out", str(tmp_path / "self")], capsys
    )
    assert code == 0, stderr
    assert f"note: A and B are the same folder, {folder.resolve()}" in stderr


def test_a_plan_folder_whose_name_is_too_long_is_named(tmp_path: Path) -> None:
    # Before: OSError "[Errno 36] File name too long" from the API, exit 1 from the command.
    folder = tmp_path / ("x" * 300)
    with pytest.raises(InputError, match=r"cannot be opened: File name too long$"):
        read_plan_folder(folder)


def test_a_report_without_its_key_figures_is_refused(
    plan_folders: tuple[Path, Path], tmp_path: Path
) -> None:
    # Before: accepted, and the comparison's headline of coverage and sites vanished.
    folder = tmp_path / "a"
    shutil.copytree(plan_folders[0], folder)
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    del report["coverage_pct"]
    (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_plan_folder(folder)
    assert str(caught.value) == f"{folder / 'report.json'}, field 'coverage_pct': is missing"


def test_a_plan_folder_saved_again_by_a_spreadsheet_or_editor(
    plan_folders: tuple[Path, Path], tmp_path: Path
) -> None:
    # Before: a byte-order mark in report.json was "not valid JSON: Unexpected
    # UTF-8 BOM", and a sites.csv saved with semicolons had only "missing columns".
    folder = tmp_path / "a"
    shutil.copytree(plan_folders[0], folder)
    report = folder / "report.json"
    report.write_bytes(b"\xef\xbb\xbf" + report.read_bytes())
    assert read_plan_folder(folder).report["coverage_pct"] is not None
    sites = folder / "sites.csv"
    sites.write_text(sites.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    with pytest.raises(InputError, match=r"one column \('site_id;name;.*comma-separated$"):
        read_plan_folder(folder)


def test_comparison_shows_scenario_numbers_as_the_panels_do(tmp_path: Path) -> None:
    # Before: "constraints.budget_eur = 40000000.0" beside "€70.1 M" on the same page.
    plan = tiny_plan()
    budgeted = plan.scenario.model_copy(
        update={
            "name": "tiny_b",
            "constraints": plan.scenario.constraints.model_copy(
                update={"budget_eur": 40_000_000.0}
            ),
            "demand": plan.scenario.demand.model_copy(update={"min_population": 25000}),
        }
    )
    other = Plan(budgeted, plan.sites, plan.demand, plan.solution, plan.report)
    a = write_plan_folder(tmp_path / "a", plan)
    b = write_plan_folder(tmp_path / "b", other)
    page = maps.render_comparison(a, b, outlines=tiny_outlines())
    scenario = page[page.index('id="planner-diff-scenario"') :]
    assert "<td>constraints.budget_eur</td><td>unset</td><td>€40.0 M</td>" in scenario
    assert "<td>25,000</td>" in scenario and "40000000" not in page
