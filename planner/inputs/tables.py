"""Reading dealer files into a plain table of cells, whatever their format.

Every reader returns a :class:`RawTable` (defined in :mod:`planner.inputs.raw`
and re-exported here): the header, the data rows as lists of cells (``str``,
numbers, or None for an empty cell) and, for each row, its number as a
spreadsheet user sees it (the header is row 1). Nothing is interpreted here
beyond the file format: cells are parsed and checked by
:mod:`planner.inputs.dealer_rows`, so every problem can be reported with its row.

Formats, chosen by the file's suffix:

* CSV / TXT / TSV: delimiter and encoding detected (or given in the
  scenario); read by :mod:`planner.inputs.csv_text`, whose docstring gives
  the details.
* XLSX / XLSM: the sheet named by ``sheet`` (or ``layer``), or the only
  sheet that looks like a table; ``sheet = "*"`` reads each sheet as its own
  table (:func:`read_tables`). Read by :mod:`planner.inputs.workbooks`, whose
  docstring gives the details.
* GeoJSON, GeoPackage, Shapefile, FlatGeobuf, GML, KML: read with pyogrio;
  the geometry's representative point, reprojected from the scenario's
  ``crs`` if given, else the file's CRS, else WGS 84, to EPSG:4326, gives
  the coordinates.
* Parquet: GeoParquet as in the previous point, plain Parquet as a table.

Tables handed over as pandas DataFrames or GeoDataFrames (the Python API) are
read by :func:`read_frame` into the same :class:`RawTable`, geometry as for
vector files, so they meet the same checks and messages; the messages name
the table (``"dealers table"``) and number its rows as the same table saved
to CSV would (the header is row 1, the first data row is row 2).

In CSV and XLSX the header is the first row with two or more filled cells, so
a title line above the table is passed over. Blank rows at the end of a file
are not data and are left out; blank rows between data rows are kept, so the
validator can count them.
"""

from __future__ import annotations

import decimal
import json
import logging
import math
import warnings
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from planner._files import NOT_REGULAR, is_special, unreachable
from planner._text import one_line
from planner.errors import InputError, Problem
from planner.inputs.csv_text import read_csv
from planner.inputs.raw import Cell, RawTable, filled, refuse_empty, unreadable
from planner.inputs.workbooks import (
    ALL_SHEETS,
    looks_like_table,
    read_xlsx,
    sheet_names,
    sheet_option,
    sheet_table,
    xlsx_sheets,
)
from planner.scenario.schema import DealerFile

__all__ = [
    "ALL_SHEETS",
    "Cell",
    "RawTable",
    "geojson_rechecked",
    "has_geometry",
    "is_table_file",
    "read_frame",
    "read_table",
    "read_tables",
]

logger = logging.getLogger(__name__)

_CSV_SUFFIXES = {".csv", ".txt", ".tsv", ".tab"}
_XLSX_SUFFIXES = {".xlsx", ".xlsm"}
_VECTOR_SUFFIXES = {
    ".geojson",
    ".json",
    ".gpkg",
    ".shp",
    ".fgb",
    ".gml",
    ".kml",
    ".geojsonl",
    ".geojsons",
}
_PARQUET_SUFFIXES = {".parquet", ".geoparquet", ".pq"}


def read_table(spec: DealerFile, *, source: str) -> RawTable:
    """Read one dealer file into a :class:`RawTable`.

    Parameters
    ----------
    spec
        The file's entry in the scenario.
    source
        How messages name the file (usually its file name).

    Raises
    ------
    InputError
        The file is missing, empty, of an unknown format or unreadable.
    """
    path = Path(spec.path)
    check_input_path(path, source)
    try:
        table = _read_by_suffix(path, spec, source)
    except OSError as exc:
        raise unreadable(source, "file", exc) from None
    if not table.rows:
        first = "".join(table.headers).lstrip()[:1]
        if first in ("{", "["):
            # A JSON file named .csv: one "header" line of braces and no rows.
            raise InputError(
                Problem(
                    source,
                    f"the file looks like JSON (it starts with '{first}'), not a table; "
                    "a GeoJSON file needs the .geojson suffix",
                )
            )
        raise InputError(Problem(source, "the file has a header but no data rows"))
    return table


def read_tables(spec: DealerFile, *, source: str) -> list[RawTable]:
    """Read one dealer file into one :class:`RawTable` per table it holds.

    A workbook read with ``sheet = "*"`` gives one table per sheet that looks
    like a table, each named ``"<source>, sheet '<name>'"`` in messages; any
    other file gives one table, as :func:`read_table`.

    Raises
    ------
    InputError
        As :func:`read_table`; with ``sheet = "*"`` also when no sheet looks
        like a table.
    """
    path = Path(spec.path)
    if path.suffix.lower() not in _XLSX_SUFFIXES or sheet_option(spec) != ALL_SHEETS:
        return [read_table(spec, source=source)]
    check_input_path(path, source)
    try:
        sheets = xlsx_sheets(path, spec, source, None)
    except OSError as exc:
        raise unreadable(source, "file", exc) from None
    tables: list[RawTable] = []
    skipped: list[str] = []
    for name, cells in sheets:
        table = (
            sheet_table(cells, f"{source}, sheet '{name}'", name)
            if looks_like_table(cells)
            else None
        )
        if table is None or not table.rows:
            skipped.append(name)
            continue
        tables.append(table)
    if skipped:
        logger.warning(
            "%s: sheet(s) %s passed over: no table with a header row and data rows",
            source,
            ", ".join(f"'{n}'" for n in skipped),
        )
    if not tables:
        raise InputError(
            Problem(
                source,
                "no sheet looks like a table (a header row with two or more filled cells "
                f"and data rows below it); its sheets are {sheet_names(n for n, _ in sheets)}",
                field="sheet",
            )
        )
    return tables


def read_frame(frame: Any, *, source: str, spec: DealerFile | None = None) -> RawTable:
    """Read a pandas DataFrame or GeoDataFrame into a :class:`RawTable`.

    Parameters
    ----------
    frame
        The table: one column per field, one row per record; a GeoDataFrame's
        geometry gives the coordinates (its representative point, from the
        frame's CRS, else ``spec.crs``, else WGS 84).
    source
        How messages name the table, e.g. ``"dealers table"``.
    spec
        Reading options (``crs``); the defaults of a file entry when None.

    Raises
    ------
    InputError
        The object is not a DataFrame, or it has no columns or no rows.
    """
    import pandas

    if not isinstance(frame, pandas.DataFrame):
        kind = type(frame).__name__
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        raise InputError(Problem(source, f"is {article} {kind}, not a pandas DataFrame"))
    if len(frame.columns) == 0:
        # A table, not a file: "the file is empty" would send the user looking for one.
        raise InputError(Problem(source, "the table has no columns"))
    options = spec if spec is not None else DealerFile(path=Path(source))
    table = _from_frame(frame, options, source)
    if not table.rows:
        raise InputError(Problem(source, "the table has no data rows"))
    return table


def check_input_path(path: Path, source: str) -> None:
    """Refuse, as ``source`` (the name messages give), a path no table can be read from."""
    reason = unreachable(path)
    if reason is not None:
        raise InputError(Problem(source, f"file {reason}: {path}"))
    if path.is_dir():
        raise InputError(Problem(source, f"is a folder, not a file: {path}"))
    if is_special(path):
        raise InputError(Problem(source, f"{NOT_REGULAR}: {path}"))


def is_table_file(path: Path) -> bool:
    """Whether the suffix names a CSV, Excel or Parquet file (not a vector format)."""
    return path.suffix.lower() in _CSV_SUFFIXES | _XLSX_SUFFIXES | _PARQUET_SUFFIXES


def _read_by_suffix(path: Path, spec: DealerFile, source: str) -> RawTable:
    suffix = path.suffix.lower()
    _refuse_needless_sheet(suffix, spec, source)
    if suffix in _CSV_SUFFIXES:
        table = read_csv(path, spec, source)
    elif suffix in _XLSX_SUFFIXES:
        table = read_xlsx(path, spec, source)
    elif suffix == ".xls":
        raise InputError(Problem(source, "is an old-style .xls workbook; save it as .xlsx or CSV"))
    elif suffix in _PARQUET_SUFFIXES:
        table = _read_parquet(path, spec, source)
    elif suffix in _VECTOR_SUFFIXES:
        table = _read_vector(path, spec, source)
    else:
        raise InputError(
            Problem(
                source,
                f"unknown file type '{suffix or path.name}'; use CSV, XLSX, GeoJSON, "
                "GeoPackage or Parquet",
            )
        )
    return table


def _refuse_needless_sheet(suffix: str, spec: DealerFile, source: str) -> None:
    """Refuse a sheet or layer named for a file that has none to choose from.

    Ignoring it would read the file's one table while the user believes a
    named part of it was read.
    """
    if suffix not in _CSV_SUFFIXES | _PARQUET_SUFFIXES:
        return
    kind = "a CSV file" if suffix in _CSV_SUFFIXES else "a Parquet file"
    for name in ("sheet", "layer"):
        if getattr(spec, name, None) is not None:
            raise InputError(
                Problem(
                    source,
                    f"is {kind}, which has no sheets or layers; remove {name} from its "
                    "scenario entry",
                    field=name,
                )
            )


# --- Vector formats and Parquet --------------------------------------------------------


def _read_vector(path: Path, spec: DealerFile, source: str) -> RawTable:
    import pyogrio
    import pyogrio.errors
    import shapely.errors

    refuse_empty(path, source)
    try:
        with warnings.catch_warnings():
            # GDAL's notes about the file go to the log; real problems raise.
            warnings.simplefilter("ignore")
            layers = pyogrio.list_layers(path)
        layer = spec.layer
        if layer is None and len(layers) > 1:
            names = ", ".join(f"'{n}'" for n in layers[:, 0])
            raise InputError(
                Problem(source, f"has {len(layers)} layers ({names}); name one with layer")
            )
        if layer is not None and layer not in set(layers[:, 0]):
            names = ", ".join(f"'{n}'" for n in layers[:, 0])
            raise InputError(
                Problem(source, f"has no layer '{layer}'; its layers are {names}", field="layer")
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pyogrio.read_dataframe(path, layer=layer)
        frame = geojson_rechecked(path, frame, source)
    except InputError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise unreadable(source, "geodata file", exc) from None
    except (OSError, ValueError, RuntimeError, shapely.errors.ShapelyError) as exc:
        # GEOS refuses geometries the file cannot hold (a one-point line, an open ring).
        raise unreadable(source, "geodata file", exc) from None
    return _from_frame(frame, spec, source)


def _read_parquet(path: Path, spec: DealerFile, source: str) -> RawTable:
    import geopandas
    import pandas

    try:
        frame: Any = geopandas.read_parquet(path)
    except ValueError:
        # No GeoParquet metadata: a plain table with coordinate columns.
        try:
            frame = pandas.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types for a broken file
            raise unreadable(source, "Parquet file", exc) from None
    except Exception as exc:  # pyarrow raises many types for a broken file
        raise unreadable(source, "Parquet file", exc) from None
    return _from_frame(frame, spec, source)


def has_geometry(frame: Any) -> bool:
    """Whether ``frame`` is a GeoDataFrame with an active geometry that some row has.

    A GeoDataFrame made from a plain table has no active geometry column, and
    is read by its coordinate columns like any table.
    """
    import geopandas
    import shapely

    if not isinstance(frame, geopandas.GeoDataFrame) or frame.active_geometry_name is None:
        return False
    return bool((~shapely.is_missing(frame.geometry.to_numpy())).any())


#: GeoJSON files up to this size are read a second time for their true/false
#: values (far above any dealer or demand file).
_JSON_RECHECK_BYTES = 512 * 1024 * 1024


def geojson_rechecked(path: Path, frame: Any, source: str) -> Any:
    """A GeoJSON frame checked for what GDAL reads past without a word.

    * GDAL types a property of numbers and booleans as a number column, so a
      population of ``true`` would read as 1 person: the booleans are put
      back, and the number checks refuse them as they refuse ``true`` in a
      workbook.
    * GDAL reads a ``crs`` member it cannot resolve (``"EPSG:999999"``, or
      text) as WGS 84: such a file is refused, naming the CRS.

    Other formats, and files too large to read twice, are returned as they are.

    Raises
    ------
    InputError
        The file states a CRS that cannot be resolved.
    """
    if path.suffix.lower() not in (".geojson", ".json"):
        return frame
    try:
        if path.stat().st_size > _JSON_RECHECK_BYTES:
            return frame
        with path.open("rb") as handle:
            document = json.load(handle)
    except (OSError, ValueError):
        return frame
    if not isinstance(document, dict):
        return frame
    if "crs" in document:
        _refuse_unresolved_crs(document["crs"], source)
    features = document.get("features")
    if not isinstance(features, list) or len(features) != len(frame):
        return frame
    numeric = {str(c) for c in frame.columns if getattr(frame[c].dtype, "kind", "") in "iuf"}
    found: dict[str, list[tuple[int, bool]]] = {}
    for row, feature in enumerate(features):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict):
            continue
        for name, value in properties.items():
            if isinstance(value, bool) and name in numeric:
                found.setdefault(name, []).append((row, value))
    if not found:
        return frame
    frame = frame.copy()
    for name, cells in found.items():
        column = frame[name].astype(object)
        for row, value in cells:
            column.iat[row] = value
        frame[name] = column
    return frame


def _refuse_unresolved_crs(member: Any, source: str) -> None:
    """Refuse a GeoJSON ``crs`` member that names no CRS pyproj knows (null states none)."""
    if member is None:
        return
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    if isinstance(name, str):
        try:
            CRS.from_user_input(name)
        except CRSError:
            pass
        else:
            return
    shown = one_line(json.dumps(member) if not isinstance(name, str) else name, limit=60)
    raise InputError(
        Problem(
            source,
            f"states the CRS {shown}, which names no known CRS (a GeoJSON crs member reads "
            '{"type": "name", "properties": {"name": "EPSG:3035"}}); fix or remove it '
            "(without one the coordinates are WGS 84)",
        )
    )


def _from_frame(frame: Any, spec: DealerFile, source: str) -> RawTable:
    import geopandas

    points: list[tuple[float | None, float | None]] | None = None
    notes: list[str] = []
    if has_geometry(frame):
        points, note = _points(frame, spec, source)
        notes.append(note)
        frame = frame.drop(columns=[frame.geometry.name])
    elif isinstance(frame, geopandas.GeoDataFrame) and frame.active_geometry_name is not None:
        frame = frame.drop(columns=[frame.geometry.name])
    headers = [str(c) for c in frame.columns]
    rows: list[list[Cell]] = [
        [_frame_cell(v) for v in rec] for rec in frame.itertuples(index=False, name=None)
    ]
    if points is None:
        while rows and not filled(rows[-1]):
            rows.pop()
    if not headers and points is None:
        raise InputError(Problem(source, "the file is empty"))
    return RawTable(source, headers, rows, list(range(2, len(rows) + 2)), points, notes)


def _points(
    frame: Any, spec: DealerFile, source: str
) -> tuple[list[tuple[float | None, float | None]], str]:
    import pyproj
    import shapely

    geometry = frame.geometry
    crs = geometry.crs
    if spec.crs is not None:
        # Stated in the scenario: wins, because GeoJSON readers assume WGS 84 whenever
        # the file is silent, so "the file's CRS" may be a guess.
        crs = spec.crs
        note = f"CRS {crs} (from the scenario)"
    elif crs is None:
        crs = "EPSG:4326"
        note = "no CRS in the file, read as EPSG:4326"
    else:
        note = f"CRS {crs.to_string()}"
    try:
        geometry = geometry.set_crs(crs, allow_override=True)
    except (pyproj.exceptions.CRSError, ValueError) as exc:
        raise InputError(
            Problem(source, f"unknown CRS '{crs}': {one_line(exc)}", field="crs")
        ) from None
    # Not notna(): geopandas warns of its changed meaning whenever a point is empty.
    valid = ~shapely.is_missing(geometry.to_numpy()) & ~geometry.is_empty
    _refuse_unplaceable(geometry, valid, source)
    # The representative point lies inside a polygon, unlike its centroid.
    reps = geometry[valid].representative_point().to_crs(4326)
    points: list[tuple[float | None, float | None]] = [(None, None)] * len(frame)
    positions = valid.to_numpy().nonzero()[0]
    for pos, x, y in zip(positions, reps.x.to_numpy(), reps.y.to_numpy(), strict=True):
        points[pos] = (float(x), float(y))
    return points, note


def _refuse_unplaceable(geometry: Any, valid: Any, source: str) -> None:
    """Refuse rows whose geometry gives no one place, each kind in turn.

    Several points (which one is the dealer?), a line or a collection (where
    along it?), and coordinates that are NaN or infinite (JSON allows both).
    """
    import numpy as np
    import shapely

    geoms = geometry.to_numpy()
    kinds = shapely.get_type_id(geoms)
    usable = valid.to_numpy()
    counts = shapely.get_num_geometries(geoms)
    several = usable & (kinds == 4) & (counts > 1)
    _refuse_rows(
        several,
        source,
        lambda i: f"MultiPoint geometry of {counts[i]} points: give one point per row",
    )
    # Points (0, 4) and polygons (3, 6) are places.
    other = usable & ~np.isin(kinds, (0, 3, 4, 6))
    _refuse_rows(
        other,
        source,
        lambda i: f"a {geoms[i].geom_type} is neither a point nor a polygon: give the place",
    )
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    unnumbered = np.zeros(len(geoms), dtype=bool)
    unnumbered[owner[~np.isfinite(xy).all(axis=1)]] = True
    _refuse_rows(unnumbered, source, lambda _: "coordinates are not numbers (NaN or infinite)")


def _refuse_rows(bad: Any, source: str, message: Callable[[int], str]) -> None:
    """Raise one problem per ``bad`` row (at most 50) on its geometry, if any."""
    rows = bad.nonzero()[0]
    if len(rows):
        raise InputError(
            [Problem(source, message(int(i)), row=int(i) + 2, field="geometry") for i in rows[:50]]
        )


def _frame_cell(value: Any) -> Cell:
    if value is None:
        return None
    if isinstance(value, bool | str):
        return value
    if isinstance(value, bytes):
        # Text read as bytes (a binary column): str() would make b'R1' of R1.
        with suppress(UnicodeDecodeError):
            return value.decode("utf-8")
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else value
    if isinstance(value, decimal.Decimal):
        # A typed decimal (Parquet's decimal128): a number, not text to read by a
        # decimal mark the scenario may state otherwise.
        return None if value.is_nan() else float(value)
    try:
        import pandas

        if pandas.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        item = value.item()
        if isinstance(item, bool | int | float | str):
            return item
    return str(value)
