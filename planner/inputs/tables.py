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
* XLSX / XLSM: the sheet named by ``layer``, else the first sheet.
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
    if not path.exists():
        raise InputError(Problem(source, f"file not found: {path}"))
    if path.is_dir():
        raise InputError(Problem(source, f"is a folder, not a file: {path}"))
    try:
        table = _read_by_suffix(path, spec, source)
    except OSError as exc:
        raise _unreadable(source, "file", exc) from None
    if not table.rows:
        raise InputError(Problem(source, "the file has a header but no data rows"))
    return table


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


def _read_csv(path: Path, spec: DealerFile, source: str) -> RawTable:
    data = path.read_bytes()
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


def _read_xlsx(path: Path, spec: DealerFile, source: str) -> RawTable:
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
        if spec.layer is not None:
            if spec.layer not in book.sheetnames:
                raise InputError(
                    Problem(
                        source,
                        f"has no sheet '{spec.layer}'; its sheets are "
                        + ", ".join(f"'{n}'" for n in book.sheetnames),
                        field="layer",
                    )
                )
            sheet = book[spec.layer]
        else:
            sheet = book.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            # Some exporters write a wrong sheet size, which read-only mode would trust.
            sheet.reset_dimensions()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cells = [
                [_excel_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)
            ]
    except InputError:
        raise
    except Exception as exc:  # a broken sheet can fail anywhere in openpyxl and lxml
        raise _unreadable(source, "Excel workbook", exc) from None
    finally:
        book.close()
    first = _header_index(cells)
    if first is None:
        raise InputError(Problem(source, "the file is empty"))
    headers = [_header_text(h, i) for i, h in enumerate(cells[first])]
    body = cells[first + 1 :]
    while body and not _filled(body[-1]):
        body.pop()
    numbers = list(range(first + 2, first + 2 + len(body)))
    return RawTable(source, headers, body, numbers, None, [f"sheet '{sheet.title}'"])


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
    # The representative point lies inside a polygon, unlike its centroid.
    reps = geometry[valid].representative_point().to_crs(4326)
    points: list[tuple[float | None, float | None]] = [(None, None)] * len(frame)
    positions = valid.to_numpy().nonzero()[0]
    for pos, x, y in zip(positions, reps.x.to_numpy(), reps.y.to_numpy(), strict=True):
        points[pos] = (float(x), float(y))
    return points, note


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
