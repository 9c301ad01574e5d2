"""Checking every row of a dealer file and turning it into dealer records.

What stops a run (an **error**, raised together as one
:class:`~planner.errors.InputError`) and what only drops a row (a
**warning**, counted by reason):

Errors: a value that is present but wrong signals a wrong column mapping or a
broken export, and dropping it quietly would hide that.

* dealer id empty; the same id on two rows that differ (within or across files);
* brand empty or unknown; country empty or not a country;
* a coordinate that is not a finite number, or out of range; a latitude
  without a longitude or the other way round;
* coordinates plainly outside the stated country: more than 3 km inside
  another country's outline, or outside the country's box where no outline
  decides (see :mod:`planner.inputs.placement`), including likely swapped lon/lat
  (unless the file's ``fix_swapped_coordinates`` is set);
* an optional value that is not a number / not yes-no, negative, a
  ``max_chargers`` that is not whole, a dealer both fixed and excluded.

Warnings (the row is dropped and counted under the reason):

* ``blank row`` — every cell empty;
* ``duplicate row`` — a row identical to an earlier row of the same file;
* ``missing coordinates`` — neither lon nor lat (or no geometry): the dealer
  is not geocoded, so it cannot be a site.

Also a warning, the row kept: an empty name (the dealer id stands in),
swapped coordinates that were fixed, and coordinates 1 to 3 km inside a
neighbouring country's outline (the simplified outlines cannot tell such a
dealer from one at the border).

Texts (ids, names) are kept exactly as written apart from surrounding
whitespace: accents, quotes, angle brackets, right-to-left text and control
characters inside a name are preserved; escaping them is the job of each
output format.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner._text import one_line
from planner.errors import Problem
from planner.inputs.cells import (
    NumberStyle,
    cell_text,
    country_name,
    is_blank,
    number_style,
    parse_brands,
    parse_country,
    parse_flag,
    parse_number,
    shown,
)
from planner.inputs.columns import LABELS, OPTIONAL, ColumnChoice
from planner.inputs.merge import haversine_m
from planner.inputs.placement import IN_PLACE, NEAR_BORDER, OUTSIDE, place
from planner.inputs.raw import shifted_row
from planner.inputs.tables import Cell, RawTable
from planner.inputs.units import Quantity, unit_scale
from planner.scenario.fields import MAX_COST_EUR
from planner.scenario.schema import DealerFile

DROP_BLANK = "blank row"
DROP_DUPLICATE = "duplicate row"
DROP_NO_COORDINATES = "missing coordinates"


@dataclass
class FileResult:
    """The dealers of one file and what was found on the way."""

    source: str
    read: int = 0
    dealers: list[dict[str, Any]] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    swapped_fixed: int = 0


#: Fields read as numbers; their cells tell the file's decimal mark.
NUMBER_FIELDS = ("lon", "lat", "grid_kw", "site_cost_eur", "max_chargers")

#: The largest value one site can have, far above any real one (a 10 GW grid
#: connection, €10 bn, 1,000 chargers where the largest hubs have some
#: hundreds of points): beyond it a number is misread or corrupt, and it would
#: overflow the cost sums.
OPTIONAL_MAXIMA = {"grid_kw": 1e7, "site_cost_eur": MAX_COST_EUR, "max_chargers": 1e3}


@dataclass(frozen=True)
class _Columns:
    index: dict[str, int]
    names: dict[str, str]
    numbers: NumberStyle = field(default_factory=NumberStyle)
    #: The factor taking a field's values to its unit (kW, EUR), by its header.
    scales: dict[str, float] = field(default_factory=dict)

    def number(self, cells: list[Cell], name: str) -> tuple[float | None, str | None]:
        """The number in field ``name`` of a row, read by the file's convention."""
        value, message = parse_number(_cell(cells, self, name), self.numbers, self.names.get(name))
        scale = self.scales.get(name, 1.0)
        return (value * scale if value is not None and scale != 1.0 else value), message


#: The fields whose header may state a unit, and what they hold.
_UNIT_FIELDS: tuple[tuple[str, Quantity], ...] = (("grid_kw", "power"), ("site_cost_eur", "money"))

#: The largest magnitude of each coordinate, degrees.
COORDINATE_BOUNDS = {"lon": 180.0, "lat": 90.0}


#: How far a file's lon/lat columns may lie from its point geometry before a warning.
_COLUMNS_APART_M = 1000.0


def _columns_apart(cells: list[Cell], cols: _Columns, dealer: dict[str, Any]) -> float:
    """Metres between a row's lon/lat columns and the dealer's point; 0 when they are no numbers.

    The geometry is the point read; columns that disagree with it are a sign
    that one of them was edited or shifted.
    """
    lon, _ = cols.number(cells, "lon")
    lat, _ = cols.number(cells, "lat")
    if lon is None or lat is None:
        return 0.0
    if abs(lon) > COORDINATE_BOUNDS["lon"] or abs(lat) > COORDINATE_BOUNDS["lat"]:
        return 0.0
    return haversine_m(lon, lat, float(dealer["lon"]), float(dealer["lat"]))


def _number_style(table: RawTable, cols: _Columns, decimal: str | None) -> NumberStyle:
    """The file's number convention: the scenario's ``decimal``, else its number columns'."""
    return number_style(
        {
            cols.names[name]: [row[i] if i < len(row) else None for row in table.rows]
            for name, i in cols.index.items()
            if name in NUMBER_FIELDS
        },
        bounds={cols.names[n]: COORDINATE_BOUNDS[n] for n in COORDINATE_BOUNDS if n in cols.names},
        decimal=decimal,
    )


def validate_table(
    table: RawTable, spec: DealerFile, choice: ColumnChoice, *, file_brands: tuple[str, ...] | None
) -> FileResult:
    """Check every row of a table; return the dealers and the problems.

    Parameters
    ----------
    table
        The file's cells.
    spec
        The file's entry in the scenario.
    choice
        The column chosen for each field.
    file_brands
        The brands given for the whole file in the scenario, or None to read
        them from the brand column.
    """
    result = FileResult(table.source, read=len(table.rows))
    positions = {h: i for i, h in reversed(list(enumerate(table.headers)))}
    names = {f: c for f, c in choice.columns.items() if c is not None and c in positions}
    cols = _Columns({f: positions[c] for f, c in names.items()}, names)
    # Headers match with their brackets dropped: "Cost (kEUR)" would read thousands as euros.
    scales = {
        name: unit_scale(names[name], quantity, table.source, name)
        for name, quantity in _UNIT_FIELDS
        if name in names
    }
    cols = _Columns(cols.index, cols.names, _number_style(table, cols, spec.decimal), scales)
    transformer = _transformer(spec, table.source, result) if spec.crs else None
    seen_rows: dict[tuple[str, ...], int] = {}
    seen_ids: dict[str, int] = {}
    blank_rows: list[int] = []
    coordinate_fields: list[str | None] = []
    disagree: list[tuple[int, float]] = []
    # Coordinate columns named in the scenario win over the file's geometry.
    points = table.points if spec.columns.lon is None and spec.columns.lat is None else None
    for pos, (cells, number) in enumerate(zip(table.rows, table.row_numbers, strict=True)):
        point = points[pos] if points is not None else None
        if all(is_blank(c) for c in cells) and (point is None or point[0] is None):
            blank_rows.append(number)
            continue
        key = tuple(cell_text(c).strip() for c in cells) + tuple(map(str, point or ()))
        if key in seen_rows:
            result.dropped[DROP_DUPLICATE] += 1
            result.warnings.append(
                Problem(
                    table.source,
                    f"same as row {seen_rows[key]}: row dropped ({DROP_DUPLICATE})",
                    row=number,
                )
            )
            continue
        seen_rows[key] = number
        shifted = shifted_row(table, cells, number)
        if shifted is not None:
            result.errors.append(shifted)
            continue
        dealer = _check_row(cells, number, point, cols, spec, file_brands, transformer, result)
        if dealer is None:
            continue
        earlier = seen_ids.get(dealer["dealer_id"])
        if earlier is not None:
            result.errors.append(
                Problem(
                    table.source,
                    f"dealer id '{one_line(dealer['dealer_id'], limit=40)}' is also on row "
                    f"{earlier}",
                    row=number,
                    field=cols.names.get("id"),
                )
            )
            continue
        seen_ids[dealer["dealer_id"]] = number
        result.dealers.append(dealer)
        coordinate_fields.append(_coordinate_field(cols, point))
        if point is not None and "lon" in cols.index and "lat" in cols.index:
            apart = _columns_apart(cells, cols, dealer)
            if apart > _COLUMNS_APART_M:
                disagree.append((number, apart))
    _check_countries(result, spec, coordinate_fields)
    result.warnings += [
        Problem(table.source, note, field=column) for column, note in cols.numbers.borrowed_notes()
    ]
    if disagree:
        row, apart = disagree[0]
        result.warnings.append(
            Problem(
                table.source,
                f"{len(disagree):,} row(s) have {cols.names['lon']}/{cols.names['lat']} columns "
                f"more than {_COLUMNS_APART_M / 1000:g} km from their point geometry (first: "
                f"row {row}, {apart / 1000:,.1f} km); the geometry is used",
            )
        )
    if blank_rows:
        result.dropped[DROP_BLANK] += len(blank_rows)
        listed = ", ".join(map(str, blank_rows[:10])) + (", ..." if len(blank_rows) > 10 else "")
        result.warnings.append(
            Problem(
                table.source,
                f"{len(blank_rows)} blank row{_s(blank_rows)} skipped "
                f"(row{_s(blank_rows)} {listed})",
            )
        )
    # The country check runs after the rows: keep the problems in row order.
    result.errors.sort(key=_row_order)
    result.warnings.sort(key=_row_order)
    return result


def _row_order(problem: Problem) -> tuple[bool, int]:
    return (problem.row is None, problem.row or 0)


def _s(items: list[int]) -> str:
    return "" if len(items) == 1 else "s"


def _cell(cells: list[Cell], cols: _Columns, name: str) -> Cell:
    i = cols.index.get(name)
    return cells[i] if i is not None and i < len(cells) else None


def _check_row(
    cells: list[Cell],
    number: int,
    point: tuple[float | None, float | None] | None,
    cols: _Columns,
    spec: DealerFile,
    file_brands: tuple[str, ...] | None,
    transformer: Any,
    result: FileResult,
) -> dict[str, Any] | None:
    """One row as a dealer record, or None when it is dropped or wrong."""
    source = result.source
    problems: list[Problem] = []

    def fail(message: str, name: str) -> None:
        column = "geometry" if name == "geometry" else cols.names.get(name)
        problems.append(Problem(source, message, row=number, field=column))

    id_cell = _cell(cells, cols, "id")
    dealer_id = cell_text(id_cell).strip()
    if not dealer_id:
        fail("dealer id is empty", "id")
    elif isinstance(id_cell, float) and abs(id_cell) >= 1e15:
        # A workbook keeps 15 digits of a number: longer ids run together.
        fail(
            f"id {dealer_id} is a number of 16 or more digits, of which a number keeps only "
            "15; store the ids as text",
            "id",
        )
    name = cell_text(_cell(cells, cols, "name")).strip()
    if file_brands is not None:
        brands: tuple[str, ...] | None = file_brands
        # The scenario's brand wins; a brand column that says otherwise is not overruled unsaid.
        written = cell_text(_cell(cells, cols, "brand")).strip()
        said, brand_problem = parse_brands(written) if written else (None, None)
        if said is not None and not brand_problem and set(said) != set(file_brands):
            result.warnings.append(
                Problem(
                    source,
                    f"the brand column says {' and '.join(said)}, the scenario's brand "
                    f"({' and '.join(file_brands)}) is used",
                    row=number,
                    field=cols.names.get("brand"),
                )
            )
    else:
        brands, message = parse_brands(cell_text(_cell(cells, cols, "brand")))
        if message:
            fail(message, "brand")
    country, message = parse_country(cell_text(_cell(cells, cols, "country")))
    if message:
        fail(message, "country")
    optional = _check_optional(cells, cols, fail)
    lonlat = _check_coordinates(cells, point, cols, transformer, fail)
    if problems:
        result.errors.extend(problems)
        return None
    if lonlat is None:
        result.dropped[DROP_NO_COORDINATES] += 1
        result.warnings.append(
            Problem(
                source,
                f"no coordinates: row dropped ({DROP_NO_COORDINATES})",
                row=number,
                field=_coordinate_field(cols, point),
            )
        )
        return None
    assert country is not None and brands is not None
    lon, lat = lonlat
    if not name:
        name = spec.id_prefix + dealer_id
        result.warnings.append(
            Problem(
                source,
                "name is empty: the dealer id stands in",
                row=number,
                field=cols.names.get("name"),
            )
        )
    return {
        "dealer_id": spec.id_prefix + dealer_id,
        "brand": ";".join(brands),
        "name": name,
        "country": country,
        "lon": lon,
        "lat": lat,
        "source": source,
        "row": number,
        **optional,
    }


def _check_optional(cells: list[Cell], cols: _Columns, fail: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ("grid_kw", "site_cost_eur", "max_chargers"):
        value, message = cols.number(cells, name)
        if message:
            fail(message, name)
        elif value is not None and value < 0:
            fail(f"{value!r} must not be negative", name)
        elif value is not None and value > OPTIONAL_MAXIMA[name]:
            most = OPTIONAL_MAXIMA[name]
            fail(f"{value:.6g} is above {most:,.0f}: not a {name} of one site", name)
        elif name == "max_chargers" and value is not None and not value.is_integer():
            fail(f"{value!r} is not a whole number of chargers", name)
        values[name] = math.nan if value is None else value
    for name in ("fixed", "excluded"):
        flag, message = parse_flag(_cell(cells, cols, name))
        if message:
            fail(message, name)
        values[name] = bool(flag)
    if values["fixed"] and values["excluded"]:
        fail("a dealer cannot be both fixed and excluded", "excluded")
    assert set(values) == set(OPTIONAL)
    return values


def _check_coordinates(
    cells: list[Cell],
    point: tuple[float | None, float | None] | None,
    cols: _Columns,
    transformer: Any,
    fail: Any,
) -> tuple[float, float] | None:
    """Lon/lat in degrees, or None when missing; problems go to ``fail``."""
    if point is not None and point[0] is not None and point[1] is not None:
        return _in_range(point[0], point[1], "lon", "lat", fail, geometry=True)
    if "lon" not in cols.index or "lat" not in cols.index:
        return None
    lon, lon_message = cols.number(cells, "lon")
    lat, lat_message = cols.number(cells, "lat")
    if lon_message:
        fail(lon_message, "lon")
    if lat_message:
        fail(lat_message, "lat")
    if lon_message or lat_message:
        return None
    if (lon is None) != (lat is None):
        # Half a position is a broken export or a wrong column, not an ungeocoded dealer.
        missing, given = ("lon", "latitude") if lon is None else ("lat", "longitude")
        fail(f"{LABELS[missing]} is empty but the {given} is given", missing)
        return None
    if lon is None or lat is None:
        return None
    if transformer is not None:
        lon, lat = transformer.transform(lon, lat)
        if not (math.isfinite(lon) and math.isfinite(lat)):
            fail("these coordinates cannot be reprojected from the file's crs", "lon")
            return None
        return _in_range(lon, lat, "lon", "lat", fail, geometry=False)
    written = (_cell(cells, cols, "lon"), _cell(cells, cols, "lat"))
    return _in_range(lon, lat, "lon", "lat", fail, geometry=False, written=written)


def _in_range(
    lon: float,
    lat: float,
    lon_name: str,
    lat_name: str,
    fail: Any,
    *,
    geometry: bool,
    written: tuple[Cell, Cell] | None = None,
) -> tuple[float, float] | None:
    """The point when within the degrees' ranges; problems go to ``fail``.

    ``written`` are the cells as the file gives them, quoted beside a reading
    they do not show: '4.352.123' read as 4352123 (its dots group thousands).
    """
    ok = True
    hint = "; projected coordinates? state the file's crs in the scenario"

    def shown_as(value: float, cell: Cell | None) -> str:
        if cell is None or isinstance(cell, int | float):
            return repr(value)
        try:
            plain = float(cell_text(cell).strip()) == value
        except ValueError:
            plain = False
        return repr(value) if plain else f"{shown(cell)} (read as {value:,.15g})"

    cells: tuple[Cell | None, Cell | None] = written if written is not None else (None, None)
    if not -180.0 <= lon <= 180.0:
        fail(
            f"{shown_as(lon, cells[0])} is out of range [-180, 180]"
            + (hint if abs(lon) > 1000 else ""),
            "geometry" if geometry else lon_name,
        )
        ok = False
    if not -90.0 <= lat <= 90.0:
        fail(
            f"{shown_as(lat, cells[1])} is out of range [-90, 90]"
            + (hint if abs(lat) > 1000 else ""),
            "geometry" if geometry else lat_name,
        )
        ok = False
    return (lon, lat) if ok else None


def _coordinate_field(cols: _Columns, point: Any) -> str | None:
    if point is not None:
        return "geometry"
    if "lon" in cols.names and "lat" in cols.names:
        return f"{cols.names['lon']}/{cols.names['lat']}"
    return None


def _check_countries(
    result: FileResult, spec: DealerFile, coordinate_fields: list[str | None]
) -> None:
    """Drop (as errors) the dealers that lie outside their stated country; all at once.

    A dealer that lies in its country only once latitude and longitude are
    swapped is swapped back when the file allows it, else an error that
    says so. A dealer a little inside a neighbour (see
    :mod:`planner.inputs.placement`) is kept with a warning.
    """
    dealers = result.dealers
    if not dealers:
        return
    lon = np.array([d["lon"] for d in dealers], dtype=np.float64)
    lat = np.array([d["lat"] for d in dealers], dtype=np.float64)
    stated = np.array([d["country"] for d in dealers], dtype=object)
    placement = place(lon, lat, stated)
    wrong = np.flatnonzero(placement.verdict == OUTSIDE)
    # Swapped coordinates make sense only where the longitude is a valid latitude.
    swappable = wrong[np.abs(lon[wrong]) <= 90.0]
    swapped_ok: set[int] = set()
    if swappable.size:
        again = place(lat[swappable], lon[swappable], stated[swappable])
        swapped_ok = set(swappable[again.verdict == IN_PLACE].tolist())
    dropped: set[int] = set()
    for i in np.flatnonzero(placement.verdict != IN_PLACE).tolist():
        dealer = dealers[i]
        country = dealer["country"]
        shown = f"lon {dealer['lon']!r}, lat {dealer['lat']!r}"
        row, where = dealer["row"], coordinate_fields[i]

        def problem(message: str, row: int = row, where: str | None = where) -> Problem:
            return Problem(result.source, message, row=row, field=where)

        if placement.verdict[i] == NEAR_BORDER:
            result.warnings.append(
                problem(
                    f"{shown} lies {placement.depth_km[i]:.1f} km inside "
                    f"{_country(str(placement.lies_in[i]))}, not in {country}, by the "
                    "simplified country outlines: check the country (row kept)"
                )
            )
            continue
        if i in swapped_ok:
            if spec.fix_swapped_coordinates:
                result.swapped_fixed += 1
                dealer["lon"], dealer["lat"] = dealer["lat"], dealer["lon"]
                result.warnings.append(
                    problem(f"{shown} lies outside {country} but inside once swapped: swapped")
                )
                continue
            result.errors.append(
                problem(
                    f"{shown} lies outside {_country(country)} but inside once swapped: "
                    "latitude and longitude look swapped (set fix_swapped_coordinates = true "
                    "for this file to swap them)"
                )
            )
        elif placement.lies_in[i]:
            result.errors.append(
                problem(
                    f"{shown} lies in {_country(str(placement.lies_in[i]))}, not in "
                    f"{_country(country)} ({placement.depth_km[i]:.0f} km beyond its border)"
                )
            )
        else:
            result.errors.append(problem(f"{shown} lies outside {_country(country)}"))
        dropped.add(i)
    if dropped:
        result.dealers = [d for i, d in enumerate(dealers) if i not in dropped]


def _country(code: str) -> str:
    """``CH (Switzerland)``: a country code with its name, for messages."""
    return f"{code} ({country_name(code)})"


def _transformer(spec: DealerFile, source: str, result: FileResult) -> Any:
    import pyproj

    try:
        return pyproj.Transformer.from_crs(spec.crs, "EPSG:4326", always_xy=True)
    except pyproj.exceptions.CRSError as exc:
        message = f"unknown CRS '{spec.crs}': {one_line(exc)}"
        result.errors.append(Problem(source, message, field="crs"))
        return None
    except pyproj.exceptions.ProjError as exc:
        # A CRS PROJ reads but cannot take to longitude and latitude on Earth.
        message = f"CRS '{spec.crs}' cannot be converted to EPSG:4326: {one_line(exc)}"
        result.errors.append(Problem(source, message, field="crs"))
        return None
