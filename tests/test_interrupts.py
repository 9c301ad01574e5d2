"""Ctrl-C and kills of a real ``planner run``: the previous output always survives.

Each test starts from an earlier output in the target, runs a scenario in a
subprocess (the built-in default where the solve must take a few seconds)
and interrupts it at a chosen moment.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from planner.cli.main import main
from planner.outputs.folder import publish_folder
from tests.test_cli import DEALERS, SCENARIO

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _fingerprint(folder: Path) -> str:
    digest = hashlib.sha1()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def _run_tiny(tmp_path: Path, out: Path) -> int:
    """Run the tiny Luxembourg scenario in this process; its exit code."""
    (tmp_path / "dealers.csv").write_text(DEALERS, encoding="utf-8")
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    old = sys.argv
    sys.argv = ["planner", "run", str(scenario), "--out", str(out)]
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = old
    return 0


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    """An earlier output in ``tmp_path/out``."""

    def write(folder: Path) -> None:
        (folder / "report.json").write_text('{"status": "optimal"}', encoding="utf-8")
        (folder / "map.html").write_text("<html></html>", encoding="utf-8")

    return publish_folder(tmp_path / "out", write)


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def _start(out: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "planner", "run", "--out", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_solve(proc: subprocess.Popen[str]) -> list[str]:
    """Read progress until the solve has started (reach is the stage before it)."""
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "computing reach" in line:
            return lines
    pytest.fail(f"the run ended before solving: {''.join(lines)}")


def test_ctrl_c_during_the_solve_writes_nothing(previous: Path) -> None:
    before = _fingerprint(previous)
    proc = _start(previous)
    _wait_for_solve(proc)
    time.sleep(0.5)  # inside the solver, which installs its own SIGINT handler
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert time.monotonic() - started < 10
    messages = [line for line in stderr.splitlines() if line.strip() and not line.startswith("  ")]
    assert messages == ["interrupted; nothing written"]
    assert "wrote" not in stdout
    assert _fingerprint(previous) == before
    assert _leftovers(previous) == []


def test_run_killed_while_writing_keeps_previous_output_and_next_run_recovers(
    previous: Path, tmp_path: Path
) -> None:
    before = _fingerprint(previous)
    # A short time limit brings the run to writing quickly.
    proc = _start(previous, "--time-limit", "1")
    deadline = time.monotonic() + 120
    while not any(any(p.iterdir()) for p in previous.parent.glob(f".{previous.name}.tmp-*")):
        assert proc.poll() is None, "the run ended before writing was caught"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    proc.kill()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert _fingerprint(previous) == before
    assert _leftovers(previous), "the kill should have left the staging folder"
    # The next run tidies up and publishes.
    assert _run_tiny(tmp_path, previous) == 0
    assert _leftovers(previous) == []
    assert (previous / "report.json").exists()


def test_kill_between_the_renames_is_undone_by_the_next_run(previous: Path, tmp_path: Path) -> None:
    before = _fingerprint(previous)
    (tmp_path / "dealers.csv").write_text(DEALERS, encoding="utf-8")
    (tmp_path / "tiny.toml").write_text(SCENARIO, encoding="utf-8")
    paused = tmp_path / "paused"
    # The run stops for good right after moving the previous output aside.
    script = textwrap.dedent(
        f"""
        import os, pathlib, sys, time
        real = pathlib.Path.rename

        def rename(self, target):
            result = real(self, target)
            if ".old-" in str(target):
                pathlib.Path({str(paused)!r}).write_text("x")
                time.sleep(600)
            return result

        pathlib.Path.rename = rename
        sys.argv = ["planner", "run", {str(tmp_path / "tiny.toml")!r}, "--out", {str(previous)!r}]
        from planner.cli.main import main
        main()
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 120
        while not paused.exists():
            assert proc.poll() is None, "the run ended before the renames"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        proc.kill()
    finally:
        proc.wait(timeout=60)
    assert not previous.exists()
    # The killed run's lock, its journal of the swap, the moved-aside and staging folders.
    assert [name.split("-")[0] for name in _leftovers(previous)] == [
        ".out.old",
        ".out.planner",
        ".out.planner",
        ".out.tmp",
    ]
    assert (previous.parent / ".out.planner-swap").exists()
    assert (previous.parent / ".out.planner-lock").exists()
    # A run that fails on its input still puts the previous output back first.
    (tmp_path / "dealers.csv").write_text("dealer_id,brand\n", encoding="utf-8")
    old = sys.argv
    sys.argv = ["planner", "run", str(tmp_path / "tiny.toml"), "--out", str(previous)]
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        sys.argv = old
    assert exit_info.value.code == 2
    assert _fingerprint(previous) == before
    assert _leftovers(previous) == []
    assert os.listdir(previous)


def test_command_line_module_loads_no_threaded_library() -> None:
    # main() blocks SIGINT before any thread exists; a numerical library
    # imported with planner.cli.main would start threads (OpenBLAS) first and
    # could take a Ctrl-C meant for the watcher.
    code = (
        "import sys, planner.cli.main; "
        "print(sorted({'numpy', 'pandas', 'pyarrow'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"


def test_ctrl_c_while_stuck_in_native_code_ends_the_process(tmp_path: Path) -> None:
    # A solver can hold the main thread in native code until its time limit;
    # sleep does the same here. The watcher ends the process after its grace.
    ready = tmp_path / "ready"
    script = textwrap.dedent(
        f"""
        import pathlib, sys, time
        from planner.outputs.interrupt import catching_interrupts

        with catching_interrupts(lambda message: print(message, file=sys.stderr)):
            pathlib.Path({str(ready)!r}).write_text("x")
            time.sleep(60)
        print("finished", file=sys.stderr)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.5)  # well inside the sleep
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert time.monotonic() - started < 10
    assert stderr.splitlines() == ["interrupted; nothing written"]


@pytest.mark.parametrize("attempt", range(5))
def test_interrupt_landing_after_the_command_saw_it_still_exits_130(attempt: int) -> None:
    # The watcher sets interrupted() and then raises KeyboardInterrupt in the
    # main thread. A command that sees the flag first returns on its own, and
    # the KeyboardInterrupt lands afterwards: in main() or in the clean-up.
    # The command holds the commit lock while the watcher takes the signal, so
    # the flag and the KeyboardInterrupt both come after it checks.
    script = textwrap.dedent(
        """
        import os, signal, sys, time
        import planner.cli.main as cli
        from planner.outputs import interrupt

        def command():
            with interrupt._commit_lock:
                os.kill(os.getpid(), signal.SIGINT)
                while not interrupt._received:
                    time.sleep(0.001)
            while not interrupt.interrupted():
                pass
            return cli._interrupted()

        cli._dispatch = command
        interrupt.add_cleanup(lambda: print("cleaned", file=sys.stderr))
        cli.main()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 130, result.stderr
    # The message comes from the command or from main(), before or after the clean-up.
    assert sorted(result.stderr.splitlines()) == ["cleaned", "interrupted; nothing written"]


def test_interrupt_caught_after_it_ended_string_code_still_exits_130(tmp_path: Path) -> None:
    # CPython 3.12 notes a KeyboardInterrupt that ends code run from a string
    # (exec, eval: dataclasses build functions that way) and, under `python -m`,
    # ends the process by SIGINT even when the KeyboardInterrupt was caught.
    (tmp_path / "string_command.py").write_text(
        textwrap.dedent(
            """
            import planner.cli.main as cli

            cli._dispatch = lambda: exec("raise KeyboardInterrupt", {})
            cli.main()
            """
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "string_command"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 130, result.stderr
    assert result.stderr.splitlines() == ["interrupted; nothing written"]
