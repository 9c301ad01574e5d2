"""All-or-nothing output folders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from planner.output import publish_folder


def _write_files(content: str):
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
        from planner.output import publish_folder

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
