"""A scenario from whatever a script holds: a file, a ``Scenario``, a mapping or nothing.

:func:`scenario_from` is what :func:`planner.run` and the other API functions
call; the command line goes through :func:`planner.scenario.schema.load_scenario`
with ``key=value`` strings, and both end in the same validation.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from planner._arguments import shown
from planner._files import path_argument
from planner.errors import InputError, Problem
from planner.scenario.io import plain_value
from planner.scenario.schema import Scenario, load_scenario, validated_scenario

__all__ = ["ScenarioLike", "scenario_from"]

#: What the API takes as a scenario.
ScenarioLike = Scenario | Mapping[str, Any] | str | os.PathLike[str] | None

#: Overrides: dotted names and values (``{"model.p": 80}``), or ``key=value`` strings.
Overrides = Mapping[str, Any] | Sequence[str] | None

#: The field a ``time_limit`` argument sets.
TIME_LIMIT_FIELD = "solver.time_limit_s"


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
        paths are resolved as ``planner run`` resolves them: against a file's
        folder, else against the working folder.
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
    elif hasattr(overrides, "keys") and hasattr(overrides, "items"):
        # A pandas Series of values by field name reads like a mapping; iterated,
        # it gives only its values ("not 3").
        changes = dict(cast(Any, overrides).items())
    elif overrides is not None:
        if isinstance(overrides, str | bytes) or not isinstance(overrides, Iterable):
            raise InputError(
                Problem(
                    "overrides",
                    "give a mapping {'model.p': 80} or a list ['model.p=80'], not "
                    f"{shown(overrides)}",
                )
            )
        strings = list(overrides)
    odd = [key for key in [*changes, *strings] if not isinstance(key, str)]
    if odd:
        raise InputError(
            Problem(
                "overrides",
                f"keys must be dotted field names ({{'model.p': 80}} or ['model.p=80']), "
                f"not {odd[0]!r}",
            )
        )
    if time_limit is not None:
        changes[TIME_LIMIT_FIELD] = time_limit

    if scenario is None or isinstance(scenario, str | os.PathLike):
        # "" is no path (Path("") is the working folder), "~user" may name no one.
        path = None if scenario is None else path_argument(scenario, "scenario")
        return load_scenario(path, overrides=strings, values=changes)
    if isinstance(scenario, Scenario):
        with warnings.catch_warnings():
            # A field set by model_copy(update=...) is not validated: pydantic warns
            # while dumping a value of the wrong type, and the validation below names it.
            warnings.simplefilter("ignore", UserWarning)
            raw = scenario.model_dump(mode="json", exclude_none=True)
        source = f"scenario {scenario.name!r}"
        return validated_scenario(raw, source, Path.cwd(), overrides=strings, values=changes)
    if isinstance(scenario, Mapping):
        dotted = [key for key in scenario if isinstance(key, str) and "." in key]
        if dotted:
            raise InputError(
                Problem(
                    "scenario mapping",
                    f"{dotted[0]!r} is a dotted name: a scenario mapping holds tables "
                    "({'model': {'p': 80}}); dotted names go to overrides=",
                    field=dotted[0],
                )
            )
        raw = plain_value(scenario)
        return validated_scenario(
            raw, "scenario mapping", Path.cwd(), overrides=strings, values=changes
        )
    raise InputError(
        Problem(
            "scenario",
            f"{shown(scenario)} is not a scenario: give a path, a Scenario, a mapping or None",
        )
    )
