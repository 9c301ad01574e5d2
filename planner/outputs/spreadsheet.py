"""CSV files that a spreadsheet opens as data, never as formulas.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``,
``+``, ``-`` or ``@`` (or with a tab or carriage return before one) as a
formula, so a dealer named ``=HYPERLINK(...)`` in a user's file would run
when a planner opens ``sites.csv``. Every text cell that starts with one of
these characters is written with a leading apostrophe, the usual rule
(OWASP "CSV injection"), which spreadsheets show as text. Numbers are
written as numbers; GeoJSON, JSON and the map keep the real text.
"""

from __future__ import annotations

import os

import pandas as pd

__all__ = ["FORMULA_STARTS", "spreadsheet_safe", "write_csv"]

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells cannot start a formula."""
    safe = table.copy()
    for column in safe.columns:
        values = safe[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            safe[column] = values.map(_safe_text)
    return safe


def write_csv(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``table`` (without its index) as CSV with :func:`spreadsheet_safe` text cells."""
    spreadsheet_safe(table).to_csv(path, index=False)
