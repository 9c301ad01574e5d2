"""Dask's own logging on the command line: quiet unless ``--verbose``."""

from __future__ import annotations

import logging

from planner.errors import InputError, Problem


def quiet_dask_logs() -> None:
    """Keep Dask's INFO lines (each worker, each connection) off standard error.

    A local cluster logs about thirty of them per command; ``--verbose``
    (the root logger at INFO) keeps them.
    """
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        # Imported first: importing it sets its loggers' levels from its config.
        import distributed  # noqa: F401

        logging.getLogger("distributed").setLevel(logging.ERROR)


def refuse_workers_with_scheduler(scheduler: str | None, workers: int | None) -> None:
    """``--workers`` sizes a local cluster: it means nothing with ``--scheduler``."""
    if workers is not None and scheduler is not None:
        raise InputError(
            Problem("--workers", "sets the size of a local cluster; not with --scheduler")
        )
