"""CSV files that a spreadsheet opens as data, never as formulas.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``,
``+``, ``-`` or ``@`` (or with a tab or carriage return before one) as a
formula, so a dealer named ``=HYPERLINK(...)`` in a user's file would run
when a planner opens ``sites.csv``. Every text cell that starts with one of
these characters is written with a leading apostrophe, the usual rule
(OWASP "CSV injection"), which spreadsheets show as text; so is one that
starts with apostrophes before such a character, so that reading back
(:func:`read_back_text`) removes exactly the one added. Numbers are
written as numbers; GeoJSON, JSON and the map keep the real text.

Large tables (a travel matrix of millions of pairs) are formatted column by
column (:func:`csv_chunks`): pandas formats a ``float_format`` cell by cell in
Python, about 4 µs a cell, which made writing a 10 M pair matrix take four
times as long as computing it. The column-wise route gives the very same
bytes as :func:`spreadsheet_safe` followed by ``DataFrame.to_csv``.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["FORMULA_STARTS", "csv_chunks", "read_back_text", "spreadsheet_safe", "write_csv"]

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


#: A text cell that gets the apostrophe: a formula start, after any apostrophes
#: (``'=1`` gets one too, or it could not be told from ``=1`` written safe).
_FORMULA = "^'*[" + "".join("\\" + c if c == "-" else c for c in FORMULA_STARTS) + "]"
_FORMULA_RE = re.compile(_FORMULA)


def _safe_text(value: object) -> object:
    if isinstance(value, str) and _FORMULA_RE.match(value):
        return "'" + value
    return value


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells cannot start a formula."""
    columns = {}
    # By position: a column name given twice would select both columns at once.
    for position in range(table.shape[1]):
        values = table.iloc[:, position]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            values = values.map(_safe_text)
        columns[position] = values
    safe = pd.concat(columns, axis=1) if columns else table.copy()
    safe.columns = table.columns
    return safe


def read_back_text(values: pd.Series) -> pd.Series:
    """Text cells as they were before :func:`spreadsheet_safe`: the added apostrophe removed.

    One apostrophe is removed from a cell that starts with apostrophes and a
    formula start: that is the one this module adds, to ``'=1`` as to ``=1``,
    so every text reads back as it was.
    """
    text = values.astype(str)
    added = text.str.startswith("'") & text.str.match(_FORMULA)
    return text.where(~added, text.str[1:])


def write_csv(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``table`` (without its index) as CSV with :func:`spreadsheet_safe` text cells."""
    spreadsheet_safe(table).to_csv(path, index=False)


#: Rows formatted together by :func:`csv_chunks` (about 100 MB of text for a matrix).
CHUNK_ROWS = 500_000
#: Threads formatting chunks at once: pyarrow's kernels release the GIL.
_THREADS = min(4, os.cpu_count() or 1)
_TEXT = pa.large_string()


def csv_chunks(table: pd.DataFrame, *, decimals: int, rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The CSV text of ``table``, UTF-8, in pieces: pandas' bytes, formatted column-wise.

    The same bytes as ``spreadsheet_safe(table).to_csv(index=False,
    float_format=f"%.{decimals}f", lineterminator="\\n")``. Columns of numpy
    floats, integers and text (``None`` or NaN written empty) are formatted
    column-wise, ``rows`` rows at a time; a table with a column of anything
    else, of a single column (where pandas quotes an empty cell) or of a
    column name given twice, goes through pandas whole.
    """
    columnwise = table.shape[1] >= 2 and not table.columns.has_duplicates
    if not (columnwise and all(_columnwise(table[c]) for c in table.columns)):
        safe = spreadsheet_safe(table)
        yield safe.to_csv(index=False, float_format=f"%.{decimals}f", lineterminator="\n").encode(
            "utf-8"
        )
        return
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow([str(c) for c in table.columns])
    yield header.getvalue().encode("utf-8")
    starts = range(0, len(table), rows)
    with ThreadPoolExecutor(_THREADS) as pool:
        # A window of chunks at a time, so that memory holds a few chunks, not the file.
        for window in range(0, len(starts), _THREADS):
            parts = [table.iloc[s : s + rows] for s in starts[window : window + _THREADS]]
            yield from pool.map(lambda part: _lines(part, decimals), parts)


def _columnwise(column: pd.Series) -> bool:
    kind = column.dtype.kind
    if kind in "fiu":
        return isinstance(column.dtype, np.dtype)  # not pandas' nullable Int64, Float64
    if not (kind == "O" or pd.api.types.is_string_dtype(column.dtype)):
        return False
    try:
        pa.array(column, type=_TEXT, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False  # numbers or other objects among the text
    return True


def _lines(part: pd.DataFrame, decimals: int) -> bytes:
    cells = []
    for name in part.columns:
        column = part[name]
        kind = column.dtype.kind
        if kind == "f":
            cells.append(_fixed(column.to_numpy(dtype=np.float64), decimals))
        elif kind in "iu":
            cells.append(pa.array(column.to_numpy()).cast(_TEXT))
        else:
            cells.append(_quoted(pa.array(column, type=_TEXT, from_pandas=True)))
    comma = pa.scalar(",", _TEXT)
    joined = pc.binary_join_element_wise(
        *cells, comma, null_handling="replace", null_replacement=""
    )
    lines = _concat(joined, "\n")
    # The lines lie end to end in the array's data buffer: that is the text.
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return memoryview(lines.buffers()[2])[first:last].tobytes()


def _quoted(text: pa.Array) -> pa.Array:
    """As :func:`spreadsheet_safe` and Python's csv module (minimal quoting) write a text cell."""
    formula = pc.match_substring_regex(text, _FORMULA)
    text = pc.if_else(formula, _concat("'", text), text)
    wrapped = _concat('"', pc.replace_substring(text, '"', '""'), '"')
    return pc.if_else(pc.match_substring_regex(text, '[",\n]'), wrapped, text)


def _fixed(values: npt.NDArray[np.float64], decimals: int) -> pa.Array:
    """``f"%.{decimals}f" % v`` of every value, NaN as null, computed on whole numbers."""
    scale = 10**decimals
    finite = np.isfinite(values)
    scaled = np.where(finite, np.abs(values), 0.0) * scale
    huge = scaled >= 2.0**52  # beyond exact whole numbers in a float
    scaled[huge] = 0.0
    units = np.rint(scaled).astype(np.int64)
    # A product within a hair of a half may have been rounded the other way:
    # those few cells, and infinities, are formatted by Python itself.
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    nan = np.isnan(values)
    by_python = (finite & near_half) | huge | (~finite & ~nan)
    whole = pa.array(units // scale).cast(_TEXT)
    if decimals:
        fraction = pc.utf8_lpad(pa.array(units % scale).cast(_TEXT), decimals, "0")
        body = pc.binary_join_element_wise(whole, fraction, pa.scalar(".", _TEXT))
    else:
        body = whole
    negative = np.signbit(values)
    if negative.any():
        body = pc.if_else(pa.array(negative), _concat("-", body), body)
    if nan.any():
        body = pc.if_else(pa.array(nan), pa.scalar(None, _TEXT), body)
    if by_python.any():
        cells = body.to_numpy(zero_copy_only=False).astype(object)
        for i in np.flatnonzero(by_python):
            cells[i] = f"%.{decimals}f" % values[i]
        body = pa.array(cells, type=_TEXT)
    return body


def _concat(*parts: pa.Array | str) -> pa.Array:
    """Cell by cell, the parts one after another (a ``str`` is the same in every cell)."""
    given = [pa.scalar(p, _TEXT) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*given, pa.scalar("", _TEXT))
