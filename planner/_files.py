"""What a path given as an input file must be before it is opened."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from planner._arguments import shown
from planner.errors import InputError, Problem

#: Why a path that exists but is neither a file nor a folder is refused: opening
#: a named pipe blocks until something writes to it, so the run would hang.
NOT_REGULAR = "is not a regular file (a pipe, socket or device); give a file"


#: The longest file name the common file systems take (ext4, XFS, Btrfs, APFS), in bytes.
_NAME_BYTES = 255
#: Room left after a sibling's stem for planner's suffixes (``.planner-lock``,
#: ``.tmp-<pid>-<hex>``, ``.<pid>-<thread>.tmp``: 30 bytes at most).
_SUFFIX_BYTES = 48
#: Hex digits of the whole name's hash that tag a shortened stem.
_TAG_DIGITS = 16


def sibling_stem(name: str) -> str:
    """``name`` as the stem of the hidden files planner keeps beside it.

    A lock, a staging folder or a temporary file beside ``NAME`` is named
    ``.NAME.<suffix>``; a name near the system's limit would leave no room for
    the suffix, so the stem is then cut and tagged with a hash of the whole
    name, keeping two long names that share a beginning apart.
    """
    encoded = os.fsencode(name)
    if 1 + len(encoded) + _SUFFIX_BYTES <= _NAME_BYTES:
        return name
    tag = hashlib.sha256(encoded).hexdigest()[:_TAG_DIGITS]
    keep = _NAME_BYTES - _SUFFIX_BYTES - 2 - _TAG_DIGITS
    # fsdecode keeps a character cut in two as its bytes, which encode back unchanged.
    return f"{os.fsdecode(encoded[:keep])}~{tag}"


def is_special(path: Path) -> bool:
    """Whether ``path`` exists and is neither a regular file nor a folder."""
    return not unreachable(path) and not path.is_file() and not path.is_dir()


def unreachable(path: Path) -> str | None:
    """Why ``path`` cannot be opened at all, or None when something is there.

    ``Path.exists`` says "no" for a loop of links and raises for a name longer
    than the system allows; this tells them apart from a missing file.
    """
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return "not found"
    except OSError as exc:
        return f"cannot be opened: {exc.strerror or exc}"
    return None


def path_argument(value: Any, name: str) -> Path:
    """A path given to the Python API as ``name``, or an :class:`InputError` saying what is wrong.

    Typed code would not pass ``None`` or ``3``; a notebook may, and gets a
    message naming the argument rather than ``TypeError`` from deep inside.
    """
    if not isinstance(value, str | os.PathLike):
        raise InputError(Problem(name, f"give a path (text or pathlib.Path), not {shown(value)}"))
    text = os.fspath(value)
    if not isinstance(text, str):
        # An os.PathLike whose __fspath__ gives bytes.
        raise InputError(Problem(name, f"give a path as text, not bytes ({shown(text)})"))
    if "\x00" in text:
        raise InputError(Problem(name, f"{text!r} is no path: it holds a NUL character"))
    if not text.strip():
        # Path("") is the working folder: a comparison of it said ". is not a plan folder".
        raise InputError(Problem(name, "give a path, not empty text"))
    # "~/plans" is the home folder, as in a shell: Path alone made a folder named "~"
    # in the working folder (which a later "rm -rf ~" would be unkind to).
    return home_expanded(Path(text), name)


def home_expanded(path: Path, source: str, field: str | None = None) -> Path:
    """``path`` with a leading ``~`` or ``~user`` read as a shell reads it.

    pathlib raises a bare ``RuntimeError`` for ``~someone`` when the machine
    has no such user (or no home folder for the current one).
    """
    try:
        return path.expanduser()
    except RuntimeError:
        head = path.parts[0] if path.parts else str(path)
        raise InputError(
            Problem(
                source,
                f"{str(path)!r}: {head!r} names no home folder on this machine (no such "
                "user); give the folder itself",
                field=field,
            )
        ) from None


def resolved(path: Path) -> Path:
    """``path.resolve()``, or ``path`` made absolute when it cannot be resolved.

    A loop of links or a name longer than the system allows cannot be
    resolved; whoever opens the path then says so, naming the file.
    """
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


@contextmanager
def osm_named(path: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """``path`` under a name whose suffix is in lower case, for osmium and the build programs.

    They tell an extract's format by its name's suffix, in lower case only:
    ``MON.OSM.PBF`` was "Could not detect file format". A link with the
    suffix lower-cased stands in for such a file while the block runs; the
    file itself is neither copied nor renamed. ``suffixes`` are the lower-case
    suffixes the caller accepts, longest first where one ends another.
    """
    name = path.name
    suffix = next((s for s in suffixes if name.lower().endswith(s)), "")
    if not suffix or name.endswith(suffix):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="planner-osm-name-") as folder:
        link = Path(folder) / f"extract{suffix}"
        try:
            link.symlink_to(path.resolve())
        except OSError:
            # No links here (Windows without the right): the readers say what they cannot read.
            link = path
        yield link
