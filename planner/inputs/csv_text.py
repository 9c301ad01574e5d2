"""Reading CSV / TXT / TSV dealer files into a :class:`~planner.inputs.raw.RawTable`.

* The delimiter is ``,`` ``;`` tab or ``|``, detected from the first lines
  (the one that splits them into the most consistent columns), or given in
  the scenario (``delimiter``). Excel's ``sep=;`` first line is honoured and,
  as Excel hides it, row numbers count from the line after it.
* The encoding is UTF-8, UTF-8, UTF-16 or UTF-32 with a byte-order mark, UTF-16
  without one (recognised by its NUL bytes), else Windows-1252, else Latin-1;
  or given in the scenario (``encoding``).
* A binary file renamed ``.csv`` (an XLSX or other ZIP archive, an old .xls,
  a GeoPackage, Parquet, PDF or gzip file, or, when no encoding is given and
  it is not UTF-16, data full of control bytes) is refused with what it looks
  like, never with its content.
* Rows are records, so a quoted name spanning two lines is one row.
* The header is the first record with two or more filled cells, so a title
  line above the table is passed over. Blank records at the end of the file
  are not data and are left out; blank records between data rows are kept,
  so the validator can count them.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from pathlib import Path

from planner._text import one_line
from planner.errors import InputError, Problem
from planner.inputs.raw import Cell, RawTable, filled, header_index
from planner.scenario.schema import DealerFile

logger = logging.getLogger(__name__)

#: Byte-order marks of UTF-32 (little- and big-endian) and of UTF-16.
_UTF32_MARKS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_BYTE_ORDER_MARKS = (*_UTF32_MARKS, b"\xff\xfe", b"\xfe\xff")

_DELIMITERS = (",", ";", "\t", "|")
_SEP_LINE = re.compile(r"sep=(.)[ \t]*\r?\n", re.IGNORECASE)

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
    if encoding is not None or data.startswith(_BYTE_ORDER_MARKS):
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


def read_csv(path: Path, spec: DealerFile, source: str) -> RawTable:
    """Read a CSV / TXT / TSV file, as described in the module docstring.

    Raises
    ------
    InputError
        The file is binary, empty, not in the given encoding or not readable as CSV.
    OSError
        The file cannot be read at all.
    """
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
    # The line each record starts on: a quote never closed makes its record run
    # to the end of the file, which must be said, not read as one long cell.
    last_start, next_start = 1, 1
    try:
        for record in reader:
            records.append(record)
            last_start, next_start = next_start, reader.line_num + 1
    except csv.Error as exc:
        raise InputError(
            Problem(source, f"is not a readable CSV file: {one_line(exc)}", row=reader.line_num)
        ) from None
    _refuse_open_quote(text, delimiter, last_start, reader.line_num, source)
    first = header_index(records)
    if first is None:
        raise InputError(Problem(source, "the file is empty"))
    headers = [h.strip() for h in records[first]]
    body = records[first + 1 :]
    while body and not filled(body[-1]):
        body.pop()
    rows: list[list[Cell]] = [list(rec) for rec in body]
    numbers = list(range(first + 2, first + 2 + len(rows)))
    notes = [f"encoding {encoding}, delimiter {delimiter!r}"]
    logger.debug("%s: %s", source, notes[0])
    return RawTable(source, headers, rows, numbers, None, notes)


def _refuse_open_quote(text: str, delimiter: str, start: int, end: int, source: str) -> None:
    """Refuse a last record (lines ``start``-``end``) whose quote is never closed.

    A lenient reader takes every line after ``"Lyon,FR,4.83`` into that one
    cell: the rows below were dropped without a word, and the message spoke
    of an empty field. A strict reader of that record alone tells the case.
    """
    if end <= start:
        return
    tail = "".join(io.StringIO(text, newline="").readlines()[start - 1 :])
    try:
        for _ in csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise InputError(
                Problem(
                    source,
                    f'a quote (") opened on line {start} is never closed, so the {end - start} '
                    "line(s) after it would be read as one cell; close the quote or remove it",
                )
            ) from None


def _decode(data: bytes, encoding: str | None, source: str) -> tuple[str, str]:
    if encoding is not None:
        _refuse_wide_without_nuls(data, encoding, source)
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise InputError(
                Problem(
                    source,
                    f"cannot be read as {encoding}: byte 0x{data[exc.start]:02x} at "
                    f"position {exc.start}; set the right encoding in the scenario",
                )
            ) from None
        except (LookupError, ValueError):
            # A NUL in the name is a ValueError, not an unknown encoding's LookupError.
            raise InputError(
                Problem(source, f"unknown text encoding {encoding!r}", field="encoding")
            ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    # UTF-32's little-endian mark starts with UTF-16's, so it is tested first.
    if data.startswith(_UTF32_MARKS):
        return data.decode("utf-32", errors="replace"), "utf-32"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return data.decode(utf16, errors="replace"), utf16
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        # More characters of UTF-8 than bytes of anything else: a UTF-8 file
        # with some lines pasted from another encoding.
        strays = data.decode("utf-8", errors="replace").count("\ufffd")
        if len(_UTF8_SEQUENCE.findall(data)) > strays:
            raise _mixed_encodings(data, exc, source) from None
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        # Latin-1 decodes every byte; the five bytes cp1252 leaves undefined end up here.
        return data.decode("latin-1"), "latin-1"


#: A character of two to four bytes in UTF-8. A file in an 8-bit encoding
#: hardly ever holds one ("Ã©" would have to stand in it).
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _mixed_encodings(data: bytes, exc: UnicodeDecodeError, source: str) -> InputError:
    """The error for a UTF-8 file with bytes of another encoding in it.

    Read as Windows-1252, every correct accent of the file would be garbled
    ("Ã¢" for "â"), ids with accents changed; read as UTF-8, the other bytes lost.
    """
    line = data.count(b"\n", 0, exc.start) + 1
    lines = data.decode("utf-8", errors="replace").split("\n")
    others = sum(1 for text in lines if "\ufffd" in text) - 1
    more = f" (and {others:,} more line(s))" if others > 0 else ""
    return InputError(
        Problem(
            source,
            f"mixes text encodings: line {line}{more} holds byte 0x{data[exc.start]:02x}, "
            "which is not UTF-8, where the rest of the file is UTF-8; save the whole file "
            'as UTF-8 (or, if it is all Windows-1252, set encoding = "cp1252" for it)',
        )
    )


def _refuse_wide_without_nuls(data: bytes, encoding: str, source: str) -> None:
    """Refuse a stated UTF-16 or UTF-32 for bytes that cannot be a table in it.

    A table's digits, separators and line ends are ASCII, which UTF-16 and
    UTF-32 store with NUL bytes beside them; bytes without a single NUL are
    UTF-8 or an 8-bit encoding. Decoded as UTF-16 they would become a line of
    unrelated characters, and the file "a header but no data rows".
    """
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, ValueError):
        return  # unknown: named as such when decoding
    if not name.startswith(("utf-16", "utf-32")) or b"\0" in data[:4096] or len(data) < 8:
        return
    raise InputError(
        Problem(
            source,
            f"cannot be read as {encoding}: it has no NUL byte, which the ASCII digits and "
            f"separators of a table in {encoding} always bring; it looks like UTF-8 or an "
            "8-bit encoding: remove encoding from its scenario entry or set the right one",
            field="encoding",
        )
    )


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
                r
                for r in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
                if filled(r)
            ][:50]
        except csv.Error:
            continue
        # Measured from the header, the first record of two or more filled cells:
        # title lines above it ("Ladesäulenregister", "Stand: 2019") have one.
        first = header_index(records)
        if first is None:
            continue
        width = len(records[first])
        if width < 2:
            continue
        consistent = sum(1 for r in records[first + 1 :] if len(r) == width)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best
