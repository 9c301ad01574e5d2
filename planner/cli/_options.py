"""The API's argument names as a command's options, in the messages it prints."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

from planner.errors import InputError, Problem


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
