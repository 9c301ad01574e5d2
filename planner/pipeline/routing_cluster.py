"""A routing matrix on Dask distributed: its origins in parts, one task a part.

``planner routing matrix --workers N`` (a local cluster) or ``--scheduler
ADDRESS`` (a running one) splits the origins into parts of about
:data:`PART_PAIRS` pairs. Each part is one task: on its worker it opens the
routing folder, whose engine is loaded by the worker's first part and kept
for the next (:func:`planner.travel.routing_folder.open_routing` keeps it),
and asks the engine for the part's rows
(:func:`planner.travel.road.road_table`). The destinations are sent to each
worker once. The rows are put in place here as the parts finish.

Every worker must see the routing folder at the same path, built the same
way: a local cluster does; workers on other machines need it on a shared
file system. A part that finds no folder there, or another build of it (its
``build_id`` differs), stops the matrix with that message, so that no row is
computed on other roads.

Why not by default: the engine holds Python's lock, so one process runs one
table at a time, and a cluster is the only way to use more cores; but each
worker process loads the engine's data (for a country, gigabytes in each)
and a local cluster takes seconds to start. On Malta, 10 M pairs took
11.9 s in one process and 11.1 s on two local workers, their start included
(``benchmarks/matrix.py``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from planner.errors import InputError, Problem
from planner.pipeline.dask_cluster import dashboard_link, dask_client
from planner.travel.road import road_table
from planner.travel.routing_folder import RoutingFolder, open_routing

if TYPE_CHECKING:
    from distributed import Future

__all__ = ["PART_PAIRS", "cluster_table", "part_table"]

FloatArray = npt.NDArray[np.float64]

#: Pairs in one task: large enough that a task's overhead (tens of
#: milliseconds) is small beside its engine time (about a second).
PART_PAIRS = 1_000_000
#: Parts per worker at least, so that a worker that finishes early takes another.
_PARTS_PER_WORKER = 2
#: Seconds between looks at the parts.
_POLL_S = 0.1
#: Seconds between looks for a worker at a scheduler that has none.
_WAIT_S = 1.0


def cluster_table(
    folder: RoutingFolder,
    from_lon: FloatArray,
    from_lat: FloatArray,
    to_lon: FloatArray,
    to_lat: FloatArray,
    *,
    scheduler: Any = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`~planner.travel.road.road_table` of every pair, the origins split over Dask workers.

    ``scheduler`` is an address or a ``distributed.Client``; else a local
    cluster of ``workers`` processes is started and closed at the end.
    """
    n, m = len(from_lon), len(to_lon)
    minutes = np.full((n, m), np.nan)
    km = np.full((n, m), np.nan)
    snap_from = np.full(n, np.nan)
    snap_to = np.full(m, np.nan)
    if scheduler is None and workers is not None:
        # A worker more than the parts would only load the engine for nothing.
        workers = min(workers, len(_parts(n, m, workers)))
    with dask_client(scheduler, workers) as client:
        while not client.nthreads():
            # A running scheduler may have no worker yet: wait for one.
            if progress is not None:
                progress(f"waiting for a Dask worker to join {client.scheduler.address}")
            time.sleep(_WAIT_S)
        count = len(client.nthreads())
        parts = _parts(n, m, count)
        if progress is not None:
            progress(f"routing {n * m:,} pairs in {len(parts)} parts on {count} Dask workers")
        # Sent to each worker once, not with every part.
        destinations = client.scatter(np.stack([to_lon, to_lat]), broadcast=True)
        futures = {
            client.submit(
                part_table,
                str(folder.path),
                folder.build_id,
                from_lon[start:stop],
                from_lat[start:stop],
                destinations,
                pure=False,
            ): (start, stop)
            for start, stop in parts
        }
        dashboard = dashboard_link(client)
        where = f"dashboard {dashboard}" if dashboard else "no dashboard"
        try:
            for future, (start, stop), done in _as_finished(futures):
                part_minutes, part_km, part_snap_from, part_snap_to = _result(future)
                minutes[start:stop], km[start:stop] = part_minutes, part_km
                snap_from[start:stop], snap_to[:] = part_snap_from, part_snap_to
                future.release()
                if progress is not None:
                    progress(f"routing: {done} of {len(parts)} parts done ({where})")
        finally:
            for future in futures:
                future.release()
            destinations.release()
    return minutes, km, snap_from, snap_to


def part_table(
    path: str, build_id: str, from_lon: FloatArray, from_lat: FloatArray, destinations: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """One part's rows, on a worker: its origins × every destination."""
    folder = open_routing(Path(path), source="routing folder")
    if folder.build_id != build_id:
        raise InputError(
            Problem(
                f"routing folder {path}",
                "is another build on the Dask workers than here; give every worker the same "
                "folder (a shared file system)",
            )
        )
    return road_table(folder, from_lon, from_lat, destinations[0], destinations[1])


def _parts(n: int, m: int, workers: int) -> list[tuple[int, int]]:
    """Runs of origins of about :data:`PART_PAIRS` pairs, at least two for each worker."""
    rows = max(1, PART_PAIRS // max(m, 1))
    rows = max(1, min(rows, math.ceil(n / (workers * _PARTS_PER_WORKER))))
    return [(start, min(start + rows, n)) for start in range(0, n, rows)]


def _as_finished(
    futures: dict[Future, tuple[int, int]],
) -> Iterator[tuple[Future, tuple[int, int], int]]:
    """Each future, its rows and how many are done, as it finishes.

    Looked at in short steps, so that Ctrl-C is taken at once.
    """
    pending = set(futures)
    done = 0
    while pending:
        finished = [future for future in pending if future.done()]
        for future in finished:
            pending.discard(future)
            done += 1
            yield future, futures[future], done
        if not finished:
            time.sleep(_POLL_S)


def _result(future: Future) -> Any:
    """A part's rows; a part whose workers kept dying as one line, not Dask's traceback."""
    from distributed.scheduler import KilledWorker

    try:
        return future.result()
    except KilledWorker:
        raise RuntimeError(
            "routing matrix: the Dask workers computing a part were lost too often "
            "(distributed.scheduler.allowed-failures); see the workers' logs"
        ) from None
