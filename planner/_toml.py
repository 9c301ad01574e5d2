"""Reading TOML text, with every way it can fail reported as a TOML error.

``tomllib`` parses nested arrays and inline tables by recursion, so a file
nested a few thousand levels deep (damaged, or written to break a reader)
raises ``RecursionError``; callers that turn ``TOMLDecodeError`` into a
message naming the file would let it through as a crash.
"""

from __future__ import annotations

import tomllib
from typing import Any

TOMLDecodeError = tomllib.TOMLDecodeError


def loads(text: str) -> dict[str, Any]:
    """``tomllib.loads``, raising ``TOMLDecodeError`` also for nesting too deep to parse."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise TOMLDecodeError("arrays or tables nested too deeply to read") from None
