"""Arguments of the Python API that are neither paths nor scenario fields, checked on entry."""

from __future__ import annotations

from typing import Any

from planner._text import one_line
from planner.errors import InputError, Problem


def callback[Callback](value: Callback, name: str) -> Callback:
    """``value`` if it is ``None`` or callable; else an :class:`InputError` naming ``name``.

    A progress callback is first called once the work has started: ``progress=5``
    failed with ``TypeError: 'int' object is not callable`` after the inputs were read.
    """
    if value is not None and not callable(value):
        raise InputError(Problem(name, f"give a function, not {_shown(value)}"))
    return value


def _shown(value: Any) -> str:
    return one_line(repr(value), limit=40)
