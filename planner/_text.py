"""Text for people: input text made safe for a one-line message, amounts formatted."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def one_line(text: object, *, limit: int | None = None) -> str:
    """``text`` on one line: control and other invisible characters escaped, maybe shortened.

    Messages quote cells, headers and library errors; a line break or a
    right-to-left override in them would garble the line the command line prints.
    """
    raw = str(text)
    if limit is not None and len(raw) > limit:
        raw = raw[: limit - 3] + "..."
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in raw)


def finite(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` (missing, not a number, infinite)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt_eur(value: Any) -> str:
    """An amount of euros, in millions from a million up: ``"€85.5 M"``, ``"€250,000"``."""
    number = finite(value)
    if number is None:
        return "n/a"
    if abs(number) >= 1e6:
        # Halves up, as a reader rounds: 30.45 M is "30.5", not the float's "30.4",
        # so the parts shown add up to the total shown as often as rounding allows.
        millions = Decimal(repr(number / 1e6)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        return f"€{millions:,.1f} M"
    return f"€{round(number):,}"
