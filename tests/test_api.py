"""The public API: ``import planner`` and what a script or notebook calls."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
import types
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import planner
from planner.pipeline.registry import MODELS
from planner.scenario.models import MODEL_TRAITS

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEALERS = """dealer_id,brand,name,country,lon,lat
R1,Renault,Renault Luxembourg-Gare,LU,6.1296,49.6001
N1,Nissan,Nissan Luxembourg-Gare,LU,6.1299,49.6003
R2,Renault,Renault Esch,LU,5.9806,49.4958
R3,Renault,Renault Ettelbruck,LU,6.1042,49.8475
N2,Nissan,"Nissan <b>Diekirch</b> & Fils",LU,6.1600,49.8680
R4,Renault,Renault Wiltz,LU,5.9322,49.9662
"""


def _tiny(folder: Path) -> dict[str, object]:
    (folder / "dealers.csv").write_text(DEALERS, encoding="utf-8")
    return {
        "name": "tiny",
        "dealers": {"files": [{"path": str(folder / "dealers.csv")}]},
        "demand": {"countries": ["LU"], "min_population": 1000},
        "travel": {"radius_km": 15.0},
        "model": {"p": 2},
    }


def test_import_is_lazy_and_exports_resolve() -> None:
    code = (
        "import sys, planner\n"
        "heavy = ('pandas', 'planner.pipeline', 'ortools', 'folium')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    for name in planner.__all__:
        assert getattr(planner, name) is not None, name
    assert issubclass(planner.InputError, planner.PlannerError)
    with pytest.raises(AttributeError):
        _ = planner.no_such_name


def test_registry_and_scenario_name_the_same_models() -> None:
    assert list(MODELS) == list(MODEL_TRAITS)
    assert all(model.traits is MODEL_TRAITS[name] for name, model in MODELS.items())


def test_run_takes_a_mapping_a_scenario_or_a_path_alike(tmp_path: Path) -> None:
    raw = _tiny(tmp_path)
    from_mapping = planner.run(raw, overrides={"model.p": 1})
    assert from_mapping.report["sites_selected"] == 1
    again = planner.run(from_mapping.scenario, overrides={"model.p": 2})
    path = tmp_path / "tiny.toml"
    path.write_text(
        'name = "tiny"\n[[dealers.files]]\npath = "dealers.csv"\n'
        '[demand]\ncountries = ["LU"]\nmin_population = 1000\n'
        "[travel]\nradius_km = 15.0\n[model]\np = 2\n",
        encoding="utf-8",
    )
    from_path = planner.run(path)
    assert again.report["objective"] == from_path.report["objective"]
    assert list(again.sites["chosen"]) == list(from_path.sites["chosen"])
    # The caller's mapping is not changed by the overrides.
    assert raw["model"] == {"p": 2}


def test_bad_override_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(planner.InputError) as caught:
        planner.run(_tiny(tmp_path), overrides={"model.p": 0})
    assert "model.p" in str(caught.value)
    with pytest.raises(planner.InputError, match=r"model\.q"):
        planner.run(_tiny(tmp_path), overrides={"model.q": 3})


def test_a_problem_with_an_override_names_the_override(tmp_path: Path) -> None:
    # Before: "built-in default scenario, field 'solver.relative_gap': ...", as if
    # the scenario file held the 5.
    with pytest.raises(planner.InputError) as caught:
        planner.load_scenario(None, overrides=["solver.relative_gap=5", "model.p=3"])
    assert str(caught.value) == (
        "override 'solver.relative_gap=5', field 'solver.relative_gap': Input should be less "
        "than 1 (got 5)"
    )
    with pytest.raises(planner.InputError) as caught:
        planner.run(_tiny(tmp_path), overrides={"model.p": 0})
    assert str(caught.value).startswith("override model.p, field 'model.p': ")
    # A problem of the scenario's own fields still names the scenario.
    (problem,) = planner.validate({"model": {"p": 0}}, overrides=["solver.relative_gap=0.1"])
    assert str(problem).startswith("scenario mapping, field 'model.p': ")
    # An override refused at a field above it (an unknown section) names the override too.
    (problem,) = planner.validate(overrides={"nope.x": 1})
    assert str(problem).startswith("override nope.x, field 'nope': unknown field"), str(problem)


def test_plan_saves_as_the_command_line_writes_and_summarises(tmp_path: Path) -> None:
    plan = planner.run(_tiny(tmp_path))
    folder = plan.save(tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == [
        ".planner-output",
        "map.html",
        "report.json",
        "scenario.toml",
        "sites.csv",
        "sites.geojson",
    ]
    assert json.loads((folder / "report.json").read_text())["objective"] == plan.report["objective"]
    summary = plan._repr_html_()
    assert "2 of 5 candidates" in summary and "coverage" in summary
    assert type(plan.map()).__name__ == "Map"
    # A folder of someone else's files is refused, not cleared.
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("mine")
    with pytest.raises(planner.InputError, match="did not write"):
        plan.save(tmp_path / "notes")


def test_compare_frontier_and_validate(tmp_path: Path) -> None:
    raw = _tiny(tmp_path)
    one, two = planner.run(raw, overrides={"model.p": 1}), planner.run(raw)
    comparison = planner.compare(one, two)
    coverage = comparison.diff.figures["coverage_pct"]
    assert coverage["a"] == pytest.approx(one.report["coverage_pct"], abs=0.01)
    assert coverage["b"] == pytest.approx(two.report["coverage_pct"], abs=0.01)
    assert len(comparison.diff.kept) + len(comparison.diff.added) == 2
    written = comparison.save(tmp_path / "cmp")
    assert (written / "compare.html").exists() and (written / "diff.json").exists()
    # Plans from memory have no folder: before, diff.json named the working
    # folder joined with the scenario's name, a folder never written.
    record = json.loads((written / "diff.json").read_text(encoding="utf-8"))
    assert record["a"]["folder"] is None and record["b"]["folder"] is None
    assert record["a"]["scenario"] == one.scenario.name

    front = planner.frontier(raw, p=[1, 2, 3])
    assert list(front.table["p"]) == [1, 2, 3]
    assert front.plan.report["sites_selected"] == 2
    assert front.figure().axes

    assert planner.validate(raw) == []
    problems = planner.validate(raw, overrides={"dealers.files": [{"path": "missing.csv"}]})
    assert problems and "missing.csv" in str(problems[0])


def test_dealer_and_demand_tables_replace_files(tmp_path: Path) -> None:
    raw = _tiny(tmp_path)
    from_file = planner.run(raw)
    table = pd.read_csv(tmp_path / "dealers.csv")
    from_table = planner.run(raw, dealers=table)
    assert from_table.report["objective"] == from_file.report["objective"]
    bad = table.astype({"lat": object})
    bad.loc[2, "lat"] = "north"
    with pytest.raises(planner.InputError, match="dealers table"):
        planner.run(raw, dealers=bad)
    demand = from_file.demand[["name", "country", "lon", "lat", "population"]]
    from_demand = planner.run(raw, demand=pd.DataFrame(demand))
    assert from_demand.report["demand_total"] == pytest.approx(from_file.report["demand_total"])


def test_geodataframes_without_a_geometry_or_with_empty_points_read_as_tables(
    tmp_path: Path,
) -> None:
    # Before: AttributeError from geopandas for a GeoDataFrame made from a plain
    # table, and its UserWarning on notna() for an empty point.
    import geopandas as gpd
    import shapely

    raw = _tiny(tmp_path)
    table = pd.read_csv(tmp_path / "dealers.csv")
    expected = planner.run(raw, dealers=table).report["objective"]
    assert planner.run(raw, dealers=gpd.GeoDataFrame(table)).report["objective"] == expected
    points = [shapely.Point(x, y) for x, y in zip(table["lon"], table["lat"], strict=True)]
    placed = gpd.GeoDataFrame(table.drop(columns=["lon", "lat"]), geometry=points, crs=4326)
    assert planner.run(raw, dealers=placed).report["objective"] == pytest.approx(expected)
    placed.loc[0, "geometry"] = shapely.Point()
    # An empty point is a row without coordinates: dropped and counted, no library warning.
    assert planner.run(raw, dealers=placed).report["inputs"]["dealers"]["dropped"] == 1
    demand = planner.run(raw).demand[["name", "country", "lon", "lat", "population"]]
    total = planner.run(raw, demand=gpd.GeoDataFrame(pd.DataFrame(demand))).report["demand_total"]
    assert total == pytest.approx(planner.run(raw).report["demand_total"])


def test_override_keys_must_be_dotted_field_names(tmp_path: Path) -> None:
    # Before: AttributeError: 'int' object has no attribute 'strip'.
    for overrides in ({1: 3}, {("model", "p"): 3}, [("model.p", 3)]):
        with pytest.raises(planner.InputError) as caught:
            planner.run(_tiny(tmp_path), overrides=overrides)  # type: ignore[arg-type]
        assert "dotted field names" in str(caught.value)


def test_arguments_of_the_wrong_kind_are_named(tmp_path: Path) -> None:
    # Before: TypeError, ValueError or AttributeError from deep inside, or a
    # path taken apart character by character.
    raw = _tiny(tmp_path)
    plan = planner.run(raw)
    cases = [
        (lambda: plan.save(None), "folder: give a path"),  # type: ignore[arg-type]
        (lambda: plan.save(3), "folder: give a path"),  # type: ignore[arg-type]
        (lambda: plan.save("a\x00b"), "folder: 'a\\x00b' is no path: it holds a NUL"),
        (lambda: plan.save(tmp_path / "o", map_assets="CDN"), "map_assets: must be 'inline'"),  # type: ignore[arg-type]
        (lambda: planner.compare(plan, None), "b: give a path"),  # type: ignore[arg-type]
        (lambda: planner.run(raw, dealers="dealers.csv"), "dealers: give a DataFrame"),  # type: ignore[arg-type]
        # Before: ValueError, TypeError or bytes read as character codes.
        (lambda: plan.map(assets="zzz"), "assets: must be 'inline' or 'cdn'"),  # type: ignore[arg-type]
        (lambda: planner.compare(plan, plan).save(None), "folder: give a path"),  # type: ignore[arg-type]
        (lambda: planner.compare(plan, plan).save(tmp_path / "c", assets="x"), "assets: must"),  # type: ignore[arg-type]
        # Named as in Plan.save, the earlier name still read.
        (
            lambda: planner.compare(plan, plan).save(tmp_path / "c", map_assets="x"),  # type: ignore[arg-type]
            "map_assets: must",
        ),
        (lambda: planner.run(raw, overrides=5), "overrides: give a mapping"),  # type: ignore[arg-type]
        # Before: the later of the two won without a word.
        (
            lambda: planner.run(raw, overrides={"model.p": 3, "model": {"p": 4}}),
            "overrides: 'model' and 'model.p' set the same field",
        ),
        (lambda: planner.run(raw, progress=5), "progress: give a function, not 5"),  # type: ignore[arg-type]
        (lambda: planner.run(raw, progress=lambda: 0), "progress: give a function of one"),  # type: ignore[arg-type, misc]
        (lambda: planner.frontier(raw, p=b"1:3"), "p: give a list of numbers"),
        (lambda: planner.sweep(raw, grid=5), "grid: give a mapping"),  # type: ignore[arg-type]
        (lambda: planner.sweep(raw, grid={"model.p": b"12"}), "grid, field 'model.p': give a list"),
        (
            lambda: planner.sweep(raw, grid={"model.p": [1]}, workers=True),
            "workers: must be a whole",
        ),
        (
            lambda: planner.sweep(raw, grid={"model.p": [1]}, workers=10**6),
            "workers: must be at most",
        ),
        (
            lambda: planner.sweep(raw, grid={"model.p": [1]}, out=tmp_path / "s", map_assets="x"),  # type: ignore[arg-type]
            "map_assets: must be 'inline' or 'cdn'",
        ),
        (lambda: planner.import_dealers(None), "files: give a path or a list of paths"),  # type: ignore[arg-type]
        (lambda: planner.import_dealers([tmp_path / "a.osm.pbf"], kind="OSM"), "kind: must be"),  # type: ignore[arg-type]
        (lambda: planner.import_dealers(tmp_path / "a.osm.pbf", shops=[None]), "shops: give"),  # type: ignore[list-item]
        (lambda: planner.import_dealers(tmp_path / "a.osm.pbf", brands=5), "brands: give brands"),  # type: ignore[arg-type]
        (lambda: planner.build_routing(None), "extract: give a path"),  # type: ignore[arg-type]
        (lambda: planner.build_routing("x.osm.pbf", threads=1.5), "threads: must be a whole"),  # type: ignore[arg-type]
        (lambda: planner.load_scenario(5), "path: give a path"),  # type: ignore[arg-type]
        (lambda: planner.load_scenario(overrides="model.p=3"), "overrides: give a list"),  # type: ignore[arg-type]
        (lambda: planner.load_scenario(overrides={"model.p": 3}), "overrides: give a list"),  # type: ignore[arg-type]
        (lambda: planner.Scenario(model={"p": True}), "Scenario(...), field 'model.p'"),
        # Before: AttributeError from deep inside the run.
        (
            lambda: planner.run(plan.scenario.model_copy(update={"model": 5})),
            "scenario 'tiny', field 'model': Input should be a table",
        ),
        (lambda: planner.Scenario(foo=1), "Scenario(...), field 'foo': unknown field"),  # type: ignore[call-arg]
    ]
    for call, start in cases:
        with pytest.raises(planner.InputError) as caught:
            call()
        assert str(caught.value).startswith(start), str(caught.value)
    assert not (tmp_path / "o").exists() and not (tmp_path / "s").exists()
    (problem,) = planner.validate({"model": [1, 2]})
    assert str(problem) == (
        "scenario mapping, field 'model': Input should be a table ([section] in TOML, a dict "
        "in Python) (got [1, 2], a list)"
    )
    # Before: "Input should be a valid integer", of 3.0 and of a name gone too deep;
    # "unknown field" with no suggestion for "model.P".
    for values, said in (
        ({"model.p": 3.0}, "field 'model.p': Input should be a valid integer (got 3.0)"),
        (
            {"model.p.x": 3},
            "field 'model.p': is a single value, not a table: no field lies below it "
            "(got {'x': 3}, a dict)",
        ),
        (
            {"dealers.files.0.path": "d.csv"},
            "field 'dealers.files': is a list, set as a whole ([…]): no dotted name picks one "
            "entry",
        ),
        ({"model.P": 3}, "field 'model.P': unknown field; did you mean 'model.p'?"),
    ):
        (problem,) = planner.validate(None, overrides=values)
        assert said in str(problem), str(problem)


def test_road_fields_under_great_circle_travel_are_named_as_unused(tmp_path: Path) -> None:
    # Before: travel.max_minutes without travel.mode = "road" did nothing, without a word.
    plan = planner.run(_tiny(tmp_path), overrides={"travel.max_minutes": 10})
    assert (
        "travel.max_minutes set, but travel.mode is 'great_circle': reach is radius_km = 15 km; "
        "set travel.mode = 'road' to use it"
    ) in plan.report["inputs"]["warnings"], plan.report["inputs"]


def test_a_number_of_sites_given_to_a_model_that_chooses_it_is_named_as_unused(
    tmp_path: Path,
) -> None:
    # Before: set_cover with model.p = 1 opened every site it needed, without a word.
    values = {"model.name": "set_cover", "model.p": 1}
    plan = planner.run(_tiny(tmp_path), overrides=values)
    assert (
        "model.p = 1 set, but set_cover chooses the number of sites itself (by "
        "model.coverage_target): p is not used"
    ) in plan.report["inputs"]["warnings"]
    plain = planner.run(_tiny(tmp_path), overrides={"model.name": "set_cover", "model.p": None})
    assert not any("model.p" in w for w in plain.report["inputs"]["warnings"])


def test_a_scenario_where_no_site_may_open_is_refused(tmp_path: Path) -> None:
    # Before: validate() found nothing wrong and run() returned an "optimal" plan of 0 sites.
    raw = _tiny(tmp_path)
    dealers = pd.read_csv(tmp_path / "dealers.csv")
    (problem,) = planner.validate(raw, dealers=dealers.assign(excluded=True))
    assert re.fullmatch(
        r"dealers, field 'excluded': no candidate site may open: all (\d+) are excluded "
        r"\(\1 marked excluded\)",
        str(problem),
    ), str(problem)
    with pytest.raises(planner.InputError, match="no candidate site may open"):
        planner.run(raw, dealers=dealers.assign(max_chargers=0))


@pytest.mark.skipif(os.environ.get("PLANNER_SKIP_WHEEL") == "1", reason="PLANNER_SKIP_WHEEL=1")
def test_wheel_runs_the_default_from_an_empty_folder(tmp_path: Path) -> None:
    """A plain (not editable) install: the sample network and outlines come with the wheel."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(wheels),
            str(PROJECT_ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(wheels.glob("planner-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in (
        "planner/geodata/sample_dealers_demo.csv",
        "planner/geodata/countries_europe.geojson",
        "planner/maps/static/map.js",
    ):
        assert shipped in names, shipped
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    empty = tmp_path / "empty"
    empty.mkdir()
    scenario = empty / "mine.toml"
    scenario.write_text('name = "mine"\n[model]\np = 30\n', encoding="utf-8")
    code = (
        "import planner, pathlib\n"
        f"assert pathlib.Path(planner.__file__).is_relative_to(pathlib.Path(r'{site}'))\n"
        "plan = planner.run(overrides={'model.p': 30})\n"
        "mine = planner.run('mine.toml')\n"
        "print(plan.report['coverage_pct'], mine.report['coverage_pct'])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=empty, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    first, second = (float(v) for v in done.stdout.split())
    assert first == second > 0


def test_a_plan_edited_in_memory_is_named_as_its_argument_in_compare(tmp_path: Path) -> None:
    # Before: the problems named a temporary folder that no longer existed
    # ("/tmp/planner-compare-…/a/sites.csv, row 2, …").
    plan = planner.run(_tiny(tmp_path))
    plan.sites.loc[plan.sites.index[1], "site_id"] = plan.sites["site_id"].iloc[0]
    with pytest.raises(planner.InputError) as caught:
        planner.compare(plan, plan)
    sources = {p.source for p in caught.value.problems if isinstance(p, planner.Problem)}
    assert sources == {"a (sites.csv)", "b (sites.csv)"}


def test_a_plan_whose_choice_was_edited_is_refused_before_its_report_is_written(
    tmp_path: Path,
) -> None:
    # Before: report.json said 1 site beside a sites.csv of 2 chosen (and the
    # repr still said 1); compare then refused the folder as "changed after
    # planner wrote it".
    plan = planner.run(_tiny(tmp_path))
    sites = plan.sites.copy()
    closed = sites.index[~sites["chosen"]][0]
    sites.loc[closed, ["chosen", "chargers"]] = [True, 4]
    edited = dataclasses.replace(plan, sites=sites)
    said = plan.report["sites_selected"]
    with pytest.raises(planner.InputError) as caught:
        edited.save(tmp_path / "out")
    assert str(caught.value.problems[0]) == (
        f"plan.sites: holds {said + 1} chosen sites, plan.report says {said}: a plan's report "
        "and map are of the sites its solve chose; to choose sites yourself, give the dealer "
        "file a fixed (or excluded) column and run again"
    )
    assert not (tmp_path / "out").exists()
    with pytest.raises(planner.InputError, match=r"^b\.sites: holds .* chosen sites"):
        planner.compare(plan, edited)
    # Before: AttributeError: 'NoneType' object has no attribute 'output'.
    with pytest.raises(planner.InputError, match=r"^plan\.scenario: is None, not the Scenario"):
        dataclasses.replace(plan, scenario=None).save(tmp_path / "out")  # type: ignore[arg-type]
    # Before: saved, and compare then refused the folder ("field 'coverage_pct': is missing").
    missing = r"^plan\.report, field 'coverage_pct': is missing"
    with pytest.raises(planner.InputError, match=missing):
        dataclasses.replace(plan, report={}).save(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_plan_reprojected_in_memory_is_written_in_degrees(tmp_path: Path) -> None:
    # Before: sites.geojson held metres (EPSG:3857) beside lon/lat in degrees.
    plan = planner.run(_tiny(tmp_path))
    metres = dataclasses.replace(plan, sites=plan.sites.to_crs(3857))
    folder = metres.save(tmp_path / "out")
    features = json.loads((folder / "sites.geojson").read_text(encoding="utf-8"))["features"]
    first = plan.sites.iloc[0]
    assert features[0]["geometry"]["coordinates"] == pytest.approx([first["lon"], first["lat"]])
    no_crs = r"^plan\.sites: has no CRS; the run's is EPSG:4326"
    with pytest.raises(planner.InputError, match=no_crs):
        dataclasses.replace(plan, sites=plan.sites.set_crs(None, allow_override=True)).save(
            tmp_path / "none"
        )


def test_a_plan_whose_tables_lost_columns_is_refused_by_name(tmp_path: Path) -> None:
    plan = planner.run(_tiny(tmp_path))
    plan.sites["note"] = "added columns are kept"
    assert (plan.save(tmp_path / "kept") / "map.html").is_file()
    sites = plan.sites.copy()
    del plan.sites["chargers"]
    # Before: KeyError: 'chargers', from deep in the map.
    lacks = r"lacks the column\(s\) 'chargers' a run makes"
    with pytest.raises(planner.InputError, match=rf"^plan\.sites: {lacks}"):
        plan.save(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(planner.InputError, match=rf"^plan\.sites: {lacks}"):
        plan.map()
    with pytest.raises(planner.InputError, match=rf"^b\.sites: {lacks}"):
        planner.compare(tmp_path / "kept", plan)
    edited = dataclasses.replace(plan, sites=sites, demand=pd.DataFrame(plan.demand))
    with pytest.raises(planner.InputError, match=r"^plan\.demand: is no longer a GeoDataFrame"):
        edited.save(tmp_path / "out")
    # Before: bare ValueErrors from deep in the writing ("invalid literal for
    # int()", "Out of range float values are not JSON compliant").
    for column, value, said in (
        ("chosen", "yes", "field 'chosen': holds object values, not only True and False"),
        (
            "lon",
            float("nan"),
            f"field 'lon': 1 row(s) with no lon within ±180 (first: index {sites.index[0]!r})",
        ),
        ("lat", 1000.0, "field 'lat': 1 row(s) with no lat within ±90"),
        ("chargers", -1, "field 'chargers': holds values that are no whole number"),
    ):
        broken = sites.copy()
        broken[column] = broken[column].astype(object)
        broken.loc[broken.index[0], column] = value
        with pytest.raises(planner.InputError, match="^" + re.escape(f"plan.sites, {said}")):
            dataclasses.replace(plan, sites=broken).save(tmp_path / "out")
    assert not (tmp_path / "out").exists()
    # The one-line repr never raises, whatever the report lost.
    del plan.report["coverage_pct"]
    assert "coverage ?" in repr(plan) and "coverage" in plan._repr_html_()


def test_empty_text_as_a_path_and_values_of_the_wrong_kind_are_named(tmp_path: Path) -> None:
    # Before: "" was the working folder (". : not a plan folder"), and the
    # messages said "a int is not a scenario" and "not a int".
    with pytest.raises(planner.InputError, match=r"^a: give a path, not empty text$"):
        planner.compare("", tmp_path)
    with pytest.raises(planner.InputError, match=r"^scenario: 5 is not a scenario: give a path"):
        planner.run(5)  # type: ignore[arg-type]
    with pytest.raises(planner.InputError, match=r"^dealers: give a DataFrame, .* not 5 \("):
        planner.run(None, dealers=5)  # type: ignore[arg-type]
    # Before: the whole FrontierPlan printed as the path it is not.
    frontier = planner.frontier(_tiny(tmp_path), p=[1])
    with pytest.raises(planner.InputError, match=r"^a: give a Plan .* FrontierPlan holds one as"):
        planner.compare(frontier, frontier.plan)  # type: ignore[arg-type]
    # Before: "dealers table: the file is empty", of a table.
    with pytest.raises(planner.InputError, match=r"^dealers table: the table has no columns$"):
        planner.run(None, dealers=pd.DataFrame())


def test_a_home_folder_of_no_user_is_named_as_a_path_problem(tmp_path: Path) -> None:
    # Before: a bare RuntimeError ("Could not determine home directory") from pathlib.
    said = "'~no-such-user-xq/x.toml': '~no-such-user-xq' names no home folder on this machine"
    with pytest.raises(planner.InputError, match="^scenario: " + re.escape(said)):
        planner.run("~no-such-user-xq/x.toml")
    (problem,) = planner.validate("~no-such-user-xq/x.toml")
    assert said in str(problem)
    scenario = tmp_path / "s.toml"
    scenario.write_text('[[dealers.files]]\npath = "~no-such-user-xq/d.csv"\n', encoding="utf-8")
    (problem,) = planner.validate(scenario)
    assert isinstance(problem, planner.Problem)
    assert (problem.field, problem.message.split(":")[0]) == (
        "dealers.files.0.path",
        "'~no-such-user-xq/d.csv'",
    )


def test_values_and_numbers_of_sites_of_the_wrong_kind_are_named() -> None:
    # Before: AttributeError: 'list' object has no attribute 'items'.
    with pytest.raises(planner.InputError, match=r"^values: give a mapping of dotted field names"):
        planner.load_scenario(values=["model.p=3"])  # type: ignore[arg-type]
    # Before: ".: is a folder, not a scenario file", and "unknown field; did you mean 'model'?".
    with pytest.raises(planner.InputError, match=r"^scenario: give a path, not empty text$"):
        planner.run("")
    with pytest.raises(
        planner.InputError,
        match=r"^scenario mapping, field 'model.p': 'model.p' is a dotted name: .* overrides=$",
    ):
        planner.run({"model.p": 3})
    # Before: 5 solved once without a word, while "5,5,3" was refused.
    with pytest.raises(planner.InputError, match=r"^p: 5 is given twice; give each number once$"):
        planner.frontier(p=[5, 5, 3])


def test_country_counts_stay_whole_where_one_plan_lacks_the_country(tmp_path: Path) -> None:
    # Before: diff_countries.csv wrote sites_a as 1.0 beside sites_b 1 when a
    # country was missing from one plan.
    raw = _tiny(tmp_path)
    a = planner.run(raw, overrides={"demand.countries": ["LU"]})
    b = planner.run(raw, overrides={"demand.countries": ["LU", "BE"]})
    comparison = planner.compare(a, b)
    rows = comparison.country_changes().to_csv(index=False).splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["BE", "LU"]
    assert rows[1].split(",")[4] == "" and rows[2].split(",")[4:] == ["2", "2"]
    # Same candidates: nothing to say about them.
    assert not [row for row in comparison.diff.totals if row[0] == "Candidate sites"]


def test_plans_chosen_among_other_candidates_say_so_in_the_comparison(tmp_path: Path) -> None:
    # Before: sites B could choose and A could not were "added" without a word
    # that the two plans chose among different candidates.
    raw = _tiny(tmp_path)
    dealers = pd.read_csv(tmp_path / "dealers.csv")
    a = planner.run(raw)
    b = planner.run(raw, dealers=dealers.iloc[:-1])
    both = len(set(a.sites["site_id"]) & set(b.sites["site_id"]))
    assert len(b.sites) < len(a.sites) and both == len(b.sites)
    candidates = [row for row in planner.compare(a, b).diff.totals if row[0] == "Candidate sites"]
    assert candidates == [
        ("Candidate sites", f"{len(a.sites):,}", f"{len(b.sites):,}", f"{both:,} in both")
    ]


def test_results_compare_by_identity_and_show_short_reprs(tmp_path: Path) -> None:
    plan = planner.run(_tiny(tmp_path))
    again = planner.run(_tiny(tmp_path))
    # Before: "The truth value of a DataFrame is ambiguous" and "unhashable type".
    assert plan == plan and plan != again and len({plan, again, plan.solution}) == 3
    frontier = planner.frontier(_tiny(tmp_path), p=[1, 2])
    assert frontier != frontier.plan and repr(frontier).startswith(
        "<FrontierPlan 2 point(s), p 1-2"
    )
    # Before: the dataclass repr of every input table and the reach matrix.
    checked = planner.check(_tiny(tmp_path))
    assert re.fullmatch(
        r"<Checked 'tiny': 5 candidate sites, \d+ demand points, \d+ pairs within reach, "
        r"0 side constraint\(s\)>",
        repr(checked),
    ), repr(checked)
    comparison = planner.compare(plan, again)
    # Before: "<planner.pipeline.compare.Comparison object at 0x…>".
    assert repr(comparison).startswith("<Comparison ") and "sites kept" in repr(comparison)


def test_a_scenario_shows_its_gist_and_what_it_sets() -> None:
    # Before: pydantic's repr of every field, 2 kB for the default scenario.
    scenario = planner.load_scenario(
        overrides=["model.p=25", 'demand.countries=["LU", "BE"]', "travel.radius_km=40"]
    )
    assert repr(scenario) == (
        "<Scenario 'default': max_coverage, p = 25, reach 40 km, 1 dealer file, demand of LU BE>"
    )
    page = scenario._repr_html_()
    assert "<b>Scenario &#x27;default&#x27;</b>: max_coverage, p = 25" in page
    # The fields set, and no field left at its default.
    assert "[model]\np = 25" in page and "radius_km = 40" in page
    assert "time_limit_s" not in page and "merge_distance_m" not in page
    phased = planner.load_scenario(PROJECT_ROOT / "scenarios" / "rollout_budget.toml")
    assert "roll-out 2026–2030 in 3 phases" in repr(phased) and "p = " not in repr(phased)
    sizing = planner.load_scenario(PROJECT_ROOT / "scenarios" / "sizing.toml")
    assert repr(sizing).startswith("<Scenario 'sizing': sizing, coverage target 80 %, reach 50 km")


def test_two_threads_saving_one_folder_never_break_each_other(tmp_path: Path) -> None:
    import threading

    plans = [planner.run(_tiny(tmp_path), overrides={"model.p": p}) for p in (1, 2)]
    out = tmp_path / "out"
    failures: list[BaseException] = []

    def save(plan: planner.Plan) -> None:
        for _ in range(6):
            try:
                plan.save(out)
            except BaseException as exc:  # every kind: the test says which
                failures.append(exc)

    threads = [threading.Thread(target=save, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Before: each thread took the other's lock (one process id in the file) and
    # deleted its staging folder: FileNotFoundError, OSError, "unreadable".
    assert all(
        isinstance(exc, planner.InputError)
        and "is being written by another run in this process" in str(exc)
        for exc in failures
    ), failures
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["sites_selected"] in (1, 2)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []


def test_arguments_a_notebook_may_pass_are_read_or_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    plan = planner.run(_tiny(tmp_path))
    # Before: a folder named "~" in the working folder.
    assert plan.save("~/plans/tiny") == home / "plans" / "tiny"
    assert not (tmp_path / "~").exists()

    async def progress(_: object) -> None:
        pass

    def generator(_: object) -> Iterator[None]:
        yield None

    class BytesPath:
        def __fspath__(self) -> bytes:
            return b"plans"

    for call, said in (
        # Before: "coroutine 'progress' was never awaited", and no progress.
        (lambda: planner.run(_tiny(tmp_path), progress=progress), "progress: give a plain"),  # type: ignore[arg-type]
        # Before: accepted, and its body never ran.
        (
            lambda: planner.run(_tiny(tmp_path), progress=generator),  # type: ignore[arg-type]
            "progress: give a plain function, not a generator function",
        ),
        # Before: TypeError from deep inside the save.
        (lambda: plan.save(tmp_path / "x", on_stage=5), "on_stage: give a function"),  # type: ignore[arg-type]
        (lambda: plan.save(BytesPath()), "folder: give a path as text, not bytes"),  # type: ignore[arg-type]
        # Before: OverflowError and "iteration over a 0-d array".
        (lambda: planner.frontier(_tiny(tmp_path), p=np.array(3)), "p: give a list of numbers"),  # type: ignore[arg-type]
        # Before: numpy's cast warning, then every site "without room for a charger".
        (
            lambda: planner.run(_tiny(tmp_path), overrides={"chargers.max_per_site": 2**63}),
            "chargers.max_per_site",
        ),
    ):
        with pytest.raises(planner.InputError, match=re.escape(said)):
            call()
    assert not (tmp_path / "x").exists()
    # Before: "keys must be dotted field names …, not 3", of a Series by field name.
    series = pd.Series({"model.p": 1})
    assert planner.run(_tiny(tmp_path), overrides=series).report["sites_selected"] == 1  # type: ignore[arg-type]


def test_result_and_output_arguments_that_were_settled_silently_are_refused(
    tmp_path: Path,
) -> None:
    plan = planner.run(_tiny(tmp_path))
    comparison = planner.compare(plan, plan)
    # Before: a Comparison's diff could be replaced; the other results are frozen.
    with pytest.raises(dataclasses.FrozenInstanceError):
        comparison.diff = None  # type: ignore[assignment]
    # Before: assets= won over map_assets= without a word.
    with pytest.raises(planner.InputError, match=r"^assets: is map_assets' earlier name"):
        comparison.save(tmp_path / "cmp", assets="cdn", map_assets="inline")
    assert not (tmp_path / "cmp").exists()
    # Before: CSV text written into m.xlsx; "origins: give a path" of a list.
    with pytest.raises(
        planner.InputError, match=r"^out: '.*m\.xlsx': the matrix is written as CSV"
    ):
        planner.routing_matrix(
            tmp_path, tmp_path / "a.csv", tmp_path / "b.csv", out=tmp_path / "m.xlsx"
        )
    with pytest.raises(
        planner.InputError, match=r"^origins: give a point file's path or a DataFrame"
    ):
        planner.routing_matrix(tmp_path, [[7.42, 43.73]], tmp_path / "b.csv")  # type: ignore[arg-type]
    # Before: workers ignored beside a scheduler, resume ignored without out.
    with pytest.raises(planner.InputError, match=r"^workers: sets the size of a local cluster"):
        planner.sweep(grid={"model.p": [1, 2]}, scheduler="tcp://127.0.0.1:1", workers=2)
    with pytest.raises(planner.InputError, match=r"^resume: keeps the finished runs"):
        planner.sweep(grid={"model.p": [1, 2]}, resume=True)
    with pytest.raises(planner.InputError, match=r"^resume: give True or False, not 'yes'"):
        planner.sweep(grid={"model.p": [1, 2]}, resume="yes")  # type: ignore[arg-type]
    # Before: "'5' is not a scheduler address (missing port number in address '5')".
    with pytest.raises(planner.InputError, match=r"^scheduler: give an address \('tcp://"):
        planner.sweep(grid={"model.p": [1, 2]}, scheduler=5)
    # A cluster object is taken by its address (here one planner refuses, to stop early).
    cluster = types.SimpleNamespace(scheduler_address="tls://10.0.0.5:8786")
    with pytest.raises(planner.InputError, match=r"only tcp:// scheduler addresses"):
        planner.sweep(grid={"model.p": [1, 2]}, scheduler=cluster)
