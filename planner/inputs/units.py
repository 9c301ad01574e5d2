"""Units stated in column headers: ``Power [W]``, ``Cost (kEUR)``, ``Grid (in MW)``.

Headers are matched to fields with their bracketed parts dropped
(:func:`planner.inputs.columns.normalise_header`), so a unit written there
would otherwise be passed over and every value read in the field's own unit:
a 22,000 W post as a 22,000 kW station, a cost of 300 kEUR as 300 EUR.
:func:`unit_scale` reads the unit a header's brackets state and gives the
factor to the field's unit, or refuses a unit of the right kind that it does
not know (``[kVA]``). Words in brackets that name no unit (``Power (max)``,
``Cost (net)``) state none.
"""

from __future__ import annotations

import itertools
import re
from typing import Literal

from planner.errors import InputError, Problem

__all__ = ["Quantity", "unit_scale"]

#: What a column holds: power (read in kW) or money (read in EUR).
Quantity = Literal["power", "money"]

#: Each known unit, lower case, and its factor to kW or EUR.
_FACTORS: dict[Quantity, dict[str, float]] = {
    "power": {
        "w": 1e-3,
        "watt": 1e-3,
        "watts": 1e-3,
        "kw": 1.0,
        "kilowatt": 1.0,
        "kilowatts": 1.0,
        "mw": 1e3,
        "megawatt": 1e3,
        "megawatts": 1e3,
    },
    "money": {
        "eur": 1.0,
        "euro": 1.0,
        "euros": 1.0,
        "€": 1.0,
        "keur": 1e3,
        "k€": 1e3,
        "teur": 1e3,
        "t€": 1e3,
        "meur": 1e6,
        "m€": 1e6,
        "mioeur": 1e6,
        "mio€": 1e6,
        # Written out, or after the currency, as finance tables do.
        "€k": 1e3,
        "eurk": 1e3,
        "€m": 1e6,
        "eurm": 1e6,
        "tsdeur": 1e3,
        "tsd€": 1e3,
        "tausendeur": 1e3,
        "thousandeur": 1e3,
        "thousandseur": 1e3,
        "eurthousand": 1e3,
        "eurthousands": 1e3,
        "eur'000": 1e3,
        "€'000": 1e3,
        "millioneur": 1e6,
        "millionseur": 1e6,
        "eurmillion": 1e6,
        "eurmillions": 1e6,
    },
}

#: Words that look like a unit of the quantity, known or not: a power in VA, a
#: cost in another currency or in thousands written another way.
_LOOKS_LIKE: dict[Quantity, re.Pattern[str]] = {
    "power": re.compile(r"[kmg]?(w|watts?|va|hp|ps)|(kilo|mega|giga)watts?"),
    "money": re.compile(
        r"([kmt]|mio|mrd|bn|tsd|thousands?|millions?|billions?)?"
        r"(eur|euros?|€|chf|gbp|£|usd|\$|sek|nok|dkk|pln|czk|huf)"
        r"(k|m|bn|'000|thousands?|millions?|billions?)?"
    ),
}

_FIELD_UNIT: dict[Quantity, str] = {"power": "kW (or W or MW)", "money": "EUR (or kEUR or MEUR)"}


def unit_scale(header: str, quantity: Quantity, source: str, field: str) -> float:
    """The factor taking a column's values to kW or EUR, by the unit its header states.

    Parameters
    ----------
    header
        The column's header as written.
    quantity
        ``"power"`` (to kW) or ``"money"`` (to EUR).
    source, field
        How a refusal names the file and the field.

    Raises
    ------
    InputError
        The header states a unit of that quantity planner does not convert.
    """
    for inside in reversed(re.findall(r"[\[(]([^\])]*)[\])]", header)):
        words = [w for w in re.split(r"[\s,;/]+", inside) if w and w.casefold() != "in"]
        # "Mio EUR" is one unit: each word is tried with the next one first.
        pairs = [f"{a} {b}" for a, b in itertools.pairwise(words)]
        for word in [w for pair in zip(pairs, words, strict=False) for w in pair] + words[-1:]:
            compact = word.casefold().replace(" ", "").replace(".", "")
            factor = _FACTORS[quantity].get(compact)
            if factor is not None:
                return factor
            if _LOOKS_LIKE[quantity].fullmatch(compact):
                raise InputError(
                    Problem(
                        source,
                        f"the column '{header}' states the unit '{word}'; give the values in "
                        f"{_FIELD_UNIT[quantity]}, named in the header",
                        field=field,
                    )
                )
    return 1.0
