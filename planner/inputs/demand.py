"""Demand points: where the drivers who need fast charging live.

Two sources, chosen by ``demand.source`` in the scenario:

``"geonames"``
    GeoNames populated places of the scenario's countries with at least
    ``demand.min_population`` inhabitants (:mod:`planner.inputs.geonames`); ids are
    ``"gn:<geonameid>"``.
a file
    A CSV with longitude/latitude columns, or any vector file GeoPandas reads
    (GeoJSON, GeoPackage, shapefile) of points or polygons — polygons stand
    for their centroid, e.g. the cells of a 1 km population grid. The
    population is in ``demand.population_column``; optional columns give an
    id (``demand_id`` or ``id``), a ``name`` and a ``country`` (ISO alpha-2).
    Without a country column each point gets the country whose outline holds
    it (:func:`planner.inputs.countries.country_of`). Every problem in the file is
    reported at once, by row (CSV; the header is row 1) or feature number.

Weights and sessions
    Each point carries its ``population``, a ``weight`` — what the coverage
    models maximise, from :func:`demand_weight` — and ``sessions_per_day``
    from :func:`sessions_per_day`::

        sessions/day = population × cars per inhabitant × BEV share of the fleet
                       × the brands' share of BEVs × fast sessions per BEV per day

    with every factor from ``demand.sessions`` (per country where set).
    ``weight`` is the sessions per day: the models cover charging sessions, so
    a country with more BEVs weighs more than one with the same population;
    :func:`demand_weight` is the one place to change that.
"""

from __future__ import annotations

import csv
import logging
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from planner.errors import InputError, Problem
from planner.inputs.countries import country_of
from planner.inputs.demand_factors import country_value
from planner.inputs.geonames import populated_places
from planner.scenario.schema import DemandConfig, SessionsConfig

logger = logging.getLogger(__name__)

#: Columns of the demand frame, in order.
DEMAND_COLUMNS = (
    "demand_id",
    "name",
    "country",
    "population",
    "weight",
    "sessions_per_day",
    "lon",
    "lat",
    "geometry",
)

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


def load_demand(config: DemandConfig) -> gpd.GeoDataFrame:
    """Demand points of the scenario's countries.

    Parameters
    ----------
    config
        The scenario's ``demand`` section.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per demand point, columns :data:`DEMAND_COLUMNS`:
        ``demand_id`` (str, ``"gn:2988507"`` or from the file), ``name``,
        ``country`` (ISO alpha-2), ``population`` (float), ``weight`` (float),
        ``sessions_per_day`` (float), ``lon``, ``lat``, ``geometry`` (points).
        ``attrs["counts"]`` holds ``read`` (points in the source),
        ``outside_countries`` and ``zero_population`` (points left out) and
        ``kept``.

    Raises
    ------
    InputError
        For an unknown country, a country without GeoNames places, and a
        missing, unreadable or invalid user file (every problem at once).
    """
    countries = [c.upper() for c in config.countries]
    if config.source == "geonames":
        places = populated_places(
            countries,
            min_population=config.min_population,
            source="scenario demand.countries",
            drop_sections=True,
        )
        points = pd.DataFrame(
            {
                "demand_id": "gn:" + places["geonameid"].astype(str),
                "name": places["name"],
                "country": places["country"],
                "population": places["population"].astype(float),
                "lon": places["lon"],
                "lat": places["lat"],
            }
        )
        sections = int(places.attrs.get("sections_dropped", 0))
        counts = {
            "read": len(points) + sections,
            "city_sections_dropped": sections,
            "outside_countries": 0,
            "zero_population": 0,
        }
        source = "GeoNames"
    else:
        path = Path(config.source)
        points = read_demand_file(path, population_column=config.population_column)
        counts = {"read": len(points)}
        inside = points["country"].isin(countries)
        counts["outside_countries"] = int((~inside).sum())
        points = points[inside]
        positive = points["population"] > 0
        counts["zero_population"] = int((~positive).sum())
        points = points[positive]
        if points.empty:
            raise InputError(
                Problem(
                    str(path),
                    "no demand point with a population above 0 lies in the scenario's "
                    f"countries ({', '.join(countries)})",
                )
            )
        source = str(path)
    counts["kept"] = len(points)
    demand = _demand_frame(points.reset_index(drop=True), config)
    demand.attrs["counts"] = counts
    logger.info(
        "demand: %d points from %s (%d read, %d outside the countries, %d without population)",
        counts["kept"],
        source,
        counts["read"],
        counts["outside_countries"],
        counts["zero_population"],
    )
    return demand


def demand_weight(
    demand: pd.DataFrame,
    config: DemandConfig,
    *,
    existing_in_reach: npt.ArrayLike | None = None,
    existing_discount: float = 0.0,
) -> pd.Series:
    """The weight the optimiser gives each demand point.

    This is the seam between the demand model and the optimisation models: a
    point weighs its fast-charging sessions per day, so coverage reads as the
    share of sessions within reach of a chosen site. Within reach of an
    existing high-power station the existing network is taken to serve
    ``existing_discount`` of them, and the point weighs the rest.

    Parameters
    ----------
    demand
        Demand points with at least ``population``, ``country`` and
        ``sessions_per_day``.
    config
        The scenario's ``demand`` section.
    existing_in_reach
        One flag per point: within reach of an existing station (see
        :mod:`planner.pipeline.existing`); ``None`` for no existing network.
    existing_discount
        Share of a reached point's sessions the existing network serves, in [0, 1].

    Returns
    -------
    pandas.Series
        Float weights (sessions/day), aligned with ``demand``.
    """
    if not 0.0 <= existing_discount <= 1.0:
        raise ValueError(f"existing_discount must be in [0, 1], got {existing_discount}")
    sessions = demand["sessions_per_day"].astype(float)
    if existing_in_reach is None:
        return sessions
    reached = np.asarray(existing_in_reach, dtype=bool)
    return sessions * np.where(reached, 1.0 - existing_discount, 1.0)


def sessions_per_day(
    population: npt.ArrayLike, country: npt.ArrayLike, sessions: SessionsConfig
) -> npt.NDArray[np.float64]:
    """Fast-charging sessions per day of the brands' drivers at each demand point.

    Parameters
    ----------
    population
        Inhabitants per point.
    country
        ISO alpha-2 code per point; each factor comes from
        ``sessions.by_country``, else from the shipped per-country values
        (:mod:`planner.inputs.demand_factors`, when ``sessions.country_defaults``),
        else from the single value of ``sessions``.
    sessions
        The scenario's ``demand.sessions`` section.

    Returns
    -------
    numpy.ndarray
        population × cars per inhabitant × BEV share of the fleet × brands'
        share of BEVs × fast sessions per BEV per day.
    """
    people = np.asarray(population, dtype=float)
    codes = np.asarray(country, dtype=object)
    factor = np.full(people.shape, _sessions_factor(sessions, None))
    for code in sorted({str(c).upper() for c in codes}):
        factor[codes == code] = _sessions_factor(sessions, code)
    return people * factor


def session_factors(sessions: SessionsConfig, country: str) -> dict[str, float]:
    """The four factors used for ``country``, by name (see :func:`sessions_per_day`)."""
    by_code = {code.upper(): value for code, value in sessions.by_country.items()}
    local = by_code.get(country.upper())
    values = {}
    for name in SESSION_FACTORS:
        value = getattr(local, name, None) if local is not None else None
        if value is None and sessions.country_defaults:
            value = country_value(country, name)
        values[name] = float(getattr(sessions, name) if value is None else value)
    return values


#: The factors multiplied into sessions per day, in order.
SESSION_FACTORS = (
    "cars_per_inhabitant",
    "bev_share_of_fleet",
    "brand_share_of_bev",
    "fast_sessions_per_bev_per_day",
)


def _sessions_factor(sessions: SessionsConfig, country: str | None) -> float:
    if country is None:
        values = [float(getattr(sessions, name)) for name in SESSION_FACTORS]
    else:
        values = list(session_factors(sessions, country).values())
    return float(np.prod(values))


def _demand_frame(points: pd.DataFrame, config: DemandConfig) -> gpd.GeoDataFrame:
    points = points.copy()
    points["population"] = points["population"].astype(float)
    points["sessions_per_day"] = sessions_per_day(
        points["population"], points["country"], config.sessions
    )
    points["weight"] = demand_weight(points, config).astype(float)
    demand = gpd.GeoDataFrame(
        points,
        geometry=gpd.points_from_xy(points["lon"], points["lat"]),
        crs="EPSG:4326",
    )
    return demand[list(DEMAND_COLUMNS)]


def read_demand_file(path: Path, *, population_column: str = "population") -> pd.DataFrame:
    """Read and check a user demand file.

    Parameters
    ----------
    path
        A CSV (``.csv``, ``.txt``, ``.tsv``) with longitude and latitude
        columns, or a vector file of points or polygons (polygons become their
        centroids).
    population_column
        The column holding the population.

    Returns
    -------
    pandas.DataFrame
        Columns ``demand_id``, ``name``, ``country`` (``""`` where no country
        outline holds the point), ``population`` (float), ``lon``, ``lat``:
        every row of the file, none left out.

    Raises
    ------
    InputError
        Naming the file, row (or feature) and field of every problem found.
    """
    source = str(path)
    if not path.exists():
        raise InputError(Problem(source, "demand file not found"))
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        table, lon, lat, labels, fields = _read_csv_points(path)
        problems: list[Problem] = []
    else:
        table, lon, lat, labels, problems = _read_vector_points(path)
        fields = ("geometry", "geometry")
    population = _population(table, population_column, labels, source, problems)
    ids = _ids(table, path, labels, source, problems)
    name = _column(table, NAME_NAMES)
    country = _column(table, COUNTRY_NAMES)
    if country is not None:
        country = country.fillna("").astype(str).str.strip().str.upper()
        bad = ~country.str.fullmatch(r"[A-Z]{2}")
        field = _column_name(table, COUNTRY_NAMES)
        message = "not an ISO 3166-1 alpha-2 country code"
        _add_row_problems(problems, source, labels, bad, field, message)
    problems.extend(_coordinate_problems(lon, lat, labels, source, fields))
    if problems:
        raise InputError(_capped(problems, source))
    if country is None:
        country = pd.Series(country_of(lon, lat), index=table.index)
    return pd.DataFrame(
        {
            "demand_id": ids.to_numpy(),
            "name": np.full(len(table), "", dtype=object)
            if name is None
            else name.fillna("").astype(str).to_numpy(),
            "country": country.to_numpy(),
            "population": population.to_numpy(),
            "lon": np.asarray(lon, dtype=float),
            "lat": np.asarray(lat, dtype=float),
        }
    )


def _read_csv_points(
    path: Path,
) -> tuple[
    pd.DataFrame, npt.NDArray[np.float64], npt.NDArray[np.float64], list[str], tuple[str, str]
]:
    source = str(path)
    try:
        table = pd.read_csv(
            path, dtype=str, keep_default_na=False, sep=_delimiter(path), encoding="utf-8-sig"
        )
    except pd.errors.EmptyDataError:
        raise InputError(Problem(source, "the file is empty")) from None
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(Problem(source, f"not a readable CSV file: {exc}")) from None
    labels = [f"row {i + 2}" for i in range(len(table))]
    problems = []
    if table.empty:
        problems.append(Problem(source, "the file has no data rows"))
    columns = {}
    for axis, names in (("lon", LON_NAMES), ("lat", LAT_NAMES)):
        found = _column_name(table, names)
        if found is None:
            problems.append(
                Problem(source, f"no {axis} column (looked for {', '.join(names)})", field=axis)
            )
        columns[axis] = found
    if problems:
        raise InputError(problems)
    lon_field, lat_field = str(columns["lon"]), str(columns["lat"])
    lon = _numbers(table[lon_field]).to_numpy()
    lat = _numbers(table[lat_field]).to_numpy()
    return table, lon, lat, labels, (lon_field, lat_field)


def _delimiter(path: Path) -> str:
    # Spreadsheets in much of Europe save CSV with ';'; tell by the header.
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        header = f.readline()
    return max((",", ";", "\t"), key=header.count)


def _read_vector_points(
    path: Path,
) -> tuple[
    pd.DataFrame, npt.NDArray[np.float64], npt.NDArray[np.float64], list[str], list[Problem]
]:
    source = str(path)
    try:
        with warnings.catch_warnings():
            # A property with mixed numbers and text stays text; the population
            # check below then names the rows that are not numbers.
            warnings.filterwarnings("ignore", "Could not parse column", UserWarning)
            frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(Problem(source, f"not a readable vector file: {exc}")) from None
    if frame.empty:
        raise InputError(Problem(source, "the file has no features"))
    labels = [f"feature {i + 1}" for i in range(len(frame))]
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    geoms = frame.geometry.to_numpy()
    kind = shapely.get_type_id(geoms)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    polygonal = np.isin(kind, (3, 6)) & ~missing
    point = (kind == 0) & ~missing
    problems = [
        Problem(source, f"{labels[i]}: no geometry", field="geometry")
        for i in np.flatnonzero(missing)
    ]
    problems += [
        Problem(
            source,
            f"{labels[i]}: a {geoms[i].geom_type} is neither a point nor a polygon",
            field="geometry",
        )
        for i in np.flatnonzero(~missing & ~point & ~polygonal)
    ]
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
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return table, located.x.to_numpy(), located.y.to_numpy(), labels, problems


def _column_name(table: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    lower = {str(c).strip().lower(): str(c) for c in table.columns}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def _column(table: pd.DataFrame, names: tuple[str, ...]) -> pd.Series | None:
    found = _column_name(table, names)
    return None if found is None else table[found]


def _numbers(values: pd.Series) -> pd.Series:
    if values.dtype.kind in "iuf":
        return values.astype(float)
    text = values.fillna("").astype(str).str.strip()
    # A decimal comma (2,35) is common in European exports; thousands
    # separators are not, so a lone comma is read as the decimal mark.
    text = text.where(text.str.contains(".", regex=False), text.str.replace(",", ".", regex=False))
    return pd.to_numeric(text, errors="coerce")


def _population(
    table: pd.DataFrame,
    column: str,
    labels: list[str],
    source: str,
    problems: list[Problem],
) -> pd.Series:
    found = column if column in table.columns else _column_name(table, (column.lower(),))
    if found is None:
        problems.append(
            Problem(
                source,
                f"no population column '{column}' (set demand.population_column)",
                field=column,
            )
        )
        return pd.Series(np.zeros(len(table)), index=table.index)
    population = _numbers(table[found])
    _add_row_problems(problems, source, labels, population.isna(), found, "not a number")
    _add_row_problems(problems, source, labels, population < 0, found, "negative population")
    return population


def _ids(
    table: pd.DataFrame, path: Path, labels: list[str], source: str, problems: list[Problem]
) -> pd.Series:
    found = _column_name(table, ID_NAMES)
    if found is None:
        return pd.Series([f"{path.stem}:{i + 1}" for i in range(len(table))], index=table.index)
    ids = table[found].fillna("").astype(str).str.strip()
    _add_row_problems(problems, source, labels, ids == "", found, "empty id")
    duplicated = ids.duplicated(keep="first") & (ids != "")
    _add_row_problems(problems, source, labels, duplicated, found, "duplicate id")
    return ids


def _coordinate_problems(
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    labels: list[str],
    source: str,
    fields: tuple[str, str],
) -> list[Problem]:
    problems: list[Problem] = []
    for field, values, limit in ((fields[0], lon, 180.0), (fields[1], lat, 90.0)):
        series = pd.Series(values)
        _add_row_problems(problems, source, labels, series.isna(), field, "not a number")
        _add_row_problems(
            problems, source, labels, series.abs() > limit, field, f"outside ±{limit:g} degrees"
        )
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
