"""Which trips a set of stations refuels: the state of charge simulated along each path.

The conventions of the flow-refuelling location model (Kuby & Lim 2005):

* a trip is a round trip O → D → O on one path;
* the car leaves O with a full battery (range R) when O has a station, else
  with R/2 (it charged at home, but must come home again);
* it charges to full at every open station it passes, D included;
* a leg of exactly R is feasible;
* a trip counts only when at least one open station lies on its path: a trip
  short enough to need no charge is not served by the network.

This module is the model's independent check: it walks each round trip and
never looks at the cover rows the MILP is built from (:mod:`.rows`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from planner.optimise.flow.paths import TripPaths, open_mask

__all__ = ["EPS_KM", "captured", "charging_stops", "refuelled"]

#: Distances closer than this count as equal (floating-point sums of road segments).
EPS_KM = 1e-9


def refuelled(
    paths: TripPaths, open_sites: npt.ArrayLike, range_km: float
) -> npt.NDArray[np.bool_]:
    """For each trip, whether the open stations let a car of ``range_km`` make the round trip."""
    is_open = open_mask(paths.n_sites, open_sites)
    served = np.zeros(paths.n_trips, dtype=bool)
    for q in range(paths.n_trips):
        sites, positions = paths.along(q)
        stations = positions[is_open[sites]]
        if stations.size == 0:
            continue
        served[q] = _round_trip_ok(stations, float(paths.lengths[q]), range_km)
    return served


def _round_trip_ok(stations: npt.NDArray[np.float64], length: float, range_km: float) -> bool:
    """Walk O → D → O charging to full at every station; never below zero."""
    out = np.sort(stations)
    # Each station is passed on the way out and again on the way back.
    times = np.concatenate([out, 2 * length - out[::-1]])
    charge = range_km if out[0] <= EPS_KM else range_km / 2
    position = 0.0
    for time in [*times.tolist(), 2 * length]:
        charge -= time - position
        if charge < -EPS_KM:
            return False
        position = time
        if time < 2 * length:
            charge = range_km
    return True


def captured(paths: TripPaths, open_sites: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """For each trip, whether an open station lies on its path (flow capturing)."""
    is_open = open_mask(paths.n_sites, open_sites)
    hits = np.add.reduceat(
        np.append(is_open[paths.sites], False).astype(np.int64), paths.indptr[:-1]
    )
    return (hits > 0) & (np.diff(paths.indptr) > 0)


def charging_stops(
    paths: TripPaths, open_sites: npt.ArrayLike, range_km: float
) -> npt.NDArray[np.float64]:
    """Charging sessions per day at each site: every served round trip's stops, × its flow.

    A driver stops only when the battery would not reach the next station (or
    home): the fewest stops for a car that charges to full, which is how
    drivers plan long trips. A station passed twice (out and back) may see
    two stops of the same trip.
    """
    is_open = open_mask(paths.n_sites, open_sites)
    # The last entry collects the stops at existing stations (site -1).
    sessions = np.zeros(paths.n_sites + 1)
    for q in np.flatnonzero(refuelled(paths, open_sites, range_km)).tolist():
        sites, positions = paths.along(q)
        length = float(paths.lengths[q])
        keep = is_open[sites]
        order = np.argsort(positions[keep], kind="stable")
        out_sites, out_pos = sites[keep][order], positions[keep][order]
        visits = list(zip(out_pos.tolist(), out_sites.tolist(), strict=True))
        visits += [(2 * length - x, s) for x, s in reversed(visits)]
        charge = range_km if out_pos[0] <= EPS_KM else range_km / 2
        here = 0.0
        for k, (time, site) in enumerate(visits):
            charge -= time - here
            here = time
            following = visits[k + 1][0] if k + 1 < len(visits) else 2 * length
            if charge < following - time - EPS_KM:
                sessions[site] += paths.flows[q]
                charge = range_km
    return sessions[:-1]
