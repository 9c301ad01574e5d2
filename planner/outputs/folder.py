"""All-or-nothing output folders that never take a user's own files with them.

A run writes every file into a fresh hidden folder beside the target
(``.NAME.tmp-PID-*``) and only then swaps it in with two renames on the same
file system: the previous output moves aside (``.NAME.old-PID-*``), the new
one takes its name, the previous one is deleted (made writable first, so a
read-only earlier output goes too). An exception, Ctrl-C, SIGTERM or a killed
process therefore never leaves a half-written output and never destroys the
previous good one.

One run at a time per output folder: a lock file beside the target
(``.NAME.planner-lock``, created with ``O_CREAT | O_EXCL``) holds the process
id of the run writing it. The command line takes it in :func:`check_target`,
before any input is read, and keeps it until the command ends; a library
call takes it for the length of :func:`publish_folder`. Another run is
refused naming the holder's process id; a lock whose process no longer exists
is stale and taken over. Beside the id the lock records when that process
started (Linux: the boot and the start time in ``/proc``), so a lock left by a
killed run whose id a later process took (after a reboot, most often) is
stale too, not a run to wait for. (When the target's parent folder does not exist
yet, there is nothing beside it to guard, and the lock is taken when
publishing creates the parent.)

Leftovers are never moved back into place, with one exception that is
provably the folder's last good output: just before the two renames the
publishing run writes a journal (``.NAME.planner-swap``) naming the folder it
moves aside, and deletes the journal right after the second rename. Only a
run holding the lock tidies up, so a journal it finds belongs to a run that
died between the renames: if the target is missing, the folder the journal
names is moved back. Every other ``.NAME.tmp-*`` or ``.NAME.old-*`` folder
is deleted, never restored (an ``.old`` folder without a journal may be an
output the user has since removed on purpose), except one whose name carries
the id of a live process other than this one.

Because the target is replaced as a whole, only a folder that planner wrote
may be replaced: every output carries a :data:`MARKER` file listing the
files written, and :func:`check_target` refuses an existing folder that
holds anything else (or is the working folder, or a mount point), so
``--out .`` cannot delete a user's files. Folders written before the marker
existed are recognised by holding only planner's own file names. Anything
that is not a folder — a file, a device such as ``/dev/null``, a named pipe,
a socket, or a link to one of them — is refused without being opened.

Published folders get the permissions of a plain ``mkdir`` (the umask
applies), not the owner-only mode of a temporary folder.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import logging
import os
import re
import secrets
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from planner._files import resolved, sibling_stem
from planner.errors import InputError, Problem
from planner.outputs.interrupt import add_cleanup, commit

logger = logging.getLogger(__name__)

#: Written into every output folder: marks it as planner's and lists its files.
MARKER = ".planner-output"

#: The kinds of output folder, as messages name them. An output folder is
#: replaced only by one of its own kind: a plan run into a routing folder
#: (hours to build for a country) would otherwise delete it.
KINDS = {
    "plan": "a plan",
    "routing": "a routing folder",
    "comparison": "a comparison",
    "sweep": "a sweep",
}

#: For markers written before they named their kind: a file only that kind writes.
_KIND_FILES = (
    ("routing.json", "routing"),
    ("compare.html", "comparison"),
    ("diff.json", "comparison"),
    ("sweep.json", "sweep"),
    ("report.json", "plan"),
)

#: The files of an output folder written before :data:`MARKER` existed.
_UNMARKED_OUTPUT_FILES = frozenset(
    {
        "map.html",
        "sites.csv",
        "sites.geojson",
        "report.json",
        "scenario.toml",
        "frontier.csv",
        "frontier.png",
    }
)

#: A sibling planner made: kind, the creating process's id (absent in names
#: from before it was recorded) and a random tag.
_SIBLING = re.compile(r"(?P<kind>tmp|old)-(?:(?P<pid>\d+)-)?[0-9a-f]{8}")

#: Seconds after which an unreadable lock file or takeover guard is stale.
_STALE_AFTER_S = 10.0

#: Lock files this process holds (absolute paths), each with the thread that took it.
_held_locks: dict[Path, int] = {}
#: Taken while a thread looks at and takes or releases a lock.
_lock_mutex = threading.RLock()
#: Staging folders this process is writing.
_staging: set[Path] = set()


def _prefix(target: Path) -> str:
    """The start of the hidden names beside ``target``: ``.NAME.`` (shortened near the limit)."""
    return f".{sibling_stem(target.name)}."


def _lock_path(target: Path) -> Path:
    return target.parent / f"{_prefix(target)}planner-lock"


def _journal_path(target: Path) -> Path:
    return target.parent / f"{_prefix(target)}planner-swap"


def _siblings(target: Path) -> list[tuple[Path, str, int | None]]:
    """Temporary and moved-aside folders of ``target``: (path, kind, creator pid)."""
    prefix = _prefix(target)
    found = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = _SIBLING.fullmatch(entry.name[len(prefix) :])
        if match:
            pid = match["pid"]
            found.append((Path(entry.path), match["kind"], int(pid) if pid else None))
    return found


def _new_sibling(target: Path, kind: str) -> Path:
    """A new hidden folder beside ``target``, created with the umask's permissions."""
    while True:
        tag = f"{kind}-{os.getpid()}-{secrets.token_hex(4)}"
        path = target.parent / f"{_prefix(target)}{tag}"
        try:
            path.mkdir(mode=0o777)
        except FileExistsError:
            continue
        return path


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (one of another user counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # no permission to signal it: it exists
        return True
    return True


def _started(pid: int) -> str | None:
    """When process ``pid`` started: the boot's id and the start time since boot.

    Tells a process from a later one that took its id. ``None`` where ``/proc``
    cannot say (not Linux, or hidden).
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # Field 22, counted after the parenthesised command name (which may hold spaces).
    fields = stat[stat.rfind(")") + 2 :].split()
    return f"{boot}/{fields[19]}" if len(fields) > 19 else None


def _read_lock(path: Path) -> tuple[int, str | None] | None:
    """The process id a lock file names and, when recorded, that process's start."""
    try:
        words = path.read_text(encoding="ascii").split()
    except (OSError, ValueError):
        return None
    if not words or not words[0].isdigit():
        return None
    return int(words[0]), words[1] if len(words) > 1 else None


def _read_pid(path: Path) -> int | None:
    record = _read_lock(path)
    return None if record is None else record[0]


def _holder_alive(record: tuple[int, str | None]) -> bool:
    """Whether the process a lock names still runs (not a later one with its id)."""
    pid, started = record
    if not _alive(pid):
        return False
    return started is None or _started(pid) in (None, started)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _refuse(target: Path, message: str) -> InputError:
    return InputError(Problem(f"output folder {target}", message))


def live_writer(target: Path) -> int | None:
    """The process id of another live run writing ``target`` now, else ``None``."""
    record = _read_lock(_lock_path(target))
    if record is not None and record[0] != os.getpid() and _holder_alive(record):
        return record[0]
    return None


def _take_lock(target: Path) -> bool:
    """Take the lock of ``target``; False when this process already holds it.

    Raises
    ------
    InputError
        When another live process holds it.
    """
    # One thread at a time: the lock file names the process, which cannot tell
    # two of its threads apart, so the check and the taking are one step here.
    with _lock_mutex:
        return _take_lock_now(target)


def _take_lock_now(target: Path) -> bool:
    lock = _lock_path(target)
    if lock in _held_locks:
        if _held_locks[lock] != threading.get_ident():
            # The process id in the lock file cannot tell two threads apart.
            raise _refuse(
                target,
                "is being written by another run in this process (another thread); wait for "
                "it to end, or write elsewhere",
            )
        return False
    deadline = time.monotonic() + 5.0
    while True:
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            record = _read_lock(lock)
            holder = None if record is None else record[0]
            if record is not None and holder != os.getpid() and _holder_alive(record):
                raise _refuse(
                    target,
                    f"is being written by another planner run (process {holder}); wait for it "
                    f"to end, or delete {lock} if no such run exists",
                ) from None
            if holder is None and _age(lock) < _STALE_AFTER_S:
                # Just created, its process id not written yet.
                if time.monotonic() > deadline:
                    raise _refuse(target, f"is locked ({lock} names no process)") from None
                time.sleep(0.05)
                continue
            _take_over(lock, holder)
            if time.monotonic() > deadline:
                raise _refuse(target, f"could not take over the stale lock {lock}") from None
            continue
        except OSError as exc:
            # The lock file is the first thing written beside the target.
            raise _unwritable(target, target.parent, exc) from None
        try:
            started = _started(os.getpid())
            line = f"{os.getpid()} {started}" if started else str(os.getpid())
            os.write(fd, f"{line}\n".encode("ascii"))
        finally:
            os.close(fd)
        _held_locks[lock] = threading.get_ident()
        return True


def _take_over(lock: Path, stale: int | None) -> None:
    """Delete ``lock`` if it still names the dead process ``stale``.

    A guard file makes the look and the deletion one step, so two runs that
    both found the stale lock cannot delete each other's new one.
    """
    guard = lock.with_name(lock.name + ".takeover")
    try:
        fd = os.open(guard, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        if _age(guard) > _STALE_AFTER_S:  # left by a run killed while taking over
            guard.unlink(missing_ok=True)
        time.sleep(0.05)
        return
    try:
        if _read_pid(lock) == stale:
            lock.unlink(missing_ok=True)
            logger.info("took over the stale lock %s of process %s", lock, stale)
    finally:
        os.close(fd)
        guard.unlink(missing_ok=True)


def _release_lock(lock: Path) -> None:
    with _lock_mutex:
        _held_locks.pop(lock, None)
        if _read_pid(lock) == os.getpid():
            with suppress(OSError):
                lock.unlink()


def release_locks() -> None:
    """Delete what this process still has beside its output folders: staging, locks.

    Called when the command ends (normally, on error, Ctrl-C or SIGTERM) and
    at interpreter exit.
    """
    for staging in list(_staging):
        _remove_tree(staging)
        _staging.discard(staging)
    for lock in list(_held_locks):
        _release_lock(lock)


add_cleanup(release_locks)
atexit.register(release_locks)


@contextmanager
def _locked(target: Path, *, keep: bool = False) -> Iterator[None]:
    """Hold the lock of ``target`` (if its parent exists) while the body runs."""
    taken = target.parent.is_dir() and _take_lock(target)
    try:
        yield
    except BaseException:
        if taken:
            _release_lock(_lock_path(target))
        raise
    if taken and not keep:
        _release_lock(_lock_path(target))


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


def _marker(folder: Path) -> dict[str, object] | None:
    """The marker of ``folder`` as written, or None without a readable one."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _listed(marker: dict[str, object] | None) -> set[str] | None:
    """The files a marker lists, or None when it lists none."""
    listed = marker.get("files") if marker is not None else None
    return {str(name) for name in listed} if isinstance(listed, list) else None


def _written_by_planner(folder: Path) -> set[str] | None:
    """The files the marker of ``folder`` lists, or None without a readable marker."""
    return _listed(_marker(folder))


def _kind_of(folder: Path) -> str | None:
    """The kind of planner output ``folder`` holds (``None``: none, or not known)."""
    marker = _marker(folder)
    kind = marker.get("kind") if marker is not None else None
    if isinstance(kind, str) and kind in KINDS:
        return kind
    listed = _listed(marker)
    try:
        present = listed if listed is not None else _files_in(folder)
    except OSError:
        return None
    return next((kind for name, kind in _KIND_FILES if name in present), None)


def refuse_inside_output(path: Path, name: str) -> None:
    """Refuse a file ``path`` (given as ``name``) that lies inside an output folder planner wrote.

    A matrix written as ``routing.json`` of a routing folder destroyed the
    folder it was computed from; any file added to an output folder makes
    planner refuse to replace that folder later.
    """
    around = _enclosing_output(Path(path).absolute())
    if around is not None:
        raise InputError(
            Problem(name, f"'{path}' is inside {around} planner wrote; write the file elsewhere")
        )


def _enclosing_output(path: Path) -> str | None:
    """The output folder planner wrote that holds ``path``, and its kind (``X, a plan``)."""
    for folder in path.parents:
        if (folder / MARKER).is_file():
            kind = _kind_of(folder)
            return f"{folder}, {KINDS[kind] if kind is not None else 'an output folder'}"
    return None


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


_KINDS = (
    (stat.S_ISREG, "a file"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
)


def _unwritable(target: Path, where: Path, exc: OSError) -> InputError:
    """``target`` cannot be written in ``where``: replaced if it exists, else created."""
    verb = "cannot be replaced" if target.exists() else "cannot be created"
    return _refuse(target, f"{verb} in {where} ({exc.strerror or exc})")


def _refuse_non_folder(target: Path) -> Path:
    """``target`` resolved, after refusing anything but a folder or a new path.

    Only ``stat`` is used: a device, pipe or socket is never opened.
    """
    given = Path(os.path.abspath(target))
    try:
        real = target.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of links; a name too long
        why = getattr(exc, "strerror", None) or "a loop of symbolic links"
        raise _refuse(given, f"cannot be examined ({why})") from None
    try:
        mode = os.stat(given).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return real  # new (or a link to a new path); its parents are checked later
    except OSError as exc:
        raise _refuse(given, f"cannot be examined ({exc.strerror or exc})") from None
    link = f"is a link to {real}, " if os.path.islink(given) else "is "
    if stat.S_ISDIR(mode):
        if os.path.ismount(real):
            raise _refuse(
                given,
                f"{link}a mount point; planner replaces its output folder as a whole, "
                "so name a folder inside it",
            )
        return real
    kind = next((name for test, name in _KINDS if test(mode)), "not a folder")
    if kind == "a file" and link == "is ":
        raise _refuse(given, "is a file, not a folder")
    raise _refuse(
        given,
        f"{link}{kind}, not a folder; an output must go to a folder or a path that does not exist",
    )


def check_target(target: Path, *, keep_lock: bool = False, kind: str | None = None) -> Path:
    """Check that ``target`` may be written (and replaced) as an output folder.

    It may be a new folder whose nearest existing ancestor is a writable
    folder, an empty folder, or an earlier output of planner holding nothing
    else. Called before the inputs are read, so a bad ``--out`` fails at once,
    and again just before publishing. Under the lock of ``target``, first
    tidies up what a killed run left beside it (see the module docstring).

    Parameters
    ----------
    keep_lock
        Keep the lock until the command ends (:func:`release_locks`) rather
        than only for the check: what the command line does, so that a
        second run on the same folder is refused before it reads its inputs.
    kind
        What will be written (a key of :data:`KINDS`): an earlier output of
        another kind is refused. ``None`` checks no kind.

    Returns
    -------
    Path
        ``target``, absolute with links resolved.

    Raises
    ------
    InputError
        Naming the folder and what is wrong with it, or the process id of the
        run writing it.
    """
    target = _refuse_non_folder(target)
    working = Path.cwd().resolve()
    if working.is_relative_to(target):
        where = "is the working folder" if working == target else "holds the working folder"
        raise _refuse(target, f"{where}; name a new folder for the output, such as maps/NAME")
    # An output inside another (a comparison into a plan's folder) made planner
    # refuse to replace the outer one later: it holds files planner did not list.
    around = _enclosing_output(target)
    if around is not None:
        raise _refuse(target, f"is inside {around} planner wrote; name a folder outside it")
    with _locked(target, keep=keep_lock):
        if target.parent.is_dir():
            _recover(target)
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
            found = _kind_of(target) if kind is not None else None
            if kind is not None and found is not None and found != kind:
                raise _refuse(
                    target,
                    f"holds {KINDS[found]} planner wrote; writing {KINDS[kind]} there "
                    "would replace it as a whole, so name another folder",
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
            raise _unwritable(target, base, exc) from None
    return target


@contextmanager
def holding_target(target: Path, *, kind: str | None = None) -> Iterator[Path]:
    """Check ``target`` (:func:`check_target`) and hold its lock while the body runs.

    For work that runs long before it publishes (a sweep): a second run on
    the same folder is refused from the start, not at the end. A lock this
    process already held (the command line takes it first) stays held.
    Yields ``target``, absolute with links resolved.
    """
    # check_target refuses a path that cannot be resolved (a loop of links).
    held_before = _lock_path(resolved(target)) in _held_locks
    checked = check_target(target, keep_lock=True, kind=kind)
    try:
        yield checked
    finally:
        if not held_before:
            _release_lock(_lock_path(checked))


def _recover(target: Path) -> None:
    """Tidy up what killed runs left beside ``target``; call only holding its lock."""
    journal = _journal_path(target)
    swap: dict[str, object] = {}
    with suppress(OSError, ValueError):
        loaded = json.loads(journal.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            swap = loaded
    moved_aside = swap.get("moved_aside")
    if isinstance(moved_aside, str) and not target.exists() and not target.is_symlink():
        aside = target.parent / moved_aside
        match = _SIBLING.fullmatch(moved_aside.removeprefix(_prefix(target)))
        if match and match["kind"] == "old" and aside.is_dir() and not aside.is_symlink():
            # Killed between the two renames: the journal proves this is the
            # output that was in place.
            aside.rename(target)
            logger.warning("restored %s, which an interrupted run had moved aside", target)
    journal.unlink(missing_ok=True)
    for stale, _kind, pid in _siblings(target):
        if pid is not None and pid != os.getpid() and _alive(pid):
            continue  # a live run's (one of a planner without locks)
        # Left by a run that was killed; never a folder a user named.
        _remove_tree(stale)


def _remove_tree(path: Path) -> None:
    """Delete a folder planner made, read-only content included; warn if it stays."""
    try:
        if path.is_symlink() or not path.is_dir():
            path.unlink(missing_ok=True)
            return
        _make_writable(path)
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.warning("could not delete %s (%s); delete it by hand", path, exc.strerror or exc)


def _make_writable(folder: Path) -> None:
    """Let the owner delete what is inside ``folder`` and its subfolders (links not followed)."""
    with suppress(OSError):
        os.chmod(folder, stat.S_IMODE(folder.stat().st_mode) | stat.S_IRWXU)
    for root, dirs, _files in os.walk(folder):
        for name in dirs:
            sub = Path(root) / name
            if not sub.is_symlink():
                with suppress(OSError):
                    os.chmod(sub, stat.S_IMODE(sub.stat().st_mode) | stat.S_IRWXU)


def _sync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # folders cannot be opened on every platform
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def publish_folder(target: Path, write: Callable[[Path], None], *, kind: str | None = None) -> Path:
    """Let ``write`` fill a temporary folder, then make it ``target`` in one step.

    Parameters
    ----------
    target
        The output folder: new, empty, or an earlier output of planner (see
        :func:`check_target`). Its previous content is replaced only after
        ``write`` returned without error.
    write
        Called with the temporary folder; writes every output file into it.
    kind
        What is written (a key of :data:`KINDS`): recorded in the marker, and
        an earlier output of another kind at ``target`` is refused.

    Returns
    -------
    Path
        ``target``, absolute.

    Raises
    ------
    InputError
        When ``target`` may not be written (see :func:`check_target`), or
        another run is writing it.
    KeyboardInterrupt
        When the command was interrupted: nothing is published.
    """
    target = check_target(target, kind=kind)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        _publish(check_target(target, kind=kind), write, kind)
    logger.info("wrote %s", target)
    return target


def _in_target(problem: Problem | str, staging: Path, target: Path) -> Problem | str:
    """A problem with a file being written named at its place in ``target``, nothing written."""
    if not isinstance(problem, Problem) or not problem.source.startswith(str(staging)):
        return problem
    source = str(target) + problem.source[len(str(staging)) :]
    return dataclasses.replace(
        problem, source=source, message=f"{problem.message}; nothing written"
    )


def _publish(target: Path, write: Callable[[Path], None], kind: str | None) -> None:
    staging = _new_sibling(target, "tmp")
    _staging.add(staging)
    try:
        try:
            write(staging)
        except InputError as exc:
            # "/out/.plan.tmp-812-…/map.html: cannot be written (No space left on
            # device)" named a folder the user never made, and that is gone.
            raise InputError(
                [_in_target(problem, staging, target) for problem in exc.problems],
                warnings=exc.warnings,
            ) from None
        except OSError as exc:
            # A full disk or a quota met by a writer that does not name its file itself.
            where = Path(exc.filename) if isinstance(exc.filename, str) else staging
            problem = Problem(str(where), f"cannot be written ({exc.strerror or exc})")
            raise InputError(_in_target(problem, staging, target)) from None
        files = sorted(_files_in(staging) - {MARKER})
        (staging / MARKER).write_text(
            json.dumps(
                {"written_by": "planner", **({"kind": kind} if kind else {}), "files": files},
                indent=1,
            )
            + "\n",
            encoding="utf-8",
        )
        for name in [*files, MARKER]:
            path = staging / name
            if path.is_file() and not path.is_symlink():
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
        old: Path | None = None
        journal = _journal_path(target)
        with commit(target):
            if target.exists():
                old = _new_sibling(target, "old")
                old.rmdir()
                journal.write_text(
                    json.dumps({"pid": os.getpid(), "moved_aside": old.name}) + "\n",
                    encoding="utf-8",
                )
                _sync(journal)
                _sync(target.parent)
                target.rename(old)
            try:
                staging.rename(target)
            except BaseException:
                if old is not None:
                    # Should this fail too, the journal stays: the next run restores.
                    old.rename(target)
                journal.unlink(missing_ok=True)
                raise
            _staging.discard(staging)
            _sync(target.parent)
            journal.unlink(missing_ok=True)
        if old is not None:
            _remove_tree(old)
    except BaseException:
        _remove_tree(staging)
        _staging.discard(staging)
        raise
