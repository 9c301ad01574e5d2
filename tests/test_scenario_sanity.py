"""Nonsense scenarios are refused naming the field, and the written JSON is strict.

Each case here was accepted before (exit 0, often an "optimal" empty or
quietly changed plan): phases whose p shrinks, a budget below every site's
opening cost, country bounds that forbid every site, infinite or NaN numbers,
``p = true`` read as 1, negative country bounds, and ``Infinity`` written into
``report.json``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from planner.errors import InputError
from planner.pipeline.constraints import site_constraints
from planner.pipeline.report import json_safe, strict_json
from planner.scenario.build import scenario_from
from planner.scenario.schema import Scenario, load_scenario

DEALERS = """dealer_id,brand,name,country,lon,lat
R1,Renault,Renault Luxembourg-Gare,LU,6.1296,49.6001
N1,Nissan,Nissan Luxembourg-Gare,LU,6.1299,49.6003
R2,Renault,Renault Esch,LU,5.9806,49.4958
R3,Renault,Renault Ettelbruck,LU,6.1042,49.8475
R4,Renault,Renault Wiltz,LU,5.9322,49.9662
"""


def _tiny(folder: Path) -> dict[str, Any]:
    (folder / "dealers.csv").write_text(DEALERS, encoding="utf-8")
    return {
        "name": "tiny",
        "dealers": {"files": [{"path": str(folder / "dealers.csv")}]},
        "demand": {"countries": ["LU"], "min_population": 1000},
        "travel": {"radius_km": 15.0},
        "model": {"p": 2},
    }


def _refused(raw: dict[str, Any]) -> InputError:
    with pytest.raises(InputError) as info:
        scenario_from(raw)
    return info.value


def _fields(error: InputError) -> list[str | None]:
    return [getattr(problem, "field", None) for problem in error.problems]


def _load_toml(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


# --- 1. phases: nested, so p must not shrink; years increase -------------------------


def test_phases_whose_p_shrinks_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        _load_toml(
            tmp_path,
            "[[constraints.phases]]\nyear = 2025\np = 8\ndemand_factor = 0.5\n"
            "[[constraints.phases]]\nyear = 2026\np = 3\ndemand_factor = 1.0\n",
        )
    assert _fields(info.value) == ["constraints.phases"]
    assert "year 2026 has p = 3, below year 2025's p = 8" in str(info.value)
    assert "field 'constraints.phases'" in str(info.value)


def test_phases_p_may_stay_or_grow_around_budget_years() -> None:
    scenario = scenario_from(
        {
            "constraints": {
                "phases": [
                    {"year": 2025, "p": 3},
                    {"year": 2026, "budget_eur": 2e6},
                    {"year": 2027, "p": 3},
                    {"year": 2028, "p": 5},
                ]
            }
        }
    )
    assert [phase.p for phase in scenario.constraints.phases] == [3, None, 3, 5]
    # A budget year between does not hide a shrinking p.
    error = _refused(
        {
            "constraints": {
                "phases": [
                    {"year": 2025, "p": 4},
                    {"year": 2026, "budget_eur": 2e6},
                    {"year": 2027, "p": 2},
                ]
            }
        }
    )
    assert _fields(error) == ["constraints.phases"]
    assert "below year 2025's p = 4" in str(error)


@pytest.mark.parametrize("years", [[2026, 2025], [2025, 2025]])
def test_phase_years_must_increase_naming_the_field(years: list[int]) -> None:
    error = _refused({"constraints": {"phases": [{"year": y, "p": 2} for y in years]}})
    assert _fields(error) == ["constraints.phases"]
    assert "years must be distinct and increasing" in str(error)


def test_phase_needs_exactly_one_of_p_or_budget_naming_the_field() -> None:
    error = _refused({"constraints": {"phases": [{"year": 2025}]}})
    assert _fields(error) == ["constraints.phases"]
    assert "year 2025 needs exactly one of p or budget_eur" in str(error)


# --- 2. and 3. budgets and country bounds under which no site can open ----------------


def _sites(costs: list[float], countries: list[str], excluded: list[bool] | None = None) -> Any:
    return pd.DataFrame(
        {
            "site_id": [f"S{i}" for i in range(len(costs))],
            "brands": ["Renault"] * len(costs),
            "country": countries,
            "site_cost_eur": costs,
            "excluded": excluded if excluded is not None else [False] * len(costs),
        }
    )


def _constraints_refused(sites: pd.DataFrame, raw: dict[str, Any]) -> InputError:
    scenario = scenario_from(raw)
    with pytest.raises(InputError) as info:
        site_constraints(sites, scenario)
    return info.value


def test_budget_below_the_cheapest_site_is_refused_with_the_numbers() -> None:
    # Opening costs: 250,000 + 2 x 150,000 = 550,000 (NaN: the default site cost) and
    # 100,000 + 300,000 = 400,000.
    sites = _sites([math.nan, 100_000.0], ["LU", "LU"])
    error = _constraints_refused(sites, {"constraints": {"budget_eur": 1000}})
    assert _fields(error) == ["constraints.budget_eur"]
    text = str(error)
    assert "field 'constraints.budget_eur'" in text
    assert "budget 1,000 EUR is below the cheapest site's opening cost of 400,000 EUR" in text
    assert "chargers.min_per_site 2 × chargers.charger_cost_eur 150,000 EUR" in text
    # Enough for the cheapest site: accepted.
    assert site_constraints(sites, scenario_from({"constraints": {"budget_eur": 400_000}}))


def test_budget_counts_only_sites_that_may_open() -> None:
    sites = _sites([0.0, 500_000.0], ["LU", "LU"], excluded=[True, False])
    error = _constraints_refused(sites, {"constraints": {"budget_eur": 400_000}})
    assert "cheapest site's opening cost of 800,000 EUR" in str(error)


def test_budget_floor_holds_for_sizing_too() -> None:
    sites = _sites([100_000.0], ["LU"])
    scenario = scenario_from({"constraints": {"budget_eur": 1000}})
    with pytest.raises(InputError, match=r"constraints\.budget_eur"):
        site_constraints(sites, scenario, include_budget=False)


def test_phase_budget_below_the_cheapest_site_is_refused() -> None:
    sites = _sites([100_000.0, 200_000.0], ["LU", "LU"])
    raw = {
        "constraints": {
            "phases": [{"year": 2025, "budget_eur": 500_000}, {"year": 2026, "budget_eur": 1000}]
        }
    }
    error = _constraints_refused(sites, raw)
    assert _fields(error) == ["constraints.phases"]
    assert "year 2026: budget 1,000 EUR is below the cheapest site's opening cost" in str(error)


def test_a_phase_budget_of_zero_is_a_pause_year() -> None:
    sites = _sites([100_000.0, 200_000.0], ["LU", "LU"])
    raw = {
        "constraints": {
            "phases": [
                {"year": 2025, "budget_eur": 500_000},
                {"year": 2026, "budget_eur": 0},
                {"year": 2027, "budget_eur": 500_000},
            ]
        }
    }
    scenario = scenario_from(raw)
    site_constraints(sites, scenario)  # no error: nothing opens in 2026, by design


def test_country_bounds_forbidding_every_site_are_refused_at_load() -> None:
    error = _refused(
        {
            "demand": {"countries": ["LU", "BE"]},
            "constraints": {"country_max_sites": {"LU": 0, "BE": 0}},
        }
    )
    assert _fields(error) == ["constraints.country_max_sites"]
    assert "allows 0 sites, so no site can open" in str(error)


def test_country_bounds_forbidding_every_candidate_site_are_refused() -> None:
    # BE is open, but it has no candidate site: every site lies in LU, allowed 0.
    sites = _sites([100_000.0, 100_000.0], ["LU", "LU"])
    raw = {
        "demand": {"countries": ["LU", "BE"]},
        "constraints": {"country_max_sites": {"LU": 0}},
    }
    error = _constraints_refused(sites, raw)
    assert _fields(error) == ["constraints.country_max_sites"]
    assert "every candidate site lies in a country allowed 0 sites (LU)" in str(error)
    # One site elsewhere may open: accepted.
    assert site_constraints(_sites([1.0, 1.0], ["LU", "BE"]), scenario_from(raw))


def test_a_planned_run_refuses_a_budget_below_every_site(tmp_path: Path) -> None:
    import planner

    raw = _tiny(tmp_path)
    with pytest.raises(InputError) as info:
        planner.run(raw, overrides={"constraints.budget_eur": 1000})
    assert _fields(info.value) == ["constraints.budget_eur"]
    assert "below the cheapest site's opening cost of 550,000 EUR" in str(info.value)


# --- 4. every number finite -----------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "field"),
    [
        ("[travel]\ncircuity = inf\n", "travel.circuity"),
        ("[travel]\nradius_km = inf\n", "travel.radius_km"),
        ("[travel]\nradius_km = nan\n", "travel.radius_km"),
        ("[constraints]\nbudget_eur = inf\n", "constraints.budget_eur"),
        (
            "[[constraints.phases]]\nyear = 2025\np = 2\ndemand_factor = inf\n",
            "constraints.phases.0.demand_factor",
        ),
        ("[constraints.brand_min_share]\nRenault = nan\n", "constraints.brand_min_share.Renault"),
        ("[chargers]\ncharger_cost_eur = inf\n", "chargers.charger_cost_eur"),
        ("[solver]\ntime_limit_s = inf\n", "solver.time_limit_s"),
        (
            "[demand.sessions.by_country.LU]\ncars_per_inhabitant = inf\n",
            "demand.sessions.by_country.LU.cars_per_inhabitant",
        ),
    ],
)
def test_infinite_or_nan_numbers_are_refused_naming_the_field(
    tmp_path: Path, toml: str, field: str
) -> None:
    with pytest.raises(InputError) as info:
        _load_toml(tmp_path, toml)
    assert _fields(info.value) == [field]
    assert "finite number" in str(info.value)


def test_infinite_numbers_from_python_are_refused() -> None:
    error = _refused({"travel": {"radius_km": math.inf}})
    assert _fields(error) == ["travel.radius_km"]
    with pytest.raises(InputError, match=r"travel\.circuity"):
        load_scenario(None, overrides=["travel.circuity=inf"])


# --- 5. integers are integers, numbers are not bools ----------------------------------


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("model.p=true", "model.p"),
        ("model.p=2.0", "model.p"),
        ("chargers.min_per_site=true", "chargers.min_per_site"),
        ("solver.threads=true", "solver.threads"),
        ("solver.seed=false", "solver.seed"),
        ("output.max_demand_points=true", "output.max_demand_points"),
        ("travel.radius_km=true", "travel.radius_km"),
        ("constraints.budget_eur=true", "constraints.budget_eur"),
        ("constraints.country_max_sites={LU = true}", "constraints.country_max_sites.LU"),
        ("constraints.brand_min_share={Renault = true}", "constraints.brand_min_share.Renault"),
    ],
)
def test_bools_are_not_numbers(override: str, field: str) -> None:
    with pytest.raises(InputError) as info:
        load_scenario(None, overrides=[override])
    assert _fields(info.value) == [field]


def test_phase_p_and_year_refuse_bools(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        _load_toml(tmp_path, "[[constraints.phases]]\nyear = true\np = true\n")
    assert _fields(info.value) == ["constraints.phases.0.year", "constraints.phases.0.p"]


def test_overrides_still_give_numbers() -> None:
    scenario = load_scenario(None, overrides=["model.p=80", "travel.radius_km=40", "solver.seed=7"])
    assert scenario.model.p == 80 and type(scenario.model.p) is int
    assert scenario.travel.radius_km == 40.0 and type(scenario.travel.radius_km) is float
    assert scenario.solver.seed == 7
    # From Python: numpy numbers are numbers (a script's np.arange), numpy bools are not.
    from_python = scenario_from(None, overrides={"model.p": np.int64(5), "travel.circuity": 1})
    assert from_python.model.p == 5 and type(from_python.model.p) is int
    assert from_python.travel.circuity == 1.0
    with pytest.raises(InputError, match=r"model\.p"):
        scenario_from(None, overrides={"model.p": np.bool_(True)})


def _numeric(annotation: Any) -> bool:
    if annotation in (int, float):
        return True
    return any(_numeric(arg) for arg in get_args(annotation))


def _sections(cls: type[BaseModel]) -> list[type[BaseModel]]:
    found = [cls]
    for info in cls.model_fields.values():
        stack = [info.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                if annotation not in found:
                    found.extend(s for s in _sections(annotation) if s not in found)
            else:
                stack.extend(get_args(annotation))
    return found


def _admits_text(annotation: Any) -> bool:
    return annotation is str or any(_admits_text(arg) for arg in get_args(annotation))


def _nonsense(annotation: Any) -> list[Any]:
    """Values a numeric field must refuse, shaped like the field (a dict's values)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _nonsense(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return [v for arg in get_args(annotation) if arg is not type(None) for v in _nonsense(arg)]
    if origin is dict:
        return [{"LU": value} for value in _nonsense(get_args(annotation)[1])]
    if origin is list:
        return [[value] for value in _nonsense(get_args(annotation)[0])]
    if annotation is float:
        return [True, math.inf, -math.inf, math.nan, "1.5"]
    if annotation is int:
        return [True, False, 1.0, "1"]
    return []


def test_every_number_of_the_schema_is_strict_and_finite() -> None:
    checked = 0
    for section in _sections(Scenario):
        for name, info in section.model_fields.items():
            # A choice's values may be numbers or text: checked against the field drawn.
            if not _numeric(info.annotation) or _admits_text(info.annotation):
                continue
            # Pydantic keeps a field's own Annotated metadata (Strict, AllowInfNan, ge)
            # apart from its annotation: put them together again.
            typed: Any = info.annotation
            if info.metadata:
                typed = Annotated[(info.annotation, *info.metadata)]
            adapter: TypeAdapter[Any] = TypeAdapter(typed)
            for value in _nonsense(info.annotation):
                with pytest.raises(ValidationError):
                    adapter.validate_python(value)
                checked += 1
            assert _nonsense(info.annotation), f"{section.__name__}.{name}"
    assert checked > 100


# --- 6. country bounds and shares within range ----------------------------------------


@pytest.mark.parametrize(
    ("constraints", "field"),
    [
        ({"country_min_sites": {"LU": -3}}, "constraints.country_min_sites.LU"),
        ({"country_max_sites": {"FR": -1}}, "constraints.country_max_sites.FR"),
        ({"brand_min_share": {"Renault": 1.5}}, "constraints.brand_min_share.Renault"),
        ({"brand_min_share": {"Nissan": -0.1}}, "constraints.brand_min_share.Nissan"),
        ({"brand_min_share": {"Tesla": 0.1}}, "constraints.brand_min_share"),
        (
            {"country_min_sites": {"LU": 3}, "country_max_sites": {"LU": 2}},
            "constraints.country_max_sites",
        ),
    ],
)
def test_bounds_and_shares_out_of_range_name_the_field(
    constraints: dict[str, Any], field: str
) -> None:
    error = _refused({"constraints": constraints})
    assert _fields(error) == [field]


def test_country_max_below_min_names_the_country() -> None:
    error = _refused(
        {"constraints": {"country_min_sites": {"LU": 3}, "country_max_sites": {"LU": 2}}}
    )
    assert "LU: min 3 > max 2" in str(error)


# --- 7. strict JSON out ---------------------------------------------------------------


def _strict_loads(text: str) -> Any:
    def refuse(token: str) -> Any:
        raise ValueError(f"not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def test_strict_json_writes_null_for_non_finite_numbers() -> None:
    value = {
        "a": math.inf,
        "b": [math.nan, -math.inf, 1.5, np.float64("inf"), np.int64(3)],
        "c": (np.bool_(True), None, "x"),
    }
    assert json_safe(value) == {"a": None, "b": [None, None, 1.5, None, 3], "c": [True, None, "x"]}
    assert _strict_loads(strict_json(value)) == json_safe(value)
    with pytest.raises(ValueError, match="Infinity"):
        _strict_loads(json.dumps({"a": math.inf}))


def test_a_saved_plan_is_strict_json(tmp_path: Path) -> None:
    import planner

    raw = _tiny(tmp_path)
    plan = planner.run(raw)
    out = tmp_path / "out"
    plan.save(out)
    report = _strict_loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["sites_selected"] == 2
    sites = _strict_loads((out / "sites.geojson").read_text(encoding="utf-8"))
    assert sites["type"] == "FeatureCollection"
    assert len(sites["features"]) == 4  # R1 and N1 are one site


def test_a_report_with_infinite_figures_is_written_as_null(tmp_path: Path) -> None:
    import dataclasses

    import planner
    from planner.pipeline.plan import write_tables

    plan = planner.run(_tiny(tmp_path))
    report = {**plan.report, "budget": math.inf, "extra": [math.nan]}
    write_tables(dataclasses.replace(plan, report=report), tmp_path)
    written = _strict_loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert written["budget"] is None and written["extra"] == [None]


# --- errors of checks across fields name the field too --------------------------------


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        (
            {"model": {"name": "set_cover", "coverage_target": 0}},
            "model.coverage_target",
            "set_cover needs a share above 0",
        ),
        (
            {"demand": {"countries": ["FRA"]}},
            "demand.countries",
            "not ISO 3166-1 alpha-2 codes: ['FRA']",
        ),
    ],
)
def test_checks_across_fields_name_their_field(
    raw: dict[str, Any], field: str, message: str
) -> None:
    error = _refused(raw)
    assert _fields(error) == [field]
    assert str(error) == f"scenario mapping, field '{field}': {message}"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"chargers": {"charger_cost_eur": 1e308}}, "chargers.charger_cost_eur"),
        ({"chargers": {"site_cost_eur": 2e10}}, "chargers.site_cost_eur"),
        ({"model": {"unserved_penalty_eur": 1e300}}, "model.unserved_penalty_eur"),
        ({"constraints": {"budget_eur": 1e20}}, "constraints.budget_eur"),
    ],
)
def test_costs_no_network_could_have_are_refused(raw: dict[str, Any], field: str) -> None:
    # Before: a charger of 1e308 EUR was taken, and the plan's costs, summed
    # past the largest float, came out as null in report.json without a word.
    error = _refused(raw)
    assert _fields(error) == [field]
    assert "less than or equal to" in str(error)


def test_a_scenario_of_no_country_is_refused_naming_the_field() -> None:
    # Before: "no dealer lies in the scenario's countries ()", after reading every file.
    error = _refused({"demand": {"countries": []}})
    assert _fields(error) == ["demand.countries"]
    assert "at least 1 item" in str(error)


@pytest.mark.parametrize("name", [".", ".."])
def test_a_name_that_names_no_folder_is_refused(name: str) -> None:
    # Before: accepted, and the default output folder maps/.. was then refused
    # as the working folder, after the inputs were read.
    error = _refused({"name": name})
    assert _fields(error) == ["name"]
    assert "names no folder of its own" in str(error)


def test_a_name_too_long_for_a_folder_is_refused_at_load() -> None:
    # Before: 300 characters passed planner validate; planner run then stopped
    # on "File name too long" as it made the output folder.
    error = _refused({"name": "n" * 101})
    assert _fields(error) == ["name"]
    assert "at most 100 characters" in str(error)
    assert load_scenario(None, values={"name": "n" * 100}).name == "n" * 100


def test_an_override_into_a_list_says_the_list_is_set_whole(tmp_path: Path) -> None:
    # Before: "'files' is not a table", though the user sees a table per file.
    path = tmp_path / "s.toml"
    path.write_text('[[dealers.files]]\npath = "a.csv"\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_scenario(path, overrides=["dealers.files.0.path=b.csv"])
    assert str(caught.value).endswith(
        "override 'dealers.files.0.path=b.csv': 'files' is a list, set as a whole: "
        'dealers.files=[…] (e.g. dealers.files=[{path = "dealers.csv"}])'
    )


@pytest.mark.parametrize("key", ["model..p", ".p", "model.p."])
def test_an_override_with_an_empty_part_in_its_name_is_named(key: str) -> None:
    # Before: "field 'model.': unknown field", or for ".p" no field at all.
    with pytest.raises(InputError) as caught:
        load_scenario(None, overrides=[f"{key}=3"])
    assert str(caught.value) == (
        f"built-in default scenario: override '{key}=3': the field name has an empty part "
        "between dots"
    )


def test_an_empty_scenario_file_runs_the_default_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("# to be filled in\n", encoding="utf-8")
    with caplog.at_level("WARNING"):
        scenario = load_scenario(path)
    assert scenario.name == "default"
    # Before: the built-in default ran without a word.
    assert f"{path} sets no field: it is the built-in default scenario" in caplog.text


def test_a_nested_override_merges_into_the_scenario_like_a_dotted_one(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        "[model]\np = 5\n[demand]\ncountries = ['LU']\nmin_population = 15000\n"
        "[solver]\ntime_limit_s = 10\n",
        encoding="utf-8",
    )
    nested = load_scenario(
        path,
        values={
            "demand": {"countries": ["BE"]},
            "model": {"name": "max_coverage"},
            "solver": {"threads": 1},
        },
    )
    dotted = load_scenario(
        path,
        values={"demand.countries": ["BE"], "model.name": "max_coverage", "solver.threads": 1},
    )
    # Before: each table was replaced whole, so min_population went back to
    # 1,000, p to unset and the time limit to 60 s, without a word.
    assert nested == dotted
    assert (nested.demand.min_population, nested.model.p, nested.solver.time_limit_s) == (
        15000,
        5,
        10.0,
    )


# --- 7. values no plan means -------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"constraints": {"phases": [{"year": 26, "p": 3}]}}, "constraints.phases.0.year"),
        ({"travel": {"radius_km": 1e9}}, "travel.radius_km"),
        ({"existing_chargers": {"radius_km": 5000.0}}, "existing_chargers.radius_km"),
        ({"dealers": {"merge_distance_m": 1e7}}, "dealers.merge_distance_m"),
        ({"solver": {"threads": 100_000}}, "solver.threads"),
    ],
)
def test_values_beyond_any_plan_are_refused(raw: dict[str, Any], field: str) -> None:
    # Before: accepted without a word (a merge distance of 10,000 km made one site
    # of every dealer; a radius of 1e9 km put every pair in reach).
    assert _fields(_refused(raw)) == [field]
    # At the limits, accepted.
    scenario_from({"travel": {"radius_km": 1000.0}, "dealers": {"merge_distance_m": 10_000.0}})
