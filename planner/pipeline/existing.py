"""The existing high-power network of a scenario and the demand it already reaches.

Reads the scenario's ``existing_chargers.files`` (:func:`planner.inputs.stations.load_chargers`:
a generic file or the Bundesnetzagentur register), keeps the stations of at
least ``min_power_kw`` and marks every demand point within reach of one of
them — reach as for the sites, under the scenario's travel model: within
``existing_chargers.radius_km`` (travel km; road km in road mode) or else as
far as a site reaches (``travel.radius_km``, or ``max_minutes`` / ``max_km``
on roads). The demand
model then discounts those points' weight (:func:`planner.inputs.demand.demand_weight`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner._files import resolved, unreachable
from planner.errors import InputError, Problem
from planner.inputs.countries import country_of
from planner.inputs.stations import load_chargers
from planner.scenario.schema import Scenario
from planner.travel.reach import travel_reach

logger = logging.getLogger(__name__)

__all__ = ["EXISTING_COLUMNS", "ExistingLayer", "load_existing"]

#: Columns of :attr:`ExistingLayer.table` (and of ``Plan.existing_chargers``).
EXISTING_COLUMNS = ("id", "operator", "power_kw", "points", "lon", "lat")

#: Where the German register comes from; it is not shipped with the project.
BNETZA_SOURCE = (
    "the Bundesnetzagentur publishes it as 'Ladesäulenregister' (CSV, CC BY 4.0) on "
    "bundesnetzagentur.de under E-Mobilität"
)


@dataclass(frozen=True)
class ExistingLayer:
    """Existing stations kept and the demand points they reach.

    Attributes
    ----------
    table
        One row per station of at least the scenario's power, columns
        :data:`EXISTING_COLUMNS`.
    in_reach
        One flag per demand point: within reach of a kept station.
    counts
        Per file: stations read, kept, below the power threshold and kept
        though in no country (``in_no_country``); in total the same, plus
        ``min_power_kw`` and ``radius_km``.
    """

    table: pd.DataFrame
    in_reach: npt.NDArray[np.bool_]
    counts: dict[str, Any]


def load_existing(scenario: Scenario, demand: pd.DataFrame) -> ExistingLayer:
    """Read the scenario's existing charger files and find the demand they reach.

    Raises
    ------
    InputError
        A file is missing (the message says where the BNetzA register comes
        from) or unreadable, or has bad rows (every problem at once).
    """
    config = scenario.existing_chargers
    frames = []
    per_file = []
    problems: list[Problem] = []
    first: dict[Path, int] = {}
    for index, spec in enumerate(config.files):
        key = resolved(spec.path)
        if key in first:
            # Every station of it would count twice in the reach of existing chargers.
            problems.append(
                Problem(
                    str(spec.path),
                    f"listed twice (entries {first[key] + 1} and {index + 1}); list it once",
                    field="existing_chargers.files",
                )
            )
            continue
        first[key] = index
        reason = unreachable(spec.path)
        if reason is not None:
            hint = f"; {BNETZA_SOURCE}" if spec.format == "bnetza" and reason == "not found" else ""
            problems.append(
                Problem(
                    str(spec.path),
                    f"existing charger file {reason}{hint}",
                    field=f"existing_chargers.files[{index}].path",
                )
            )
            continue
        stations = load_chargers(spec.path, fmt=spec.format, min_power_kw=config.min_power_kw)
        swapped, astray = _nowhere(stations, spec.path.name, scenario.demand.countries)
        problems.extend(swapped)
        counts = {**stations.attrs.get("counts", {}), "in_no_country": len(astray)}
        if astray:
            example = astray[0]
            logger.warning(
                "%s: %d station(s) lie in no country (first: %s at longitude %g, latitude %g): "
                "check their coordinates (kept as given)",
                spec.path.name,
                len(astray),
                *example,
            )
        per_file.append({"path": spec.path.name, "format": stations.attrs.get("format"), **counts})
        frames.append(stations)
    if problems:
        raise InputError(problems)
    stations = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    table = pd.DataFrame(
        {
            "id": stations["charger_id"].astype(str).to_numpy() if len(stations) else [],
            "operator": stations["operator"].astype(str).to_numpy() if len(stations) else [],
            "power_kw": stations["power_kw"].to_numpy(dtype=np.float64) if len(stations) else [],
            "points": stations["points"].to_numpy(dtype=np.int64) if len(stations) else [],
            "lon": stations["lon"].to_numpy(dtype=np.float64) if len(stations) else [],
            "lat": stations["lat"].to_numpy(dtype=np.float64) if len(stations) else [],
        }
    ).astype({"power_kw": np.float64, "points": np.int64, "lon": np.float64, "lat": np.float64})
    road = scenario.travel.mode == "road"
    radius = config.radius_km
    if radius is None and not road:
        radius = scenario.travel.radius_km
    in_reach = np.zeros(len(demand), dtype=bool)
    if len(table) and len(demand):
        # A station's own radius is travel km (road km in road mode); without
        # one it reaches as far as a site does.
        reach = travel_reach(
            scenario.travel,
            demand["lon"],
            demand["lat"],
            table["lon"],
            table["lat"],
            radius_km=radius,
        ).matrix
        in_reach = np.diff(reach.indptr) > 0
    counts = {
        "files": per_file,
        "read": int(sum(f.get("read", 0) for f in per_file)),
        "kept": len(table),
        "below_min_power": int(sum(f.get("below_min_power", 0) for f in per_file)),
        "in_no_country": int(sum(f.get("in_no_country", 0) for f in per_file)),
        "min_power_kw": config.min_power_kw,
        "radius_km": radius,
    }
    logger.info(
        "existing chargers: %d stations of at least %g kW reach %d of %d demand points",
        len(table),
        config.min_power_kw,
        int(in_reach.sum()),
        len(demand),
    )
    return ExistingLayer(table=table, in_reach=in_reach, counts=counts)


def _nowhere(
    stations: pd.DataFrame, source: str, countries: list[str]
) -> tuple[list[Problem], list[tuple[str, float, float]]]:
    """Stations in no country: those swapped into the scenario's, and the others.

    A station whose longitude and latitude, swapped, lie in the scenario's
    countries reaches none of the demand it stands among, and no word would
    say so (dealer files get the same check by their country column): an
    error. Any other station in no country (in the sea, a mistyped degree) is
    returned as (id, longitude, latitude), for a warning.
    """
    if stations.empty:
        return [], []
    lon = stations["lon"].to_numpy(dtype=np.float64)
    lat = stations["lat"].to_numpy(dtype=np.float64)
    nowhere = np.flatnonzero(country_of(lon, lat) == "")
    if not nowhere.size:
        return [], []
    turned = country_of(lat[nowhere], lon[nowhere], countries=countries)
    ids = stations["charger_id"].to_numpy()
    swapped = [(i, country) for i, country in zip(nowhere, turned, strict=True) if country]
    astray = [
        (str(ids[i]), float(lon[i]), float(lat[i]))
        for i, country in zip(nowhere, turned, strict=True)
        if not country
    ]
    return [
        Problem(
            source,
            f"station {ids[i]!s} at longitude {lon[i]:g}, latitude {lat[i]:g} lies in no "
            f"country; with the two swapped it lies in {country}: are its coordinates swapped?",
        )
        for i, country in swapped[:20]
    ], astray
