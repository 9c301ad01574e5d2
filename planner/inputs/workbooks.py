"""Reading XLSX / XLSM dealer workbooks into :class:`~planner.inputs.raw.RawTable`.

* The sheet read is the one named by ``sheet`` (or ``layer``, its older
  spelling). A workbook of several sheets that look like tables is refused
  unless one is named; ``sheet = "*"`` (:data:`ALL_SHEETS`) reads each sheet as
  its own table (:func:`planner.inputs.tables.read_tables`).
* A sheet without a header row of two or more filled cells (a notes sheet) is
  not a table: beside one table it is passed over with a warning, named on
  its own it is refused.
* The header is the first row with two or more filled cells, so a title line
  above the table is passed over; an empty header cell is named
  ``"column N"``. Blank rows at the end of a sheet are not data and are left
  out; blank rows between data rows are kept, so the validator can count them.
* Cells keep their values (text, numbers, booleans); dates and times become
  ISO text. Formulas give their cached values; a sheet with formulas that
  have none (a workbook written by a program that does not calculate) is
  refused, naming the cells, since each would read as empty.
"""

from __future__ import annotations

import logging
import re
import warnings
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from planner._text import one_line
from planner.errors import InputError, Problem
from planner.inputs.raw import Cell, RawTable, cell_filled, filled, header_index, unreadable
from planner.scenario.schema import DealerFile

logger = logging.getLogger(__name__)

#: The ``sheet`` value that reads every sheet of a workbook as its own table.
ALL_SHEETS = "*"

#: A cell whose formula has no cached value: ``<c r="D5"><f>B5*2</f></c>``, with
#: or without an empty ``<v>`` and a namespace prefix.
_UNCALCULATED = re.compile(
    rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3}[0-9]+)"[^>]*>\s*'
    rb"<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*"
    rb"(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>"
)

#: Any formula at all: most sheets have none, and this is the cheaper search.
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")

#: Why a sheet is not read as a table, for messages.
_NOT_A_TABLE = "no header row with two or more filled cells"


def sheet_option(spec: DealerFile) -> str | None:
    """The sheet a spec names: ``sheet``, else ``layer`` (its older spelling), else None."""
    sheet = getattr(spec, "sheet", None)
    return sheet if sheet is not None else spec.layer


def sheet_names(names: Any) -> str:
    """Sheet names quoted and shortened for a message: ``'A', 'B'``."""
    return ", ".join(f"'{one_line(n, limit=40)}'" for n in names)


def read_xlsx(path: Path, spec: DealerFile, source: str) -> RawTable:
    """Read the one sheet of a workbook that holds the table.

    Raises
    ------
    InputError
        The workbook is unreadable or empty, ``sheet = "*"`` was given, the
        named sheet is missing or not a table, or several sheets look like
        tables and none is named.
    """
    wanted = sheet_option(spec)
    if wanted == ALL_SHEETS:
        raise InputError(
            Problem(
                source,
                f'sheet = "{ALL_SHEETS}" is not possible here; name one sheet',
                field="sheet",
            )
        )
    sheets = xlsx_sheets(path, spec, source, wanted)
    if wanted is None and len(sheets) > 1:
        tables = [n for n, cells in sheets if looks_like_table(cells)]
        if len(tables) == 1:
            # One table among notes or empty sheets: that is the data, read it
            # and say which sheets were passed over.
            skipped = [n for n, _ in sheets if n != tables[0]]
            logger.warning(
                "%s: reading sheet '%s'; %s not a table", source, tables[0], sheet_names(skipped)
            )
            sheets = [next((n, c) for n, c in sheets if n == tables[0])]
    if wanted is None and len(sheets) > 1:
        tables = [n for n, cells in sheets if looks_like_table(cells)]
        listing = ", ".join(
            f"'{one_line(n, limit=40)}'" + ("" if n in tables else " (not a table)")
            for n, _ in sheets
        )
        suggestion = tables[0] if tables else sheets[0][0]
        raise InputError(
            Problem(
                source,
                f"has {len(sheets)} sheets: {listing}; name the one to read with "
                f"sheet = '{one_line(suggestion, limit=40)}' in the scenario's entry for "
                f'this file, or sheet = "{ALL_SHEETS}" to read each sheet as its own table',
                field="sheet",
            )
        )
    name, cells = sheets[0]
    table = sheet_table(cells, source, name)
    if table is None:
        raise InputError(Problem(source, "the file is empty"))
    return table


def looks_like_table(cells: list[list[Cell]]) -> bool:
    """Whether some row of the sheet has two or more filled cells."""
    return any(sum(1 for c in rec if cell_filled(c)) >= 2 for rec in cells)


def sheet_table(cells: list[list[Cell]], source: str, sheet: str) -> RawTable | None:
    """The table of a sheet; None for an empty sheet.

    Raises
    ------
    InputError
        The sheet has text but no row with two filled cells: a note, not a table.
    """
    first = header_index(cells)
    if first is None:
        return None
    if not looks_like_table(cells):
        raise InputError(
            Problem(
                source,
                f"sheet '{one_line(sheet, limit=40)}' does not look like a table ({_NOT_A_TABLE})",
                field="sheet",
            )
        )
    headers = [_header_text(h, i) for i, h in enumerate(cells[first])]
    body = cells[first + 1 :]
    while body and not filled(body[-1]):
        body.pop()
    numbers = list(range(first + 2, first + 2 + len(body)))
    return RawTable(source, headers, body, numbers, None, [f"sheet '{sheet}'"])


def xlsx_sheets(
    path: Path, spec: DealerFile, source: str, wanted: str | None
) -> list[tuple[str, list[list[Cell]]]]:
    """The cells of the sheet named ``wanted``, or of every sheet (None or ``"*"``)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; none matter here.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise unreadable(source, "Excel workbook", exc) from None
    except Exception as exc:  # a broken workbook can fail anywhere in openpyxl and lxml
        raise unreadable(source, "Excel workbook", exc) from None
    try:
        if wanted is not None and wanted != ALL_SHEETS and wanted not in book.sheetnames:
            raise InputError(
                Problem(
                    source,
                    f"has no sheet '{one_line(wanted, limit=40)}'; its sheets are "
                    + sheet_names(book.sheetnames),
                    field="sheet" if getattr(spec, "sheet", None) is not None else "layer",
                )
            )
        names = book.sheetnames if wanted in (None, ALL_SHEETS) else [wanted]
        sheets: list[tuple[str, list[list[Cell]]]] = []
        for name in names:
            sheet = book[name]
            if hasattr(sheet, "reset_dimensions"):
                # Some exporters write a wrong sheet size, which read-only mode would trust.
                sheet.reset_dimensions()
            _refuse_uncalculated(sheet, name, source)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cells = [[_excel_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            sheets.append((name, cells))
    except InputError:
        raise
    except Exception as exc:  # a broken sheet can fail anywhere in openpyxl and lxml
        raise unreadable(source, "Excel workbook", exc) from None
    finally:
        book.close()
    return sheets


def _refuse_uncalculated(sheet: Any, name: str, source: str) -> None:
    """Refuse a sheet whose formulas were saved without their results.

    openpyxl gives such a cell as empty: a grid power or a coordinate would
    go missing unsaid, or be called "empty" while the user sees a number.
    """
    opener = getattr(sheet, "_get_source", None)
    if opener is None:
        return
    with opener() as xml:
        data = xml.read()
    cells = [m.decode() for m in _UNCALCULATED.findall(data)] if _FORMULA.search(data) else []
    if not cells:
        return
    listed = ", ".join(cells[:5]) + (f" and {len(cells) - 5:,} more" if len(cells) > 5 else "")
    raise InputError(
        Problem(
            source,
            f"sheet '{one_line(name, limit=40)}': cell(s) {listed} hold formulas whose results "
            "were never saved (the program that wrote the workbook does not calculate); open "
            "and save it in Excel or LibreOffice, or save the sheet as CSV",
        )
    )


def _excel_cell(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _header_text(value: Any, index: int) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return f"column {index + 1}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
