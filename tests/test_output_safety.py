"""Output folders: what --out may be, one run at a time, no stale output restored, signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from planner._files import sibling_stem
from planner.cli.main import main
from planner.errors import InputError
from planner.outputs.folder import check_target, publish_folder
from tests.test_cli import DEALERS, SCENARIO
from tests.test_interrupts import _fingerprint, _leftovers, _run_tiny, _start, _wait_for_solve

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX files and signals")


def _write(content: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        (folder / "report.json").write_text(content, encoding="utf-8")

    return write


@pytest.fixture
def sleeper() -> Iterator[int]:
    """The pid of a live process (not planner)."""
    proc = subprocess.Popen(["sleep", "120"])
    try:
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def _dead_pid() -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(proc.stdout)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    return pid


# 1. --out must be a folder or not exist.


def test_refuses_a_fifo_and_a_socket_and_links_to_them(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"output folder .*/pipe: is a named pipe \(FIFO\)"):
        check_target(fifo)
    sock_path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(sock_path))
        with pytest.raises(InputError, match=r"output folder .*/sock: is a socket"):
            check_target(sock_path)
    finally:
        sock.close()
    link = tmp_path / "link"
    link.symlink_to(fifo)
    with pytest.raises(InputError, match=r"/link: is a link to .*/pipe, a named pipe"):
        publish_folder(link, _write("x"))
    assert fifo.is_fifo() and sock_path.is_socket() and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "pipe", "sock"]


def test_refuses_dev_null_without_touching_it() -> None:
    before = os.stat("/dev/null")
    with pytest.raises(InputError) as info:
        check_target(Path("/dev/null"))
    assert (
        str(info.value) == "output folder /dev/null: is a character device, not a folder; "
        "an output must go to a folder or a path that does not exist"
    )
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_rdev, after.st_mode) == (
        before.st_ino,
        before.st_rdev,
        before.st_mode,
    )
    assert not [name for name in os.listdir("/dev") if name.startswith(".null.")]


def test_refuses_a_mount_point() -> None:
    mount = next((Path(p) for p in ("/proc", "/sys", "/dev") if os.path.ismount(p)), None)
    if mount is None:
        pytest.skip("no mount point to try")
    with pytest.raises(InputError, match="is a mount point"):
        check_target(mount)


def test_run_with_out_at_a_fifo_exits_2_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "dealers.csv").write_text(DEALERS, encoding="utf-8")
    (tmp_path / "tiny.toml").write_text(SCENARIO, encoding="utf-8")
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "planner",
                "run",
                str(tmp_path / "tiny.toml"),
                "--out",
                str(fifo),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("planner run hung on a FIFO")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: output folder {fifo}: is a named pipe (FIFO), not a folder; "
        "an output must go to a folder or a path that does not exist"
    ]
    assert "reading" not in result.stderr
    assert fifo.is_fifo()


# 2. Leftovers are never moved back into place.


def test_a_moved_aside_output_without_a_journal_is_deleted_not_restored(tmp_path: Path) -> None:
    target = tmp_path / "out"
    publish_folder(target, _write("old"))
    # An earlier output that a replace could not delete, its folder since
    # removed by hand: no journal proves it is the output that was in place.
    target.rename(tmp_path / ".out.old-1a2b3c4d")

    def failing(folder: Path) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        publish_folder(target, failing)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores read-only permissions")
def test_a_read_only_earlier_output_is_replaced_without_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "out"
    publish_folder(target, _write("old"))
    for path in target.iterdir():
        path.chmod(0o444)
    target.chmod(0o555)
    publish_folder(target, _write("new"))
    assert (target / "report.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_an_output_named_near_the_limit_is_written_and_replaced(tmp_path: Path) -> None:
    # Before: "cannot be created (File name too long)" for names of 236-255
    # bytes, from the staging folder's longer name beside it.
    (tmp_path / "runs").mkdir()
    for name in ("a" * 250, "é" * 127):  # 250 and 254 bytes
        out = tmp_path / "runs" / name
        assert _run_tiny(tmp_path, out) == 0
        assert _run_tiny(tmp_path, out) == 0  # replacing it moves the old one aside
        assert (out / "report.json").is_file()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["a" * 250, "é" * 127]


def test_sibling_stems_fit_and_stay_distinct() -> None:
    assert sibling_stem("out") == "out"
    assert sibling_stem("a" * 200) == "a" * 200
    long_a, long_b = "x" * 240 + "a", "x" * 240 + "b"
    stems = {sibling_stem(long_a), sibling_stem(long_b)}
    assert len(stems) == 2
    assert all(len(os.fsencode(f".{stem}.planner-lock")) <= 255 for stem in stems)
    # Cut inside a two-byte character: the bytes kept still make a valid name.
    for n in range(120, 128):
        stem = sibling_stem("é" * n + "z")
        assert len(os.fsencode(f".{stem}.tmp-4194304-0123abcd")) <= 255
        assert os.fsdecode(os.fsencode(stem)) == stem


# 3. One run at a time per output folder.


def test_a_live_lock_holder_is_refused_naming_its_pid(
    tmp_path: Path, sleeper: int, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out"
    publish_folder(target, _write("first"))
    lock = tmp_path / ".out.planner-lock"
    lock.write_text(f"{sleeper}\n")
    staging = tmp_path / f".out.tmp-{sleeper}-0a1b2c3d"
    staging.mkdir()
    with pytest.raises(InputError, match=f"another planner run \\(process {sleeper}\\)"):
        check_target(target)
    with pytest.raises(InputError, match=f"process {sleeper}"):
        publish_folder(target, _write("second"))
    assert _run_tiny(tmp_path, target) == 2
    err = capsys.readouterr().err
    assert f"process {sleeper}" in err and "reading" not in err
    assert (target / "report.json").read_text() == "first"
    assert staging.exists() and lock.read_text() == f"{sleeper}\n"


def test_a_stale_lock_is_taken_over_and_released(tmp_path: Path) -> None:
    target = tmp_path / "out"
    lock = tmp_path / ".out.planner-lock"
    lock.write_text(f"{_dead_pid()}\n")
    publish_folder(target, _write("x"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_a_lock_whose_process_id_was_taken_by_a_later_process_is_stale(
    tmp_path: Path, sleeper: int
) -> None:
    # Before: a lock left by a killed run was refused for as long as any
    # process had its id (after a reboot, often), and a road run waited on it
    # for ever as "another run building the routing data".
    from planner.outputs.folder import _started, live_writer

    target = tmp_path / "out"
    lock = tmp_path / ".out.planner-lock"
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    lock.write_text(f"{sleeper} {boot}/1\n")  # its run started at boot, the sleeper later
    assert live_writer(target) is None
    publish_folder(target, _write("x"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    # The same process, as recorded, still holds it.
    lock.write_text(f"{sleeper} {_started(sleeper)}\n")
    assert live_writer(target) == sleeper
    with pytest.raises(InputError, match=f"process {sleeper}"):
        check_target(target)


def test_cleanup_skips_temporary_folders_of_a_live_process(tmp_path: Path, sleeper: int) -> None:
    target = tmp_path / "out"
    live = tmp_path / f".out.tmp-{sleeper}-0a1b2c3d"
    live.mkdir()
    dead = tmp_path / f".out.tmp-{_dead_pid()}-4e5f6a7b"
    dead.mkdir()
    other = tmp_path / ".out.tmp-x.tmp-0a1b2c3d"  # belongs to a folder named "out.tmp-x"
    other.mkdir()
    publish_folder(target, _write("x"))
    assert live.exists() and other.exists() and not dead.exists()


def test_lock_is_released_after_a_failed_run(tmp_path: Path) -> None:
    target = tmp_path / "out"
    (tmp_path / "dealers.csv").write_text("dealer_id,brand\n", encoding="utf-8")
    (tmp_path / "tiny.toml").write_text(SCENARIO, encoding="utf-8")
    old = sys.argv
    sys.argv = ["planner", "run", str(tmp_path / "tiny.toml"), "--out", str(target)]
    try:
        with pytest.raises(SystemExit) as info:
            main()
    finally:
        sys.argv = old
    assert info.value.code == 2
    assert not (tmp_path / ".out.planner-lock").exists()


def test_two_runs_on_one_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = _start(out)
    try:
        _wait_for_solve(first)
        # Paused, so that it is surely still running while the second starts.
        first.send_signal(signal.SIGSTOP)
        lock = tmp_path / ".out.planner-lock"
        assert lock.read_text().split()[0] == str(first.pid)
        try:
            second = subprocess.run(
                [sys.executable, "-m", "planner", "run", "--out", str(out)],
                capture_output=True,
                text=True,
                timeout=120,
            )
        finally:
            first.send_signal(signal.SIGCONT)
        assert second.returncode == 2, second.stderr
        assert f"another planner run (process {first.pid})" in second.stderr
        assert "reading" not in second.stderr
        stdout, stderr = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert first.returncode == 0, stderr
    assert "wrote" in stdout
    assert (out / "report.json").exists()
    assert _leftovers(out) == []


# 4. SIGTERM is handled like Ctrl-C.


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    def write(folder: Path) -> None:
        (folder / "report.json").write_text('{"status": "optimal"}', encoding="utf-8")
        (folder / "map.html").write_text("<html></html>", encoding="utf-8")

    return publish_folder(tmp_path / "out", write)


@pytest.mark.parametrize(
    ("signum", "code"),
    # SIGHUP: a closed terminal or SSH session. Before: exit 129 without a word,
    # and a lock and a temporary folder left beside the output.
    [(signal.SIGTERM, 143), (signal.SIGHUP, 129)],
)
def test_sigterm_during_the_solve_writes_nothing(previous: Path, signum: int, code: int) -> None:
    before = _fingerprint(previous)
    proc = _start(previous)
    _wait_for_solve(proc)
    time.sleep(0.5)  # inside the solver
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    messages = [line for line in stderr.splitlines() if line.strip() and not line.startswith("  ")]
    assert messages == ["terminated; nothing written"]
    assert "wrote" not in stdout
    assert _fingerprint(previous) == before
    assert _leftovers(previous) == []


# 5. A signal while the command is still loading.


def _startup_seconds() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("signum", "code", "message"),
    [
        (signal.SIGINT, 130, "interrupted; nothing written"),
        (signal.SIGTERM, 143, "terminated; nothing written"),
    ],
)
# 0.1 s after the bare interpreter's start-up: planner's own imports before its
# handler is installed take about 0.05 s, and a busy machine adds jitter to that
# (one run in several killed by the signal itself at 0.05 s).
@pytest.mark.parametrize("after", [0.1, 0.2])
def test_signal_right_after_start_prints_one_line(
    tmp_path: Path, signum: int, code: int, message: str, after: float
) -> None:
    # The bare interpreter's own start-up comes first: planner cannot act before it.
    delay = _startup_seconds() + after
    proc = subprocess.Popen(
        [sys.executable, "-m", "planner", "run", "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert "Traceback" not in stderr
    assert proc.returncode == code, stderr
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("  ")]
    assert lines == [message]
    assert list(tmp_path.iterdir()) == []


def test_sigterm_during_a_local_cluster_sweep_prints_its_lines_only(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "planner",
            "sweep",
            "--grid",
            "model.p=20,30,40,50,60,70,80,90",
            "--workers",
            "2",
            "--time-limit",
            "20",
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runs = tmp_path / ".sweep.planner-sweep"
    deadline = time.monotonic() + 120
    while not list(runs.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    # Mid-sweep: a run finished, the workers busy with the next.
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    # Before: the resource tracker's "There appear to be 12 leaked semaphore
    # objects to clean up at shutdown" and the line of code that warned.
    assert lines[0].startswith("Dask dashboard: ")
    assert "terminated; nothing written" in lines
    assert all(
        line.startswith(("Dask dashboard: ", "terminated; nothing written"))
        or " finished run(s) kept in " in line
        for line in lines
    ), stderr
    assert not out.exists()


def _disk_full(*_: object) -> None:
    raise OSError(28, "No space left on device")


def test_a_full_disk_names_the_output_not_its_staging(tmp_path: Path) -> None:
    # Before: "/…/.out.tmp-8355-bdbc7a0f/map.html: cannot be written (No space
    # left on device)", naming a folder the user never made; and a writer
    # that let the OSError through ended as "unexpected failure" (exit 1).
    from planner._atomic import write_atomically

    target = tmp_path / "out"

    def via_atomic(folder: Path) -> None:
        write_atomically(folder / "map.html", map(_disk_full, [b"x"]))  # type: ignore[arg-type]

    with pytest.raises(InputError) as caught:
        publish_folder(target, via_atomic)
    assert str(caught.value) == (
        f"{target / 'map.html'}: cannot be written (No space left on device); nothing written"
    )
    with pytest.raises(InputError) as caught:
        publish_folder(target, _disk_full)
    assert str(caught.value) == (
        f"{target}: cannot be written (No space left on device); nothing written"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_file_that_cannot_be_written_leaves_no_folder_made_for_it(tmp_path: Path) -> None:
    # Before: planner sample --out new/folder on a full disk left new/folder behind, empty.
    from planner._atomic import write_atomically

    with pytest.raises(InputError, match="No space left on device"):
        write_atomically(tmp_path / "new" / "folder" / "x.csv", map(_disk_full, [b"x"]))  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_a_file_where_a_folder_of_the_path_should_be_is_named(tmp_path: Path) -> None:
    # Before: "cannot be written (File exists)", of a folder that does not exist.
    from planner._atomic import check_writable, write_atomically

    (tmp_path / "afile").write_text("x", encoding="utf-8")
    for target in (tmp_path / "afile" / "x.csv", tmp_path / "afile" / "sub" / "x.csv"):
        expected = f"{target}: cannot be written: {tmp_path / 'afile'} is a file, not a folder"
        with pytest.raises(InputError) as caught:
            check_writable(target)
        assert str(caught.value) == expected
        with pytest.raises(InputError) as caught:
            write_atomically(target, "a")
        assert str(caught.value) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_a_hang_up_under_nohup_is_left_to_nohup(tmp_path: Path) -> None:
    # nohup starts the run with SIGHUP ignored: the run must not take it back.
    code = (
        "import signal; signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
        "from planner.outputs import interrupt\n"
        "print(signal.SIGHUP in interrupt._SIGNALS)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
