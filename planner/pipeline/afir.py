"""The AFIR corridor check and constraint (see :mod:`planner.scenario.afir`).

**Check.** For every corridor line: its length; the pools within
``afir.max_offset_km`` of it (chosen sites, with chargers × ``power_kw``, and
existing stations of at least 150 kW); and for each milestone the longest
stretch without a pool that meets it — from the corridor's start to the
first such pool, between pools, and from the last to the end. A milestone is
met when that stretch is at most ``afir.max_gap_km``.

**Constraint** (``afir.enforce``), over the candidate sites (existing
pools are counted by the check, not by the rows). The longest gap is at most G exactly
when every stretch of length G contains a pool. The pools' positions along
the corridor only change which sites a stretch holds at the positions
themselves, so the stretches starting at the corridor's start and just
after each candidate are enough: for each, one covering row Σ x_j ≥ 1 over
the candidate sites inside it. A stretch with no candidate makes the
scenario infeasible, and the message names where.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.errors import InfeasibleError, InputError, Problem
from planner.inputs.corridors import corridor_notes, load_corridors
from planner.optimise.constraints import SiteRows
from planner.scenario.schema import Scenario
from planner.travel.corridors import project_onto_line

__all__ = ["MILESTONES", "afir_report", "check_corridors", "corridor_rows", "load_corridors"]

#: AFIR art. 3(1)(a)-(b): (year, least pool power kW, least points of ≥ 150 kW).
MILESTONES = ((2025, 400.0, 1), (2027, 600.0, 2))
#: A point counts as fast from this power, kW.
FAST_POINT_KW = 150.0


def _existing_pools(existing: pd.DataFrame | None) -> pd.DataFrame:
    """Existing stations of at least 150 kW as pools: lon, lat, power_kw, fast_points."""
    if existing is None or existing.empty:
        return pd.DataFrame({"lon": [], "lat": [], "power_kw": [], "fast_points": []})

    def number(name: str, default: float) -> pd.Series:
        if name not in existing:
            return pd.Series(default, index=existing.index)
        return pd.to_numeric(existing[name], errors="coerce").fillna(default)

    power, points = number("power_kw", 0.0), number("points", 1.0)
    fast = power >= FAST_POINT_KW
    # The register gives a station's power and its points; at ≥ 150 kW every point is fast.
    return pd.DataFrame(
        {
            "lon": existing["lon"][fast].to_numpy(dtype=float),
            "lat": existing["lat"][fast].to_numpy(dtype=float),
            "power_kw": power[fast].to_numpy(dtype=float),
            "fast_points": points[fast].to_numpy(dtype=float),
        }
    )


def _gaps(
    length: float, positions: np.ndarray, limit: float
) -> tuple[float, float, list[list[float]]]:
    """Stretches of [0, length] without a position: the longest, where it starts, and
    every stretch longer than ``limit`` as ``[start km, end km]``."""
    stops = np.concatenate([[0.0], np.sort(positions), [length]])
    gaps = np.diff(stops)
    k = int(np.argmax(gaps))
    over = [
        [round(float(stops[i]), 1), round(float(stops[i + 1]), 1)]
        for i in np.flatnonzero(gaps > limit + 1e-9)
    ]
    return float(gaps[k]), float(stops[k]), over


def afir_report(
    sites: pd.DataFrame, existing: pd.DataFrame | None, scenario: Scenario
) -> list[dict[str, Any]]:
    """Per corridor: length, pools and, per milestone, the longest gap and whether it is met."""
    config = scenario.afir
    assert config.corridors is not None
    chosen = sites[sites["chosen"]]
    power = scenario.chargers.power_kw
    pools = pd.concat(
        [
            pd.DataFrame(
                {
                    "lon": chosen["lon"].to_numpy(dtype=float),
                    "lat": chosen["lat"].to_numpy(dtype=float),
                    "power_kw": chosen["chargers"].to_numpy(dtype=float) * power,
                    "fast_points": chosen["chargers"].to_numpy(dtype=float)
                    * (power >= FAST_POINT_KW),
                    "kind": "chosen",
                }
            ),
            _existing_pools(existing).assign(kind="existing"),
        ],
        ignore_index=True,
    )
    rows = []
    for corridor in load_corridors(config.corridors):
        index, position, _ = project_onto_line(
            corridor.lon,
            corridor.lat,
            pools["lon"].to_numpy(dtype=float),
            pools["lat"].to_numpy(dtype=float),
            max_offset_km=config.max_offset_km,
        )
        near = pools.iloc[index]
        row: dict[str, Any] = {
            "corridor": corridor.name,
            "length_km": round(corridor.length_km, 1),
            "pools": len(near),
            "pools_chosen": int((near["kind"] == "chosen").sum()),
            "pools_existing": int((near["kind"] == "existing").sum()),
        }
        for year, least_kw, least_points in MILESTONES:
            good = (near["power_kw"].to_numpy() >= least_kw) & (
                near["fast_points"].to_numpy() >= least_points
            )
            gap, start, over = _gaps(corridor.length_km, position[good], config.max_gap_km)
            row[f"longest_gap_km_{year}"] = round(gap, 1)
            row[f"gap_starts_km_{year}"] = round(start, 1)
            row[f"met_{year}"] = not over
            row[f"gaps_over_limit_km_{year}"] = over
        rows.append(row)
    return rows


def corridor_rows(sites: pd.DataFrame, scenario: Scenario) -> SiteRows:
    """Covering rows: a chosen site in every ``max_gap_km`` stretch of every corridor.

    Raises
    ------
    planner.errors.InfeasibleError
        A stretch of a corridor has no candidate site near it.
    """
    config = scenario.afir
    assert config.corridors is not None
    n_sites = len(sites)
    site_lon = sites["lon"].to_numpy(dtype=float)
    site_lat = sites["lat"].to_numpy(dtype=float)
    usable = ~sites["excluded"].to_numpy(dtype=bool)
    gap = config.max_gap_km
    indptr, indices, names = [0], [], []
    for corridor in load_corridors(config.corridors):
        found, position, _ = project_onto_line(
            corridor.lon, corridor.lat, site_lon, site_lat, max_offset_km=config.max_offset_km
        )
        keep = usable[found]
        found, position = found[keep], position[keep]
        starts = np.unique(np.concatenate([[0.0], position]))
        starts = starts[starts <= max(corridor.length_km - gap, 0.0) + 1e-9]
        for start in starts.tolist():
            end = min(start + gap, corridor.length_km)
            after = position >= start if start == 0.0 else position > start
            inside = np.unique(found[after & (position <= end)])
            if inside.size == 0:
                raise InfeasibleError(
                    f"AFIR on corridor '{corridor.name}': no candidate site lies within "
                    f"{config.max_offset_km:g} km of its km {start:.0f}-{end:.0f}, so no plan "
                    f"keeps the gaps at most {gap:g} km there (afir.enforce)"
                )
            indices.extend(inside.tolist())
            indptr.append(len(indices))
            names.append(f"AFIR pool on '{corridor.name}' km {start:.0f}-{end:.0f}")
    matrix = sp.csr_matrix(
        (np.ones(len(indices)), np.asarray(indices, dtype=np.int64), np.asarray(indptr)),
        shape=(len(names), n_sites),
    )
    return SiteRows(
        matrix=matrix,
        lower=np.ones(len(names)),
        upper=np.full(len(names), np.inf),
        names=tuple(names),
    )


def check_corridors(sites: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Read the corridors, refuse any that no candidate site lies near, and return warnings.

    The warnings say how pieces were joined into corridors, and name a
    corridor no longer than ``afir.max_gap_km``: it meets the rule with no
    pool at all, which is right only when it is a whole corridor.

    Raises
    ------
    planner.errors.InputError
        The file cannot be read as lines, or a corridor is farther than
        ``afir.max_offset_km`` from every candidate site (named: most likely
        a file for another region, or an offset too small).
    """
    config = scenario.afir
    assert config.corridors is not None
    lon = sites["lon"].to_numpy(dtype=float)
    lat = sites["lat"].to_numpy(dtype=float)
    problems = []
    warnings = corridor_notes(config.corridors)
    for corridor in load_corridors(config.corridors):
        if corridor.length_km <= config.max_gap_km:
            warnings.append(
                f"{config.corridors.name}: corridor '{corridor.name}' is "
                f"{corridor.length_km:.1f} km long, within afir.max_gap_km "
                f"({config.max_gap_km:g} km), so it meets the rule without any pool; "
                "give the pieces of one motorway one name to check them as one line"
            )
        found, _, _ = project_onto_line(
            corridor.lon, corridor.lat, lon, lat, max_offset_km=config.max_offset_km
        )
        if found.size == 0:
            # Latitude first, as many tools write a point, is the likeliest slip
            # after a file for another region: say so when the swapped line is near.
            turned, _, _ = project_onto_line(
                corridor.lat, corridor.lon, lon, lat, max_offset_km=config.max_offset_km
            )
            cause = (
                "its coordinates look swapped (GeoJSON writes longitude first): with the two "
                "swapped it passes candidate sites"
                if turned.size
                else "a file for another region, or raise afir.max_offset_km"
            )
            problems.append(
                Problem(
                    str(config.corridors),
                    f"corridor '{corridor.name}' lies farther than {config.max_offset_km:g} km "
                    f"from every candidate site: {cause}",
                    field="afir.corridors",
                )
            )
    if problems:
        raise InputError(problems)
    return warnings
