"""Demand files and tables read into points: coordinates, population, id, name, country.

A table with longitude/latitude columns (CSV, TXT, TSV, XLSX, Parquet) goes
through the one table reader (:mod:`planner.inputs.tables`) and the same cell
parsers as dealer files (:mod:`planner.inputs.cells`); a vector file
(GeoJSON, GeoPackage, shapefile) of points or polygons goes through GeoPandas,
polygons standing for their equal-area centroid. Every problem is reported
at once, by row or feature number. :mod:`planner.inputs.demand` turns the
points into weighted demand.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner._text import one_line
from planner.errors import InputError, Problem
from planner.inputs.cells import NumberStyle, cell_text, number_style, parse_number
from planner.inputs.columns import columns_headed_alike
from planner.inputs.countries import country_of
from planner.inputs.placement import OUTSIDE, place
from planner.inputs.raw import reason, refuse_empty, shifted_rows
from planner.inputs.tables import (
    Cell,
    RawTable,
    check_input_path,
    geojson_rechecked,
    has_geometry,
    is_table_file,
    read_frame,
    read_tables,
)
from planner.scenario.fields import country_codes
from planner.scenario.schema import DealerFile

logger = logging.getLogger(__name__)

#: The largest population of one demand point. The largest metropolitan areas
#: hold about 40 million people; 10^9 leaves room for any aggregate a user
#: might mean and catches a misread or corrupted number (1e308) before it
#: turns into an absurd charger count.
MAX_POPULATION = 1e9
#: Above this many people at one point a run warns: more than the largest
#: metropolitan area holds, so an aggregate the user meant, or a digit too many
#: (500,000,000 people at a town of 10,000 took a run's coverage from 85 % to
#: 99.7 % without a word).
CROWDED_POPULATION = 40e6

__all__ = ["read_demand_file", "read_demand_frame"]

#: Column names recognised (case-insensitive) in a user file.
LON_NAMES = ("lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
ID_NAMES = ("demand_id", "id")
NAME_NAMES = ("name",)
COUNTRY_NAMES = ("country", "country_code", "iso_a2")

#: Equal-area projection for polygon centroids (ETRS89 / LAEA Europe).
CENTROID_CRS = "EPSG:3035"

#: Most problems listed for one file; a broken file would otherwise repeat
#: the same complaint for every row.
MAX_PROBLEMS = 50


def read_demand_file(
    path: Path,
    *,
    population_column: str | None = "population",
    sheet: str | None = None,
    decimal: str | None = None,
    id_names: tuple[str, ...] = ID_NAMES,
) -> pd.DataFrame:
    """Read and check a user demand file.

    Parameters
    ----------
    path
        A table (CSV, TXT, TSV, XLSX, Parquet) with longitude and latitude
        columns, read like a dealer file (:func:`planner.inputs.tables.read_table`:
        encoding, delimiter and title lines detected), or a vector file of
        points or polygons (polygons become their centroids).
    population_column
        The column holding the population; ``None`` for a file of points
        without one (``population`` is then 0).
    sheet
        The sheet of a workbook (``"*"`` for every sheet) or the layer of a
        vector file to read; a file of several is refused without it.
    decimal
        The file's decimal mark (``","`` or ``"."``) when the scenario states
        it: it settles numbers the file leaves open.
    id_names
        Headers of the id column, the first found wins (lower case); without
        one, ids are the file's name and row.

    Returns
    -------
    pandas.DataFrame
        Columns ``demand_id``, ``name``, ``country`` (``""`` where no country
        outline holds the point), ``population`` (float), ``lon``, ``lat``:
        every row of the file but repeats of a row, which are dropped and
        counted in ``attrs["duplicates_dropped"]``.

    Raises
    ------
    InputError
        Naming the file, row (or feature) and field of every problem found,
        among them numbers whose decimal mark the file leaves open
        (:func:`planner.inputs.cells.number_style`).
    """
    # Named as dealer files are: by file name, the path itself only when unreadable.
    source = path.name or str(path)
    # The vector reader would open a folder as a data set of its files' layers.
    check_input_path(path, source)
    if is_table_file(path):
        tables = read_tables(DealerFile(path=path, sheet=sheet), source=source)
        parts = [
            _demand_points(
                _located_by_columns(table),
                population_column,
                decimal=decimal,
                id_stem=path.stem if len(tables) == 1 else f"{path.stem}:{table.notes[0][7:-1]}",
                id_names=id_names,
            )
            for table in tables
        ]
        if len(parts) == 1:
            return parts[0]
        points = pd.concat(parts, ignore_index=True)
        points.attrs["duplicates_dropped"] = sum(p.attrs["duplicates_dropped"] for p in parts)
        return points
    frame = _read_vector_file(path, source, sheet)
    labels = [f"feature {i + 1}" for i in range(len(frame))]
    located = _located_by_geometry(frame, source, labels)
    return _demand_points(
        located, population_column, decimal=decimal, id_stem=path.stem, id_names=id_names
    )


def read_demand_frame(
    frame: pd.DataFrame,
    *,
    name: str = "demand table",
    population_column: str | None = "population",
    id_names: tuple[str, ...] = ID_NAMES,
) -> pd.DataFrame:
    """Read and check a demand table given as a DataFrame, as :func:`read_demand_file` does.

    Parameters
    ----------
    frame
        Longitude and latitude columns, or a GeoDataFrame of points or
        polygons; the other columns as in a demand file.
    name
        How messages name the table; its rows are numbered as in the same
        table saved to CSV (the header is row 1).
    population_column
        The column holding the population; ``None`` for a table of points
        without one (``population`` is then 0).

    Returns
    -------
    pandas.DataFrame
        As :func:`read_demand_file`.
    """
    if has_geometry(frame):
        if frame.empty:
            raise InputError(Problem(name, "the table has no data rows"))
        labels = [f"row {i + 2}" for i in range(len(frame))]
        located = _located_by_geometry(frame, name, labels)
    else:
        located = _located_by_columns(read_frame(frame, source=name))
    return _demand_points(
        located, population_column, id_stem=name.replace(" ", "_"), id_names=id_names
    )


@dataclass(frozen=True)
class _Located:
    """The cells of a demand table and where its coordinates are.

    ``lon_column``/``lat_column`` are header positions for a table with
    coordinate columns; ``geometry`` holds lon and lat per row for a table
    whose geometry places the points.
    """

    table: RawTable
    labels: list[str]
    lon_column: int = -1
    lat_column: int = -1
    geometry: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None
    problems: list[Problem] = field(default_factory=list)


def _located_by_columns(table: RawTable) -> _Located:
    labels = [f"row {n}" for n in table.row_numbers]
    if table.points is not None:
        # GeoParquet: the reader placed each row already.
        lon = np.array([np.nan if x is None else x for x, _ in table.points], dtype=float)
        lat = np.array([np.nan if y is None else y for _, y in table.points], dtype=float)
        return _Located(table, labels, geometry=(lon, lat))
    found: dict[str, int] = {}
    problems = []
    for axis, names in (("lon", LON_NAMES), ("lat", LAT_NAMES)):
        index = _column_index(table.headers, names)
        matches = [h for h in table.headers if h.strip().lower() in names[:-1]]
        if len(matches) > 1:
            listed = ", ".join(f"'{one_line(h, limit=40)}'" for h in matches)
            problems.append(
                Problem(
                    table.source,
                    f"{len(matches)} columns could be the {axis}: {listed}; keep one of them "
                    "(remove or rename the others)",
                    field=axis,
                )
            )
        elif index is None:
            problems.append(
                Problem(
                    table.source, f"no {axis} column (looked for {', '.join(names)})", field=axis
                )
            )
        else:
            found[axis] = index
    if problems:
        raise InputError(problems)
    return _Located(table, labels, found["lon"], found["lat"])


def _read_vector_file(path: Path, source: str, layer: str | None = None) -> gpd.GeoDataFrame:
    import pyogrio

    refuse_empty(path, source)
    try:
        layers = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(Problem(source, f"not a readable vector file: {reason(exc)}")) from None
    listed = ", ".join(f"'{one_line(n, limit=40)}'" for n in layers)
    if layer is None and len(layers) > 1:
        raise InputError(
            Problem(
                source,
                f"has {len(layers)} layers ({listed}); name the one to read with "
                "demand.sheet in the scenario",
                field="sheet",
            )
        )
    if layer is not None and layer not in layers:
        raise InputError(
            Problem(source, f"has no layer '{one_line(layer, limit=40)}'; its layers are {listed}")
        )
    try:
        with warnings.catch_warnings():
            # A property with mixed numbers and text stays text; the population
            # check then names the rows that are not numbers.
            warnings.filterwarnings("ignore", "Could not parse column", UserWarning)
            # GDAL's note on an open ring precedes GEOS's refusal of it, reported below.
            warnings.filterwarnings("ignore", "Non closed ring", RuntimeWarning)
            frame = gpd.read_file(path, layer=layer)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(Problem(source, f"not a readable vector file: {reason(exc)}")) from None
    if frame.empty:
        raise InputError(Problem(source, "the file has no features"))
    return geojson_rechecked(path, frame, source)


def _located_by_geometry(frame: gpd.GeoDataFrame, source: str, labels: list[str]) -> _Located:
    """Points of a vector table: points as they are, polygons by their centroid.

    The centroid, not the representative point dealer files use: a cell of
    a population grid stands for the people spread over it, whose centre is
    the centroid.
    """
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    geoms = frame.geometry.to_numpy()
    kind = shapely.get_type_id(geoms)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    polygonal = np.isin(kind, (3, 6)) & ~missing
    point = (kind == 0) & ~missing
    problems: list[Problem] = []
    _add_row_problems(problems, source, labels, missing, "geometry", "no geometry")
    for i in np.flatnonzero(~missing & ~point & ~polygonal):
        message = (
            "MultiPoint geometry: give one point per row"
            if kind[i] == 4
            else f"a {geoms[i].geom_type} is neither a point nor a polygon"
        )
        _add_row_problems(problems, source, [labels[i]], [True], "geometry", message)
    usable = geoms.copy()
    # Rows already reported get a stand-in point so the steps below run.
    usable[~(point | polygonal)] = shapely.Point(0, 0)
    located = gpd.GeoSeries(usable, crs=frame.crs)
    if polygonal.any():
        # Centroids in an equal-area projection: a centroid computed in
        # degrees is pulled towards the pole.
        centroids = gpd.GeoSeries(geoms[polygonal], crs=frame.crs).to_crs(CENTROID_CRS).centroid
        located = located.to_crs(CENTROID_CRS)
        located.iloc[np.flatnonzero(polygonal)] = centroids.to_numpy()
    located = located.to_crs("EPSG:4326")
    table = _attribute_table(pd.DataFrame(frame.drop(columns=frame.geometry.name)), source)
    xy = (located.x.to_numpy(), located.y.to_numpy())
    return _Located(table, labels, geometry=xy, problems=problems)


def _attribute_table(attributes: pd.DataFrame, source: str) -> RawTable:
    if len(attributes.columns) == 0:
        # Geometry alone: the population check names the missing column.
        numbers = list(range(2, len(attributes) + 2))
        return RawTable(source, [], [[] for _ in numbers], numbers)
    return read_frame(attributes, source=source)


def _demand_points(
    located: _Located,
    population_column: str | None,
    *,
    id_stem: str,
    decimal: str | None = None,
    id_names: tuple[str, ...] = ID_NAMES,
) -> pd.DataFrame:
    """Check every row of a located demand table; the points, or every problem at once."""
    table, labels, source = located.table, located.labels, located.table.source
    problems = list(located.problems) + shifted_rows(table)
    population_index = (
        None if population_column is None else _population_index(table.headers, population_column)
    )
    headers = table.headers
    columns = {
        "population": population_index,
        "id": _column_index(headers, id_names),
        "name": _column_index(headers, NAME_NAMES),
        "country": _column_index(headers, COUNTRY_NAMES),
    }
    problems += columns_headed_alike(source, headers, columns, key=_key)
    style = _number_style(located, population_index, decimal)
    for column, note in style.borrowed_notes():
        logger.warning("%s", Problem(source, note, field=column))
    if located.geometry is not None:
        lon, lat = located.geometry
        fields = ("geometry", "geometry")
    else:
        fields = (table.headers[located.lon_column], table.headers[located.lat_column])
        lon = _parsed_column(located, located.lon_column, style, problems)
        lat = _parsed_column(located, located.lat_column, style, problems)
    if population_index is None and population_column is None:
        population = np.zeros(len(table.rows))
    elif population_index is None:
        problems.append(
            Problem(
                source,
                f"no population column '{population_column}' (set demand.population_column)",
                field=population_column,
            )
        )
        population = np.zeros(len(table.rows))
    else:
        population = _parsed_column(located, population_index, style, problems)
        negative = np.nan_to_num(population) < 0
        field_name = table.headers[population_index]
        _add_row_problems(problems, source, labels, negative, field_name, "negative population")
        too_many = np.nan_to_num(population) > MAX_POPULATION
        _add_row_problems(
            problems,
            source,
            labels,
            too_many,
            field_name,
            f"population above {MAX_POPULATION:,.0f}: more people than any place on Earth",
        )
        crowded = np.flatnonzero((np.nan_to_num(population) > CROWDED_POPULATION) & ~too_many)
        if crowded.size:
            first = int(crowded[0])
            note = (
                f"{crowded.size} point(s) with more than {CROWDED_POPULATION:,.0f} people, more "
                f"than the largest metropolitan area (first: {labels[first]}, "
                f"{population[first]:,.0f}): an aggregate, or a digit too many?"
            )
            logger.warning("%s", Problem(source, note, field=field_name))
    ids = _ids(located, id_stem, problems, id_names)
    country = _countries(located, problems)
    problems.extend(_coordinate_problems(lon, lat, labels, source, fields))
    if country is not None and not problems:
        problems.extend(_misplaced(lon, lat, country, labels, source, fields))
    if problems:
        raise InputError(_capped(problems, source))
    if country is None:
        country = np.asarray(country_of(lon, lat), dtype=object)
    name_index = _column_index(table.headers, NAME_NAMES)
    points = pd.DataFrame(
        {
            "demand_id": ids,
            "name": _texts(table, name_index, strip=False),
            "country": country,
            "population": population.astype(float),
            "lon": np.asarray(lon, dtype=float),
            "lat": np.asarray(lat, dtype=float),
        }
    )
    id_index = _column_index(table.headers, id_names)
    id_field = None if id_index is None else table.headers[id_index]
    return _without_repeats(points, labels, source, id_field)


def _without_repeats(
    points: pd.DataFrame, labels: list[str], source: str, id_field: str | None
) -> pd.DataFrame:
    """Points with repeated places kept once; a repeat with other data is refused.

    A place is repeated when its id is (with an id column), else when its
    name and point are. A repeat identical to the first row is dropped and
    counted in ``attrs["duplicates_dropped"]``, with a warning; one that
    differs is an error naming both rows: counting a place twice would
    raise the demand near it without a word.
    """
    keys = ["demand_id"] if id_field is not None else ["name", "lon", "lat"]
    data = ["name", "country", "population", "lon", "lat"]
    first = points.groupby(keys, sort=False, dropna=False).cumcount() > 0
    problems: list[Problem] = []
    drop = np.zeros(len(points), dtype=bool)
    if first.any():
        firsts = points[~first].reset_index().set_index(keys)["index"]
        for pos in np.flatnonzero(first.to_numpy()):
            row = points.iloc[pos]
            key = tuple(row[k] for k in keys)
            origin = int(firsts.loc[key if len(keys) > 1 else key[0]])
            if points.iloc[origin][data].equals(row[data]):
                drop[pos] = True
                continue
            what = (
                f"id '{one_line(row['demand_id'], limit=40)}'"
                if id_field is not None
                else "name and point"
            )
            differs = [c for c in data if points.iloc[origin][c] != row[c]]
            _add_row_problems(
                problems,
                source,
                [labels[pos]],
                [True],
                id_field,
                f"same {what} as {labels[origin]} but a different "
                f"{', '.join(differs)}: give each place once",
            )
    if problems:
        raise InputError(_capped(problems, source))
    kept = points[~drop].reset_index(drop=True)
    kept.attrs["duplicates_dropped"] = int(drop.sum())
    if drop.any():
        logger.warning(
            "%s: %d repeated row(s) dropped (%s), each place counted once",
            source,
            int(drop.sum()),
            ", ".join(labels[i] for i in np.flatnonzero(drop)[:10]),
        )
    return kept


def _column_index(headers: list[str], names: tuple[str, ...]) -> int | None:
    """Position of the first header matching one of ``names``, ignoring case and spaces."""
    lower: dict[str, int] = {}
    for i, header in enumerate(headers):
        lower.setdefault(_key(header), i)
    return next((lower[name] for name in names if name in lower), None)


def _key(header: str) -> str:
    """A header as :func:`_column_index` compares it."""
    return header.strip().lower()


def _population_index(headers: list[str], column: str) -> int | None:
    if column in headers:
        return headers.index(column)
    return _column_index(headers, (column.strip().lower(),))


def _cells(table: RawTable, index: int) -> list[Cell]:
    return [row[index] if index < len(row) else None for row in table.rows]


def _texts(table: RawTable, index: int | None, *, strip: bool = True) -> npt.NDArray[Any]:
    if index is None:
        return np.full(len(table.rows), "", dtype=object)
    texts = [cell_text(c) for c in _cells(table, index)]
    return np.array([t.strip() if strip else t for t in texts], dtype=object)


def _number_style(
    located: _Located, population_index: int | None, decimal: str | None
) -> NumberStyle:
    """The file's number convention, from its coordinate and population columns."""
    table = located.table
    indices = [population_index]
    bounds: dict[str, float] = {}
    if located.geometry is None:
        indices += [located.lon_column, located.lat_column]
        for i, bound in ((located.lon_column, 180.0), (located.lat_column, 90.0)):
            if i is not None:
                bounds[table.headers[i]] = bound
    columns = {table.headers[i]: _cells(table, i) for i in indices if i is not None}
    return number_style(columns, bounds=bounds, decimal=decimal)


def _parsed_column(
    located: _Located, index: int, style: NumberStyle, problems: list[Problem]
) -> npt.NDArray[np.float64]:
    """The numbers of a column, NaN where a cell is empty or wrong (each one reported)."""
    table = located.table
    header = table.headers[index]
    values = np.full(len(table.rows), np.nan)
    for pos, cell in enumerate(_cells(table, index)):
        # The parser's message quotes the cell and, for an ambiguous number, says how to
        # write it; an empty or missing cell gets the demand file's plain one.
        resolved = style.resolve(cell, header)
        value, message = resolved if resolved is not None else parse_number(cell)
        if value is not None:
            values[pos] = value
            continue
        if message is None:
            # An empty cell, a JSON null or NaN, a DataFrame's missing value.
            blank = cell is None or (isinstance(cell, str) and not cell.strip())
            message = "no value, where a number is needed" if blank else "not a number"
        _add_row_problems(problems, table.source, [located.labels[pos]], [True], header, message)
    return values


def _ids(
    located: _Located, id_stem: str, problems: list[Problem], id_names: tuple[str, ...]
) -> npt.NDArray[Any]:
    table, labels = located.table, located.labels
    index = _column_index(table.headers, id_names)
    if index is None:
        return np.array([f"{id_stem}:{i + 1}" for i in range(len(table.rows))], dtype=object)
    ids = pd.Series(_texts(table, index))
    field_name = table.headers[index]
    _add_row_problems(problems, table.source, labels, ids == "", field_name, "empty id")
    # A repeated id with other cells is refused here, with the file's other problems;
    # identical repeats are dropped once the points are read (_without_repeats).
    first: dict[str, int] = {}
    for pos, value in enumerate(ids):
        origin = first.setdefault(value, pos)
        if origin == pos or not value:
            continue
        same = table.rows[origin] == table.rows[pos] and (
            located.geometry is None
            or all(np.array_equal(a[[origin]], a[[pos]], equal_nan=True) for a in located.geometry)
        )
        if not same:
            message = f"duplicate id: also on {labels[origin]}, with other data"
            _add_row_problems(problems, table.source, [labels[pos]], [True], field_name, message)
    return ids.to_numpy(dtype=object)


def _countries(located: _Located, problems: list[Problem]) -> npt.NDArray[Any] | None:
    table = located.table
    index = _column_index(table.headers, COUNTRY_NAMES)
    if index is None:
        return None
    codes = pd.Series(_texts(table, index)).str.upper()
    # A code of no country (XX) would count the row as outside the scenario's countries.
    bad = ~codes.isin(country_codes())
    message = "not an ISO 3166-1 alpha-2 country code"
    _add_row_problems(problems, table.source, located.labels, bad, table.headers[index], message)
    return codes.to_numpy(dtype=object)


def _misplaced(
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    country: npt.NDArray[Any],
    labels: list[str],
    source: str,
    fields: tuple[str, str],
) -> list[Problem]:
    """Points clearly outside the country their row states, as dealer files have them refused.

    Kept, such a point would count as that country's demand, uncovered; a
    point within a few km of the border (:mod:`planner.inputs.placement`) is
    kept.
    """
    placement = place(lon, lat, country)
    problems: list[Problem] = []
    for i in np.flatnonzero(placement.verdict == OUTSIDE).tolist():
        stated, holder = str(country[i]), str(placement.lies_in[i])
        where = (
            f"lies in {holder}, not in {stated} ({placement.depth_km[i]:.0f} km beyond its border)"
            if holder
            else f"lies outside {stated}"
        )
        message = f"lon {lon[i]:g}, lat {lat[i]:g} {where}"
        _add_row_problems(problems, source, [labels[i]], [True], fields[0], message)
    return problems


def _coordinate_problems(
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    labels: list[str],
    source: str,
    fields: tuple[str, str],
) -> list[Problem]:
    """Coordinates outside the globe; cells that are not numbers were reported when parsed."""
    problems: list[Problem] = []
    geometry = fields == ("geometry", "geometry")
    if geometry:
        # A table's cells that are not numbers were reported when parsed; a
        # geometry's NaN or infinity (JSON written by a careless tool) was not.
        unusable = ~(np.isfinite(lon) & np.isfinite(lat))
        _add_row_problems(
            problems,
            source,
            labels,
            unusable,
            "geometry",
            "coordinates are not numbers (NaN or infinite)",
        )
    for field_name, values, limit in ((fields[0], lon, 180.0), (fields[1], lat, 90.0)):
        outside = np.abs(np.nan_to_num(values)) > limit
        if geometry:
            outside &= np.isfinite(values)
        message = f"outside ±{limit:g} degrees"
        _add_row_problems(problems, source, labels, outside, field_name, message)
    return problems


def _add_row_problems(
    problems: list[Problem],
    source: str,
    labels: list[str],
    bad: Any,
    field: str | None,
    message: str,
) -> None:
    for i in np.flatnonzero(np.asarray(bad, dtype=bool)):
        label = labels[i]
        if label.startswith("row "):
            problems.append(Problem(source, message, row=int(label[4:]), field=field))
        else:
            problems.append(Problem(source, f"{label}: {message}", field=field))


def _capped(problems: list[Problem], source: str) -> list[Problem]:
    problems = sorted(problems, key=lambda p: p.row or 0)
    if len(problems) <= MAX_PROBLEMS:
        return problems
    rest = len(problems) - MAX_PROBLEMS
    return [*problems[:MAX_PROBLEMS], Problem(source, f"{rest} more problems not listed")]
