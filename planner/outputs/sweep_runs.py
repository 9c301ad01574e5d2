"""A sweep's finished runs, kept on disk as they finish so that a stopped sweep resumes.

The output folder of a sweep is written all or nothing at its end, like any
planner output (:mod:`planner.outputs.folder`). Until then, every finished
run is one small JSON file in a hidden folder beside it,
``.NAME.planner-sweep/<run id>.json``, written through a temporary file and a
rename (:func:`planner._atomic.write_atomically`): a sweep stopped with
Ctrl-C, killed, or whose machine went down keeps every run that finished,
and never a half-written one. ``planner sweep --resume`` reads them back and
solves only the runs not there; a run is known by its id, the digest of its
resolved scenario, so a changed scenario file reuses nothing. The folder is
deleted once the output folder is published.

The output folder's lock (held by the sweep from before it starts) guards
this folder too: two sweeps into one folder are refused.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

from planner._atomic import write_atomically
from planner._files import sibling_stem
from planner.errors import InputError, Problem

__all__ = ["RunJournal", "runs_folder"]

logger = logging.getLogger(__name__)

_RUN_FILE = re.compile(r"[0-9a-f]{16}\.json")


def runs_folder(target: Path) -> Path:
    """Where the finished runs of a sweep into ``target`` are kept until it is published."""
    return target.parent / f".{sibling_stem(target.name)}.planner-sweep"


class RunJournal:
    """The finished runs of one sweep, one JSON file each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def open(cls, target: Path, *, resume: bool) -> RunJournal:
        """The journal of a sweep into ``target``; the runs of an earlier one only with ``resume``.

        Raises
        ------
        InputError
            An unfinished sweep left runs and ``resume`` is false: they are not
            thrown away without being asked.
        """
        folder = runs_folder(target)
        journal = cls(folder)
        left = len(journal._files())
        if left and not resume:
            raise InputError(
                Problem(
                    f"output folder {target}",
                    f"an unfinished sweep left {left} finished run(s) in {folder}; resume it "
                    "(planner sweep --resume, or resume=True) to keep them and solve the rest, "
                    "or delete that folder to start again",
                )
            )
        # Made with the first finished run: a sweep refused before any run starts
        # (a bad input, no scheduler) leaves nothing behind.
        return journal

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if _RUN_FILE.fullmatch(p.name))

    def finished(self) -> dict[str, dict[str, Any]]:
        """Every run kept, by run id (a file that cannot be read is passed over and said)."""
        runs = {}
        for path in self._files():
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                logger.warning("sweep: passing over %s (%s); that run is solved again", path, exc)
                continue
            if isinstance(record, dict) and record.get("run_id") == path.stem:
                runs[path.stem] = record
        return runs

    def record(self, run_id: str, record: dict[str, Any]) -> None:
        """Keep one finished run (atomically: the file is whole or absent)."""
        text = json.dumps(record, allow_nan=False, ensure_ascii=False, sort_keys=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomically(self.folder / f"{run_id}.json", text + "\n")

    def remove(self) -> None:
        """Delete the journal: the sweep's output folder holds everything now."""
        shutil.rmtree(self.folder, ignore_errors=True)
