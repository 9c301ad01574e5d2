"""Sites: dealer files read, checked, harmonised and merged into candidate sites.

:func:`load_sites` reads every dealer file of the scenario (CSV, XLSX,
GeoJSON, GeoPackage, Parquet; see :mod:`planner.inputs.tables`), finds the columns
(:mod:`planner.inputs.columns`), checks every row (:mod:`planner.inputs.dealer_rows`, which
also says which problems stop a run and which only drop a row), keeps the
dealers of the scenario's countries and merges dealers of different brands
within ``merge_distance_m`` into one site (:mod:`planner.inputs.merge`).

Every row read is accounted for::

    counts["read"] == counts["sites"] + counts["merged"] + counts["dropped"]
                      + counts["outside_countries"]

where ``merged`` is the number of dealers that joined another dealer's site
(dealers minus sites). Every row is checked, also rows of countries the
scenario leaves out: a wrong value there still means a broken export.

Site attributes from several dealers: ``site_id`` is the smallest dealer id,
``name`` the dealers' names joined with " / " in dealer-id order, ``brands``
the sorted union, ``lon``/``lat`` the mean, ``country`` the most common
country (ties: the site id's dealer's), ``grid_kw`` and ``max_chargers`` the
largest known value, ``site_cost_eur`` the smallest known value (chargers are
built on one of the plots, the best one), ``fixed`` when any dealer is fixed,
``excluded`` only when every dealer is excluded (the other plot remains).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import geopandas
import numpy as np
import pandas

from planner._files import resolved
from planner._text import one_line
from planner.errors import InputError, Problem
from planner.inputs.cells import parse_brands
from planner.inputs.columns import OPTIONAL, choose_columns
from planner.inputs.dealer_rows import FileResult, validate_table
from planner.inputs.merge import site_labels
from planner.inputs.tables import RawTable, read_frame, read_tables
from planner.scenario.schema import DealerFile, DealersConfig

logger = logging.getLogger(__name__)

# Column lists: kept compact, a few entries to a line.
# fmt: off
#: Columns of :attr:`SiteLoad.sites`, in order.
SITE_COLUMNS = (
    "site_id", "name", "brands", "country", "lon", "lat", "n_dealers", "dealer_ids",
    "grid_kw", "site_cost_eur", "max_chargers", "fixed", "excluded", "geometry",
)
#: Columns of :attr:`SiteLoad.dealers`, in order.
DEALER_COLUMNS = (
    "dealer_id", "brand", "name", "country", "lon", "lat", "source", "row", *OPTIONAL,
    "site_id", "geometry",
)
# fmt: on


@dataclass(frozen=True)
class SiteLoad:
    """The candidate sites of a scenario and how they were obtained.

    Attributes
    ----------
    sites
        One row per site, EPSG:4326, sorted by ``site_id``; columns
        :data:`SITE_COLUMNS`.
    dealers
        The dealers kept, sorted by ``dealer_id``, with the ``site_id`` they
        belong to; columns :data:`DEALER_COLUMNS`.
    warnings
        Rows dropped or changed, one problem each (blank rows: one per file).
    counts
        ``read``, ``dropped``, ``dropped_by_reason``, ``outside_countries``,
        ``merged``, ``dealers``, ``sites``, ``swapped_fixed`` and ``files``
        (the same per file name).
    """

    sites: geopandas.GeoDataFrame
    dealers: geopandas.GeoDataFrame
    warnings: tuple[Problem, ...]
    counts: dict[str, Any]


def load_sites(
    config: DealersConfig,
    *,
    countries: list[str] | None,
    frames: Sequence[tuple[str, pandas.DataFrame]] | None = None,
) -> SiteLoad:
    """Read, check and merge the dealer files of a scenario into sites.

    Parameters
    ----------
    config
        The scenario's dealer section (files, column mappings, merge distance).
    countries
        ISO alpha-2 codes to keep; dealers elsewhere are counted under
        ``outside_countries``. None keeps every country.
    frames
        Dealer tables as ``(name, DataFrame)`` pairs (the Python API). When
        given they replace ``config.files``; each is read like a file with the
        default options (columns guessed from the headers) and messages name
        it by ``name``, e.g. ``"dealers table, row 3, field 'lat'"``.

    Returns
    -------
    The sites, the dealers, the warnings and the counts.

    Raises
    ------
    InputError
        With every problem found in every file when any file is unusable or
        any row cannot be trusted (see :mod:`planner.inputs.dealer_rows`).
    """
    tables = _table_readers(config, frames)
    results: list[FileResult] = []
    errors: list[Problem] = []
    for spec, source, read in tables:
        try:
            file_results = _load_file(spec, source, read)
        except InputError as exc:
            errors.extend(p if isinstance(p, Problem) else Problem(source, p) for p in exc.problems)
            continue
        for result in file_results:
            results.append(result)
            errors.extend(result.errors)
    errors.extend(_duplicates_across_files(results))
    if errors:
        raise InputError(errors, warnings=[w for r in results for w in r.warnings])

    wanted = None if countries is None else {c.strip().upper() for c in countries}
    per_file: dict[str, dict[str, Any]] = {}
    kept: list[dict[str, Any]] = []
    for result in results:
        inside = [d for d in result.dealers if wanted is None or d["country"] in wanted]
        kept.extend(inside)
        per_file[result.source] = {
            "read": result.read,
            "dropped": sum(result.dropped.values()),
            "dropped_by_reason": dict(sorted(result.dropped.items())),
            "outside_countries": len(result.dealers) - len(inside),
            "dealers": len(inside),
        }
    if not kept:
        raise InputError(_nothing_left(results, wanted))

    dealers = pandas.DataFrame.from_records(kept).sort_values("dealer_id", kind="stable")
    dealers = dealers.reset_index(drop=True)
    labels = site_labels(
        dealers["lon"].to_numpy(),
        dealers["lat"].to_numpy(),
        dealers["brand"].to_numpy(dtype=object),
        distance_m=config.merge_distance_m,
        same_brand=config.merge_same_brand,
    )
    sites, site_of_dealer = _sites(dealers, labels)
    dealers["site_id"] = site_of_dealer
    dealers_gdf = geopandas.GeoDataFrame(
        dealers,
        geometry=geopandas.points_from_xy(dealers["lon"], dealers["lat"]),
        crs="EPSG:4326",
    )[list(DEALER_COLUMNS)]

    dropped = Counter[str]()
    for result in results:
        dropped.update(result.dropped)
    counts: dict[str, Any] = {
        "read": sum(r.read for r in results),
        "dropped": sum(dropped.values()),
        "dropped_by_reason": dict(sorted(dropped.items())),
        "outside_countries": sum(f["outside_countries"] for f in per_file.values()),
        "dealers": len(dealers_gdf),
        "merged": len(dealers_gdf) - len(sites),
        "sites": len(sites),
        "swapped_fixed": sum(r.swapped_fixed for r in results),
        "files": per_file,
    }
    warnings = (
        tuple(w for r in results for w in r.warnings)
        + _fixed_outside(results, wanted)
        + _crowded_points(dealers)
    )
    logger.info(
        "dealers: %d rows read, %d dropped, %d outside the countries, %d merged, %d sites",
        counts["read"],
        counts["dropped"],
        counts["outside_countries"],
        counts["merged"],
        counts["sites"],
    )
    return SiteLoad(sites, dealers_gdf, warnings, counts)


#: Reads the dealer tables of a file of the scenario (one per sheet with ``sheet = "*"``)
#: or a data frame.
_Reader = Callable[[], list[RawTable]]


def _table_readers(
    config: DealersConfig, frames: Sequence[tuple[str, pandas.DataFrame]] | None
) -> list[tuple[DealerFile, str, _Reader]]:
    """The dealer tables to read: the frames when given, else the scenario's files."""
    if frames is not None:
        if not frames:
            raise InputError(Problem("dealers", "no dealer tables given"))
        readers: list[tuple[DealerFile, str, _Reader]] = []
        for name, frame in frames:
            # A frame has no file options to state, so it gets a file entry's defaults.
            spec = DealerFile(path=Path(name))
            readers.append((spec, name, partial(_frame_tables, frame, name, spec)))
        return readers
    if not config.files:
        raise InputError(Problem("scenario", "no dealer files given", field="dealers.files"))
    first: dict[tuple[Path, str | None, str | None], int] = {}
    for index, spec in enumerate(config.files):
        key = (resolved(Path(spec.path)), spec.sheet, spec.layer)
        if key in first:
            # Every dealer of it would become two sites with the same id.
            raise InputError(
                Problem(
                    str(spec.path),
                    f"listed twice (entries {first[key] + 1} and {index + 1}); list it once",
                    field="dealers.files",
                )
            )
        first[key] = index
    sources = _source_names(config.files)
    return [
        (spec, source, partial(read_tables, spec, source=source))
        for spec, source in zip(config.files, sources, strict=True)
    ]


def _frame_tables(frame: pandas.DataFrame, name: str, spec: DealerFile) -> list[RawTable]:
    return [read_frame(frame, source=name, spec=spec)]


def _load_file(spec: DealerFile, source: str, read: _Reader) -> list[FileResult]:
    file_brands: tuple[str, ...] | None = None
    brand_problems: list[Problem] = []
    if spec.brand is not None:
        file_brands, message = parse_brands(spec.brand)
        if message:
            brand_problems.append(
                Problem(source, message + " (given in the scenario)", field="brand")
            )
    results: list[FileResult] = []
    problems: list[Problem] = []
    for i, table in enumerate(read()):
        try:
            results.append(_load_table(spec, table, file_brands, [] if i else brand_problems))
        except InputError as exc:
            problems.extend(
                p if isinstance(p, Problem) else Problem(table.source, p) for p in exc.problems
            )
    if problems:
        raise InputError(problems)
    return results


def _load_table(
    spec: DealerFile,
    table: RawTable,
    file_brands: tuple[str, ...] | None,
    brand_problems: list[Problem],
) -> FileResult:
    source = table.source
    problems = list(brand_problems)
    choice, column_problems = choose_columns(
        table.headers,
        spec.columns,
        source=source,
        need_brand=spec.brand is None,
        need_coordinates=table.points is None,
    )
    problems.extend(column_problems)
    if problems:
        raise InputError(problems)
    result = validate_table(table, spec, choice, file_brands=file_brands)
    logger.debug("%s: %s; columns %s", source, "; ".join(table.notes), choice.columns)
    return result


def _source_names(files: list[DealerFile]) -> list[str]:
    """File names for messages; full paths where two files share a name."""
    names = [Path(f.path).name for f in files]
    clashes = {n for n, k in Counter(names).items() if k > 1}
    return [str(f.path) if n in clashes else n for f, n in zip(files, names, strict=True)]


def _duplicates_across_files(results: list[FileResult]) -> list[Problem]:
    first: dict[str, tuple[str, int]] = {}
    problems: list[Problem] = []
    for result in results:
        for dealer in result.dealers:
            earlier = first.setdefault(dealer["dealer_id"], (result.source, dealer["row"]))
            if earlier[0] != result.source:
                problems.append(
                    Problem(
                        result.source,
                        f"dealer id '{one_line(dealer['dealer_id'], limit=40)}' is also in "
                        f"{earlier[0]}, row "
                        f"{earlier[1]} (set id_prefix on one of the files to keep them apart)",
                        row=dealer["row"],
                    )
                )
    return problems


def _nothing_left(results: list[FileResult], wanted: set[str] | None) -> Problem:
    found = Counter(d["country"] for r in results for d in r.dealers)
    sources = ", ".join(r.source for r in results)
    if not found:
        return Problem(sources, "no usable dealer rows (every row was dropped)")
    listed = ", ".join(f"{c} ({n})" for c, n in sorted(found.items()))
    return Problem(
        sources,
        f"no dealer lies in the scenario's countries ({', '.join(sorted(wanted or ()))}); "
        f"the files have dealers in {listed}",
    )


def _sites(
    dealers: pandas.DataFrame, labels: np.ndarray
) -> tuple[geopandas.GeoDataFrame, list[str]]:
    """One record per site from the dealers (sorted by dealer id) and their labels."""
    members: dict[int, list[int]] = {}
    for pos, label in enumerate(labels.tolist()):
        members.setdefault(label, []).append(pos)
    ids = dealers["dealer_id"].tolist()
    names = dealers["name"].tolist()
    brands = dealers["brand"].tolist()
    country = dealers["country"].tolist()
    # Plain Python lists: indexing them per dealer is far faster than numpy or pandas.
    lon = dealers["lon"].astype(float).tolist()
    lat = dealers["lat"].astype(float).tolist()
    grid = dealers["grid_kw"].astype(float).tolist()
    cost = dealers["site_cost_eur"].astype(float).tolist()
    cap = dealers["max_chargers"].astype(float).tolist()
    fixed = dealers["fixed"].astype(bool).tolist()
    excluded = dealers["excluded"].astype(bool).tolist()
    site_of_dealer = [""] * len(ids)
    records = []
    for group in members.values():
        # Dealers are sorted by id, so the group's first dealer names the site.
        site_id = ids[group[0]]
        if len(group) == 1:
            p = group[0]
            site_of_dealer[p] = site_id
            records.append(
                {
                    "site_id": site_id,
                    "name": names[p],
                    "brands": brands[p],
                    "country": country[p],
                    "lon": lon[p],
                    "lat": lat[p],
                    "n_dealers": 1,
                    "dealer_ids": site_id,
                    "grid_kw": grid[p],
                    "site_cost_eur": cost[p],
                    "max_chargers": cap[p],
                    "fixed": fixed[p],
                    "excluded": excluded[p],
                }
            )
            continue
        for pos in group:
            site_of_dealer[pos] = site_id
        tally = Counter(country[p] for p in group)
        top = max(tally.values())
        records.append(
            {
                "site_id": site_id,
                "name": " / ".join(names[p] for p in group),
                "brands": ";".join(sorted({b for p in group for b in brands[p].split(";")})),
                "country": next(country[p] for p in group if tally[country[p]] == top),
                "lon": math.fsum(lon[p] for p in group) / len(group),
                "lat": math.fsum(lat[p] for p in group) / len(group),
                "n_dealers": len(group),
                "dealer_ids": ";".join(ids[p] for p in group),
                "grid_kw": _known([grid[p] for p in group], max),
                "site_cost_eur": _known([cost[p] for p in group], min),
                "max_chargers": _known([cap[p] for p in group], max),
                "fixed": any(fixed[p] for p in group),
                "excluded": all(excluded[p] for p in group),
            }
        )
    frame = pandas.DataFrame.from_records(
        records, columns=[c for c in SITE_COLUMNS if c != "geometry"]
    )
    frame = frame.sort_values("site_id", kind="stable").reset_index(drop=True)
    frame["n_dealers"] = frame["n_dealers"].astype("int64")
    sites = geopandas.GeoDataFrame(
        frame, geometry=geopandas.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    )
    return sites, site_of_dealer


def _known(values: list[float], pick: Any) -> float:
    known = [v for v in values if not math.isnan(v)]
    return float(pick(known)) if known else math.nan


#: Dealers at one and the same point from which a warning asks about their
#: geocoding: a Renault, a Dacia and a Nissan agent may share an address, ten
#: dealers rarely do.
CROWDED_POINT = 10


def _fixed_outside(results: list[FileResult], wanted: set[str] | None) -> tuple[Problem, ...]:
    """A warning for each file with dealers marked ``fixed`` in countries the scenario leaves out.

    The other dealers there are only counted, but a site the user said must
    open would vanish from the plan unsaid.
    """
    if wanted is None:
        return ()
    warnings = []
    for result in results:
        outside = [d for d in result.dealers if d["fixed"] and d["country"] not in wanted]
        if outside:
            shown = ", ".join(f"{d['dealer_id']} ({d['country']})" for d in outside[:5])
            more = f" and {len(outside) - 5:,} more" if len(outside) > 5 else ""
            warnings.append(
                Problem(
                    result.source,
                    f"{len(outside):,} dealer(s) marked fixed lie outside the scenario's "
                    f"countries and are left out of the plan: {shown}{more}",
                    field="fixed",
                )
            )
    return tuple(warnings)


def _crowded_points(dealers: pandas.DataFrame) -> tuple[Problem, ...]:
    """A warning for each point that at least :data:`CROWDED_POINT` dealers share exactly."""
    counts = dealers.groupby(["lon", "lat"], sort=False)["dealer_id"].agg(["size", "first"])
    crowded = counts[counts["size"] >= CROWDED_POINT].sort_values("size", ascending=False)
    return tuple(
        Problem(
            "dealers",
            f"{int(size):,} dealers (first {first}) share the point {float(lon):g}, "
            f"{float(lat):g}: were their addresses geocoded to a town or country centre? "
            "Dealers of different brands there merge into one site",
        )
        for (lon, lat), size, first in zip(
            crowded.index[:5], crowded["size"][:5], crowded["first"][:5], strict=True
        )
    )
