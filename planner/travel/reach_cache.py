"""A content-keyed cache of road reach matrices, shared by runs, frontiers and sweeps.

A road reach matrix depends on the routing folder's data, the points and the
threshold — nothing else. Its key is a SHA-256 digest of exactly that: the
folder's ``build_id`` (itself a digest of the extract's content, the engine
versions and the build), the metric and limit, the crow-fly bound, and the
bytes of the coordinates. File names and paths play no part, so a renamed
scenario or a moved folder reuses its entries, and a rebuilt folder (new
``build_id``) or a moved point never meets an old one: a stale entry is
never looked up, let alone used.

Entries are ``.npz`` files under ``$PLANNER_CACHE_DIR`` (default
``$XDG_CACHE_HOME/planner/road-reach``, i.e. ``~/.cache/planner/road-reach``),
written to a temporary name and renamed into place, so a reader sees a whole
entry or none; an entry that fails to load or whose stored key differs is
ignored and recomputed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner._files import home_expanded

__all__ = ["cache_dir", "load_reach", "reach_key", "store_reach"]

logger = logging.getLogger(__name__)

#: Bumped when what an entry holds changes meaning.
CACHE_VERSION = 1


def cache_dir() -> Path:
    """Where entries live: ``$PLANNER_CACHE_DIR``, else the user's cache folder."""
    given = os.environ.get("PLANNER_CACHE_DIR")
    if given:
        # "~/cache" as a shell would read it: never a folder named "~" in the working folder.
        return home_expanded(Path(given), "PLANNER_CACHE_DIR")
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return home_expanded(Path(base), "XDG_CACHE_HOME") / "planner" / "road-reach"


def reach_key(build_id: str, settings: Sequence[Any], arrays: Sequence[npt.ArrayLike]) -> str:
    """Digest of a routing build, the settings and the coordinates."""
    digest = hashlib.sha256()
    digest.update(repr((CACHE_VERSION, build_id, tuple(settings))).encode())
    for values in arrays:
        array = np.ascontiguousarray(np.asarray(values, dtype=np.float64))
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def load_reach(key: str) -> tuple[sp.csr_matrix, dict[str, int]] | None:
    """The matrix and counts stored under ``key``, or ``None``."""
    path = cache_dir() / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as entry:
            if str(entry["key"]) != key:
                return None
            shape = tuple(int(v) for v in entry["shape"])
            matrix = sp.csr_matrix((entry["data"], entry["indices"], entry["indptr"]), shape=shape)
            counts = {
                str(name): int(value)
                for name, value in zip(entry["count_names"], entry["count_values"], strict=True)
            }
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("ignoring unreadable cache entry %s (%s)", path, exc)
        return None
    logger.info("road reach from the cache (%s)", path.name)
    return matrix, counts


def store_reach(key: str, matrix: sp.csr_matrix, counts: dict[str, int]) -> None:
    """Store an entry; a cache that cannot be written only costs the next run time."""
    folder = cache_dir()
    name: str | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{key[:16]}-", suffix=".npz")
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                key=np.array(key),
                shape=np.array(matrix.shape, dtype=np.int64),
                data=matrix.data,
                indices=matrix.indices,
                indptr=matrix.indptr,
                count_names=np.array(sorted(counts)),
                count_values=np.array([counts[k] for k in sorted(counts)], dtype=np.int64),
            )
        os.replace(name, folder / f"{key}.npz")
    except OSError as exc:
        if name is not None:
            # A full disk: no half-written entry stays behind for good.
            with contextlib.suppress(OSError):
                os.unlink(name)
        logger.warning("could not write the road reach cache in %s (%s)", folder, exc)
