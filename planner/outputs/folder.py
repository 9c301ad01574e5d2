"""All-or-nothing output folders that never take a user's own files with them.

A run writes every file into a fresh hidden folder beside the target
(``.NAME.tmp-*``) and only then swaps it in with two renames on the same file
system: the previous output moves aside (``.NAME.old-*``), the new one takes
its name, the previous one is deleted. An exception, Ctrl-C or a killed
process therefore never leaves a half-written output and never destroys the
previous good one. The next publish to the same target tidies up after a
killed run: a staging folder is deleted, and a previous output that was moved
aside but not replaced is moved back first.

Because the target is replaced as a whole, only a folder that planner wrote
may be replaced: every output carries a :data:`MARKER` file listing the
files written, and :func:`check_target` refuses an existing folder that
holds anything else (or is the working folder, or a file), so ``--out .``
cannot delete a user's files. Folders written before the marker existed are
recognised by holding only planner's own file names.

Published folders get the permissions of a plain ``mkdir`` (the umask
applies), not the owner-only mode of a temporary folder.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

from planner.errors import InputError, Problem
from planner.outputs.interrupt import commit

logger = logging.getLogger(__name__)

#: Written into every output folder: marks it as planner's and lists its files.
MARKER = ".planner-output"

#: The files of an output folder written before :data:`MARKER` existed.
_UNMARKED_OUTPUT_FILES = frozenset(
    {"map.html", "sites.csv", "sites.geojson", "report.json", "scenario.toml",
     "frontier.csv", "frontier.png"}
)


def _stale_siblings(target: Path, kind: str) -> list[Path]:
    prefix = f".{target.name}.{kind}-"
    return [p for p in target.parent.glob(f".{target.name}.*") if p.name.startswith(prefix)]


def _new_sibling(target: Path, kind: str) -> Path:
    """A new hidden folder beside ``target``, created with the umask's permissions."""
    while True:
        path = target.parent / f".{target.name}.{kind}-{secrets.token_hex(4)}"
        try:
            path.mkdir(mode=0o777)
        except FileExistsError:
            continue
        return path


def _files_in(folder: Path) -> set[str]:
    """Every file (and link) below ``folder``, as relative POSIX paths."""
    found: set[str] = set()
    for root, dirs, files in os.walk(folder, onerror=_raise):
        here = Path(root)
        links = [d for d in dirs if (here / d).is_symlink()]
        for name in [*files, *links]:
            found.add((here / name).relative_to(folder).as_posix())
    return found


def _raise(error: OSError) -> None:
    raise error


def _written_by_planner(folder: Path) -> set[str] | None:
    """The files the marker of ``folder`` lists, or None without a readable marker."""
    try:
        listed = json.loads((folder / MARKER).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {str(name) for name in listed} if isinstance(listed, list) else None


def _foreign_files(folder: Path) -> list[str]:
    """Files in an existing folder that planner did not write (empty for its own output)."""
    try:
        present = _files_in(folder) - {MARKER}
    except OSError as exc:
        return [f"unreadable: {exc.strerror or exc}"]
    listed = _written_by_planner(folder)
    if listed is None:
        if not present:
            return []
        listed = set(_UNMARKED_OUTPUT_FILES) if "report.json" in present else set()
    return sorted(present - listed)


def _refuse(target: Path, message: str) -> InputError:
    return InputError(Problem(f"output folder {target}", message))


def check_target(target: Path) -> Path:
    """Check that ``target`` may be written (and replaced) as an output folder.

    It may be a new folder whose nearest existing ancestor is a writable
    folder, an empty folder, or an earlier output of planner holding nothing
    else. Called before the inputs are read, so a bad ``--out`` fails at once,
    and again just before publishing. First undoes what a killed publish left
    beside ``target``: an earlier output it had moved aside is moved back.

    Returns
    -------
    Path
        ``target``, absolute with links resolved.

    Raises
    ------
    InputError
        Naming the folder and what is wrong with it.
    """
    target = target.resolve()
    if target.parent.is_dir():
        _recover(target)
    working = Path.cwd().resolve()
    if working.is_relative_to(target):
        where = "is the working folder" if working == target else "holds the working folder"
        raise _refuse(target, f"{where}; name a new folder for the output, such as maps/NAME")
    if target.is_file():
        raise _refuse(target, "is a file, not a folder")
    if target.is_dir():
        foreign = _foreign_files(target)
        if foreign:
            shown = ", ".join(foreign[:5])
            if len(foreign) > 5:
                shown += f", ... ({len(foreign)} in all)"
            raise _refuse(
                target,
                f"holds files planner did not write ({shown}); planner replaces its output "
                "folder as a whole, so name a new or empty folder",
            )
    base = target.parent
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise _refuse(target, f"cannot be created: {base} is a file")
    try:
        probe = _new_sibling(base / target.name, "probe")
        probe.rmdir()
    except OSError as exc:
        raise _refuse(target, f"cannot be created in {base} ({exc.strerror or exc})") from None
    return target


def _recover(target: Path) -> None:
    """Undo what a killed publish left beside ``target``."""
    moved_aside = sorted(
        _stale_siblings(target, "old"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    if moved_aside and not target.exists() and not target.is_symlink():
        # Killed between the two renames: the previous output is the good one.
        moved_aside[0].rename(target)
        logger.warning("restored %s, which an interrupted run had moved aside", target)
    for stale in _stale_siblings(target, "tmp") + _stale_siblings(target, "old"):
        # Left by a run that was killed; never a folder a user named.
        shutil.rmtree(stale, ignore_errors=True)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # folders cannot be opened on every platform
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish_folder(target: Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a temporary folder, then make it ``target`` in one step.

    Parameters
    ----------
    target
        The output folder: new, empty, or an earlier output of planner (see
        :func:`check_target`). Its previous content is replaced only after
        ``write`` returned without error.
    write
        Called with the temporary folder; writes every output file into it.

    Returns
    -------
    Path
        ``target``, absolute.

    Raises
    ------
    InputError
        When ``target`` may not be written (see :func:`check_target`).
    KeyboardInterrupt
        When the command was interrupted: nothing is published.
    """
    target = check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = _new_sibling(target, "tmp")
    try:
        write(staging)
        files = sorted(_files_in(staging) - {MARKER})
        (staging / MARKER).write_text(
            json.dumps({"written_by": "planner", "files": files}, indent=1) + "\n",
            encoding="utf-8",
        )
        for name in [*files, MARKER]:
            path = staging / name
            if path.is_file() and not path.is_symlink():
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
        old: Path | None = None
        with commit(target):
            if target.exists():
                old = _new_sibling(target, "old")
                old.rmdir()
                target.rename(old)
            try:
                staging.rename(target)
            except BaseException:
                if old is not None:
                    old.rename(target)
                raise
            _sync_folder(target.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("wrote %s", target)
    return target
