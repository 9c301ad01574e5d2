"""Text from input files made safe for a one-line message."""

from __future__ import annotations


def one_line(text: object, *, limit: int | None = None) -> str:
    """``text`` on one line: control and other invisible characters escaped, maybe shortened.

    Messages quote cells, headers and library errors; a line break or a
    right-to-left override in them would garble the line the command line prints.
    """
    raw = str(text)
    if limit is not None and len(raw) > limit:
        raw = raw[: limit - 3] + "..."
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in raw)
