"""Trips as arrays: the candidate sites along each trip's path, in path order.

A trip ``q`` runs from its origin (position 0) to its destination (position
``lengths[q]`` km) and back on the same path. The sites a car can stop at on
the way are ``sites[indptr[q]:indptr[q + 1]]``, at ``positions[...]`` km from
the origin, sorted by position. Site ``-1`` is an existing station: open in
every plan, never a choice (:data:`EXISTING`). A site at position 0 is at the origin, one
at ``lengths[q]`` at the destination. ``flows[q]`` is the trip's weight
(round trips per day, say).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from planner.errors import InputError

__all__ = ["EXISTING", "TripPaths", "open_mask"]

#: The site index of an existing station on a path (open whatever the plan).
EXISTING = -1

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TripPaths:
    """Every trip's path: flows, lengths and the sites along it (CSR layout)."""

    flows: FloatArray
    lengths: FloatArray
    indptr: IntArray
    sites: IntArray
    positions: FloatArray
    n_sites: int

    @property
    def n_trips(self) -> int:
        return int(self.flows.size)

    def along(self, trip: int) -> tuple[IntArray, FloatArray]:
        """Sites on ``trip``'s path and their positions, in path order."""
        start, stop = int(self.indptr[trip]), int(self.indptr[trip + 1])
        return self.sites[start:stop], self.positions[start:stop]

    @classmethod
    def from_lists(
        cls,
        flows: npt.ArrayLike,
        lengths: npt.ArrayLike,
        stops: Sequence[Sequence[tuple[int, float]]],
        n_sites: int,
    ) -> TripPaths:
        """Trips from per-trip lists of ``(site, position km)``, in any order."""
        indptr = np.zeros(len(stops) + 1, dtype=np.int64)
        sites: list[int] = []
        positions: list[float] = []
        for q, trip in enumerate(stops):
            ordered = sorted(trip, key=lambda stop: (stop[1], stop[0]))
            sites.extend(int(site) for site, _ in ordered)
            positions.extend(float(position) for _, position in ordered)
            indptr[q + 1] = len(sites)
        return cls(
            flows=np.asarray(flows, dtype=np.float64),
            lengths=np.asarray(lengths, dtype=np.float64),
            indptr=indptr,
            sites=np.asarray(sites, dtype=np.int64),
            positions=np.asarray(positions, dtype=np.float64),
            n_sites=int(n_sites),
        ).checked()

    def checked(self) -> TripPaths:
        """``self`` when its arrays are consistent; else :class:`InputError` listing why."""
        problems: list[str] = []
        n = self.flows.size
        if self.lengths.shape != (n,):
            problems.append(f"lengths has shape {self.lengths.shape}, expected ({n},)")
        if self.indptr.shape != (n + 1,) or self.indptr[0] != 0:
            problems.append("indptr must have one entry per trip plus one, starting at 0")
        elif np.any(np.diff(self.indptr) < 0) or self.indptr[-1] != self.sites.size:
            problems.append("indptr must be non-decreasing and end at the number of stops")
        if self.positions.shape != self.sites.shape:
            problems.append("positions and sites must have the same length")
        if not np.all(np.isfinite(self.flows)) or np.any(self.flows < 0):
            problems.append("flows must be finite and non-negative")
        if not np.all(np.isfinite(self.lengths)) or np.any(self.lengths < 0):
            problems.append("lengths must be finite and non-negative")
        if self.sites.size and (self.sites.min() < EXISTING or self.sites.max() >= self.n_sites):
            problems.append(f"sites must be indices in [0, {self.n_sites}), or -1 (existing)")
        if problems:
            raise InputError([f"trip paths: {problem}" for problem in problems])
        if self.positions.size and not np.all(np.isfinite(self.positions)):
            raise InputError("trip paths: positions must be finite")
        trip_of = np.repeat(np.arange(n), np.diff(self.indptr))
        outside = (self.positions < -1e-9) | (self.positions > self.lengths[trip_of] + 1e-9)
        if np.any(outside):
            q = int(trip_of[np.flatnonzero(outside)[0]])
            raise InputError(
                f"trip paths: trip {q} has a site outside its path (positions must lie in "
                f"[0, {self.lengths[q]:g}] km)"
            )
        order_ok = all(
            np.all(np.diff(self.positions[self.indptr[q] : self.indptr[q + 1]]) >= 0)
            for q in range(n)
        )
        if not order_ok:
            raise InputError("trip paths: the sites of each trip must be in path order")
        return self


def check_range(range_km: float | None) -> None:
    """A driving range is a positive, finite number of km (``None``: flow capturing)."""
    if range_km is None:
        return
    if (
        isinstance(range_km, bool)
        or not isinstance(range_km, int | float)
        or not math.isfinite(range_km)
        or range_km <= 0
    ):
        raise InputError(f"flow_refuelling: range_km must be a positive number, got {range_km!r}")


def open_mask(n_sites: int, open_sites: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Open flags of the sites plus a last, always-true entry: indexed with a path's
    sites it gives each stop's state, an existing station (-1) open."""
    is_open = np.zeros(n_sites + 1, dtype=bool)
    is_open[np.asarray(open_sites, dtype=np.int64)] = True
    is_open[-1] = True
    return is_open
