"""Numbers and counts as the map's panels and popups show them.

Every function returns ``"n/a"`` for a missing or non-finite value.
:func:`amount_value` rounds a demand amount to the digits :func:`fmt_amount`
shows, so the layers (:func:`planner.maps.data.column`) carry numbers that the
page's formatter (``plannerMap`` in :mod:`planner.maps.script`) prints as the
same text whatever the browser's locale.
"""

from __future__ import annotations

from typing import Any

from planner._text import finite


def fmt_int(value: Any) -> str:
    """A count with thousands separators, or ``"n/a"`` when missing."""
    number = finite(value)
    return "n/a" if number is None else f"{round(number):,}"


def amount_value(value: Any) -> float | None:
    """A demand amount rounded to the decimals :func:`fmt_amount` shows; ``None`` if missing."""
    number = finite(value)
    if number is None:
        return None
    if abs(number) >= 1000:
        return float(round(number))
    return round(number, 1) if abs(number) >= 10 else round(number, 2)


def fmt_amount(value: Any) -> str:
    """A demand amount (sessions/day): decimals only where they carry information."""
    number = amount_value(value)
    if number is None:
        return "n/a"
    if abs(number) >= 1000:
        return f"{number:,.0f}"
    return f"{number:.1f}" if abs(number) >= 10 else f"{number:.2f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    """A percentage already in 0..100, or ``"n/a"``."""
    number = finite(value)
    return "n/a" if number is None else f"{number:.{digits}f} %"


def fmt_count(value: Any, noun: str) -> str:
    """A count and its noun, plural unless exactly one: ``"1 site"``, ``"5 sites"``."""
    text = fmt_int(value)
    return f"{text} {noun}" if text == "1" else f"{text} {noun}s"


def fmt_gap(value: Any) -> str:
    """A relative gap (a fraction) as a percentage, or ``"n/a"`` when unknown."""
    number = finite(value)
    return "n/a" if number is None else f"{100 * number:.3g} %"


def fmt_wait(probability: float) -> str:
    """A probability of waiting as a percentage: one decimal below 10 %, none above."""
    percent = 100 * probability
    return fmt_pct(percent, 1 if abs(percent) < 10 else 0)
