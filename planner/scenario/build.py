"""A scenario from whatever a script holds: a file, a ``Scenario``, a mapping or nothing.

:func:`scenario_from` is what :func:`planner.run` and the other API functions
call; the command line goes through :func:`planner.scenario.schema.load_scenario`
with ``key=value`` strings, and both end in the same validation.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner.errors import InputError, Problem
from planner.scenario.io import apply_override, resolve_paths, set_dotted, validation_problems
from planner.scenario.schema import Scenario, load_scenario

__all__ = ["ScenarioLike", "scenario_from"]

#: What the API takes as a scenario.
ScenarioLike = Scenario | Mapping[str, Any] | str | os.PathLike[str] | None

#: Overrides: dotted names and values (``{"model.p": 80}``), or ``key=value`` strings.
Overrides = Mapping[str, Any] | Sequence[str] | None


def scenario_from(
    scenario: ScenarioLike = None,
    *,
    overrides: Overrides = None,
    time_limit: float | None = None,
) -> Scenario:
    """Resolve a scenario given as a path, a ``Scenario``, a mapping or ``None``.

    Parameters
    ----------
    scenario
        A TOML file; a :class:`Scenario` (for instance one returned earlier);
        a mapping shaped like the TOML file (``{"model": {"p": 80}}``); or
        ``None`` for the built-in default on the sample network. Relative
        paths in a mapping are resolved against the working folder.
    overrides
        Dotted field names and values, ``{"model.p": 80,
        "travel.radius_km": 40}``, applied on top; or ``key=value`` strings as
        ``--set`` takes them.
    time_limit
        The solver's time limit in seconds (``solver.time_limit_s``).

    Raises
    ------
    planner.errors.InputError
        A missing or invalid file, an unknown field or a bad value, naming
        every problem.
    """
    changes: dict[str, Any] = {}
    strings: list[str] = []
    if isinstance(overrides, Mapping):
        changes = dict(overrides)
    elif overrides is not None:
        if isinstance(overrides, str):
            raise InputError(Problem("overrides", "give a mapping {'model.p': 80} or a list"))
        strings = list(overrides)
    if time_limit is not None:
        changes["solver.time_limit_s"] = time_limit

    if scenario is None or isinstance(scenario, str | os.PathLike):
        path = None if scenario is None else Path(scenario)
        resolved = load_scenario(path, overrides=strings)
        if not changes:
            return resolved
        raw = resolved.model_dump(mode="json", exclude_none=True)
        source = "built-in default scenario" if path is None else str(path)
        return _validated(raw, changes, [], source, Path.cwd())
    if isinstance(scenario, Scenario):
        if not changes and not strings:
            return scenario
        raw = scenario.model_dump(mode="json", exclude_none=True)
        return _validated(raw, changes, strings, f"scenario {scenario.name!r}", Path.cwd())
    if isinstance(scenario, Mapping):
        return _validated(_plain(scenario), changes, strings, "scenario mapping", Path.cwd())
    raise InputError(
        Problem(
            "scenario",
            f"a {type(scenario).__name__} is not a scenario: give a path, a Scenario, "
            "a mapping or None",
        )
    )


def _plain(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of nested mappings as dicts, so overrides never change the caller's."""
    return {key: _value(value) for key, value in mapping.items()}


def _value(value: Any) -> Any:
    """A value from Python as TOML would give it: numpy numbers become int and float.

    The schema's numbers are strict (a bool is no count), so a numpy integer
    from a script (``np.arange``) is made a plain ``int`` here; numpy's bool is
    not an integer and stays refused.
    """
    if isinstance(value, Mapping):
        return _plain(value)
    if isinstance(value, list | tuple):
        return [_value(item) for item in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def _validated(
    raw: dict[str, Any],
    changes: Mapping[str, Any],
    strings: Sequence[str],
    source: str,
    base: Path,
) -> Scenario:
    for item in strings:
        apply_override(raw, item, source)
    for key, value in changes.items():
        set_dotted(raw, key, _value(value), source)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, source, Scenario)) from None
    return resolve_paths(scenario, base)
