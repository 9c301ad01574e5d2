"""Arguments of the Python API that are neither paths nor scenario fields, checked on entry."""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from planner._text import one_line
from planner.errors import InputError, Problem


def callback[Callback](value: Callback, name: str) -> Callback:
    """``value`` if it is ``None`` or callable; else an :class:`InputError` naming ``name``.

    A progress callback is first called once the work has started: ``progress=5``
    failed with ``TypeError: 'int' object is not callable`` after the inputs were read.
    """
    if value is None:
        return value
    if not callable(value):
        raise InputError(Problem(name, f"give a function, not {shown(value)}"))
    if inspect.iscoroutinefunction(value):
        # Called, it would only make a coroutine that nothing awaits.
        raise InputError(Problem(name, f"give a plain function, not an async one ({shown(value)})"))
    if inspect.isgeneratorfunction(value) or inspect.isasyncgenfunction(value):
        # Called, it would only make a generator whose body never runs.
        raise InputError(
            Problem(name, f"give a plain function, not a generator function ({shown(value)})")
        )
    try:
        inspect.signature(value).bind(None)
    except TypeError:
        # Called with one argument each time (lambda: 0 failed once the work had begun).
        raise InputError(
            Problem(name, f"give a function of one argument (as print is), not {shown(value)}")
        ) from None
    except ValueError:
        pass  # no signature to read (some built-ins): it is called as it is
    return value


def shown(value: Any) -> str:
    """``value`` as a message quotes an argument: its repr, on one line and short."""
    return one_line(repr(value), limit=40)


def whole_number(value: Any, name: str, *, least: int, most: int | None = None) -> int:
    """``value`` as a whole number from ``least`` to ``most``, or an :class:`InputError`.

    ``True`` is refused (it was taken as 1), and so are 1.5 and ``"2"``, which
    failed deep inside Dask or a build program.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(Problem(name, f"must be a whole number, not {shown(value)}"))
    number = int(value)
    if number < least:
        raise InputError(Problem(name, f"must be {least} or more, not {number}"))
    if most is not None and number > most:
        raise InputError(Problem(name, f"must be at most {most}, not {number}"))
    return number


def text_list(value: Any, name: str, wanted: str) -> list[str]:
    """``value`` as a list of strings, or an :class:`InputError` saying ``wanted``.

    A string alone would be taken apart into its characters, bytes into
    character codes and a mapping into its keys: each is refused.
    """
    listed = (
        None
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable)
        else list(value)
    )
    if listed is None or not all(isinstance(item, str) for item in listed):
        raise InputError(Problem(name, f"give {wanted}, not {shown(value)}"))
    return listed
