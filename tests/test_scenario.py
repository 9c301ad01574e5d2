"""The scenario schema: defaults, overrides, errors, the shipped files."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.scenario.reference import reference_toml
from planner.scenario.schema import (
    Scenario,
    load_scenario,
    scenario_to_toml,
)
from tests.conftest import problems_of

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SCENARIOS = PROJECT_ROOT / "scenarios"


def test_every_field_has_a_description() -> None:
    def walk(cls: type) -> list[str]:
        missing = []
        for name, info in cls.model_fields.items():  # type: ignore[attr-defined]
            if not info.description and not hasattr(info.annotation, "model_fields"):
                missing.append(f"{cls.__name__}.{name}")
        return missing

    from planner.scenario import schema as module

    classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, module._Section) and obj is not module._Section
    ]
    missing = [m for cls in classes for m in walk(cls) if not m.startswith("Scenario.")]
    assert missing == []


def test_default_toml_is_generated_from_the_schema() -> None:
    assert (SCENARIOS / "default.toml").read_text(encoding="utf-8") == reference_toml(), (
        "scenarios/default.toml drifted from the schema: regenerate it with "
        "planner.scenario.reference.reference_toml()"
    )


def test_every_field_of_every_section_appears_in_default_toml() -> None:
    """Every key a scenario can hold, lists of tables (phases, files) included, is shown."""
    import fnmatch
    import re
    from typing import Any, get_args, get_origin

    from pydantic import BaseModel

    from planner.scenario import schema as module

    def models_in(annotation: Any) -> list[tuple[str, type[BaseModel]]]:
        """("", cls) for a section, (".*", cls) for a table of tables, lists unwrapped."""
        found: list[tuple[str, type[BaseModel]]] = []
        if isinstance(annotation, type) and get_origin(annotation) is None:
            if issubclass(annotation, BaseModel):
                found.append(("", annotation))
        elif get_origin(annotation) is dict:
            found += [(".*" + key, cls) for key, cls in models_in(get_args(annotation)[1])]
        else:
            for arg in get_args(annotation):
                found += models_in(arg)
        return found

    expected: list[str] = []
    reached: set[type] = set()

    def walk(cls: type[BaseModel], prefix: str) -> None:
        reached.add(cls)
        for name, info in cls.model_fields.items():
            expected.append(f"{prefix}{name}")
            for suffix, sub in models_in(info.annotation):
                walk(sub, f"{prefix}{name}{suffix}.")

    walk(module.Scenario, "")
    sections = {
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, module._Section) and obj is not module._Section
    }
    assert sections <= reached

    # The keys of default.toml, set or commented out, under their (commented) tables.
    shown: set[str] = set()
    table = ""
    for line in (SCENARIOS / "default.toml").read_text(encoding="utf-8").splitlines():
        # A quoted key (a dotted field name of [uncertainty]) is one key.
        header = re.fullmatch(r"(?:# )?\[\[?([\w.\"]+)\]\]?", line)
        if header:
            table = header[1]
            shown.add(table)
            continue
        key = re.match(r"(?:# )?(\w+)(?: = |: none by default)", line)
        if key:
            shown.add(f"{table}.{key[1]}" if table else key[1])
    missing = [path for path in expected if not fnmatch.filter(shown, path)]
    assert missing == []


def test_default_file_equals_built_in_default() -> None:
    from_file = load_scenario(SCENARIOS / "default.toml")
    built_in = load_scenario(None)
    assert from_file == built_in
    assert built_in.dealers.files[0].path == PROJECT_ROOT / "geodata" / "sample_dealers_demo.csv"


def test_shipped_scenarios_load() -> None:
    france = load_scenario(SCENARIOS / "france.toml")
    assert france.demand.countries == ["FR"]
    assert france.model.p == 40
    assert france.dealers.files[0].path.is_absolute()


def test_overrides_are_typed(tmp_path: Path) -> None:
    scenario = load_scenario(
        None,
        overrides=[
            "model.p=80",
            "travel.radius_km=40",
            'demand.countries=["FR", "BE"]',
            "name=trial_1",
        ],
    )
    assert scenario.model.p == 80
    assert scenario.travel.radius_km == 40.0
    assert scenario.demand.countries == ["FR", "BE"]
    assert scenario.name == "trial_1"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("model.p=0", "model.p"),
        ("model.name=k_means", "model.name"),
        ("travel.colour=red", "travel.colour"),
        ("travel.radius_km=far", "travel.radius_km"),
        ("p80", "key=value"),
        # Before: accepted, and a plan 8 % from its bound was called optimal.
        ("solver.relative_gap=5", "solver.relative_gap"),
        # Before: accepted, then "no dealer lies in the scenario's countries (UK)".
        ('demand.countries=["UK"]', "no such country code: ['UK'] (the United Kingdom is GB)"),
        ('demand.countries=["XX"]', "no such country code: ['XX']"),
        # Before: a value keyed by an unknown country, accepted and never applied.
        ("demand.sessions.by_country.ZZ.cars_per_inhabitant=0.5", "no such country code: ['ZZ']"),
    ],
)
def test_bad_overrides_name_the_field(override: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        load_scenario(None, overrides=[override])
    assert expected in str(info.value)


def test_scenario_nested_too_deeply_is_a_toml_error(tmp_path: Path) -> None:
    # Before: tomllib's RecursionError ended the run as an unexpected failure.
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"deep\.toml: not a valid TOML file: .*nested too deeply"):
        load_scenario(path)


@pytest.mark.parametrize("delimiter", ["ab", '"', "", "\n"])
def test_a_delimiter_is_one_character_other_than_a_quote(delimiter: str) -> None:
    # Before: "ab" reached the CSV reader, which failed without naming the field.
    files = [{"path": "dealers.csv", "delimiter": delimiter}]
    with pytest.raises(InputError) as info:
        load_scenario(None, values={"dealers.files": files})
    (problem,) = problems_of(info)
    assert problem.field == "dealers.files.0.delimiter"
    assert "one character other than a quote or a line break" in problem.message


def test_country_bounds_take_codes_in_any_case() -> None:
    # demand.countries reads "lu" as LU; before, a bound on "lu" named no candidate site.
    scenario = load_scenario(
        None,
        overrides=["constraints.country_min_sites={lu=2}", "constraints.country_max_sites={Lu=3}"],
    )
    assert scenario.constraints.country_min_sites == {"LU": 2}
    assert scenario.constraints.country_max_sites == {"LU": 3}


@pytest.mark.parametrize("field", ["country_min_sites", "country_max_sites"])
def test_country_bounds_on_no_country_are_refused(field: str) -> None:
    # Before: "country 'XX' has no candidate site" (a minimum) or nothing (a maximum).
    with pytest.raises(InputError) as caught:
        load_scenario(None, overrides=[f"constraints.{field}={{xx=2, lu=1, Zz=0}}"])
    assert f"field 'constraints.{field}': no such country code: 'XX', 'ZZ'" in str(caught.value)


def test_one_country_or_brand_spelt_twice_is_refused_and_brands_take_any_case() -> None:
    # Before: {"fr": 1, "FR": 3} gave FR 3 without a word, and "nissan" was an
    # unknown brand while dealer files read it in any case.
    for field, table, said in (
        (
            "constraints.country_min_sites",
            {"fr": 1, "FR": 3},
            "'fr' and 'FR' name the same country",
        ),
        (
            "constraints.brand_min_share",
            {"Nissan": 0.1, "nissan ": 0.2},
            "'Nissan' and 'nissan ' name",
        ),
        ("demand.sessions.by_country", {"lu": {}, "LU": {}}, "'lu' and 'LU' name the same country"),
    ):
        with pytest.raises(InputError, match=f"field '{field}': {said}"):
            load_scenario(None, values={field: table})
    shares = load_scenario(None, values={"constraints.brand_min_share": {"nissan": 0.1}})
    assert shares.constraints.brand_min_share == {"Nissan": 0.1}


def test_least_chargers_above_the_most_is_refused() -> None:
    # Before: every site was excluded and the run ended "optimal" with no site.
    with pytest.raises(InputError, match=r"min_per_site \(20\) is above max_per_site \(2\)"):
        load_scenario(None, overrides=["chargers.min_per_site=20", "chargers.max_per_site=2"])


def test_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[model\np = 3", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.toml: not a valid TOML file"):
        load_scenario(path)
    with pytest.raises(InputError, match="scenario file not found"):
        load_scenario(tmp_path / "missing.toml")
    folder = tmp_path / "plans.toml"
    folder.mkdir()
    with pytest.raises(InputError, match=r"plans\.toml: is a folder, not a scenario file"):
        load_scenario(folder)


def test_paths_resolve_against_the_scenario_file(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    path = folder / "s.toml"
    path.write_text('[[dealers.files]]\npath = "data/dealers.csv"\n', encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.dealers.files[0].path == (folder / "data" / "dealers.csv").resolve()


def test_resolved_toml_round_trips() -> None:
    scenario = load_scenario(None, overrides=["model.p=7"])
    again = Scenario.model_validate(tomllib.loads(scenario_to_toml(scenario)))
    assert again == scenario


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("travel.routing", "", "travel.routing"),
        ("dealers.files", [{"path": " "}], "dealers.files.0.path"),
        ("output.dir", "", "output.dir"),
    ],
)
def test_an_empty_path_is_refused(key: str, value: object, field: str) -> None:
    # Before: an empty travel.routing named the scenario's own folder, which was
    # then said not to be a routing folder.
    from planner.scenario.build import scenario_from

    with pytest.raises(InputError) as caught:
        scenario_from(None, overrides={key: value})
    (problem,) = problems_of(caught)
    assert problem.field == field
    assert problem.message == "is empty: name a file or folder"


def test_null_unsets_a_field_the_file_sets() -> None:
    # Before: "Input should be a valid number": a budget in a file could not be
    # lifted from the command line, nor travel.radius_km given back its default.
    path = SCENARIOS / "constraints.toml"
    assert load_scenario(path).constraints.budget_eur == 40_000_000
    lifted = load_scenario(
        path, overrides=["constraints.budget_eur=null", "travel.radius_km=null", "model.p=null"]
    )
    assert lifted.constraints.budget_eur is None
    assert lifted.travel.radius_km == Scenario().travel.radius_km
    assert lifted.model.p is None
    assert load_scenario(path, overrides=["constraints=null"]).constraints == Scenario().constraints
    # Python's None does the same, for fields whose default is not None too.
    same = load_scenario(path, values={"constraints.budget_eur": None, "travel.radius_km": None})
    assert same.constraints == lifted.constraints and same.travel == lifted.travel
    # Quoted, it is the text "null", checked as any value.
    with pytest.raises(InputError, match=r"constraints\.budget_eur"):
        load_scenario(path, overrides=['constraints.budget_eur="null"'])


@pytest.mark.parametrize("how", ["overrides", "values"])
def test_null_of_an_unknown_field_is_refused(how: str) -> None:
    # A misspelled name set to nothing must still be named, not pass unseen.
    kwargs = (
        {"overrides": ["model.pp=null"]} if how == "overrides" else {"values": {"model.pp": None}}
    )
    named = r"field 'model\.pp': unknown field; did you mean 'model\.p'"
    with pytest.raises(InputError, match=named):
        load_scenario(None, **kwargs)


def test_scenarios_are_hashable_and_equal_ones_hash_alike() -> None:
    # Before: "unhashable type: 'list'" (the countries, the dealer files), so a
    # scenario could not key a cache or sit in a set.
    import functools

    default = load_scenario(SCENARIOS / "default.toml")
    again = load_scenario(SCENARIOS / "default.toml")
    other = load_scenario(SCENARIOS / "uncertainty.toml")
    assert hash(default) == hash(again)
    assert len({default, again, other}) == 2
    changed = load_scenario(SCENARIOS / "default.toml", overrides=["model.p=61"])
    assert changed not in {default}

    @functools.cache
    def name_of(scenario: Scenario) -> str:
        return scenario.name

    assert name_of(default) == name_of(again) == "default"
    assert name_of.cache_info().hits == 1


def test_a_scenario_refuses_assignment_as_the_results_do() -> None:
    # Before: pydantic's ValidationError ("Instance is frozen") of a value never validated.
    scenario = load_scenario(None)
    with pytest.raises(dataclasses.FrozenInstanceError, match=r"a scenario is frozen; give"):
        scenario.model.p = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'name'"):
        del scenario.name
    assert scenario.model_copy(update={"name": "copy"}).name == "copy"
