"""Dealers found in open data as one dealer table, with what was left out and why.

The readers (:mod:`~planner.inputs.importers.osm`,
:mod:`~planner.inputs.importers.atp`) hand over every shop whose tags name
a brand of the network, as :class:`FoundDealer` records of a
:class:`SourceScan`. :func:`dealer_table` then, in this order, drops (and
counts under the reason):

* ``brand not requested`` — a dealer of none of the brands asked for;
* ``no location`` — no point, or one whose lon/lat is not a finite number;
* ``coordinates out of range`` — a lon beyond ±180 or a lat beyond ±90 (a
  point off the globe has a location, a wrong one);
* ``duplicate id`` — the same OSM object or All The Places item again (two
  overlapping extracts, one file given twice); the first is kept;
* ``outside every country`` — the point lies in none of the country
  outlines the planner ships (Europe and its neighbours; see
  :func:`planner.inputs.countries.country_of`), so no scenario can use it.

The table's columns are those the dealer reader guesses without a mapping
(``dealer_id``, ``brand``, ``name``, ``country``, ``lon``, ``lat``) and, for
the reviewer, ``shop``, ``makes`` (the makes as tagged: ``Dacia``),
``matched_by``, ``address``, ``source`` and ``source_timestamp`` (the
extract's replication time or the crawl's collection time). No extra column
has a name the reader could take for one of its fields. Control characters in
texts (a line break or NUL in a name) become spaces; everything else is kept
as the source writes it.

Two kinds of points close together are reported, not changed: points of one
brand within the scenario's default merge distance of each other (a dealer's
sales and service points, one dealer mapped as a node and as a building),
which stay separate sites unless the scenario sets ``merge_same_brand``; and
points of different brands that close, which the site merge makes one
dual-brand site.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planner.errors import InputError, Problem
from planner.inputs.cells import BRAND_GROUPS
from planner.inputs.columns import normalise_header
from planner.inputs.countries import country_of
from planner.inputs.importers.brands import BrandMatch, searched_tags_text
from planner.travel.sphere import EARTH_RADIUS_M, chord_length, unit_vectors

#: The shop types read as dealers: sales (``car``) and workshops (``car_repair``).
DEALER_SHOPS = ("car", "car_repair")

#: Columns of the imported table, in order.
IMPORT_COLUMNS = (
    "dealer_id",
    "brand",
    "name",
    "country",
    "lon",
    "lat",
    "shop",
    "makes",
    "matched_by",
    "address",
    "source",
    "source_timestamp",
)

DROP_NOT_REQUESTED = "brand not requested"
DROP_NO_LOCATION = "no location"
DROP_OUT_OF_RANGE = "coordinates out of range"
DROP_DUPLICATE = "duplicate id"
DROP_OUTSIDE = "outside every country"

#: Points of one brand closer than this are reported as near-duplicates: the
#: scenario's default ``dealers.merge_distance_m``.
NEAR_DUPLICATE_M = 150.0

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")

#: Coordinates are written to 7 decimals, OpenStreetMap's own precision (about 1 cm).
COORDINATE_DECIMALS = 7


@dataclass(frozen=True)
class FoundDealer:
    """A shop of the network's brands as a reader found it.

    ``lon``/``lat`` are None when the source gave no usable point.
    ``addr_country`` is the source's ``addr:country``, only compared with the
    country the point lies in.
    """

    dealer_id: str
    match: BrandMatch
    name: str
    lon: float | None
    lat: float | None
    shop: str
    address: str = ""
    addr_country: str = ""


@dataclass
class SourceScan:
    """What one file gave: the dealers found and the shops left out, by reason."""

    path: Path
    label: str
    timestamp: str
    seen_what: str
    seen: int = 0
    found: list[FoundDealer] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    #: Points worth a look that the file itself raises (a way cut by the extract's edge).
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class ImportedDealers:
    """Dealers imported from open data, ready to write as a scenario's dealer file.

    Attributes
    ----------
    dealers
        One row per dealer, columns :data:`IMPORT_COLUMNS`, sorted by country
        and dealer id.
    sources
        One line per file read: its name, what it is, its timestamp and how many
        shops (OSM) or features (All The Places) it held.
    read
        Shops or features read in all files.
    dropped
        Rows left out, by reason (shops of other brands among them).
    counts
        ``by_brand``, ``by_make``, ``by_shop``, ``by_country``, ``by_matched_by``:
        the dealers kept.
    warnings
        Points worth a look (near-duplicates, an ``addr:country`` that differs
        from the point's country); the rows are kept.
    notes
        What the site merge will do with the table.
    """

    dealers: pd.DataFrame
    sources: tuple[str, ...]
    read: int
    dropped: dict[str, int]
    counts: dict[str, dict[str, int]]
    warnings: tuple[str, ...]
    notes: tuple[str, ...]

    def summary(self) -> list[str]:
        """What the import found, in lines for people (without the warnings)."""
        lines = list(self.sources)
        by_brand = ", ".join(f"{b} {n}" for b, n in self.counts["by_brand"].items())
        by_shop = ", ".join(f"{s or '(none)'} {n}" for s, n in self.counts["by_shop"].items())
        by_make = ", ".join(f"{m} {n}" for m, n in self.counts["by_make"].items())
        lines.append(
            f"kept {len(self.dealers)} dealer{'s' if len(self.dealers) != 1 else ''}: "
            f"{by_brand} (makes: {by_make}; shop: {by_shop})"
        )
        if self.dropped:
            reasons = ", ".join(f"{reason} {n}" for reason, n in self.dropped.items())
            lines.append(f"left out {sum(self.dropped.values())}: {reasons}")
        lines.extend(self.notes)
        return lines


def dealer_table(
    scans: list[SourceScan], *, brands: tuple[str, ...], shops: tuple[str, ...] = DEALER_SHOPS
) -> ImportedDealers:
    """Turn what the readers found into the dealer table; see the module docstring.

    Raises
    ------
    InputError
        When no dealer is left, naming the tags searched and why shops were left out.
    """
    dropped: Counter[str] = Counter()
    for scan in scans:
        dropped.update(scan.dropped)
    rows: list[dict[str, Any]] = []
    addr_countries: list[str] = []
    seen_ids: set[str] = set()
    for scan in scans:
        for found in scan.found:
            wanted = tuple(b for b in found.match.brands if b in brands)
            if not wanted:
                dropped[DROP_NOT_REQUESTED] += 1
                continue
            lon, lat = found.lon, found.lat
            if lon is None or lat is None or not (math.isfinite(lon) and math.isfinite(lat)):
                dropped[DROP_NO_LOCATION] += 1
                continue
            if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
                dropped[DROP_OUT_OF_RANGE] += 1
                continue
            dealer_id = _plain(found.dealer_id)
            if dealer_id in seen_ids:
                dropped[DROP_DUPLICATE] += 1
                continue
            seen_ids.add(dealer_id)
            assert found.lon is not None and found.lat is not None
            makes = ";".join(m for m in found.match.makes if _group_of(m, found.match) in wanted)
            rows.append(
                {
                    "dealer_id": dealer_id,
                    "brand": ";".join(wanted),
                    "name": _plain(found.name) or makes or ";".join(wanted),
                    "lon": round(found.lon, COORDINATE_DECIMALS),
                    "lat": round(found.lat, COORDINATE_DECIMALS),
                    "shop": _plain(found.shop),
                    "makes": makes,
                    "matched_by": found.match.matched_by,
                    "address": _plain(found.address),
                    "source": scan.label,
                    "source_timestamp": scan.timestamp,
                }
            )
            addr_countries.append(found.addr_country.strip().upper())
    table = pd.DataFrame(rows, columns=[c for c in IMPORT_COLUMNS if c != "country"])
    countries = country_of(table["lon"].to_numpy(float), table["lat"].to_numpy(float))
    table.insert(IMPORT_COLUMNS.index("country"), "country", countries)
    inside = countries != ""
    if not inside.all():
        dropped[DROP_OUTSIDE] += int((~inside).sum())
    warnings = _addr_country_warnings(table, np.asarray(addr_countries, dtype=object), inside)
    table = table[inside].sort_values(["country", "dealer_id"]).reset_index(drop=True)
    if table.empty:
        raise InputError(_nothing_found(scans, brands, shops, dropped))
    same, different = _close_pairs(table, NEAR_DUPLICATE_M)
    warnings += _near_duplicate_warnings(table, same)
    warnings += [warning for scan in scans for warning in scan.warnings]
    notes = []
    if len(different):
        notes.append(
            f"{len(different)} pair{'s' if len(different) != 1 else ''} of dealers of different "
            f"brands lie within {NEAR_DUPLICATE_M:g} m of each other: a scenario's site merge "
            "makes each one dual-brand site"
        )
    return ImportedDealers(
        dealers=table[list(IMPORT_COLUMNS)],
        sources=tuple(_source_line(scan) for scan in scans),
        read=sum(scan.seen for scan in scans),
        dropped=_most_first(dropped),
        counts=_counts(table),
        warnings=tuple(warnings),
        notes=tuple(notes),
    )


def _plain(text: str) -> str:
    """Text with control characters (line breaks, tabs, NUL) as spaces.

    Names from open data never need them, and a NUL or a stray line break
    would break the CSV for spreadsheets and for the dealer reader.
    """
    return _CONTROL.sub(" ", text).strip()


def _group_of(make: str, match: BrandMatch) -> str:
    """The network brand of a make as tagged (one of the match's brands)."""
    return BRAND_GROUPS.get(normalise_header(make), match.brands[0])


def _source_line(scan: SourceScan) -> str:
    when = f" of {scan.timestamp}" if scan.timestamp else " (no timestamp in the file)"
    return f"read {scan.path.name} ({scan.label}{when}): {scan.seen} {scan.seen_what}"


def _most_first(counted: Counter[Any]) -> dict[str, int]:
    """Counts, most first and ties by name: the same table always prints the same line."""
    ordered = sorted(counted.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return {str(k): int(v) for k, v in ordered}


def _counts(table: pd.DataFrame) -> dict[str, dict[str, int]]:
    def tally(values: Any) -> dict[str, int]:
        return _most_first(Counter(values))

    return {
        "by_brand": tally(b for text in table["brand"] for b in text.split(";")),
        "by_make": tally(m for text in table["makes"] for m in text.split(";") if m),
        "by_shop": tally(table["shop"]),
        "by_country": tally(table["country"]),
        "by_matched_by": tally(table["matched_by"]),
    }


def _close_pairs(table: pd.DataFrame, distance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of rows within ``distance_m``: (same brand text, different brand text)."""
    if len(table) < 2:
        empty = np.empty((0, 2), dtype=np.int64)
        return empty, empty
    xyz = unit_vectors(table["lon"].to_numpy(float), table["lat"].to_numpy(float))
    chord = chord_length(distance_m, EARTH_RADIUS_M)
    pairs = cKDTree(xyz).query_pairs(r=chord, output_type="ndarray")
    brand = table["brand"].to_numpy(object)
    same = brand[pairs[:, 0]] == brand[pairs[:, 1]]
    return pairs[same], pairs[~same]


def _near_duplicate_warnings(table: pd.DataFrame, pairs: np.ndarray) -> list[str]:
    if not len(pairs):
        return []
    ids = table["dealer_id"].to_numpy(object)
    brand = table["brand"].to_numpy(object)
    shop = table["shop"].to_numpy(object)
    lines = []
    for name in sorted(set(brand[pairs[:, 0]])):
        mine = pairs[brand[pairs[:, 0]] == name]
        both = mine[shop[mine[:, 0]] != shop[mine[:, 1]]]
        example = both[0] if len(both) else mine[0]
        lines.append(
            f"{len(mine)} pair{'s' if len(mine) != 1 else ''} of {name} points lie within "
            f"{NEAR_DUPLICATE_M:g} m of each other ({len(both)} of them a car shop beside a "
            f"workshop or another shop type), e.g. {ids[example[0]]} and {ids[example[1]]}: "
            "likely one dealer's sales and service points, or one dealer mapped twice. A "
            "scenario keeps them as separate sites unless [dealers] merge_same_brand = true"
        )
    return lines


def _addr_country_warnings(
    table: pd.DataFrame, addr_countries: np.ndarray, inside: np.ndarray
) -> list[str]:
    countries = table["country"].to_numpy(object)
    stated = np.array([len(c) == 2 and c.isalpha() for c in addr_countries], dtype=bool)
    differs = np.flatnonzero(inside & stated & (addr_countries != countries))
    if not differs.size:
        return []
    first = differs[0]
    return [
        f"{differs.size} dealer{'s' if differs.size != 1 else ''} lie in another country than "
        f"their addr:country says (e.g. {table['dealer_id'].iloc[first]}: addr:country "
        f"{addr_countries[first]}, point in {countries[first]}); the country of the point "
        "is written"
    ]


def _nothing_found(
    scans: list[SourceScan], brands: tuple[str, ...], shops: tuple[str, ...], dropped: Counter[str]
) -> Problem:
    names = ", ".join(scan.path.name for scan in scans)
    read = "; ".join(f"{scan.seen} {scan.seen_what} in {scan.path.name}" for scan in scans)
    left_out = ", ".join(f"{reason} {n}" for reason, n in _most_first(dropped).items())
    return Problem(
        names,
        f"no {' or '.join(brands)} dealer found: searched "
        f"{' and '.join(f'shop={s}' for s in shops)} with {searched_tags_text(brands)}; "
        f"read {read}" + (f"; left out: {left_out}" if left_out else ""),
    )
