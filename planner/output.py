"""All-or-nothing output folders.

A run writes every file into a fresh temporary folder beside the target and
only then swaps it in with renames on the same file system. An exception,
Ctrl-C or a killed process therefore never leaves a half-written output and
never destroys the previous good one: at worst a hidden ``.NAME.tmp-*``
folder is left beside it, which the next run removes.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)


def _stale_siblings(target: Path) -> list[Path]:
    prefixes = (f".{target.name}.tmp-", f".{target.name}.old-")
    return [p for p in target.parent.glob(f".{target.name}.*") if p.name.startswith(prefixes)]


def publish_folder(target: Path, write: Callable[[Path], None]) -> Path:
    """Let ``write`` fill a temporary folder, then make it ``target`` in one step.

    Parameters
    ----------
    target
        The output folder. Its previous content is replaced only after
        ``write`` returned without error.
    write
        Called with the temporary folder; writes every output file into it.

    Returns
    -------
    Path
        ``target``.
    """
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in _stale_siblings(target):
        # Left by a run that was killed; never a folder a user named.
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        write(staging)
        for path in staging.rglob("*"):
            if path.is_file():
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
        old: Path | None = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            old.rmdir()
            target.rename(old)
        try:
            staging.rename(target)
        except BaseException:
            if old is not None:
                old.rename(target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("wrote %s", target)
    return target
