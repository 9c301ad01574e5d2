"""The numbers of a plain-text test-set file, read in order, with errors that name the line.

OR-Library and TSPLIB files are streams of whitespace-separated numbers whose
meaning follows from their position. :class:`Numbers` hands them out by what
they are ("the number of rows", "row 3's columns") and checks each one, so a
truncated file, a stray word or an index out of range stops the reader with
an :class:`InputError` naming the file, the line and what was expected,
instead of a traceback or a silently shifted instance.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from planner.errors import InputError, Problem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def read_text(path: Path, what: str) -> str:
    """The file's text; an :class:`InputError` when it is missing, unreadable or not text.

    Test sets travel as they were published: gzip-compressed (``pmed1.txt.gz``),
    with a byte-order mark from a spreadsheet, or with a Latin-1 letter in a
    comment (old TSPLIB headers). All three are read; the numbers themselves
    are ASCII in every case. A file holding NUL bytes is no text at all.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(Problem(str(path), f"no such file (expected {what})")) from None
    except IsADirectoryError:
        raise InputError(Problem(str(path), f"a folder, not {what}")) from None
    except OSError as error:
        raise InputError(Problem(str(path), f"cannot be read: {error.strerror}")) from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise InputError(
                Problem(str(path), f"a damaged gzip file ({error}); expected {what}")
            ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            Problem(str(path), f"not a text file (byte {nul} is NUL); expected {what}")
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class Numbers:
    """A cursor over the whitespace-separated tokens of ``path`` (a file in ``layout``)."""

    def __init__(self, path: Path, layout: str) -> None:
        self.path = path
        self.layout = layout
        self._text = read_text(path, layout)
        self.tokens = self._text.split()
        self.at = 0
        if not self.tokens:
            raise InputError(Problem(str(path), f"empty; expected {layout}"))

    def line_of(self, index: int) -> int:
        """1-based line of token ``index`` (the last line when past the end)."""
        seen = 0
        number = 0
        for number, line in enumerate(self._text.splitlines(), start=1):
            seen += len(line.split())
            if seen > index:
                return number
        return number

    def error(self, message: str, index: int | None = None) -> InputError:
        """An :class:`InputError` at token ``index`` (the cursor when None)."""
        index = self.at if index is None else index
        if index >= len(self.tokens):
            where = f"ends after line {self.line_of(len(self.tokens) - 1)}"
            return InputError(Problem(str(self.path), f"{where}: {message} ({self.layout})"))
        line = self.line_of(index)
        return InputError(Problem(str(self.path), f"line {line}: {message} ({self.layout})"))

    def floats(self, count: int, what: str) -> FloatArray:
        """The next ``count`` tokens as finite numbers."""
        if self.at + count > len(self.tokens):
            missing = self.at + count - len(self.tokens)
            raise self.error(f"{missing:,} number(s) missing in {what}", len(self.tokens))
        chunk = self.tokens[self.at : self.at + count]
        try:
            values = np.asarray(chunk, dtype=np.float64)
        except ValueError:
            bad = next(k for k, token in enumerate(chunk) if not _is_number(token))
            raise self.error(
                f"{chunk[bad][:40]!r} in {what} is not a number", self.at + bad
            ) from None
        if not np.all(np.isfinite(values)):
            bad = int(np.flatnonzero(~np.isfinite(values))[0])
            raise self.error(f"{chunk[bad]!r} in {what} is not a finite number", self.at + bad)
        self.at += count
        return values

    def integers(self, count: int, what: str, least: int, most: int | None = None) -> IntArray:
        """The next ``count`` tokens as whole numbers in [least, most]."""
        start = self.at
        values = self.floats(count, what)
        outside = (values != np.floor(values)) | (values < least)
        if most is not None:
            outside |= values > most
        if np.any(outside):
            bad = int(np.flatnonzero(outside)[0])
            span = f"a whole number ≥ {least}" if most is None else f"in {least}…{most:,}"
            raise self.error(f"{self.tokens[start + bad]!r} in {what} is not {span}", start + bad)
        return values.astype(np.int64)

    def integer(self, what: str, least: int, most: int | None = None) -> int:
        """The next token as a whole number in [least, most]."""
        return int(self.integers(1, what, least, most)[0])

    def number(self, what: str) -> float:
        """The next token as a finite number."""
        return float(self.floats(1, what)[0])

    def word(self) -> str:
        """The next token as it is (for formats that allow a word in a number's place)."""
        if self.at >= len(self.tokens):
            raise self.error("the file ends early", len(self.tokens))
        self.at += 1
        return self.tokens[self.at - 1]

    def records(
        self, count: int, head: int, name: str, most: int
    ) -> tuple[FloatArray, IntArray, IntArray]:
        """``count`` records, each ``head`` numbers, then a length k and k indices in 1…``most``.

        Returns the heads (count × head), the records' offsets into the
        indices (count + 1) and the indices made 0-based. A length past the
        end of the file or a record running past it fails with the record's
        number.
        """
        start = self.at
        body = self.floats(len(self.tokens) - start, f"the {name}s")
        values = body.tolist()
        heads = np.empty((count, head))
        lengths = np.empty(count, dtype=np.int64)
        firsts = np.empty(count, dtype=np.int64)
        position = 0
        for k in range(count):
            if position + head >= len(values):
                self.at = start + position
                raise self.error(f"the file ends before {name} {k + 1:,} of {count:,}")
            heads[k] = values[position : position + head]
            length = values[position + head]
            if length < 0 or length != int(length):
                raise self.error(
                    f"{name} {k + 1:,}: its length {self.tokens[start + position + head]!r} "
                    "is not a whole number ≥ 0",
                    start + position + head,
                )
            lengths[k] = int(length)
            firsts[k] = position + head + 1
            position += head + 1 + int(length)
        if position > len(values):
            self.at = len(self.tokens)
            raise self.error(
                f"{name} {count:,} lists {int(lengths[-1]):,} indices but the file ends first"
            )
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        slots = np.repeat(firsts - indptr[:-1], lengths) + np.arange(indptr[-1])
        indices = body[slots] if slots.size else np.empty(0)
        bad = (indices != np.floor(indices)) | (indices < 1) | (indices > most)
        if np.any(bad):
            slot = int(slots[np.flatnonzero(bad)[0]])
            record = int(np.searchsorted(indptr, np.flatnonzero(bad)[0], side="right")) - 1
            raise self.error(
                f"{name} {record + 1:,} lists {self.tokens[start + slot]!r}, not an index "
                f"in 1…{most:,}",
                start + slot,
            )
        self.at = start + position
        return heads, indptr, indices.astype(np.int64) - 1

    def end(self, after: str) -> None:
        """Fail when tokens are left after the last one the layout has."""
        left = len(self.tokens) - self.at
        if left:
            raise self.error(f"{left:,} number(s) left after {after}")


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True
