"""The plain table every dealer-file reader returns, and the small helpers they share.

:class:`RawTable` and :data:`Cell` are re-exported by :mod:`planner.inputs.tables`,
where the rest of the package imports them from. This module imports no other
reader, so the readers (:mod:`planner.inputs.csv_text`,
:mod:`planner.inputs.workbooks`, :mod:`planner.inputs.tables`) can all import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner._text import one_line
from planner.errors import InputError, Problem

Cell = str | float | int | bool | None


@dataclass(frozen=True)
class RawTable:
    """The cells of a dealer file, uninterpreted.

    ``points`` holds one ``(lon, lat)`` per row in EPSG:4326 for files with a
    geometry (``(None, None)`` for a row without one) and is None otherwise.
    """

    source: str
    headers: list[str]
    rows: list[list[Cell]]
    row_numbers: list[int]
    points: list[tuple[float | None, float | None]] | None = None
    notes: list[str] = field(default_factory=list)


#: What GEOS says of a geometry it cannot build, and the same in a user's words.
_GEOMETRY_FAULTS = (
    ("point array must contain 0 or >1 elements", "a line has a single point (it needs two)"),
    (
        "do not form a closed linestring",
        "a polygon's ring is not closed (its last point must repeat its first)",
    ),
    ("Invalid number of points in LinearRing", "a polygon's ring has fewer than four points"),
)


def reason(exc: BaseException) -> str:
    """Why a library could not read a file, on one line, in a user's words where known."""
    text = one_line(exc)
    for said, meant in _GEOMETRY_FAULTS:
        if said in text:
            return meant
    return text.removeprefix("IllegalArgumentException: ")


def refuse_empty(path: Path, source: str, *, field: str | None = None) -> None:
    """Refuse an empty file before a geodata driver reads it.

    GDAL's words for one are "not recognized as being in a supported file
    format", with advice to prefix the path with a driver's name.
    """
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(Problem(source, "the file is empty", field=field))


def unreadable(source: str, what: str, exc: BaseException) -> InputError:
    """The error for a file that cannot be read as ``what`` (e.g. "Excel workbook")."""
    return InputError(Problem(source, f"is not a readable {what}: {reason(exc)}"))


def header_index(records: list[list[Any]]) -> int | None:
    """The header's position: the first record with two or more filled cells.

    A title line above the table ("Dealer list, May 2024") fills one cell and
    is passed over; a file whose records all have one filled cell has its
    first filled record as the header.
    """
    counts = [sum(1 for c in rec if cell_filled(c)) for rec in records]
    for i, count in enumerate(counts):
        if count >= 2:
            return i
    return next((i for i, count in enumerate(counts) if count), None)


def filled(record: list[Any] | tuple[Any, ...]) -> bool:
    """Whether any cell of the record is filled (see :func:`cell_filled`)."""
    return any(cell_filled(c) for c in record)


def cell_filled(cell: Any) -> bool:
    """Whether a cell holds something: not None, NaN or blank text."""
    if cell is None:
        return False
    if isinstance(cell, float) and math.isnan(cell):
        return False
    return not (isinstance(cell, str) and not cell.strip())


def shifted_row(table: RawTable, cells: list[Cell], number: int) -> Problem | None:
    """The error for a row with filled cells beyond the header's, or None.

    Its columns have shifted (a value holding the delimiter without quotes,
    as ``1,500`` in a comma-separated file), so no cell of it can be trusted.
    """
    width = len(table.headers)
    if len(cells) <= width or not any(cell_filled(c) for c in cells[width:]):
        return None
    return Problem(
        table.source,
        f"has {len(cells)} cells but the header has {width}; does a value hold the "
        "delimiter without quotes?",
        row=number,
    )


def shifted_rows(table: RawTable) -> list[Problem]:
    """:func:`shifted_row` of every row that has one (at most 50)."""
    found = (
        shifted_row(table, cells, number)
        for cells, number in zip(table.rows, table.row_numbers, strict=True)
    )
    return [problem for problem in found if problem is not None][:50]
