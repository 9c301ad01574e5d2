"""Messages of refused scenarios: an unknown field names the closest one; contradictions at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.errors import InputError
from planner.scenario.build import scenario_from
from planner.scenario.schema import load_scenario
from tests.conftest import run_cli


def _messages(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [str(problem) for problem in exc.value.problems]


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code, _, err = run_cli(args, capsys)
    return code, err


def test_a_misspelled_override_names_the_closest_field() -> None:
    with pytest.raises(InputError) as exc:
        load_scenario(None, overrides=["model.pp=5"])
    assert _messages(exc) == [
        "override 'model.pp=5', field 'model.pp': unknown field; did you mean 'model.p'?"
    ]


def test_a_misspelled_override_from_python_names_the_closest_field() -> None:
    with pytest.raises(InputError) as exc:
        scenario_from(overrides={"model.pp": 5, "travl.radius_km": 40})
    messages = _messages(exc)
    assert "field 'model.pp': unknown field; did you mean 'model.p'?" in messages[0] + messages[1]
    assert any("field 'travl': unknown field; did you mean 'travel'?" in m for m in messages)


def test_a_misspelled_field_of_a_file_names_the_closest_field(tmp_path: Path) -> None:
    path = tmp_path / "typos.toml"
    path.write_text(
        "[travl]\nradius_km = 40\n\n"
        "[travel]\nradius_kms = 40\n\n"
        '[[dealers.files]]\npath = "x.csv"\npth = "y.csv"\n\n'
        "[demand.sessions.by_country.LU]\ncars_per_inhabitnt = 0.6\n\n"
        "[[constraints.phases]]\nyaer = 2027\nyear = 2027\np = 3\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    messages = sorted(_messages(exc))
    suggested = {
        "travl": "travel",
        "travel.radius_kms": "travel.radius_km",
        "dealers.files.0.pth": "dealers.files.0.path",
        "demand.sessions.by_country.LU.cars_per_inhabitnt": (
            "demand.sessions.by_country.LU.cars_per_inhabitant"
        ),
        "constraints.phases.0.yaer": "constraints.phases.0.year",
    }
    assert messages == sorted(
        f"{path}, field '{wrong}': unknown field; did you mean '{right}'?"
        for wrong, right in suggested.items()
    )


def test_an_unknown_field_with_nothing_close_lists_the_section_fields() -> None:
    with pytest.raises(InputError) as exc:
        load_scenario(None, overrides=["model.xyzzy=5"])
    assert _messages(exc) == [
        "override 'model.xyzzy=5', field 'model.xyzzy': unknown field; the fields of "
        "'model' are name, p, coverage_target, unserved_penalty_eur, range_km, trip_weight"
    ]
    with pytest.raises(InputError) as exc:
        load_scenario(None, overrides=["xyzzy=5"])
    (message,) = _messages(exc)
    assert message.startswith(
        "override 'xyzzy=5', field 'xyzzy': unknown field; the fields of a scenario "
        "are name, title, dealers, demand,"
    )


def test_the_cli_names_the_closest_field(capsys: pytest.CaptureFixture[str]) -> None:
    code, stderr = _cli(["validate", "--set", "model.pp=5"], capsys)
    assert code == 2
    assert stderr == (
        "error: override 'model.pp=5', field 'model.pp': unknown field; did you mean 'model.p'?\n"
    )


@pytest.mark.parametrize("model", ["p_median", "set_cover", "sizing"])
def test_a_rollout_with_a_model_without_one_is_refused_at_load(model: str) -> None:
    with pytest.raises(InputError) as exc:
        load_scenario(
            None,
            overrides=[f"model.name={model}", "constraints.phases=[{year = 2027, p = 3}]"],
        )
    assert _messages(exc) == [
        "override 'constraints.phases=[{year = 2027, p = 3}]', field 'constraints.phases': "
        "a phased roll-out is solved "
        f"by max_coverage only, not by {model}; set model.name = 'max_coverage' or remove "
        "the phases"
    ]


def test_a_rollout_is_refused_before_any_input_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The dealer file does not exist: only the contradiction is reported.
    path = tmp_path / "rollout.toml"
    path.write_text(
        '[[dealers.files]]\npath = "missing.csv"\n\n[model]\nname = "p_median"\n\n'
        "[[constraints.phases]]\nyear = 2027\np = 3\n",
        encoding="utf-8",
    )
    code, stderr = _cli(["validate", str(path)], capsys)
    assert code == 2
    assert stderr.splitlines() == [
        f"error: {path}, field 'constraints.phases': a phased roll-out is solved by "
        "max_coverage only, not by p_median; set model.name = 'max_coverage' or remove the "
        "phases"
    ]
    # The roll-out model itself loads.
    rollout = load_scenario(None, overrides=["constraints.phases=[{year = 2027, p = 3}]"])
    assert rollout.constraints.phases[0].p == 3


def test_logged_warnings_read_as_the_commands_own() -> None:
    # Before: "WARNING planner.pipeline.load: …" beside the command's "warning: …".
    import logging

    from planner.cli.main import _OneLineFormatter

    formatter = _OneLineFormatter("%(levelname)s %(name)s: %(message)s")

    def line(level: int, message: str) -> str:
        record = logging.LogRecord("planner.pipeline.load", level, "f.py", 1, message, (), None)
        return formatter.format(record)

    assert line(logging.WARNING, "3 rows\ndropped") == "warning: 3 rows\\ndropped"
    assert line(logging.ERROR, "lost") == "error: lost"
    assert line(logging.INFO, "reading") == "INFO planner.pipeline.load: reading"
