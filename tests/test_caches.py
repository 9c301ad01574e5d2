"""Where the caches live, and what a cache that cannot be written leaves behind."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from planner.travel import reach_cache, routing_folder


@pytest.mark.parametrize("variable", ["PLANNER_CACHE_DIR", "XDG_CACHE_HOME"])
def test_a_cache_folder_given_with_a_tilde_is_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    # Before: "~/pc/road-reach" was a folder named "~" in the working folder,
    # and a road run looked for its routing build there (exit 2).
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PLANNER_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv(variable, "~/pc/road-reach" if variable == "PLANNER_CACHE_DIR" else "~/xc")
    home = tmp_path / "home"
    assert reach_cache.cache_dir().is_relative_to(home)
    assert routing_folder._built_extracts().is_relative_to(home)


def test_a_full_cache_leaves_no_half_written_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: a 0-byte ".KEY-xxxx.npz" stayed in the cache for good.
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(tmp_path / "cache"))

    def full(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    reach_cache.store_reach("k" * 64, sp.csr_matrix(np.eye(2)), {"pairs": 2})
    assert os.listdir(tmp_path / "cache") == []


def test_a_build_program_killed_by_a_signal_is_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: "osrm-extract failed (exit code -25): [info] Writing 0 conditional
    # turn penalties...", under ulimit -f.
    import subprocess

    from planner.errors import PlannerError
    from planner.travel import routing_build

    def killed(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, -25)

    monkeypatch.setattr(routing_build.subprocess, "run", killed)
    log = tmp_path / "build.log"
    with pytest.raises(PlannerError) as caught:
        routing_build._run(["osrm-extract", "x"], log, "osrm-extract")
    assert str(caught.value) == (
        "osrm-extract was killed by SIGXFSZ (the file size limit, ulimit -f); its last line: "
        "$ osrm-extract x"
    )


def test_a_run_waits_for_another_runs_build_of_the_same_extract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: runs started together on one extract stopped, all but the first,
    # with "output folder …/routing/…: is being written by another planner run".
    import subprocess
    import time

    from planner.pipeline import routing

    folder = tmp_path / "routing" / "malta-0123"
    folder.parent.mkdir()
    # Not a child of this process (a child would linger as a zombie, alive to kill(0)).
    other = int(
        subprocess.run(
            ["/bin/sh", "-c", 'sleep 1 >/dev/null 2>&1 & echo "$!"'],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    (folder.parent / f".{folder.name}.planner-lock").write_text(f"{other}\n")
    monkeypatch.setattr(routing, "_WAIT_POLL_S", 0.05)
    said: list[str] = []
    started = time.monotonic()
    assert routing._wait_for_other_build(folder, "malta.osm.pbf", said.append) is False
    assert time.monotonic() - started > 0.5
    assert said == [
        f"waiting for another run (process {other}) to build the routing data of malta.osm.pbf"
    ]


def test_a_routing_cache_that_cannot_be_written_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: "output folder /…/planner/routing/…: cannot be created", a folder
    # the user never named, and no word of how to move the cache.
    from planner.errors import InputError
    from planner.pipeline.routing import ensure_routing
    from planner.scenario.schema import load_scenario

    extract = tmp_path / "malta.osm.pbf"
    extract.write_bytes(b"not read")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.delenv("PLANNER_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    scenario = load_scenario(
        None,
        values={"travel.mode": "road", "travel.routing": str(extract), "travel.max_minutes": 30},
    )
    with pytest.raises(InputError) as caught:
        ensure_routing(scenario.travel)
    message = str(caught.value)
    assert message.startswith(f"routing cache {blocker / 'planner' / 'routing'}")
    assert "set PLANNER_CACHE_DIR to a writable folder" in message
