"""How many chargers a site needs: queueing at the peak hour (Erlang C, M/M/c).

A site with ``c`` identical chargers is modelled as an M/M/c queue: drivers
arrive as a Poisson stream of rate λ sessions per hour at the peak hour, a
session lasts on average τ hours (exponentially distributed), and a driver who
finds every charger busy waits in one queue. The offered load in Erlangs is

.. math:: a = λ τ

Erlang B (the blocking probability of the loss system) is computed by the
recursion, which is stable for any load because every step is a ratio in
[0, 1] and no factorial or power is ever formed:

.. math::

    B(0, a) = 1, \\qquad
    B(k, a) = \\frac{a\\,B(k-1, a)}{k + a\\,B(k-1, a)}.

The probability that an arriving driver has to wait (Erlang C) follows from it:

.. math::

    C(c, a) = \\frac{c\\,B(c, a)}{c - a\\,(1 - B(c, a))} \\quad (a < c),
    \\qquad C(c, a) = 1 \\quad (a \\ge c),

and the mean wait of all drivers is :math:`W = C(c, a)\\,τ / (c - a)`.

The chargers a site needs are the least ``c`` with :math:`C(c, a) ≤ P^*`, the
target probability of waiting; a site's grid connection (``grid_kw`` / charger
power) or ``max_chargers`` caps ``c`` and the result says when the cap binds.

Peak-hour arrivals come from daily sessions through the peak-hour share
``h`` (the share of a day's sessions that fall in its busiest hour), the same
idea as the design-hour factor of road traffic engineering: λ = h × sessions/day.

The linear ``sizing`` model needs one capacity per charger μ (sessions/hour).
Because C is convex-like in the load, a site of ``c`` chargers may take at most
λ*(c) arrivals per hour at the target, and λ*(c)/c grows with c (pooling).
:func:`capacity_per_charger` takes μ = λ*(c_ref)/c_ref at a reference size:
the linear capacity is then safe for every site of at least c_ref chargers and
slightly generous for smaller ones, which the post-solve Erlang-C sizing of the
chosen sites (:func:`chargers_needed`) corrects.

The independent check of a whole charger plan is
:func:`planner.optimise.sizing.evaluate.evaluate_sizing`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.stats import poisson

logger = logging.getLogger(__name__)

__all__ = [
    "ChargerSizing",
    "capacity_line",
    "capacity_per_charger",
    "chargers_needed",
    "chargers_within_grid",
    "erlang_b",
    "erlang_c",
    "max_arrivals_per_hour",
    "mean_wait_min",
    "offered_load",
    "peak_hour_arrivals",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ArrayLikeFloat = float | npt.ArrayLike
ArrayLikeInt = int | npt.ArrayLike


@dataclass(frozen=True)
class ChargerSizing:
    """Chargers per site from the queueing target.

    All arrays have the shape of the arrivals passed in.

    Attributes
    ----------
    chargers
        Chargers to install: the least count meeting the target, capped by
        ``max_chargers``.
    required
        The least count meeting the target without any cap.
    wait_probability
        Probability that a driver waits at the peak hour with ``chargers``
        chargers (1.0 when the site is overloaded: load ≥ chargers).
    capped
        True where the cap binds, so the target is not met.
    """

    chargers: IntArray
    required: IntArray
    wait_probability: FloatArray
    capped: npt.NDArray[np.bool_]

    @property
    def target_met(self) -> npt.NDArray[np.bool_]:
        """True where the installed chargers meet the waiting target."""
        return ~self.capped


def offered_load(arrivals_per_hour: ArrayLikeFloat, mean_session_min: float) -> FloatArray:
    """Offered load a = λ τ in Erlangs (average number of busy chargers)."""
    arrivals = _nonnegative("arrivals_per_hour", arrivals_per_hour)
    _check_session(mean_session_min)
    return arrivals * (mean_session_min / 60.0)


def peak_hour_arrivals(sessions_per_day: ArrayLikeFloat, *, peak_hour_share: float) -> FloatArray:
    """Arrivals per hour at the busiest hour of the day.

    Parameters
    ----------
    sessions_per_day
        Charging sessions per day (per site or per demand point).
    peak_hour_share
        Share of a day's sessions falling in its busiest hour, in (0, 1].
        An even spread over 24 hours gives 1/24 ≈ 0.042; fast-charging sites
        see an afternoon peak well above that.

    Returns
    -------
    numpy.ndarray
        Sessions per hour at the peak hour, same shape as the input.
    """
    if not 0.0 < peak_hour_share <= 1.0:
        raise ValueError(f"peak_hour_share must be in (0, 1], got {peak_hour_share}")
    return _nonnegative("sessions_per_day", sessions_per_day) * peak_hour_share


def erlang_b(servers: ArrayLikeInt, load: ArrayLikeFloat) -> FloatArray:
    """Erlang B blocking probability B(c, a), broadcast over both arguments.

    Computed with the stable recursion of the module docstring, so loads of
    thousands of Erlangs neither overflow nor lose precision.
    """
    c, a = _broadcast(servers, load)
    return _erlang_b_at(c, a)


def erlang_c(servers: ArrayLikeInt, load: ArrayLikeFloat) -> FloatArray:
    """Probability of waiting C(c, a) of an M/M/c queue, broadcast over both arguments.

    Parameters
    ----------
    servers
        Number of chargers c (non-negative integers).
    load
        Offered load a in Erlangs (arrivals per hour × mean session in hours).

    Returns
    -------
    numpy.ndarray
        C(c, a) in [0, 1]; 1 where a ≥ c (the queue grows without bound), 0
        where a = 0.
    """
    c, a = _broadcast(servers, load)
    blocking = _erlang_b_at(c, a)
    return _erlang_c_from_b(c, a, blocking)


def mean_wait_min(
    servers: ArrayLikeInt, arrivals_per_hour: ArrayLikeFloat, mean_session_min: float
) -> FloatArray:
    """Mean wait of all drivers in minutes, W = C(c, a) τ / (c − a); inf when a ≥ c."""
    load = offered_load(arrivals_per_hour, mean_session_min)
    c, a = _broadcast(servers, load)
    wait = _erlang_c_from_b(c, a, _erlang_b_at(c, a))
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(a < c, wait * mean_session_min / np.maximum(c - a, 1e-300), np.inf)
    return np.where(a == 0, 0.0, result)


def chargers_needed(
    arrivals_per_hour: ArrayLikeFloat,
    mean_session_min: float,
    *,
    max_wait_probability: float,
    max_chargers: ArrayLikeInt | None = None,
    min_chargers: int = 0,
) -> ChargerSizing:
    """The least number of chargers keeping the peak-hour probability of waiting under a target.

    Parameters
    ----------
    arrivals_per_hour
        Peak-hour arrivals λ per site (sessions per hour); a scalar or an array.
    mean_session_min
        Mean session length τ in minutes (an 800 V charge from 10 to 80 % takes
        about 20 minutes).
    max_wait_probability
        Target P*: the largest acceptable probability that a driver waits, in (0, 1).
    max_chargers
        Per-site cap (grid connection or site limit), broadcast to the sites;
        ``None`` for no cap.
    min_chargers
        Least count installed at any site, e.g. 1 so that a chosen site with
        no assigned demand still gets one charger.

    Returns
    -------
    ChargerSizing
        Counts, the uncapped requirement, the resulting probability of waiting
        and where the cap binds.
    """
    _check_target(max_wait_probability)
    if min_chargers < 0:
        raise ValueError(f"min_chargers must be non-negative, got {min_chargers}")
    load = offered_load(arrivals_per_hour, mean_session_min)
    required = np.maximum(_least_servers(load.ravel(), max_wait_probability), min_chargers)
    required = required.reshape(load.shape)
    if max_chargers is None:
        chargers = required
    else:
        cap = np.broadcast_to(np.asarray(max_chargers), load.shape)
        if not np.issubdtype(cap.dtype, np.integer) and not np.all(cap == np.floor(cap)):
            raise ValueError("max_chargers must be whole numbers")
        if np.any(cap < 0):
            raise ValueError("max_chargers must be non-negative")
        chargers = np.minimum(required, cap.astype(np.int64))
    capped = chargers < required
    wait = erlang_c(chargers, load)
    if np.any(capped):
        logger.info(
            "%d site(s) need more chargers than allowed; the waiting target is not met there",
            int(np.count_nonzero(capped)),
        )
    return ChargerSizing(
        chargers=np.asarray(chargers, dtype=np.int64),
        required=np.asarray(required, dtype=np.int64),
        wait_probability=np.asarray(wait, dtype=np.float64),
        capped=np.asarray(capped, dtype=np.bool_),
    )


def max_arrivals_per_hour(
    chargers: ArrayLikeInt, mean_session_min: float, *, max_wait_probability: float
) -> FloatArray:
    """Largest peak-hour arrivals λ*(c) that c chargers take while meeting the target.

    C(c, a) increases with a, so λ*(c) is found by bisection on a in [0, c);
    the result is accurate to a relative 1e-12.
    """
    _check_target(max_wait_probability)
    _check_session(mean_session_min)
    c = np.asarray(chargers, dtype=np.int64)
    if np.any(c < 0):
        raise ValueError("chargers must be non-negative")
    low = np.zeros(c.shape, dtype=np.float64)
    high = c.astype(np.float64)
    for _ in range(200):
        middle = 0.5 * (low + high)
        ok = erlang_c(c, middle) <= max_wait_probability
        low = np.where(ok, middle, low)
        high = np.where(ok, high, middle)
        if np.all(high - low <= 1e-12 * np.maximum(high, 1e-300)):
            break
    return low * (60.0 / mean_session_min)


def capacity_per_charger(
    mean_session_min: float, *, max_wait_probability: float, reference_chargers: int = 4
) -> float:
    """Sessions per hour one charger takes at the target, for the linear sizing model.

    μ = λ*(c_ref) / c_ref with c_ref = ``reference_chargers``: safe for sites
    of at least c_ref chargers (pooling only raises λ*(c)/c), generous for
    smaller ones (see the module docstring). ``reference_chargers=1`` gives the
    always-safe M/M/1 value P* × 60 / τ.
    """
    if reference_chargers < 1:
        raise ValueError(f"reference_chargers must be at least 1, got {reference_chargers}")
    total = max_arrivals_per_hour(
        reference_chargers, mean_session_min, max_wait_probability=max_wait_probability
    )
    return float(total) / reference_chargers


def capacity_line(
    mean_session_min: float,
    *,
    max_wait_probability: float,
    least_chargers: int,
    most_chargers: int,
) -> tuple[float, float]:
    """A linear capacity a + μ n that never exceeds the Erlang-C capacity λ*(n).

    The line through λ*(m) and λ*(m + 1), m = ``least_chargers``: exact for
    the two smallest sites, and below λ*(n) for every larger count because
    λ*(n) is convex in n (pooling: λ*(n)/n grows). Convexity is checked up to
    ``most_chargers`` and the intercept lowered where it would fail, so the
    line is safe by construction.

    Returns
    -------
    tuple of float
        μ (sessions per hour per charger) and a (≤ 0, sessions per hour per site).
    """
    if least_chargers < 1:
        raise ValueError(f"least_chargers must be at least 1, got {least_chargers}")
    top = max(int(most_chargers), least_chargers + 1)
    counts = np.arange(least_chargers, top + 1, dtype=np.int64)
    capacity = max_arrivals_per_hour(
        counts, mean_session_min, max_wait_probability=max_wait_probability
    )
    slope = float(capacity[1] - capacity[0])
    intercept = float(np.min(capacity - slope * counts))
    return slope, min(intercept, 0.0)


def chargers_within_grid(
    grid_kw: ArrayLikeFloat, *, charger_power_kw: float, max_chargers: ArrayLikeInt | None = None
) -> IntArray:
    """Chargers a grid connection can feed at full power: ⌊grid_kw / charger_power_kw⌋.

    NaN grid values (unknown connection) mean no grid limit and give
    ``max_chargers`` (or a very large number when that is ``None`` too).
    """
    if not charger_power_kw > 0:
        raise ValueError(f"charger_power_kw must be positive, got {charger_power_kw}")
    grid = np.asarray(grid_kw, dtype=np.float64)
    if np.any(grid < 0):
        raise ValueError("grid_kw must be non-negative")
    unlimited = np.iinfo(np.int64).max // 4
    cap = (
        np.full(grid.shape, unlimited, dtype=np.int64)
        if max_chargers is None
        else np.broadcast_to(np.asarray(max_chargers, dtype=np.int64), grid.shape)
    )
    # A small tolerance keeps 700 kW / 350 kW at 2 despite binary floating point.
    by_grid = np.floor(np.where(np.isnan(grid), 0.0, grid) / charger_power_kw + 1e-9)
    by_grid_int = np.where(np.isnan(grid), unlimited, by_grid).astype(np.int64)
    return np.minimum(by_grid_int, cap)


# --- internals -----------------------------------------------------------------


#: Loads (Erlangs) up to which the least count comes from the B recursion; above,
#: from a bisection on the Poisson form of B, which costs the same at any load.
RECURSION_LOAD = 500.0

#: Largest load sized at all: 10^12 Erlangs is a million times any charging
#: site on Earth, and counts above it no longer fit the integers used here.
MAX_LOAD = 1e12


def _least_servers(load: FloatArray, target: float) -> IntArray:
    """Least c with C(c, a) ≤ target for each load.

    Small loads run the B recursion upwards (exact, a few hundred steps);
    large ones bisect on c between a and a + 10√a + 10 (square-root staffing
    puts the answer well inside) with B from its Poisson form, so the time
    does not grow with the load.
    """
    if np.any(load > MAX_LOAD):
        raise ValueError(
            f"a site's peak-hour load of {float(load.max()):.3g} Erlangs is beyond any charger "
            f"plan (at most {MAX_LOAD:.0e}); check the demand's population and factors"
        )
    need = np.where(load == 0.0, 0, -1).astype(np.int64)
    small = (need < 0) & (load <= RECURSION_LOAD)
    blocking = np.ones_like(load)
    pending = small.copy()
    c = 0
    while np.any(pending):
        c += 1
        blocking = load * blocking / (c + load * blocking)
        wait = _erlang_c_from_b(np.full(load.shape, c, dtype=np.int64), load, blocking)
        done = pending & (wait <= target)
        need[done] = c
        pending &= ~done
    large = np.flatnonzero(need < 0)
    if large.size:
        a = load[large]
        low = np.floor(a).astype(np.int64)  # C = 1 at c ≤ a: never enough
        high = np.ceil(a + 10.0 * np.sqrt(a) + 10.0).astype(np.int64)
        while np.any(high - low > 1):
            mid = (low + high) // 2
            ok = _erlang_c_from_b(mid, a, _poisson_blocking(mid, a)) <= target
            high = np.where(ok, mid, high)
            low = np.where(ok, low, mid)
        need[large] = high
    return need


def _poisson_blocking(c: IntArray, a: FloatArray) -> FloatArray:
    """B(c, a) = P(N = c) / P(N ≤ c) for N ~ Poisson(a), in logs: exact at any load."""
    log_b = poisson.logpmf(c, a) - poisson.logcdf(c, a)
    return np.asarray(np.minimum(np.exp(log_b), 1.0), dtype=np.float64)


def _erlang_b_at(c: IntArray, a: FloatArray) -> FloatArray:
    """B(c_i, a_i) for every element: one recursion up to max c, read off at each c_i.

    Counts above :data:`RECURSION_LOAD` take the Poisson form instead, so a
    huge count costs no more than a small one.
    """
    result = np.ones(a.shape, dtype=np.float64)
    if c.size == 0:
        return result
    large = c > RECURSION_LOAD
    if np.any(large):
        result[large] = _poisson_blocking(c[large], a[large])
    small = ~large & (c > 0)
    if not np.any(small):
        return result
    top = int(c[small].max())
    blocking = np.ones(a.shape, dtype=np.float64)
    for k in range(1, top + 1):
        blocking = a * blocking / (k + a * blocking)
        at_k = small & (c == k)
        result[at_k] = blocking[at_k]
    return result


def _erlang_c_from_b(c: IntArray, a: FloatArray, blocking: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        wait = c * blocking / (c - a * (1.0 - blocking))
    wait = np.where(a < c, np.clip(wait, 0.0, 1.0), 1.0)
    return np.where(a == 0.0, 0.0, wait)


def _broadcast(servers: ArrayLikeInt, load: ArrayLikeFloat) -> tuple[IntArray, FloatArray]:
    c_raw = np.asarray(servers)
    if c_raw.size and not np.all(np.asarray(c_raw, dtype=np.float64) % 1 == 0):
        raise ValueError("servers must be whole numbers")
    c = c_raw.astype(np.int64)
    a = np.asarray(load, dtype=np.float64)
    if np.any(c < 0):
        raise ValueError("servers must be non-negative")
    if np.any(~np.isfinite(a)) or np.any(a < 0):
        raise ValueError("load must be finite and non-negative")
    c_b, a_b = np.broadcast_arrays(c, a)
    return np.array(c_b), np.array(a_b)


def _nonnegative(name: str, values: ArrayLikeFloat) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if np.any(~np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    return array


def _check_target(target: float) -> None:
    if not (0.0 < target < 1.0) or math.isnan(target):
        raise ValueError(f"max_wait_probability must be in (0, 1), got {target}")


def _check_session(mean_session_min: float) -> None:
    if not (mean_session_min > 0 and math.isfinite(mean_session_min)):
        raise ValueError(f"mean_session_min must be positive, got {mean_session_min}")
