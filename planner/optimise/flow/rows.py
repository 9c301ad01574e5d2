r"""The cover rows of the flow-refuelling model: arc cover, path cover.

For a trip of length :math:`L` whose path passes sites at positions
:math:`s_j`, the round trip visits site :math:`j` at times :math:`s_j` (out)
and :math:`2L - s_j` (back), in km driven. The car, charging to full at every
open station, reaches the point at time :math:`v` iff the last open station
passed before it lies within :math:`R` behind — or no charge is needed yet,
:math:`v \le R/2` (the start with R/2). Because charging at every station
only ever helps, it is enough that *some* open station lies within
:math:`R` behind :math:`v`. The car runs dry first just before a station, at
D, or at the return to O, so these event times are the only ones to check
(Capar, Kuby, Leon & Tsai 2013, arc-cover path-cover)::

    K_q(v) = { j : some visit t of j with v − R ≤ t < v }      (every event v > R/2)
    y_q ≤ Σ_{j ∈ K_q(v)} x_j                                    for every such v

An empty :math:`K_q(v)` makes trip :math:`q` impossible with any stations. A
trip with no row at all (its round trip needs no charge) still needs one
open station on its path (the convention that only trips the network
serves count), which is the row :math:`K =` every site on the path. For flow
capturing (no range) that single row is the model.

Rows are reduced per trip: duplicates go, and a row whose set contains
another row's set of the same trip is implied by it. Trips with the same
rows merge, their flows summed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise.flow.charge import EPS_KM
from planner.optimise.flow.paths import EXISTING, TripPaths

__all__ = ["CoverRows", "TooManyEntries", "cover_rows"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Per-trip superset elimination is quadratic in the trip's rows; above this
#: many rows it is left to the solver's presolve.
SUPERSET_CHECK_ROWS = 400


@dataclass(frozen=True)
class CoverRows:
    """The model's rows after reduction.

    Attributes
    ----------
    matrix
        Rows × sites, one 1 per site of the row's set.
    row_trip
        Merged trip (0..n_groups-1) each row belongs to.
    group_flow
        Flow of each merged trip.
    trip_group
        For each input trip, its merged trip, or -1 when no stations can serve
        it, or -2 when existing stations alone serve it.
    served_anyway
        Flow of the trips existing stations alone serve (in every plan).
    """

    matrix: sp.csr_matrix
    row_trip: IntArray
    group_flow: FloatArray
    trip_group: IntArray
    served_anyway: float = 0.0

    @property
    def n_groups(self) -> int:
        return int(self.group_flow.size)


#: One cover set: its sorted site indices (tuples: cheaper than arrays at a few sites each).
SiteSet = tuple[int, ...]


def _trip_sets(
    sites: IntArray, positions: FloatArray, length: float, range_km: float | None
) -> list[SiteSet] | None:
    """The sets K_q(v) of one trip (sorted site indices), or ``None`` when it cannot be served.

    A set holding an existing station (-1) is met by every plan and left out,
    so a trip that existing stations alone serve has no set (``[]``). Only
    the sets of windows that hold no other event's window are built: a
    window of visits containing another gives a superset, which
    :func:`_minimal` would drop anyway.
    """
    if sites.size == 0:
        return None
    if np.any(sites == EXISTING) and (range_km is None):
        return []
    if range_km is None:
        return [tuple(sorted(set(sites.tolist())))]
    times = np.concatenate([positions, 2 * length - positions])
    owners = np.concatenate([sites, sites])
    order = np.argsort(times, kind="stable")
    times, owners = times[order], owners[order]
    events = np.unique(np.concatenate([times, [length, 2 * length]]))
    events = events[events > range_km / 2 + EPS_KM]
    # Event v's window holds the visits t with v − R ≤ t < v: positions lo..hi-1.
    lo = np.searchsorted(times, events - range_km - EPS_KM, side="left")
    hi = np.searchsorted(times, events - EPS_KM, side="left")
    if np.any(hi <= lo):
        return None
    existing = np.concatenate([[0], np.cumsum(owners == EXISTING)])
    met = existing[hi] - existing[lo] > 0
    windows = np.unique(np.stack([lo[~met], hi[~met]], axis=1), axis=0)
    if windows.size == 0:
        return [] if np.any(sites == EXISTING) else [tuple(sorted(set(sites.tolist())))]
    visits = owners.tolist()
    return [tuple(sorted(set(visits[a:b]))) for a, b in _innermost(windows).tolist()]


def _innermost(windows: IntArray) -> IntArray:
    """The windows (distinct ``[lo, hi)`` rows, sorted by lo then hi) that hold no other."""
    lo, hi = windows[:, 0], windows[:, 1]
    # Min hi over the windows after each one: those start no earlier.
    later = np.minimum.accumulate(hi[::-1])[::-1]
    after = np.append(later[1:], np.iinfo(np.int64).max)
    # A window sharing its start with an earlier one holds that shorter one.
    same_start = np.append(False, lo[1:] == lo[:-1])
    return windows[(after > hi) & ~same_start]


def _minimal(sets: list[SiteSet]) -> list[SiteSet]:
    """Distinct sets, without those containing another set of the list."""
    kept = sorted(dict.fromkeys(sets), key=len)
    if len(kept) <= 1 or len(kept) > SUPERSET_CHECK_ROWS:
        return kept
    as_sets = [frozenset(item) for item in kept]
    # Sorted by size: a set can only hold one before it (equal sets are gone).
    return [
        item for i, item in enumerate(kept) if not any(as_sets[j] <= as_sets[i] for j in range(i))
    ]


class TooManyEntries(Exception):
    """The rows would hold more site entries than allowed; ``trips`` were read by then."""

    def __init__(self, entries: int, trips: int) -> None:
        super().__init__(f"{entries} entries after {trips} trips")
        self.entries = entries
        self.trips = trips


def cover_rows(
    paths: TripPaths,
    range_km: float | None,
    *,
    usable: npt.ArrayLike,
    max_entries: int | None = None,
) -> CoverRows:
    """Reduced cover rows of every trip over the ``usable`` sites (a mask).

    ``range_km=None`` builds flow-capturing rows (one per trip). Sites not
    usable (excluded) are left off the paths before the rows are built.

    Raises
    ------
    TooManyEntries
        As soon as the rows hold more than ``max_entries`` site entries.
    """
    # An existing station (-1) is always usable: the extra last entry.
    allowed = np.append(np.asarray(usable, dtype=bool), True)
    served_anyway = 0.0
    groups: dict[tuple[SiteSet, ...], int] = {}
    group_flow: list[float] = []
    trip_group = np.full(paths.n_trips, -1, dtype=np.int64)
    row_sets: list[SiteSet] = []
    row_trip: list[int] = []
    entries = 0
    for q in range(paths.n_trips):
        sites, positions = paths.along(q)
        keep = allowed[sites]
        sets = _trip_sets(sites[keep], positions[keep], float(paths.lengths[q]), range_km)
        if sets is None or paths.flows[q] <= 0:
            continue
        if not sets:
            served_anyway += float(paths.flows[q])
            trip_group[q] = -2
            continue
        sets = _minimal(sets)
        key = tuple(sorted(sets))
        group = groups.get(key)
        if group is None:
            group = groups[key] = len(group_flow)
            group_flow.append(0.0)
            row_sets.extend(sets)
            row_trip.extend([group] * len(sets))
            entries += sum(len(item) for item in sets)
            if max_entries is not None and entries > max_entries:
                raise TooManyEntries(entries, q + 1)
        group_flow[group] += float(paths.flows[q])
        trip_group[q] = group
    lengths = np.array([len(item) for item in row_sets], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    indices = np.fromiter(itertools.chain.from_iterable(row_sets), np.int64, int(indptr[-1]))
    matrix = sp.csr_matrix(
        (np.ones(indices.size), indices, indptr), shape=(len(row_sets), paths.n_sites)
    )
    return CoverRows(
        matrix=matrix,
        row_trip=np.asarray(row_trip, dtype=np.int64),
        group_flow=np.asarray(group_flow, dtype=np.float64),
        trip_group=trip_group,
        served_anyway=served_anyway,
    )
