"""Standard output and error that fail: the run's files still land, and it says so once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import DEALERS, SCENARIO


def _tiny(tmp_path: Path) -> list[str]:
    (tmp_path / "dealers.csv").write_text(DEALERS, encoding="utf-8")
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    return [sys.executable, "-m", "planner", "run", str(scenario)]


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in ("report.json", "sites.csv", "map.html"))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_standard_output_is_said_once_and_the_run_lands(tmp_path: Path) -> None:
    # Before: "unexpected failure: [Errno 28] No space left on device", exit 1,
    # after the folder had been written.
    out = tmp_path / "out"
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [*_tiny(tmp_path), "--out", str(out)], stdout=full, stderr=subprocess.PIPE, text=True
        )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("warning: standard output cannot be written") == 1
    assert _complete(out)


def test_a_reader_gone_from_the_pipe_ends_nothing(tmp_path: Path) -> None:
    # Before: rich's broken-pipe handling ended the run with exit 1 and no word,
    # dropping the warnings still to come on standard error.
    out = tmp_path / "out"
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [*_tiny(tmp_path), "--out", str(out)], stdout=write, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(write)
    assert done.returncode == 0, done.stderr
    assert "standard output cannot be written" not in done.stderr
    assert _complete(out)


def test_closed_standard_output_and_an_unencodable_name(tmp_path: Path) -> None:
    # Before: "'NoneType' object has no attribute 'flush'" with stdout closed, and
    # "'ascii' codec can't encode character" after writing a folder named café.
    out = tmp_path / "café"
    done = subprocess.run(
        [*_tiny(tmp_path), "--out", str(out)],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert done.returncode == 0, done.stderr
    assert b"caf\\xe9" in done.stdout
    closed = tmp_path / "closed"
    code = subprocess.run(
        ["/bin/sh", "-c", '"$@" >&-', "sh", *_tiny(tmp_path), "--out", str(closed)],
        stderr=subprocess.DEVNULL,
    ).returncode
    assert code == 0 and _complete(closed)


def test_a_deleted_working_folder_is_named(tmp_path: Path) -> None:
    # Before: "unexpected failure: [Errno 2] No such file or directory", no path.
    gone = tmp_path / "gone"
    gone.mkdir()
    command = _tiny(tmp_path)
    done = subprocess.run(
        ["/bin/sh", "-c", 'cd "$0" && rmdir "$0" && exec "$@"', str(gone), *command],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: the working folder no longer exists (deleted?); cd to one that does"
    )


def test_non_ascii_names_under_an_ascii_file_system_encoding_are_named(tmp_path: Path) -> None:
    # Before: "unexpected failure: 'ascii' codec can't encode character '\xe9'"
    # (a dealer file named données.csv) and "'utf-8' codec can't encode
    # characters …: surrogates not allowed" (--set title=Café), exit 1.
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0"}
    probe = [sys.executable, "-c", "import sys; print(sys.getfilesystemencoding())"]
    if subprocess.run(probe, capture_output=True, text=True, env=env).stdout.strip() != "ascii":
        pytest.skip("the C locale does not give an ASCII file-system encoding here")
    command = _tiny(tmp_path)
    out = tmp_path / "out"
    done = subprocess.run(
        [*command, "--set", "title=Café", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 2, done.stderr
    assert "the command line holds letters the file-system encoding (ascii) cannot read" in (
        done.stderr
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dealers.csv", "tiny.toml"]
    (tmp_path / "dealers.csv").rename(tmp_path / "données.csv")
    scenario = Path(command[-1])
    scenario.write_text(
        scenario.read_text(encoding="utf-8").replace("dealers.csv", "données.csv"),
        encoding="utf-8",
    )
    done = subprocess.run(
        [*command[:3], "validate", command[-1]], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2, done.stderr
    assert "file-system encoding (ascii) cannot hold" in done.stderr
    assert "donn" in done.stderr and "unexpected" not in done.stderr
