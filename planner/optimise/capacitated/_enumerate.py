r"""Plans from the Lagrangian site values: every site set the relaxation cannot rule out.

At multipliers λ (:mod:`._lagrange`) the relaxation with the open set fixed
to S is a lower bound on the cost of every plan that opens exactly S::

    cost(S) ≥ Σ_i λ_i + Σ_(j ∈ S) v_j(λ)

So a set whose sum Σ_(j ∈ S) v_j is above ``incumbent - Σ_i λ_i`` cannot
beat the incumbent, and a set that covers the demand (Σ_(j ∈ S) u_j ≥
Σ_i d_i) and is below it is a candidate. :func:`candidate_sets` lists the
candidates by depth-first search over the sites in order of v_j / u_j,
each branch cut off when even the fractional cheapest cover of the
capacity still missing (by the same order, which is what makes it a
prefix sum) takes the sum past the limit. :func:`best_of_sets` serves
them in order of rising Σ v_j by the transportation problem
(:func:`._heuristic.serve`) until the sums pass the incumbent's cost.

Where the opening costs weigh (OR-Library's capa: 4–7 of 100 sites open
at 1.4–2.3 million each, about half the optimum) the candidates near the
relaxation's value are a few hundred to a few thousand sets. The swap
search alone stopped 0.3 % above the optimum at capacity 12,000, and the
sets of least Σ v_j held it; with both, all four capacities reach the
optimum before the exact model starts. When the list is complete up to the
incumbent's cost and every candidate was served by the exact min-cost
flow, the best plan is proven optimal up to the flow's cost rounding;
otherwise it is a plan. Where many sites open, the search stops at its
node limit and only the sets nearest the relaxation's value are served.
"""

from __future__ import annotations

import bisect
import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from planner.optimise.capacitated import _heuristic as heuristic
from planner.optimise.capacitated._data import BoolArray, FloatArray, IntArray, Pairs
from planner.optimise.capacitated._lagrange import Dual

logger = logging.getLogger(__name__)

#: Most nodes of the depth-first search (about 1 µs of Python each).
_MAX_NODES = 400_000
#: Width of the first round's limit above the relaxation's value, relative to the cost.
_FIRST_WIDTH = 1e-3
#: Most candidate sets kept.
_MAX_SETS = 20_000


@dataclass(frozen=True)
class Candidates:
    """Site sets that may beat the incumbent, by rising Σ v_j; ``complete`` if none is missing."""

    sums: FloatArray
    sets: list[IntArray]
    complete: bool


def candidate_sets(
    values: FloatArray,
    capacity: FloatArray,
    requirement: float,
    lower: BoolArray,
    upper: BoolArray,
    limit: float,
    *,
    deadline: float,
) -> Candidates:
    """Every S with lower ⊆ S ⊆ upper, Σ_S u ≥ requirement, Σ_S v ≤ limit (module docstring)."""
    forced = np.flatnonzero(lower)
    free = np.flatnonzero(upper & ~lower)
    start_sum = float(values[forced].sum())
    need0 = requirement - float(capacity[forced].sum())
    slack = 1e-9 * max(1.0, requirement)
    ratio = values[free] / np.maximum(capacity[free], 1e-300)
    ranked = np.argsort(ratio, kind="stable")
    order = free[ranked]
    value = values[order].tolist()
    size = capacity[order].tolist()
    rate = ratio[ranked].tolist()
    n = len(value)
    # Prefix sums in ratio order: the fractional cheapest cover of what is missing,
    # using sites k.. only, is a prefix of them (negative values come first).
    cum_value = [0.0, *np.cumsum(values[order]).tolist()]
    cum_size = [0.0, *np.cumsum(capacity[order]).tolist()]
    negatives = int(np.sum(values[order] < 0))

    def least(k: int, need: float) -> float:
        """Least Σ v over sites k.. that covers ``need`` with fractions allowed."""
        if need <= slack:
            return cum_value[max(negatives, k)] - cum_value[k] if k < negatives else 0.0
        goal = cum_size[k] + need
        m = bisect.bisect_left(cum_size, goal - slack)
        if m > n:
            return math.inf
        # Whole sites k .. m-2, then the part of site m-1 that is still needed.
        whole = cum_value[m - 1] - cum_value[k]
        # A site of negative value is worth taking whole.
        part = value[m - 1] if m - 1 < negatives else (goal - cum_size[m - 1]) * rate[m - 1]
        extra = cum_value[negatives] - cum_value[m] if m < negatives else 0.0
        return whole + part + extra

    sums: list[float] = []
    sets: list[IntArray] = []
    chosen: list[int] = []
    nodes = 0
    complete = True
    # Explicit stack of (position, sum so far, capacity still needed, entering?).
    stack: list[tuple[int, float, float, int]] = [(0, start_sum, need0, 0)]
    while stack:
        k, total, need, depth = stack.pop()
        del chosen[depth:]
        nodes += 1
        if (
            nodes > _MAX_NODES
            or len(sets) >= _MAX_SETS
            or (nodes % 4096 == 0 and time.perf_counter() > deadline)
        ):
            complete = False
            break
        if total + least(k, need) > limit:
            continue
        if k == n:
            if need <= slack:
                sums.append(total)
                sets.append(np.concatenate([forced, order[chosen]]).astype(np.int64))
            continue
        # Leave site k out (explored second), take it (explored first).
        stack.append((k + 1, total, need, len(chosen)))
        chosen.append(k)
        stack.append((k + 1, total + value[k], need - size[k], len(chosen)))
    ranked = np.argsort(np.asarray(sums), kind="stable")
    return Candidates(np.asarray(sums)[ranked], [sets[i] for i in ranked.tolist()], complete)


@dataclass(frozen=True)
class Enumerated:
    """The best candidate plan (``None`` if none beat ``cost``) and the bound it proves."""

    opened: BoolArray | None
    cost: float
    shares: FloatArray | None
    proven_bound: float


def best_of_sets(
    pairs: Pairs,
    dual: Dual,
    lower: BoolArray,
    upper: BoolArray,
    cost: float,
    *,
    deadline: float,
) -> Enumerated:
    """Serve the candidate sets below ``cost`` in order (module docstring).

    The sets come from the relaxation at ``dual``'s multipliers. Its value
    L(λ) is a floor: no set's Σ v_j is below L(λ) - Σ λ. The limit on
    Σ v_j widens from just above it to the incumbent's cost, four times
    wider each round, so that when the search is cut short by its node
    limit the sets it served are still the cheapest ones and not the first
    ones of its order.

    ``proven_bound`` is a lower bound on every plan's cost when the list
    up to the incumbent's cost was complete and every candidate below the
    final cost was served exactly; ``-inf`` otherwise.
    """
    values, floor = dual.relaxation.site_values, dual.relaxation.bound
    base = float(dual.multipliers.sum())
    width = _FIRST_WIDTH * max(abs(cost if math.isfinite(cost) else floor), 1.0)
    best: tuple[BoolArray, float, FloatArray] | None = None
    done: set[bytes] = set()
    served = found = listed = 0
    exact = False
    while time.perf_counter() < deadline:
        limit = min(cost, floor + width) - base
        candidates = candidate_sets(
            values, pairs.capacity, pairs.total_demand, lower, upper, limit, deadline=deadline
        )
        listed = len(candidates.sets)
        timed_out = False
        for total, sites in zip(candidates.sums.tolist(), candidates.sets, strict=True):
            if base + total >= cost:
                break  # Every later set is bounded above the best plan.
            if time.perf_counter() > deadline:
                timed_out = True
                break
            opened = np.zeros(pairs.n_sites, dtype=bool)
            opened[sites] = True
            key = opened.tobytes()
            if key in done:
                continue
            done.add(key)
            result = heuristic.serve(pairs, opened)
            served += 1
            if result is not None and result[0] < cost:
                cost, found = result[0], served
                best = (opened, result[0], result[1])
        if timed_out:
            break
        if candidates.complete and limit >= cost - base:
            exact = heuristic.exact_service(pairs)
            break
        if not candidates.complete:
            break
        width *= 4.0
    bound = cost - heuristic.service_slack(pairs) if exact and math.isfinite(cost) else -math.inf
    logger.debug(
        "capacitated: %d candidate site sets in the last round, %d served, best plan %.8g "
        "(the %dth)%s",
        listed,
        served,
        cost,
        found,
        ", proven" if math.isfinite(bound) else "",
    )
    if best is None:
        return Enumerated(None, cost, None, bound)
    return Enumerated(best[0], best[1], best[2], bound)
