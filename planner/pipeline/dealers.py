"""Dealer lists from open data: :func:`import_dealers` and the dealer file it writes.

OpenStreetMap extracts (:mod:`planner.inputs.importers.osm`) and All The
Places GeoJSON files (:mod:`planner.inputs.importers.atp`) are read into one
table (:mod:`planner.inputs.importers.dealer_table`) in the columns the
dealer reader guesses, so the file written is a scenario's dealer file as it
stands::

    imported = planner.import_dealers("liechtenstein.osm.pbf", out="dealers.csv")
    imported.summary(), imported.warnings, imported.dealers

The file is written all or nothing: an unreadable input, a brand that is not
the network's, or no dealer found raises before anything is written, and the
write itself replaces the file in one rename (an earlier import stays whole
until then). Text cells are written spreadsheet-safe, as every CSV planner
writes (:mod:`planner.outputs.spreadsheet`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

from planner._arguments import callback, shown, text_list
from planner._atomic import check_writable, write_atomically
from planner._files import path_argument, resolved
from planner.errors import InputError, Problem
from planner.inputs.importers.atp import looks_like_geojson, read_atp
from planner.inputs.importers.brands import requested_brands
from planner.inputs.importers.dealer_table import (
    DEALER_SHOPS,
    ImportedDealers,
    SourceScan,
    dealer_table,
)
from planner.inputs.importers.osm import looks_like_extract, read_extract
from planner.outputs.folder import refuse_inside_output
from planner.outputs.spreadsheet import spreadsheet_safe

__all__ = ["DealerImport", "import_dealers"]

SourceKind = Literal["osm", "atp"]
PathLike = str | os.PathLike[str]

#: What each source asks of whoever shares data made from it.
LICENCES = {
    "osm": "OpenStreetMap data: © OpenStreetMap contributors, ODbL 1.0; credit "
    "OpenStreetMap wherever you publish or share results made from this file",
    "atp": "All The Places data: CC0 1.0 (public domain dedication); crediting "
    "All The Places is welcome, not required",
}


@dataclass(frozen=True, eq=False)
class DealerImport(ImportedDealers):
    """Dealers imported from open data (see :class:`ImportedDealers`), with ``save``.

    Attributes
    ----------
    kinds
        The sources read: ``osm``, ``atp`` or both.
    """

    kinds: tuple[SourceKind, ...] = ()

    def __repr__(self) -> str:
        # The dataclass repr printed the whole dealer table.
        counts = self.dealers["brand"].value_counts()
        said = ", ".join(f"{brand} {int(count):,}" for brand, count in counts.items())
        dropped = sum(self.dropped.values())
        return (
            f"<DealerImport {len(self.dealers):,} dealers ({said or 'none'}) from "
            f"{'+'.join(self.kinds) or '?'}, {dropped:,} left out>"
        )

    def save(self, path: PathLike) -> Path:
        """Write :attr:`dealers` as a CSV dealer file, all or nothing; returns the path."""
        target = _output_path(path)
        text = spreadsheet_safe(self.dealers).to_csv(index=False, lineterminator="\n")
        return write_atomically(target, text)

    def licences(self) -> list[str]:
        """The licence and credit note of each source read."""
        return [LICENCES[kind] for kind in self.kinds]


def import_dealers(
    files: PathLike | Sequence[PathLike],
    *,
    kind: SourceKind | None = None,
    brands: str | Iterable[str] | None = None,
    out: PathLike | None = None,
    shops: Sequence[str] = DEALER_SHOPS,
    progress: Callable[[str], None] | None = None,
) -> DealerImport:
    """Read dealers of the network's brands from OpenStreetMap extracts or All The Places files.

    Parameters
    ----------
    files
        One file or several: OpenStreetMap extracts (``.osm.pbf``) or All The
        Places GeoJSON files (``renault.geojson``). Dealers found twice (two
        overlapping extracts) are kept once.
    kind
        ``"osm"`` or ``"atp"`` to insist on one source; None to tell each file
        by its name.
    brands
        The brands to keep: ``"renault,nissan"`` or a list; None for both.
        Dacia and Alpine dealers count as Renault, Infiniti as Nissan.
    out
        A ``.csv`` file to write the dealers to (all or nothing); None to only
        return them.
    shops
        Values of the ``shop`` tag read as dealers.
    progress
        Called with a line on what is being read (a country extract takes a while).

    Returns
    -------
    DealerImport
        ``.dealers`` (the table), ``.summary()``, ``.dropped``, ``.counts``,
        ``.warnings``, ``.save(path)``.

    Raises
    ------
    planner.InputError
        A file that is missing, unreadable or of the wrong kind; an unknown
        brand; no dealer found (the message names the tags searched).
    """
    if isinstance(files, str | os.PathLike):
        paths = [path_argument(files, "files")]
    elif isinstance(files, Iterable) and not isinstance(files, bytes):
        paths = [path_argument(f, "files") for f in files]
    else:
        raise InputError(Problem("files", f"give a path or a list of paths, not {shown(files)}"))
    if not paths:
        raise InputError(Problem("files", "no file given"))
    first: dict[Path, int] = {}
    for index, path in enumerate(paths):
        # Its dealers would all be found twice, and reported as duplicates of themselves.
        earlier = first.setdefault(resolved(path), index)
        if earlier != index:
            raise InputError(
                Problem(
                    str(path),
                    f"listed twice (files {earlier + 1} and {index + 1}); list it once",
                )
            )
    if kind not in (None, "osm", "atp"):
        # Any other value read every file as All The Places GeoJSON.
        raise InputError(Problem("kind", f"must be 'osm', 'atp' or None, not {shown(kind)}"))
    # One shop value given as text is one value, not its letters.
    wanted_shops = "shop values as text, e.g. ['car']"
    shops = tuple(text_list([shops] if isinstance(shops, str) else shops, "shops", wanted_shops))
    if not shops or not all(s.strip() for s in shops):
        raise InputError(Problem("shops", f"give {wanted_shops}, not {shown(shops)}"))
    callback(progress, "progress")
    wanted = requested_brands(brands)
    target = _output_path(out) if out is not None else None
    scans: list[SourceScan] = []
    kinds: list[SourceKind] = []
    problems: list[Problem | str] = []
    for path in paths:
        # Every file is read before giving up, so that one error lists all bad files.
        try:
            which = kind or _kind_of(path)
            if which == "osm":
                scans.append(read_extract(path, shops=tuple(shops), progress=progress))
            else:
                scans.append(read_atp(path, shops=tuple(shops), progress=progress))
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if which not in kinds:
            kinds.append(which)
    if problems:
        raise InputError(problems)
    table = dealer_table(scans, brands=wanted, shops=tuple(shops))
    result = DealerImport(
        **{f.name: getattr(table, f.name) for f in fields(table)}, kinds=tuple(kinds)
    )
    if target is not None:
        result.save(target)
    return result


def _kind_of(path: Path) -> SourceKind:
    if looks_like_extract(path):
        return "osm"
    if looks_like_geojson(path):
        return "atp"
    raise InputError(
        Problem(
            str(path),
            "is neither an OpenStreetMap extract (.osm.pbf) nor an All The Places GeoJSON "
            "file (.geojson)",
        )
    )


def _output_path(out: PathLike) -> Path:
    """``out`` checked before anything is read: a file name ending in ``.csv``, not a folder."""
    target = path_argument(out, "out")
    refuse_inside_output(target, "out")
    if target.suffix.lower() != ".csv":
        raise InputError(
            Problem(str(target), "the dealer file is written as CSV: give a name ending in .csv")
        )
    if target.is_dir():
        raise InputError(Problem(str(target), "is a folder; give a file name ending in .csv"))
    check_writable(target)  # a read-only folder, a name too long: before the import
    return target
