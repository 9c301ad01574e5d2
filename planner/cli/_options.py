"""The API's argument names as a command's options, in the messages it prints."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

from planner.errors import InputError, Problem
from planner.scenario.io import same_field


@contextmanager
def named_as_options(options: Mapping[str, str]) -> Iterator[None]:
    """Problems the API names by its arguments (``seed``), named as the command's (``--seed``).

    The Python API speaks of its own arguments, which a command-line user
    never typed; ``options`` maps each argument name to the option that sets it.
    """
    try:
        yield
    except InputError as exc:
        problems = [
            replace(p, source=options.get(p.source, p.source)) if isinstance(p, Problem) else p
            for p in exc.problems
        ]
        raise InputError(problems, warnings=exc.warnings) from None


#: The field --time-limit sets.
_LIMIT = "solver.time_limit_s"


def with_time_limit(overrides: list[str] | None, time_limit: float | None) -> list[str]:
    """``--set`` overrides with ``--time-limit`` added, the limit checked as the option.

    Added as ``solver.time_limit_s=…``, a bad limit was named as an override
    the user never wrote.
    """
    extra = list(overrides or [])
    if time_limit is None:
        return extra
    given = next((o for o in extra if same_field(o.partition("=")[0].strip(), _LIMIT)), None)
    if given is not None:
        # Before: "overrides: 'solver.time_limit_s' is given twice", of an override never typed.
        raise InputError(Problem("--time-limit", f"also set by --set {given}; give one of them"))
    if not math.isfinite(time_limit) or time_limit <= 0:
        # "inf s: give seconds above 0" would contradict itself: inf is above 0.
        raise InputError(
            Problem("--time-limit", f"{time_limit:g} s: give a finite number of seconds above 0")
        )
    return [*extra, f"{_LIMIT}={time_limit!r}"]
