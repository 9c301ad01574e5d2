"""Sweeps against a real ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1.

The test starts the three processes itself (free ports, no dashboard, each
in its own process group) and stops them however it ends. One test kills a
worker mid-sweep: Dask runs its runs again on the other, and every row
arrives.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import planner
from planner.pipeline.sweep_cluster import SweepProgress
from tests.test_api import _tiny
from tests.test_cli import _run


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A scheduler's address and its worker processes."""

    address: str
    workers: list[subprocess.Popen[bytes]]


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "dask", *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    from distributed import Client

    logs = tmp_path_factory.mktemp("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes = [
        _start(
            ["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            logs / "scheduler.log",
        )
    ]
    try:
        for name in ("a", "b"):
            processes.append(
                _start(
                    [
                        "worker",
                        address,
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--no-nanny",
                        "--no-dashboard",
                        "--name",
                        name,
                    ],
                    logs / f"worker-{name}.log",
                )
            )
        with Client(address, timeout="60s", set_as_default=False) as client:
            client.wait_for_workers(2, timeout=120)
        yield Cluster(address=address, workers=processes[1:])
    finally:
        for process in reversed(processes):
            _stop(process)


def test_cli_sweep_against_a_scheduler(
    cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dealers.csv").write_text(
        "dealer_id,brand,name,country,lon,lat\n"
        "R1,Renault,Renault Luxembourg-Gare,LU,6.1296,49.6001\n"
        "R2,Renault,Renault Esch,LU,5.9806,49.4958\n"
        "N2,Nissan,Nissan Diekirch,LU,6.1600,49.8680\n",
        encoding="utf-8",
    )
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(
        'name = "tiny"\n[[dealers.files]]\npath = "dealers.csv"\n'
        '[demand]\ncountries = ["LU"]\nmin_population = 1000\n[model]\np = 1\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, stdout, stderr = _run(
        [
            "sweep",
            str(scenario),
            "--grid",
            "model.p=1,2",
            "--scheduler",
            cluster.address,
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, stderr
    assert "sweep: 2 runs (0 without a plan)" in stdout
    assert (out / "map.html").is_file() and (out / "site_robustness.csv").is_file()


def test_a_worker_killed_mid_sweep_loses_no_run(cluster: Cluster, tmp_path: Path) -> None:
    victim = cluster.workers[1]
    assert victim.poll() is None
    killed: list[int] = []

    def kill_once(state: SweepProgress) -> None:
        if not killed and state.phase == "solving" and state.done >= 2:
            os.killpg(victim.pid, signal.SIGKILL)
            killed.append(state.done)

    grid = {"model.p": [1, 2, 3], "travel.radius_km": [10, 12, 14, 16, 18, 20, 22, 24]}
    result = planner.sweep(
        _tiny(tmp_path), grid=grid, scheduler=cluster.address, progress=kill_once
    )
    assert killed and killed[0] < 24, "the worker was not killed mid-sweep"
    victim.wait(timeout=30)
    table = result.table
    assert len(table) == 24
    failed = table[table["status"] != "optimal"]
    assert failed.empty, failed[["run_id", "status", "message"]].to_dict("records")
    assert table["coverage_pct"].notna().all()
    assert result.workers == 1
    # Every run's plan, wherever it was solved, is the one a plain run gives.
    plan = planner.run(_tiny(tmp_path), overrides={"model.p": 3, "travel.radius_km": 24})
    last = table[(table["model.p"] == 3) & (table["travel.radius_km"] == 24)].iloc[0]
    assert last["coverage_pct"] == pytest.approx(plan.report["coverage_pct"], abs=1e-6)
