"""Existing charger layers: a user's own file or the German Bundesnetzagentur register.

Two formats are read into one table, one row per charging station:

* ``generic`` — a CSV, XLSX, GeoJSON, GeoPackage or Parquet file with a power
  column (kW) and optionally a number of charging points, an id, an operator
  and a name. Coordinates come from lon/lat columns or from the geometry.
  Recognised column names (case, accents, spaces and bracketed units do not
  matter): power ``power_kw``, ``power``, ``max_power_kw``, ``kw``,
  ``nennleistung``, ``anschlussleistung``; points ``points``, ``n_points``,
  ``charging_points``, ``connectors``, ``anzahl_ladepunkte``; id
  ``charger_id``, ``station_id``, ``id``; operator ``operator``, ``network``,
  ``betreiber``; name ``name``, ``title``, ``address``; coordinates ``lon`` /
  ``lng`` / ``longitude`` / ``x`` and ``lat`` / ``latitude`` / ``y``.
* ``bnetza`` — the Ladesäulenregister of the Bundesnetzagentur (Germany's
  register of public charging points, CC BY 4.0): German headers
  (``Betreiber``, ``Adresse``/``Straße``, ``Postleitzahl Ort``,
  ``Längengrad [DG]``, ``Breitengrad [DG]``, ``Anschlussleistung [kW]`` or, in
  later editions, ``Nennleistung Ladeeinrichtung [kW]``, ``Anzahl
  Ladepunkte``). The official downloads are semicolon-separated Windows-1252
  text with decimal commas and title lines above the header; cleaned copies are
  comma-separated UTF-8. Both read the same. The station's connection power
  (``Anschlussleistung``) is its ``power_kw``.

``fmt="auto"`` picks ``bnetza`` when the header has ``Betreiber`` and one of
the register's power columns, ``generic`` otherwise.

Rows whose power is below ``min_power_kw`` are dropped and counted. A cell
that cannot be read (a power that is not a number, coordinates missing or out
of range, points not a positive whole number) is an :class:`InputError`
naming file, row and field; every such problem in the file is reported at
once. The counts of rows read, kept and dropped are in the result's
``attrs["counts"]``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from planner._text import one_line
from planner.errors import InputError, Problem
from planner.inputs.cells import NumberStyle, cell_text, is_blank, number_style, parse_number, shown
from planner.inputs.columns import columns_headed_alike, normalise_header
from planner.inputs.raw import shifted_rows
from planner.inputs.tables import Cell, RawTable, read_table
from planner.inputs.units import unit_scale
from planner.scenario.schema import DealerFile

logger = logging.getLogger(__name__)

__all__ = ["CHARGER_COLUMNS", "load_chargers"]

#: Columns of the table :func:`load_chargers` returns, in order.
CHARGER_COLUMNS = ("charger_id", "operator", "name", "power_kw", "points", "lon", "lat", "geometry")

Format = Literal["auto", "generic", "bnetza"]

# Normalised header names (see planner.inputs.columns.normalise_header) of each field.
_GENERIC = {
    "charger_id": ("chargerid", "stationid", "id", "uuid", "ladeeinrichtungsid"),
    "operator": ("operator", "operatorname", "network", "betreiber"),
    "name": ("name", "title", "stationname", "address", "adresse"),
    "power_kw": (
        "powerkw",
        "power",
        "maxpowerkw",
        "maxpower",
        "kw",
        "nennleistung",
        "anschlussleistung",
        "nennleistungladeeinrichtung",
    ),
    "points": (
        "points",
        "npoints",
        "chargingpoints",
        "numberofpoints",
        "connectors",
        "anzahlladepunkte",
        "ladepunkte",
    ),
    "lon": ("lon", "lng", "long", "longitude", "x", "langengrad"),
    "lat": ("lat", "latitude", "y", "breitengrad"),
}
_BNETZA = {
    "charger_id": ("ladeeinrichtungsid",),
    "operator": ("betreiber",),
    "power_kw": ("anschlussleistung", "nennleistungladeeinrichtung", "nennleistung"),
    "points": ("anzahlladepunkte",),
    "lon": ("langengrad",),
    "lat": ("breitengrad",),
    "street": ("adresse", "strasse"),
    "number": ("hausnummer",),
    "postcode_town": ("postleitzahlort",),
    "postcode": ("postleitzahl",),
    "town": ("ort",),
}
_REQUIRED = ("power_kw",)
#: Most kW and charging points a station may have: about ten times the grid
#: connection (some 10 MW) and the points of the largest charging hubs. They
#: catch a misread or corrupted number (1e12) before it reaches the report.
MAX_POWER_KW = 100_000.0
MAX_POINTS = 5_000
#: Fields read as numbers; their cells tell the file's decimal mark.
_NUMBER_FIELDS = ("power_kw", "points", "lon", "lat")

#: Records a problem of the current row: (field, message).
_Report = Callable[[str, str], None]


def load_chargers(
    path: Path, *, fmt: Format = "auto", min_power_kw: float = 0.0
) -> gpd.GeoDataFrame:
    """Read a layer of existing charging stations.

    Parameters
    ----------
    path
        A generic charger file (CSV, XLSX, GeoJSON, GeoPackage, Parquet) or a
        Bundesnetzagentur Ladesäulenregister CSV.
    fmt
        ``"generic"``, ``"bnetza"`` or ``"auto"`` to tell them apart by the header.
    min_power_kw
        Keep stations of at least this power (e.g. 150 for high-power chargers).

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, columns ``charger_id`` (str), ``operator`` (str), ``name``
        (str), ``power_kw`` (float), ``points`` (int), ``lon``, ``lat``,
        ``geometry`` (points). ``attrs["counts"]`` holds ``read``, ``kept``,
        ``below_min_power`` and ``blank`` (empty rows) and ``attrs["format"]``
        the format read.

    Raises
    ------
    InputError
        The file is missing or unreadable, a needed column is absent, or cells
        cannot be read (all such problems at once, each with file, row and field).
    """
    if fmt not in ("auto", "generic", "bnetza"):
        raise InputError(Problem(str(path), f"unknown charger file format {fmt!r}", field="fmt"))
    if not (isinstance(min_power_kw, int | float) and math.isfinite(min_power_kw)):
        raise InputError(Problem(str(path), "min_power_kw must be a number", field="min_power_kw"))
    source = Path(path).name
    table = _register_header(read_table(DealerFile(path=Path(path)), source=source))
    headers = [normalise_header(h) for h in table.headers]
    chosen: Literal["generic", "bnetza"] = (
        fmt if fmt != "auto" else ("bnetza" if _looks_like_bnetza(headers) else "generic")
    )
    columns = _columns(headers, _BNETZA if chosen == "bnetza" else _GENERIC)
    alike = columns_headed_alike(source, table.headers, columns) + shifted_rows(table)
    if chosen == "generic":
        alike += _rival_columns(source, table.headers, headers)
    if alike:
        raise InputError(alike)
    missing = [name for name in _REQUIRED if columns.get(name) is None]
    if table.points is None:
        missing += [name for name in ("lon", "lat") if columns.get(name) is None]
    if missing:
        listed = ", ".join(repr(h) for h in table.headers)
        generic = _columns(headers, _GENERIC)
        if chosen == "bnetza" and all(generic.get(name) is not None for name in missing):
            # Its columns are a generic file's: the stated format is what is wrong.
            message = (
                f"is not a BNetzA register export (its columns are {listed}); set format = "
                '"generic" or "auto" for it'
            )
        else:
            message = (
                f"no column for {', '.join(missing)} in this {chosen} charger file; its "
                f"columns are {listed}"
            )
        raise InputError(Problem(source, message))
    frame, counts = _rows(table, columns, chosen, float(min_power_kw))
    logger.info(
        "%s: %d stations read as %s, %d kept (%d below %g kW, %d blank rows)",
        source,
        counts["read"],
        chosen,
        counts["kept"],
        counts["below_min_power"],
        min_power_kw,
        counts["blank"],
    )
    result = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    )
    result = result[list(CHARGER_COLUMNS)]
    result.attrs["counts"] = counts
    result.attrs["format"] = chosen
    return result


#: Fields of a generic file whose column must be unmistakable, and their names in messages.
_RIVALLED = {"power_kw": "power", "lon": "longitude", "lat": "latitude"}
#: Axis names a geographic name beside them wins over (as in dealer files).
_AXES = frozenset({"x", "y"})


def _rival_columns(source: str, raw: list[str], headers: list[str]) -> list[Problem]:
    """A problem for each field two columns of a generic file could hold.

    ``power_kw`` beside ``power`` (150 against 22 on every row): taking the
    first by the order of the names would decide the stations kept without
    a word. The register's own columns name its power twice on purpose and
    are read by its format.
    """
    problems = []
    for field, label in _RIVALLED.items():
        matches = [
            raw[i]
            for i, name in enumerate(headers)
            if name in _GENERIC[field] and name not in _AXES
        ]
        if len(matches) > 1:
            listed = " and ".join(f"'{one_line(name)}'" for name in matches)
            problems.append(
                Problem(
                    source,
                    f"{len(matches)} columns could be the {label}: {listed}; keep one "
                    "and remove or rename the others",
                    field=field,
                )
            )
    return problems


def _looks_like_bnetza(headers: list[str]) -> bool:
    power = {"anschlussleistung", "nennleistungladeeinrichtung"}
    return "betreiber" in headers and bool(power & set(headers))


def _register_header(table: RawTable) -> RawTable:
    """Move the header down to the register's ``Betreiber`` line if title lines sit above it.

    Register downloads put two or three lines of title and notes above the
    table; a note with two filled cells would otherwise pass for the header.
    """
    if any(normalise_header(h) == "betreiber" for h in table.headers):
        return table
    for index, row in enumerate(table.rows[:20]):
        names = [normalise_header(cell_text(c)) for c in row]
        if "betreiber" in names and _looks_like_bnetza(names):
            return RawTable(
                table.source,
                [cell_text(c).strip() for c in row],
                table.rows[index + 1 :],
                table.row_numbers[index + 1 :],
                None if table.points is None else table.points[index + 1 :],
                table.notes,
            )
    return table


def _columns(headers: list[str], names: dict[str, tuple[str, ...]]) -> dict[str, int | None]:
    """Position of each field's column: the first header matching its names in order."""
    found: dict[str, int | None] = {}
    for field, candidates in names.items():
        found[field] = next((headers.index(name) for name in candidates if name in headers), None)
    return found


#: Power units a header may state in brackets (``Power [W]``), as factors to kW.
def _rows(
    table: RawTable, columns: dict[str, int | None], fmt: str, min_power_kw: float
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Parse every row; collect all problems, then raise once."""
    problems: list[Problem] = []
    records: list[tuple[str, str, str, float, int, float, float]] = []
    counts = {"read": 0, "kept": 0, "below_min_power": 0, "blank": 0}
    header = table.headers
    seen: dict[str, int] = {}

    def cell(cells: list[Cell], field: str) -> Cell:
        index = columns.get(field)
        return cells[index] if index is not None and index < len(cells) else None

    def column_name(field: str) -> str:
        index = columns.get(field)
        return header[index] if index is not None else field

    style = _number_style(table, columns)
    # A power of '1.500' beside coordinates written with '.' decimals is read as
    # 1.5 kW, which drops the station below min_power_kw: say so, as dealer and
    # demand files do.
    for column, note in style.borrowed_notes():
        logger.warning("%s", Problem(table.source, note, field=column))
    # Headers match with their brackets dropped: "Power [W]" would read watts as kW.
    scale = unit_scale(column_name("power_kw"), "power", table.source, column_name("power_kw"))

    def number(cells: list[Cell], field: str) -> tuple[float | None, str | None]:
        return parse_number(cell(cells, field), style, column_name(field))

    for position, (cells, row) in enumerate(zip(table.rows, table.row_numbers, strict=True)):
        if all(is_blank(c) for c in cells):
            counts["blank"] += 1
            continue
        counts["read"] += 1
        before = len(problems)

        def fail(field: str, message: str, row: int = row) -> None:
            problems.append(Problem(table.source, message, row=row, field=column_name(field)))

        charger_id = cell_text(cell(cells, "charger_id")).strip()
        if not charger_id:
            charger_id = f"{'bnetza' if fmt == 'bnetza' else Path(table.source).stem}-{row}"
        elif charger_id in seen:
            fail("charger_id", f"id '{charger_id}' already used in row {seen[charger_id]}")
        else:
            seen[charger_id] = row
        power, error = number(cells, "power_kw")
        power = None if power is None else power * scale
        if error:
            fail("power_kw", error)
        elif power is None:
            fail("power_kw", "the power is missing")
        elif power < 0:
            fail("power_kw", f"{shown(cell(cells, 'power_kw'))} is negative")
        elif power > MAX_POWER_KW:
            fail("power_kw", f"{power:g} kW: more than any station")
        points = _points(cell(cells, "points"), number(cells, "points"), fail)
        lon, lat = _coordinates(table, position, number(cells, "lon"), number(cells, "lat"), fail)
        if len(problems) > before or power is None or lon is None or lat is None:
            continue
        if power < min_power_kw:
            counts["below_min_power"] += 1
            continue
        operator = cell_text(cell(cells, "operator")).strip()
        name = _bnetza_name(cells, cell) if fmt == "bnetza" else cell_text(cell(cells, "name"))
        records.append((charger_id, operator, name.strip(), power, points, lon, lat))
    if problems:
        raise InputError(problems)
    counts["kept"] = len(records)
    frame = pd.DataFrame.from_records(
        records, columns=["charger_id", "operator", "name", "power_kw", "points", "lon", "lat"]
    )
    frame = frame.astype(
        {"power_kw": np.float64, "points": np.int64, "lon": np.float64, "lat": np.float64}
    )
    return frame, counts


def _number_style(table: RawTable, columns: dict[str, int | None]) -> NumberStyle:
    """The file's number convention, from the cells of its number columns."""
    return number_style(
        {
            table.headers[i]: [row[i] if i < len(row) else None for row in table.rows]
            for name, i in columns.items()
            if name in _NUMBER_FIELDS and i is not None
        },
        bounds={
            table.headers[i]: bound
            for name, bound in (("lon", 180.0), ("lat", 90.0))
            if (i := columns.get(name)) is not None
        },
        statable=False,
    )


def _points(value: Cell, parsed: tuple[float | None, str | None], fail: _Report) -> int:
    """Charging points of a station; one when the file does not say."""
    number, error = parsed
    if error is None and number is None:
        return 1
    if error is None and number is not None and number > MAX_POINTS:
        fail("points", f"{number:g} charging points: more than any station")
        return 1
    if error is None and number is not None and number >= 1 and float(number).is_integer():
        return int(number)
    message = error or f"{shown(value)} is not a positive whole number of charging points"
    fail("points", message)
    return 1


def _coordinates(
    table: RawTable,
    position: int,
    lon_parsed: tuple[float | None, str | None],
    lat_parsed: tuple[float | None, str | None],
    fail: _Report,
) -> tuple[float | None, float | None]:
    """Lon/lat parsed from the columns, else from the row's geometry; checked for range."""
    report = fail
    lon, lon_error = lon_parsed
    lat, lat_error = lat_parsed
    if lon is None and lat is None and lon_error is None and lat_error is None:
        if table.points is not None:
            lon, lat = table.points[position]
        if lon is None or lat is None:
            report("lon", "the coordinates are missing")
            return None, None
    if lon_error or lat_error:
        if lon_error:
            report("lon", lon_error)
        if lat_error:
            report("lat", lat_error)
        return None, None
    if lon is None or lat is None:
        report("lon" if lon is None else "lat", "one of the two coordinates is missing")
        return None, None
    if not -180.0 <= lon <= 180.0:
        report("lon", f"longitude {lon:g} is outside -180..180")
        return None, None
    if not -90.0 <= lat <= 90.0:
        report("lat", f"latitude {lat:g} is outside -90..90")
        return None, None
    if lon == 0.0 and lat == 0.0:
        report("lon", "coordinates 0, 0 are a placeholder, not a place")
        return None, None
    return lon, lat


def _bnetza_name(cells: list[Cell], get: Callable[[list[Cell], str], Cell]) -> str:
    """The register's address as the station's name: street, postcode and town."""
    street = cell_text(get(cells, "street")).strip()
    number = cell_text(get(cells, "number")).strip()
    town = cell_text(get(cells, "postcode_town")).strip()
    if not town:
        parts = (get(cells, "postcode"), get(cells, "town"))
        town = " ".join(cell_text(p).strip() for p in parts).strip()
    line = f"{street} {number}".strip()
    return ", ".join(part for part in (line, town) if part)
