"""Reading dealer files into a plain table of cells, whatever their format.

Every reader returns a :class:`RawTable`: the header, the data rows as lists
of cells (``str``, numbers, or None for an empty cell) and, for each row, its
number as a spreadsheet user sees it (the header is row 1). Nothing is
interpreted here beyond the file format: cells are parsed and checked by
:mod:`planner.inputs.dealer_rows`, so every problem can be reported with its row.

Formats, chosen by the file's suffix:

* CSV / TXT / TSV: delimiter ``,`` ``;`` tab or ``|`` detected from the first
  lines (or given in the scenario); encoding UTF-8, UTF-8 or UTF-16 with a
  byte-order mark, UTF-16 without one (recognised by its NUL bytes), else
  Windows-1252, else Latin-1 (or given); Excel's
  ``sep=;`` first line is honoured. Rows are records, so a quoted name
  spanning two lines is one row.
* XLSX / XLSM: the sheet named by ``sheet`` (or ``layer``); a workbook of
  several sheets that look like tables is refused unless one is named, or
  ``sheet = "*"`` reads each sheet as its own table (:func:`read_tables`). A
  sheet without a header row of two or more filled cells (a notes sheet) is
  not a table: beside one table it is passed over with a warning, named on
  its own it is refused.
* GeoJSON, GeoPackage, Shapefile, FlatGeobuf, GML, KML: read with pyogrio;
  the geometry's representative point, reprojected from the scenario's
  ``crs`` if given, else the file's CRS, else WGS 84, to EPSG:4326, gives
  the coordinates.
* Parquet: GeoParquet as in the previous point, plain Parquet as a table.

Tables handed over as pandas DataFrames or GeoDataFrames (the Python API) are
read by :func:`read_frame` into the same :class:`RawTable`, geometry as for
vector files, so they meet the same checks and messages; the messages name
the table (``"dealers table"``) and number its rows as the same table saved
to CSV would (the header is row 1, the first data row is row 2).

In CSV and XLSX the header is the first row with two or more filled cells, so
a title line above the table is passed over. Blank rows at the end of a file
are not data and are left out; blank rows between data rows are kept, so the
validator can count them.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from planner._text import one_line
from planner.errors import InputError, Problem
from planner.scenario.schema import DealerFile

logger = logging.getLogger(__name__)

Cell = str | float | int | bool | None

_CSV_SUFFIXES = {".csv", ".txt", ".tsv", ".tab"}
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_VECTOR_SUFFIXES = {
    ".geojson", ".json", ".gpkg", ".shp", ".fgb", ".gml", ".kml", ".geojsonl", ".geojsons",
}
_PARQUET_SUFFIXES = {".parquet", ".geoparquet", ".pq"}
_DELIMITERS = (",", ";", "\t", "|")
_SEP_LINE = re.compile(r"sep=(.)[ \t]*\r?\n", re.IGNORECASE)


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


def read_table(spec: DealerFile, *, source: str) -> RawTable:
    """Read one dealer file into a :class:`RawTable`.

    Parameters
    ----------
    spec
        The file's entry in the scenario.
    source
        How messages name the file (usually its file name).

    Raises
    ------
    InputError
        The file is missing, empty, of an unknown format or unreadable.
    """
    path = Path(spec.path)
    _check_path(path, source)
    try:
        table = _read_by_suffix(path, spec, source)
    except OSError as exc:
        raise _unreadable(source, "file", exc) from None
    if not table.rows:
        raise InputError(Problem(source, "the file has a header but no data rows"))
    return table


def read_tables(spec: DealerFile, *, source: str) -> list[RawTable]:
    """Read one dealer file into one :class:`RawTable` per table it holds.

    A workbook read with ``sheet = "*"`` gives one table per sheet that looks
    like a table, each named ``"<source>, sheet '<name>'"`` in messages; any
    other file gives one table, as :func:`read_table`.

    Raises
    ------
    InputError
        As :func:`read_table`; with ``sheet = "*"`` also when no sheet looks
        like a table.
    """
    path = Path(spec.path)
    if path.suffix.lower() not in _XLSX_SUFFIXES or _sheet_option(spec) != ALL_SHEETS:
        return [read_table(spec, source=source)]
    _check_path(path, source)
    try:
        sheets = _xlsx_sheets(path, spec, source, None)
    except OSError as exc:
        raise _unreadable(source, "file", exc) from None
    tables: list[RawTable] = []
    skipped: list[str] = []
    for name, cells in sheets:
        table = (
            _sheet_table(cells, f"{source}, sheet '{name}'", name)
            if _looks_like_table(cells)
            else None
        )
        if table is None or not table.rows:
            skipped.append(name)
            continue
        tables.append(table)
    if skipped:
        logger.warning(
            "%s: sheet(s) %s passed over: no table with a header row and data rows",
            source, ", ".join(f"'{n}'" for n in skipped),
        )
    if not tables:
        raise InputError(
            Problem(
                source,
                "no sheet looks like a table (a header row with two or more filled cells "
                f"and data rows below it); its sheets are {_names(n for n, _ in sheets)}",
                field="sheet",
            )
        )
    return tables


def read_frame(frame: Any, *, source: str, spec: DealerFile | None = None) -> RawTable:
    """Read a pandas DataFrame or GeoDataFrame into a :class:`RawTable`.

    Parameters
    ----------
    frame
        The table: one column per field, one row per record; a GeoDataFrame's
        geometry gives the coordinates (its representative point, from the
        frame's CRS, else ``spec.crs``, else WGS 84).
    source
        How messages name the table, e.g. ``"dealers table"``.
    spec
        Reading options (``crs``); the defaults of a file entry when None.

    Raises
    ------
    InputError
        The object is not a DataFrame, or it has no columns or no rows.
    """
    import pandas

    if not isinstance(frame, pandas.DataFrame):
        raise InputError(
            Problem(source, f"is a {type(frame).__name__}, not a pandas DataFrame")
        )
    options = spec if spec is not None else DealerFile(path=Path(source))
    table = _from_frame(frame, options, source)
    if not table.rows:
        raise InputError(Problem(source, "the table has no data rows"))
    return table


def _check_path(path: Path, source: str) -> None:
    if not path.exists():
        raise InputError(Problem(source, f"file not found: {path}"))
    if path.is_dir():
        raise InputError(Problem(source, f"is a folder, not a file: {path}"))


def is_table_file(path: Path) -> bool:
    """Whether the suffix names a CSV, Excel or Parquet file (not a vector format)."""
    return path.suffix.lower() in _CSV_SUFFIXES | _XLSX_SUFFIXES | _PARQUET_SUFFIXES


def _read_by_suffix(path: Path, spec: DealerFile, source: str) -> RawTable:
    suffix = path.suffix.lower()
    if suffix in _CSV_SUFFIXES:
        table = _read_csv(path, spec, source)
    elif suffix in _XLSX_SUFFIXES:
        table = _read_xlsx(path, spec, source)
    elif suffix == ".xls":
        raise InputError(
            Problem(source, "is an old-style .xls workbook; save it as .xlsx or CSV")
        )
    elif suffix in _PARQUET_SUFFIXES:
        table = _read_parquet(path, spec, source)
    elif suffix in _VECTOR_SUFFIXES:
        table = _read_vector(path, spec, source)
    else:
        raise InputError(
            Problem(
                source,
                f"unknown file type '{suffix or path.name}'; use CSV, XLSX, GeoJSON, "
                "GeoPackage or Parquet",
            )
        )
    return table


def _unreadable(source: str, what: str, exc: BaseException) -> InputError:
    return InputError(Problem(source, f"is not a readable {what}: {one_line(exc)}"))


# --- CSV -------------------------------------------------------------------------------


#: File signatures of binary formats often renamed .csv, and what to call them.
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (XLSX, zipped shapefile?)"),
    (b"PK\x05\x06", "a ZIP archive (XLSX, zipped shapefile?)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Office file (.xls?)"),
    (b"SQLite format 3\x00", "an SQLite database (GeoPackage?)"),
    (b"PAR1", "a Parquet file"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
)


def _binary_kind(data: bytes, encoding: str | None) -> str | None:
    """What a file renamed ``.csv`` really is, or None for text.

    Only the kind is said, never the content: a file that is no table may
    be anything, and its bytes have no place in a message.
    """
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return f"is {kind}, not a CSV text file"
    if encoding is not None or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    if _utf16_without_bom(data) is not None:
        return None
    sample = data[:8192]
    controls = sum(1 for b in sample if b < 32 and b not in b"\t\n\r\f\v") + sample.count(127)
    # Text may carry a few stray control characters (an escape sequence or a
    # NUL pasted into a name); binary data has them everywhere (about one byte
    # in ten).
    if controls > max(8, 0.05 * len(sample)):
        return "is not a text file (it holds binary data); a CSV file is text"
    return None


def _read_csv(path: Path, spec: DealerFile, source: str) -> RawTable:
    data = path.read_bytes()
    binary = _binary_kind(data, spec.encoding)
    if binary is not None:
        raise InputError(Problem(source, binary))
    text, encoding = _decode(data, spec.encoding, source)
    if not text.strip():
        raise InputError(Problem(source, "the file is empty"))
    hinted = _SEP_LINE.match(text)
    if hinted:
        # Excel's "sep=;" first line names the delimiter; Excel hides the line, so
        # row numbers count from the line after it.
        text = text[hinted.end() :]
    delimiter = spec.delimiter or (hinted.group(1) if hinted else _sniff_delimiter(text))
    records: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise InputError(
            Problem(source, f"is not a readable CSV file: {one_line(exc)}", row=reader.line_num)
        ) from None
    first = _header_index(records)
    if first is None:
        raise InputError(Problem(source, "the file is empty"))
    headers = [h.strip() for h in records[first]]
    body = records[first + 1 :]
    while body and not _filled(body[-1]):
        body.pop()
    rows: list[list[Cell]] = [list(rec) for rec in body]
    numbers = list(range(first + 2, first + 2 + len(rows)))
    notes = [f"encoding {encoding}, delimiter {delimiter!r}"]
    logger.debug("%s: %s", source, notes[0])
    return RawTable(source, headers, rows, numbers, None, notes)


def _decode(data: bytes, encoding: str | None, source: str) -> tuple[str, str]:
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise InputError(
                Problem(source, f"unknown text encoding '{encoding}'", field="encoding")
            ) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                Problem(
                    source,
                    f"cannot be read as {encoding}: byte 0x{data[exc.start]:02x} at "
                    f"position {exc.start}; set the right encoding in the scenario",
                )
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return data.decode(utf16, errors="replace"), utf16
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # Latin-1 decodes every byte; the five bytes cp1252 leaves undefined end up here.
        return data.decode("latin-1"), "latin-1"


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` or ``-be`` when the bytes look like UTF-16 text without a byte-order mark.

    Text in a Latin script is mostly ASCII, which UTF-16 stores as the
    character and a NUL byte: NULs on every other position (odd positions for
    little-endian, even for big-endian) and almost none on the others. Text
    in an 8-bit encoding or UTF-8 has no NUL bytes at all.
    """
    sample = data[:4096]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even = sample[0 : 2 * pairs : 2].count(0)
    odd = sample[1 : 2 * pairs : 2].count(0)
    if odd >= 0.6 * pairs and even <= 0.05 * pairs:
        return "utf-16-le"
    if even >= 0.6 * pairs and odd <= 0.05 * pairs:
        return "utf-16-be"
    return None


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most consistent columns."""
    sample = text[:65536]
    best, best_score = ",", (-1, -1)
    for delimiter in _DELIMITERS:
        try:
            records = [
                r for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
                if _filled(r)
            ][:50]
        except csv.Error:
            continue
        if not records:
            continue
        width = len(records[0])
        if width < 2:
            continue
        consistent = sum(1 for r in records[1:] if len(r) == width)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _header_index(records: list[list[Any]]) -> int | None:
    """The header's position: the first record with two or more filled cells.

    A title line above the table ("Dealer list, May 2024") fills one cell and
    is passed over; a file whose records all have one filled cell has its
    first filled record as the header.
    """
    filled = [sum(1 for c in rec if _cell_filled(c)) for rec in records]
    for i, count in enumerate(filled):
        if count >= 2:
            return i
    return next((i for i, count in enumerate(filled) if count), None)


def _filled(record: list[Any] | tuple[Any, ...]) -> bool:
    return any(_cell_filled(c) for c in record)


def _cell_filled(cell: Any) -> bool:
    if cell is None:
        return False
    if isinstance(cell, float) and math.isnan(cell):
        return False
    return not (isinstance(cell, str) and not cell.strip())


# --- XLSX ------------------------------------------------------------------------------


#: The ``sheet`` value that reads every sheet of a workbook as its own table.
ALL_SHEETS = "*"

#: Why a sheet is not read as a table, for messages.
_NOT_A_TABLE = "no header row with two or more filled cells"


def _sheet_option(spec: DealerFile) -> str | None:
    """The sheet a spec names: ``sheet``, else ``layer`` (its older spelling), else None."""
    sheet = getattr(spec, "sheet", None)
    return sheet if sheet is not None else spec.layer


def _names(names: Any) -> str:
    return ", ".join(f"'{one_line(n, limit=40)}'" for n in names)


def _read_xlsx(path: Path, spec: DealerFile, source: str) -> RawTable:
    wanted = _sheet_option(spec)
    if wanted == ALL_SHEETS:
        raise InputError(
            Problem(
                source,
                f'sheet = "{ALL_SHEETS}" is not possible here; name one sheet',
                field="sheet",
            )
        )
    sheets = _xlsx_sheets(path, spec, source, wanted)
    if wanted is None and len(sheets) > 1:
        tables = [n for n, cells in sheets if _looks_like_table(cells)]
        if len(tables) == 1:
            # One table among notes or empty sheets: that is the data, read it
            # and say which sheets were passed over.
            skipped = [n for n, _ in sheets if n != tables[0]]
            logger.warning(
                "%s: reading sheet '%s'; %s not a table", source, tables[0], _names(skipped)
            )
            sheets = [next((n, c) for n, c in sheets if n == tables[0])]
    if wanted is None and len(sheets) > 1:
        tables = [n for n, cells in sheets if _looks_like_table(cells)]
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
    table = _sheet_table(cells, source, name)
    if table is None:
        raise InputError(Problem(source, "the file is empty"))
    return table


def _looks_like_table(cells: list[list[Cell]]) -> bool:
    return any(sum(1 for c in rec if _cell_filled(c)) >= 2 for rec in cells)


def _sheet_table(cells: list[list[Cell]], source: str, sheet: str) -> RawTable | None:
    """The table of a sheet; None for an empty sheet.

    Raises
    ------
    InputError
        The sheet has text but no row with two filled cells: a note, not a table.
    """
    first = _header_index(cells)
    if first is None:
        return None
    if not _looks_like_table(cells):
        raise InputError(
            Problem(
                source,
                f"sheet '{one_line(sheet, limit=40)}' does not look like a table "
                f"({_NOT_A_TABLE})",
                field="sheet",
            )
        )
    headers = [_header_text(h, i) for i, h in enumerate(cells[first])]
    body = cells[first + 1 :]
    while body and not _filled(body[-1]):
        body.pop()
    numbers = list(range(first + 2, first + 2 + len(body)))
    return RawTable(source, headers, body, numbers, None, [f"sheet '{sheet}'"])


def _xlsx_sheets(
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
        raise _unreadable(source, "Excel workbook", exc) from None
    except Exception as exc:  # a broken workbook can fail anywhere in openpyxl and lxml
        raise _unreadable(source, "Excel workbook", exc) from None
    try:
        if wanted is not None and wanted != ALL_SHEETS and wanted not in book.sheetnames:
            raise InputError(
                Problem(
                    source,
                    f"has no sheet '{one_line(wanted, limit=40)}'; its sheets are "
                    + _names(book.sheetnames),
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
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cells = [
                    [_excel_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)
                ]
            sheets.append((name, cells))
    except InputError:
        raise
    except Exception as exc:  # a broken sheet can fail anywhere in openpyxl and lxml
        raise _unreadable(source, "Excel workbook", exc) from None
    finally:
        book.close()
    return sheets


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


# --- Vector formats and Parquet --------------------------------------------------------


def _read_vector(path: Path, spec: DealerFile, source: str) -> RawTable:
    import pyogrio
    import pyogrio.errors

    try:
        with warnings.catch_warnings():
            # GDAL's notes about the file go to the log; real problems raise.
            warnings.simplefilter("ignore")
            layers = pyogrio.list_layers(path)
        layer = spec.layer
        if layer is None and len(layers) > 1:
            names = ", ".join(f"'{n}'" for n in layers[:, 0])
            raise InputError(
                Problem(source, f"has {len(layers)} layers ({names}); name one with layer")
            )
        if layer is not None and layer not in set(layers[:, 0]):
            names = ", ".join(f"'{n}'" for n in layers[:, 0])
            raise InputError(
                Problem(source, f"has no layer '{layer}'; its layers are {names}", field="layer")
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pyogrio.read_dataframe(path, layer=layer)
    except InputError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise _unreadable(source, "geodata file", exc) from None
    except (OSError, ValueError, RuntimeError) as exc:
        raise _unreadable(source, "geodata file", exc) from None
    return _from_frame(frame, spec, source)


def _read_parquet(path: Path, spec: DealerFile, source: str) -> RawTable:
    import geopandas
    import pandas

    try:
        frame: Any = geopandas.read_parquet(path)
    except ValueError:
        # No GeoParquet metadata: a plain table with coordinate columns.
        try:
            frame = pandas.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types for a broken file
            raise _unreadable(source, "Parquet file", exc) from None
    except Exception as exc:  # pyarrow raises many types for a broken file
        raise _unreadable(source, "Parquet file", exc) from None
    return _from_frame(frame, spec, source)


def _from_frame(frame: Any, spec: DealerFile, source: str) -> RawTable:
    import geopandas

    points: list[tuple[float | None, float | None]] | None = None
    notes: list[str] = []
    if isinstance(frame, geopandas.GeoDataFrame) and frame.geometry.notna().any():
        points, note = _points(frame, spec, source)
        notes.append(note)
        frame = frame.drop(columns=[frame.geometry.name])
    elif isinstance(frame, geopandas.GeoDataFrame):
        frame = frame.drop(columns=[frame.geometry.name])
    headers = [str(c) for c in frame.columns]
    rows: list[list[Cell]] = [
        [_frame_cell(v) for v in rec] for rec in frame.itertuples(index=False, name=None)
    ]
    if points is None:
        while rows and not _filled(rows[-1]):
            rows.pop()
    if not headers and points is None:
        raise InputError(Problem(source, "the file is empty"))
    return RawTable(source, headers, rows, list(range(2, len(rows) + 2)), points, notes)


def _points(
    frame: Any, spec: DealerFile, source: str
) -> tuple[list[tuple[float | None, float | None]], str]:
    import pyproj

    geometry = frame.geometry
    crs = geometry.crs
    if spec.crs is not None:
        # Stated in the scenario: wins, because GeoJSON readers assume WGS 84 whenever
        # the file is silent, so "the file's CRS" may be a guess.
        crs = spec.crs
        note = f"CRS {crs} (from the scenario)"
    elif crs is None:
        crs = "EPSG:4326"
        note = "no CRS in the file, read as EPSG:4326"
    else:
        note = f"CRS {crs.to_string()}"
    try:
        geometry = geometry.set_crs(crs, allow_override=True)
    except (pyproj.exceptions.CRSError, ValueError) as exc:
        raise InputError(
            Problem(source, f"unknown CRS '{crs}': {one_line(exc)}", field="crs")
        ) from None
    valid = geometry.notna() & ~geometry.is_empty
    _refuse_multipoints(geometry, valid, source)
    # The representative point lies inside a polygon, unlike its centroid.
    reps = geometry[valid].representative_point().to_crs(4326)
    points: list[tuple[float | None, float | None]] = [(None, None)] * len(frame)
    positions = valid.to_numpy().nonzero()[0]
    for pos, x, y in zip(positions, reps.x.to_numpy(), reps.y.to_numpy(), strict=True):
        points[pos] = (float(x), float(y))
    return points, note


def _refuse_multipoints(geometry: Any, valid: Any, source: str) -> None:
    """Refuse rows whose geometry is several points: which one is the dealer?"""
    import shapely

    geoms = geometry.to_numpy()
    several = (
        valid.to_numpy()
        & (shapely.get_type_id(geoms) == 4)
        & (shapely.get_num_geometries(geoms) > 1)
    )
    rows = several.nonzero()[0]
    if len(rows):
        raise InputError(
            [
                Problem(
                    source,
                    f"MultiPoint geometry of {shapely.get_num_geometries(geoms[i])} points: "
                    "give one point per row",
                    row=int(i) + 2,
                    field="geometry",
                )
                for i in rows[:50]
            ]
        )


def _frame_cell(value: Any) -> Cell:
    if value is None:
        return None
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else value
    try:
        import pandas

        if pandas.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        item = value.item()
        if isinstance(item, bool | int | float | str):
            return item
    return str(value)
