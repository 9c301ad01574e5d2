"""Dask distributed for sweeps and routing matrices: a local cluster or a running one.

Both ``planner sweep`` and ``planner routing matrix`` take ``--scheduler
ADDRESS`` (a running cluster: ``dask scheduler`` and ``dask worker``
processes) or ``--workers N`` (a ``LocalCluster`` started here and closed at
the end); :func:`dask_client` gives either as a ``Client``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from planner._arguments import shown, whole_number
from planner.errors import InputError, Problem

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "CONNECT_TIMEOUT_S",
    "MAX_WORKERS",
    "check_scheduler",
    "checked_workers",
    "dashboard_link",
    "dask_client",
    "default_workers",
]

#: Seconds to wait for a scheduler given with ``--scheduler`` before saying it cannot be reached.
CONNECT_TIMEOUT_S = 5.0


#: Most worker processes a local cluster starts: each holds its own copy of
#: what its tasks read (a sweep's inputs, a routing engine's data), and the
#: tasks are CPU-bound.
MAX_WORKERS = 256


def checked_workers(workers: object) -> int:
    """``workers`` as a number of local worker processes, or an :class:`InputError`."""
    return whole_number(workers, "workers", least=1, most=MAX_WORKERS)


@contextmanager
def dask_client(scheduler: Any = None, workers: int | None = None) -> Iterator[Client]:
    """A Dask client: of ``scheduler`` (an address, or a ``Client`` as it is), else of a
    ``LocalCluster`` of ``workers`` single-threaded processes (default: one per core).

    Raises
    ------
    InputError
        The scheduler cannot be reached within :data:`CONNECT_TIMEOUT_S`,
        or ``workers`` is below 1.
    """
    from distributed import Client, LocalCluster
    from distributed.comm import resolve_address

    check_scheduler(scheduler)
    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is not None:
        address = _address(scheduler)
        try:
            # A malformed address is refused here, before a Client exists: one that
            # fails in its constructor tries to close itself again at exit and
            # prints a traceback after the error.
            resolve_address(address)
        except ValueError as exc:
            raise InputError(
                Problem(
                    "scheduler",
                    f"'{address}' is not a scheduler address ({exc}); give tcp://HOST:PORT",
                )
            ) from None
        except OSError:
            pass  # a host name that does not resolve: the connection below says so
        try:
            client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(
                Problem(
                    "scheduler",
                    f"cannot reach a Dask scheduler at {address} within "
                    f"{CONNECT_TIMEOUT_S:g} s ({reason})",
                )
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    count = default_workers() if workers is None else checked_workers(workers)
    _quiet_resource_tracker()
    # One thread per process: the solves are CPU-bound, and processes keep
    # them from sharing one interpreter's lock.
    cluster = LocalCluster(
        n_workers=count,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        # A task that raises (an input error) is re-raised here with its message;
        # the workers' own "Compute Failed" log of it would only repeat it.
        silence_logs=logging.CRITICAL,
    )
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


#: The warning filter handed to multiprocessing's resource tracker process.
_TRACKER_FILTER = "ignore::UserWarning:multiprocessing.resource_tracker"


def _quiet_resource_tracker() -> None:
    """Keep the resource tracker's "leaked semaphore objects" lines off standard error.

    A command ended by Ctrl-C or SIGTERM leaves the interrupt watcher a second
    to unwind before it ends the process, less than a local cluster takes to
    close; the tracker, a process of its own started with this interpreter's
    ``-W`` options, then removes the workers' semaphores itself and warns of
    each, after the interruption was already reported. Nothing is left behind.
    """
    import sys

    if _TRACKER_FILTER not in sys.warnoptions:
        sys.warnoptions.append(_TRACKER_FILTER)


def _address(scheduler: Any) -> str:
    """A scheduler's address: the text given, or a cluster object's (``LocalCluster``)."""
    address = (
        scheduler if isinstance(scheduler, str) else getattr(scheduler, "scheduler_address", None)
    )
    if not isinstance(address, str):
        # str(5) was read as an address "missing port number".
        raise InputError(
            Problem(
                "scheduler",
                "give an address ('tcp://HOST:8786'), a cluster or a distributed.Client, not "
                f"{shown(scheduler)}",
            )
        )
    return address


def check_scheduler(scheduler: Any) -> None:
    """Refuse, before any work, a scheduler :func:`dask_client` could not use.

    Raises
    ------
    InputError
        A ``Client`` that was closed, or an address of another protocol than
        tcp:// (tls:// needs certificates planner does not take, inproc:// a
        cluster in this process, ucx:// its own library: each ended with a
        traceback).
    """
    if scheduler is None:
        return
    from distributed import Client

    if isinstance(scheduler, Client):
        if scheduler.status in ("closing", "closed"):
            raise InputError(Problem("scheduler", "is a Client that was closed"))
        return
    address = _address(scheduler)
    scheme = address.split("://", 1)[0].lower() if "://" in address else "tcp"
    if scheme != "tcp":
        raise InputError(
            Problem(
                "scheduler",
                f"'{address}': only tcp:// scheduler addresses are supported, not {scheme}://",
            )
        )


def default_workers() -> int:
    """Worker processes of the local cluster: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def dashboard_link(client: Client) -> str | None:
    """The link to the Dask dashboard, when the scheduler serves one."""
    try:
        return str(client.dashboard_link)
    except (AttributeError, KeyError, ValueError):
        return None
