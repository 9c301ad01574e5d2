"""What a path given as an input file must be before it is opened."""

from __future__ import annotations

from pathlib import Path

#: Why a path that exists but is neither a file nor a folder is refused: opening
#: a named pipe blocks until something writes to it, so the run would hang.
NOT_REGULAR = "is not a regular file (a pipe, socket or device); give a file"


def is_special(path: Path) -> bool:
    """Whether ``path`` exists and is neither a regular file nor a folder."""
    return path.exists() and not path.is_file() and not path.is_dir()
