"""All-or-nothing output folders."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from planner.errors import InputError
from planner.outputs.folder import MARKER, check_target, publish_folder


def _write_files(content: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        (folder / "report.json").write_text(content)
        (folder / "sites.csv").write_text(content)

    return write


def test_publish_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "out"
    publish_folder(target, _write_files("first"))
    assert (target / "report.json").read_text() == "first"
    publish_folder(target, _write_files("second"))
    assert (target / "report.json").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_output_is_replaced_only_by_one_of_its_kind(tmp_path: Path) -> None:
    # Before: planner run --out onto a routing folder deleted it (hours to build
    # for a country), and routing build --out onto a plan replaced the plan.
    routing = tmp_path / "routing"

    def write_routing(folder: Path) -> None:
        (folder / "routing.json").write_text("{}")

    publish_folder(routing, write_routing, kind="routing")
    assert json.loads((routing / MARKER).read_text())["kind"] == "routing"
    with pytest.raises(InputError, match="holds a routing folder planner wrote; writing a plan"):
        publish_folder(routing, _write_files("plan"), kind="plan")
    with pytest.raises(InputError, match="holds a routing folder planner wrote"):
        check_target(routing, kind="sweep")
    assert (routing / "routing.json").exists()
    publish_folder(routing, write_routing, kind="routing")  # its own kind: replaced
    # A marker written before markers named their kind: told by the files it lists.
    plan = tmp_path / "plan"
    publish_folder(plan, _write_files("plan"))
    assert "kind" not in json.loads((plan / MARKER).read_text())
    with pytest.raises(InputError, match="holds a plan planner wrote; writing a comparison"):
        check_target(plan, kind="comparison")
    assert check_target(plan, kind="plan") == plan.resolve()


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failed_write_keeps_previous_output(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "out"
    publish_folder(target, _write_files("good"))

    def failing(folder: Path) -> None:
        (folder / "report.json").write_text("half")
        raise error

    with pytest.raises(type(error)):
        publish_folder(target, failing)
    assert (target / "report.json").read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failed_first_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out"

    def failing(folder: Path) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        publish_folder(target, failing)
    assert list(tmp_path.iterdir()) == []


def test_killed_process_keeps_previous_output(tmp_path: Path) -> None:
    target = tmp_path / "out"
    publish_folder(target, _write_files("good"))
    started = tmp_path / "started"
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from planner.outputs.folder import publish_folder

        def slow(folder):
            (folder / "report.json").write_text("half")
            Path({str(started)!r}).write_text("x")
            time.sleep(60)

        publish_folder(Path({str(target)!r}), slow)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not started.exists():
            assert time.monotonic() < deadline, "writer did not start"
            assert proc.poll() is None, "writer exited early"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert (target / "report.json").read_text() == "good"
    # The next run clears what the killed one left behind.
    publish_folder(target, _write_files("next"))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "started") == ["out"]


def test_refuses_a_folder_holding_other_files(tmp_path: Path) -> None:
    target = tmp_path / "project"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    (target / "data").mkdir()
    (target / "data" / "dealers.csv").write_text("mine too")
    with pytest.raises(InputError, match=r"did not write \(data/dealers.csv, notes.txt\)"):
        publish_folder(target, _write_files("new"))
    assert (target / "notes.txt").read_text() == "mine"
    assert (target / "data" / "dealers.csv").read_text() == "mine too"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]


def test_refuses_files_added_to_an_earlier_output(tmp_path: Path) -> None:
    target = tmp_path / "out"
    publish_folder(target, _write_files("first"))
    (target / "review-comments.txt").write_text("keep me")
    with pytest.raises(InputError, match=r"review-comments\.txt"):
        publish_folder(target, _write_files("second"))
    assert (target / "review-comments.txt").read_text() == "keep me"
    assert (target / "report.json").read_text() == "first"


def test_refuses_the_working_folder_and_its_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for target, reason in ((Path("."), "is the working folder"), (Path(".."), "holds the working")):
        with pytest.raises(InputError, match=reason):
            publish_folder(target, _write_files("new"))
    # Even when empty: replacing it would pull the folder from under the user's shell.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert list(work.iterdir()) == []


def test_refuses_a_file_and_an_uncreatable_folder(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("a file")
    with pytest.raises(InputError, match="is a file, not a folder"):
        publish_folder(path, _write_files("new"))
    with pytest.raises(InputError, match=r"cannot be created: .* is a file"):
        check_target(path / "sub" / "out")
    assert path.read_text() == "a file"
    if Path("/proc/self").exists():
        with pytest.raises(InputError, match="cannot be created in /proc"):
            check_target(Path("/proc/planner-output"))


def test_uses_an_empty_folder_and_replaces_an_unmarked_earlier_output(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    publish_folder(empty, _write_files("new"))
    assert (empty / "report.json").read_text() == "new"
    # An output written before outputs carried the marker: planner's file names only.
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    for name in ("report.json", "map.html", "scenario.toml", "sites.csv"):
        (earlier / name).write_text("old")
    publish_folder(earlier, _write_files("new"))
    assert sorted(p.name for p in earlier.iterdir()) == [MARKER, "report.json", "sites.csv"]


def test_marker_lists_the_files_written(tmp_path: Path) -> None:
    target = tmp_path / "out"

    def write(folder: Path) -> None:
        (folder / "map.html").write_text("m")
        (folder / "assets").mkdir()
        (folder / "assets" / "leaflet.js").write_text("js")

    publish_folder(target, write)
    listed = json.loads((target / MARKER).read_text())["files"]
    assert listed == ["assets/leaflet.js", "map.html"]
    publish_folder(target, write)  # its own output, subfolder included, is replaceable


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_published_folder_honours_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        target = publish_folder(tmp_path / "out", _write_files("x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE((target / "report.json").stat().st_mode) == 0o666 & ~umask


def test_previous_output_moved_aside_by_a_killed_run_is_restored(tmp_path: Path) -> None:
    target = tmp_path / "out"
    publish_folder(target, _write_files("good"))
    # What a kill between the two renames leaves: the old output aside, no
    # target, and the journal naming the folder moved aside.
    aside = tmp_path / ".out.old-1a2b3c4d"
    target.rename(aside)
    (tmp_path / ".out.planner-swap").write_text(json.dumps({"moved_aside": aside.name}))
    (tmp_path / ".out.tmp-5e6f7a8b").mkdir()

    def failing(folder: Path) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        publish_folder(target, failing)
    assert (target / "report.json").read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_file_is_never_written_over_a_device_pipe_or_link(tmp_path: Path) -> None:
    # Before: routing_matrix(out="/dev/null") renamed its temporary file over
    # the device, which became a regular file; a link was replaced by a file.
    from planner._atomic import write_atomically

    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    with pytest.raises(InputError, match=r"pipe\.csv: is a device, pipe or socket, not a file"):
        write_atomically(pipe, "a,b\n")
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
    linked = tmp_path / "linked.csv"
    linked.symlink_to(pipe)
    with pytest.raises(InputError, match="is a device, pipe or socket"):
        write_atomically(linked, "a,b\n")
    real = tmp_path / "real.csv"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert write_atomically(link, "new\n") == link
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new\n"


def test_a_file_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    # Before: the system's error named the temporary file beside it, as an
    # unexpected failure (a folder of that name, /proc, a name too long).
    from planner._atomic import write_atomically

    (tmp_path / "taken.csv").mkdir()
    with pytest.raises(InputError) as raised:
        write_atomically(tmp_path / "taken.csv", "a,b\n")
    assert str(raised.value) == f"{tmp_path / 'taken.csv'}: is a folder, not a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.csv"]
    with pytest.raises(InputError, match="cannot be written"):
        write_atomically(tmp_path / ("x" * 300 + ".csv"), "a,b\n")


def test_a_file_written_in_pieces_is_all_or_nothing(tmp_path: Path) -> None:
    from planner._atomic import write_atomically

    target = tmp_path / "matrix.csv"
    target.write_text("old\n", encoding="utf-8")

    def failing() -> Iterator[bytes]:
        yield b"a,b\n"
        raise RuntimeError("the formatting failed half way")

    with pytest.raises(RuntimeError, match="half way"):
        write_atomically(target, failing())
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["matrix.csv"]
    write_atomically(target, iter([b"a,b\n", "é,1\n".encode()]))
    assert target.read_text(encoding="utf-8") == "a,b\né,1\n"


def test_the_interrupt_watcher_removes_a_temporary_file_being_written(tmp_path: Path) -> None:
    # Before: Ctrl-C while a large matrix was being formatted left a hidden
    # temporary file of hundreds of MB: the main thread waited for the
    # formatting threads past the watcher's grace, and the process ended
    # without the write's own clean-up.
    import threading

    from planner._atomic import remove_temporaries, write_atomically
    from planner.outputs import interrupt

    assert remove_temporaries in interrupt._cleanups
    started, go_on = threading.Event(), threading.Event()

    def slow() -> Iterator[bytes]:
        yield b"a,b\n"
        started.set()
        go_on.wait(10)
        yield b"1,2\n"

    failure: list[BaseException] = []

    def write() -> None:
        try:
            write_atomically(tmp_path / "m.csv", slow())
        except InputError as exc:
            failure.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    assert started.wait(10)
    assert [p.name for p in tmp_path.iterdir()] == [f".m.csv.{os.getpid()}-{writer.ident}.tmp"]
    remove_temporaries()
    assert list(tmp_path.iterdir()) == []
    go_on.set()
    writer.join(10)
    # The write cannot be completed once its file is gone: nothing is published.
    assert list(tmp_path.iterdir()) == [] and len(failure) == 1


def test_a_file_that_cannot_be_written_is_refused_before_any_work(tmp_path: Path) -> None:
    # Before: a matrix --out in a read-only folder or with a name too long was
    # refused only once the matrix was computed (12 s at 10 M pairs).
    from planner._atomic import check_writable

    (tmp_path / "taken.csv").mkdir()
    with pytest.raises(InputError, match=r"taken\.csv: is a folder, not a file"):
        check_writable(tmp_path / "taken.csv")
    with pytest.raises(InputError, match="cannot be written"):
        check_writable(tmp_path / ("x" * 300 + ".csv"))
    check_writable(tmp_path / "fine.csv")
    check_writable(tmp_path / "new" / "fine.csv")  # its folder is made when written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.csv"]
