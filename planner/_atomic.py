"""Writing one file so that readers see the old content or the new, never half of it.

Whole output folders are published by :mod:`planner.outputs.folder`; a single
file written on its own (a map page, the sample network) goes through
:func:`write_atomically`: the text is written to a temporary file beside the
target and renamed over it, which is atomic on one file
system, so a failed or interrupted write never leaves a truncated file and
never destroys the previous one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

from planner._files import sibling_stem
from planner.errors import InputError, Problem


def write_atomically(path: str | os.PathLike[str], text: str | Iterable[bytes]) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and one rename.

    Parameters
    ----------
    path
        The file to write; missing parent folders are created.
    text
        The whole content, or its bytes in pieces (written as they come, so a
        large file need not be held whole; an error while they are made
        leaves the target as it was).

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.

    Raises
    ------
    InputError
        ``path`` cannot be written (a folder, a device, pipe or socket, in a
        read-only or special file system, a name too long): named, with the
        system's reason.
    """
    given = Path(path)
    made: list[Path] = []
    try:
        target = _target(given)
        made = [folder for folder in (target.parent, *target.parent.parents) if not folder.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(target, text)
    except OSError as exc:
        # Folders made for the file go with it (a full disk left an empty --out).
        for folder in made:
            with suppress(OSError):
                folder.rmdir()
        raise InputError(
            Problem(str(given), f"cannot be written ({exc.strerror or exc})")
        ) from None
    return given


def check_writable(path: str | os.PathLike[str]) -> None:
    """Refuse, before any work, a file :func:`write_atomically` would refuse or fail to write.

    The same checks, and, when its folder exists, a temporary file made and
    removed there (a read-only folder, a name too long): a matrix or an
    import that takes minutes fails at once rather than at the end.

    Raises
    ------
    InputError
        As :func:`write_atomically`.
    """
    given = Path(path)
    try:
        target = _target(given)
        if target.parent.is_dir():
            probe = _temporary(target)
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            probe.unlink()
    except OSError as exc:
        raise InputError(
            Problem(str(given), f"cannot be written ({exc.strerror or exc})")
        ) from None


def _target(given: Path) -> Path:
    """The file a write to ``given`` replaces; a folder or a device is refused."""
    # A link is written through to its file: renaming over the link itself
    # would replace it with a file and leave its target as it was.
    try:
        target = given.resolve() if given.is_symlink() else given
    except RuntimeError:  # Python 3.12 says so of a loop of links (3.13: an OSError)
        raise InputError(
            Problem(str(given), "cannot be written (a loop of symbolic links)")
        ) from None
    if target.is_dir():
        raise InputError(Problem(str(given), "is a folder, not a file"))
    if target.exists() and not target.is_file():
        # Renaming over /dev/null would replace the device with a file.
        raise InputError(Problem(str(given), "is a device, pipe or socket, not a file"))
    # A file where a folder of the path should be: the system says "File exists"
    # (or "Not a directory") of the folder it could not make.
    above = next((p for p in target.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise InputError(Problem(str(given), f"cannot be written: {above} is a file, not a folder"))
    return target


def _temporary(target: Path) -> Path:
    # Beside the target so that the rename stays on one file system; the pid and
    # the thread keep two processes, or two threads of one, from sharing it.
    return target.with_name(
        f".{sibling_stem(target.name)}.{os.getpid()}-{threading.get_ident()}.tmp"
    )


#: Temporary files being written now, for :func:`remove_temporaries`.
_in_progress: set[Path] = set()


def remove_temporaries() -> None:
    """Delete the temporary files of writes still under way.

    The command line's interrupt watcher runs this before it ends a process
    whose main thread did not unwind in time (waiting for the threads that
    format a large CSV), so an interrupted write leaves no temporary file.
    """
    for tmp in list(_in_progress):
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        _in_progress.discard(tmp)


def _write(target: Path, text: str | Iterable[bytes]) -> None:
    # A plain write (not mkstemp) so the file gets the usual umask permissions.
    tmp = _temporary(target)
    _in_progress.add(tmp)
    try:
        if isinstance(text, str):
            # newline="": the text is written as given, on every platform.
            tmp.write_text(text, encoding="utf-8", newline="")
        else:
            with tmp.open("wb") as file:
                for piece in text:
                    file.write(piece)
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    finally:
        _in_progress.discard(tmp)
