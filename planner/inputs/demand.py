"""Demand points: where the drivers who need fast charging live.

Two sources, chosen by ``demand.source`` in the scenario:

``"geonames"``
    GeoNames populated places of the scenario's countries with at least
    ``demand.min_population`` inhabitants (:mod:`planner.inputs.geonames`); ids are
    ``"gn:<geonameid>"``.
a file
    A table with longitude/latitude columns (CSV, TXT, TSV, XLSX, Parquet),
    read by the dealer files' reader (:mod:`planner.inputs.tables`: encoding,
    delimiter and title lines detected) and parsed by the same cell parsers
    (:mod:`planner.inputs.cells`: decimal commas, thousands separators, and a
    number such as ``"132.780"`` read by the file's decimal convention or
    refused when the file leaves it open); or any vector file GeoPandas reads
    (GeoJSON, GeoPackage, shapefile) of points or polygons — polygons stand
    for their centroid, e.g. the cells of a 1 km population grid. The
    population is in ``demand.population_column``; optional columns give an
    id (``demand_id`` or ``id``), a ``name`` and a ``country`` (ISO alpha-2).
    Without a country column each point gets the country whose outline holds
    it (:func:`planner.inputs.countries.country_of`). Every problem in the file is
    reported at once, by row (tables; the header is row 1) or feature number.
a DataFrame
    Given to :func:`load_demand` as ``frame`` (the Python API), read like a
    file of the same columns; messages name the table (``"demand table"``).

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

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from planner.errors import InputError, Problem
from planner.inputs.demand_factors import country_value
from planner.inputs.demand_points import read_demand_file, read_demand_frame
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


def load_demand(
    config: DemandConfig, frame: pd.DataFrame | None = None, name: str = "demand table"
) -> gpd.GeoDataFrame:
    """Demand points of the scenario's countries.

    Parameters
    ----------
    config
        The scenario's ``demand`` section.
    frame
        A demand table given as a DataFrame (the Python API): when given it
        replaces ``config.source`` and is read as a demand file would be
        (:func:`read_demand_frame`).
    name
        How messages name ``frame``.

    Returns
    -------
    geopandas.GeoDataFrame
        EPSG:4326, one row per demand point, columns :data:`DEMAND_COLUMNS`:
        ``demand_id`` (str, ``"gn:2988507"`` or from the file), ``name``,
        ``country`` (ISO alpha-2), ``population`` (float), ``weight`` (float),
        ``sessions_per_day`` (float), ``lon``, ``lat``, ``geometry`` (points).
        ``attrs["counts"]`` holds ``read`` (points in the source),
        ``outside_countries`` and ``zero_population`` (points left out),
        ``duplicates_dropped`` (rows repeating an earlier one, of a user file:
        each place is counted once) and ``kept``.

    Raises
    ------
    InputError
        For an unknown country, a country without GeoNames places, and a
        missing, unreadable or invalid user file (every problem at once).
    """
    countries = [c.upper() for c in config.countries]
    if frame is None and config.source == "geonames":
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
        points, counts, source = _user_points(config, countries, frame, name)
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


def _user_points(
    config: DemandConfig, countries: list[str], frame: pd.DataFrame | None, name: str
) -> tuple[pd.DataFrame, dict[str, int], str]:
    """The points of a user file or table inside the countries, their counts and source name."""
    if frame is not None:
        source = name
        points = read_demand_frame(frame, name=name, population_column=config.population_column)
    else:
        source = Path(config.source).name
        points = read_demand_file(
            Path(config.source),
            population_column=config.population_column,
            sheet=config.sheet,
            decimal=config.decimal,
        )
    dropped = int(points.attrs.get("duplicates_dropped", 0))
    counts = {"read": len(points) + dropped, "duplicates_dropped": dropped}
    inside = points["country"].isin(countries)
    counts["outside_countries"] = int((~inside).sum())
    points = points[inside]
    positive = points["population"] > 0
    counts["zero_population"] = int((~positive).sum())
    points = points[positive]
    if points.empty:
        raise InputError(
            Problem(
                source,
                "no demand point with a population above 0 lies in the scenario's "
                f"countries ({', '.join(countries)})",
            )
        )
    return points, counts, source


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
