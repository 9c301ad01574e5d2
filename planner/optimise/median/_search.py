r"""Greedy and interchange heuristics for p-median, over pairs sorted by row and cost.

Both work in *weighted* costs :math:`w_i c_{ij}`, and a row with no open
site in reach costs ``unserved``, a number above any plan's total, so that
serving every reachable row always comes first (p-median requires it).

* :func:`greedy_median` opens, p times, the site that lowers the total the
  most. Only the rows whose nearest open site changes are re-evaluated
  after each opening, so a run costs about one pass over the pairs per
  change of a row's nearest site rather than one pass per opened site.
* :func:`interchange_median` is best-improvement vertex substitution
  (Teitz & Bart, 1968) evaluated for every (closed, open) pair of sites at
  once in the manner of Whitaker (1983) and Resende & Werneck (2007): with
  each row's nearest open cost :math:`d_1` (site :math:`s_1`) and second
  nearest :math:`d_2`, opening :math:`c` and closing :math:`s` changes the
  total by ``-gain(c) + loss(s) - extra(c, s)`` where::

      gain(c)     = Σ_i max(0, d_1(i) - c_ic)
      loss(s)     = Σ_{i: s_1(i) = s} (d_2(i) - d_1(i))
      extra(c, s) = Σ_{i: s_1(i) = s, c_ic < d_2(i)} (d_2(i) - max(c_ic, d_1(i)))

  ``extra`` is non-zero only on pairs with :math:`c_{ic} < d_2(i)`, so one
  sparse pass per swap finds the best one.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import numpy.typing as npt

from planner.optimise._reach import SortedPairs, spans

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def unserved_cost(pairs: SortedPairs, weights: FloatArray) -> float:
    """A weighted cost above the total of any plan that serves every row."""
    if pairs.size == 0:
        return 1.0
    row_max = np.zeros(pairs.n_rows)
    np.maximum.at(row_max, pairs.owner, pairs.cost)
    return float(np.sum(np.maximum(weights, 0.0) * row_max)) * 2.0 + 1.0


def _two_nearest(
    pairs: SortedPairs, is_open: BoolArray, weighted: FloatArray, unserved: float
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Per row: nearest open weighted cost and site, second nearest weighted cost."""
    nearest = np.full(pairs.n_rows, unserved)
    nearest_site = np.full(pairs.n_rows, -1, dtype=np.int64)
    second = np.full(pairs.n_rows, unserved)
    open_pair = is_open[pairs.site]
    firsts = pairs.row_firsts(open_pair)
    nearest[pairs.owner[firsts]] = weighted[firsts]
    nearest_site[pairs.owner[firsts]] = pairs.site[firsts]
    open_pair[firsts] = False
    seconds = pairs.row_firsts(open_pair)
    second[pairs.owner[seconds]] = weighted[seconds]
    return nearest, nearest_site, second


def _row_ranges(pairs: SortedPairs, rows: IntArray) -> IntArray:
    """Positions of every pair of the given rows."""
    ends = np.append(pairs.start[1:], pairs.size)[rows]
    starts = pairs.start[rows]
    return spans(starts, ends - starts)[0]


def greedy_median(
    pairs: SortedPairs,
    weights: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    allowed: BoolArray,
) -> IntArray:
    """Fixed sites, then the site lowering the weighted total most, until ``p`` are open."""
    weighted = weights[pairs.owner] * pairs.cost
    unserved = unserved_cost(pairs, weights)
    is_open = fixed.copy()
    nearest, _, _ = _two_nearest(pairs, is_open, weighted, unserved)
    by_site = np.argsort(pairs.site, kind="stable")
    site_start = np.searchsorted(pairs.site[by_site], np.arange(pairs.n_sites + 1))

    def saving(positions: IntArray) -> FloatArray:
        return np.maximum(0.0, nearest[pairs.owner[positions]] - weighted[positions])

    everything = np.arange(pairs.size, dtype=np.int64)
    gain = np.bincount(pairs.site, weights=saving(everything), minlength=pairs.n_sites)
    while int(is_open.sum()) < p:
        masked = np.where(allowed & ~is_open, gain, -np.inf)
        best = int(np.argmax(masked))
        if not np.isfinite(masked[best]):
            break
        is_open[best] = True
        column = by_site[site_start[best] : site_start[best + 1]]
        nearer = column[weighted[column] < nearest[pairs.owner[column]]]
        rows = pairs.owner[nearer]
        positions = _row_ranges(pairs, rows)
        before = saving(positions)
        nearest[rows] = weighted[nearer]
        change = saving(positions) - before
        gain += np.bincount(pairs.site[positions], weights=change, minlength=pairs.n_sites)
    return np.flatnonzero(is_open).astype(np.int64)


def interchange_median(
    pairs: SortedPairs,
    weights: FloatArray,
    open_sites: IntArray,
    *,
    fixed: BoolArray,
    allowed: BoolArray,
    seconds: float,
    deadline: float = math.inf,
    classes: IntArray | None = None,
) -> IntArray:
    """Swap an open site for a closed one, best swap first, while the total drops.

    Stops at a local optimum (no single swap improves) or after ``seconds``,
    but not before every row is served if a swap can serve it, unless the
    ``deadline`` (a :func:`time.perf_counter` value) has passed. Ties go to
    the lowest site index, so the result is deterministic. With ``classes``
    (a label per site) a site is swapped only for one of its own class: with
    the labels of :func:`planner.optimise.constraints.column_classes` every
    side row keeps its value.
    """
    started = time.perf_counter()
    n_sites = pairs.n_sites
    weighted = weights[pairs.owner] * pairs.cost
    unserved = unserved_cost(pairs, weights)
    is_open = np.zeros(n_sites, dtype=bool)
    is_open[open_sites] = True
    swaps = 0
    while True:
        nearest, nearest_site, second = _two_nearest(pairs, is_open, weighted, unserved)
        # Out of time, but a plan that leaves rows unserved is no plan: go on until
        # every row is served (each such swap is worth ``unserved``) or none helps.
        now = time.perf_counter()
        if now - started >= seconds and (np.all(nearest < unserved) or now >= deadline):
            break
        served = nearest_site >= 0
        loss = np.bincount(
            nearest_site[served], weights=(second - nearest)[served], minlength=n_sites
        )
        loss = np.where(is_open & ~fixed, loss, np.inf)
        closed = (~is_open & allowed)[pairs.site]
        d1, d2 = nearest[pairs.owner], second[pairs.owner]
        better = closed & (weighted < d1)
        gain = np.bincount(pairs.site[better], weights=(d1 - weighted)[better], minlength=n_sites)
        # extra(c, s) on the pairs that beat the second-nearest cost, summed per (c, s),
        # and the best partner s per candidate c among the pairs listed ...
        shared = closed & (weighted < d2) & served[pairs.owner]
        best_listed, partner_listed = _best_partners(
            pairs.site[shared],
            nearest_site[pairs.owner[shared]],
            (d2 - np.maximum(weighted, d1))[shared],
            loss,
            is_open,
            classes,
        )
        # ... or the cheapest site to drop overall (extra = 0 there).
        cheapest = _cheapest(loss, classes)
        use_cheapest = (-loss[cheapest] > best_listed) | (
            (-loss[cheapest] == best_listed) & (cheapest < partner_listed)
        )
        delta = np.where(use_cheapest, -loss[cheapest], best_listed)
        partner = np.where(use_cheapest, cheapest, partner_listed)
        # No site of a class to drop: nothing may come in for it.
        partner = np.where(np.isfinite(delta), partner, -1)
        profit = np.where(~is_open & allowed & (partner >= 0), gain + delta, -np.inf)
        best = int(np.argmax(profit))
        total = float(np.sum(nearest))
        if not profit[best] > 1e-9 * max(1.0, total) or partner[best] < 0:
            break
        is_open[int(partner[best])] = False
        is_open[best] = True
        swaps += 1
    logger.debug("interchange: %d swaps in %.2f s", swaps, time.perf_counter() - started)
    return np.flatnonzero(is_open).astype(np.int64)


#: Most cells (candidate sites × open sites) of the table :func:`_best_partners`
#: sums extra(c, s) in; above it the pairs are grouped by sorting their keys.
_DENSE_CELLS = 10_000_000


def _cheapest(loss: FloatArray, classes: IntArray | None) -> IntArray:
    """Per site, the site of least ``loss`` (the lowest of equal ones), within its class."""
    if classes is None:
        return np.full(loss.size, int(np.argmin(loss)), dtype=np.int64)
    order = np.lexsort((np.arange(loss.size), loss, classes))
    first = np.ones(order.size, dtype=bool)
    first[1:] = classes[order][1:] != classes[order][:-1]
    by_class = np.zeros(int(classes.max()) + 1, dtype=np.int64)
    by_class[classes[order][first]] = order[first]
    return by_class[classes]


def _best_partners(
    candidate: IntArray,
    dropped: IntArray,
    amount: FloatArray,
    loss: FloatArray,
    is_open: BoolArray,
    classes: IntArray | None = None,
) -> tuple[FloatArray, IntArray]:
    """Per site c: the best ``extra(c, s) - loss(s)`` over the pairs (c, s) listed, and that s.

    ``amount`` is each listed pair's share of extra(c, s). Ties go to the lowest
    s; a site with no pair listed gets -inf and -1. Summed in a table of every
    site by every open site when it is small: sorting the keys took three
    quarters of a swap (3.2 M pairs, p = 250: 0.29 of 0.40 s). With
    ``classes``, only pairs of one class are listed.
    """
    n_sites = is_open.size
    open_sites = np.flatnonzero(is_open)
    best = np.full(n_sites, -np.inf)
    partner = np.full(n_sites, -1, dtype=np.int64)
    if classes is not None:
        same = classes[candidate] == classes[dropped]
        candidate, dropped, amount = candidate[same], dropped[same], amount[same]
    if candidate.size == 0:
        return best, partner
    if n_sites * open_sites.size <= _DENSE_CELLS:
        column = np.full(n_sites, -1, dtype=np.int64)
        column[open_sites] = np.arange(open_sites.size)
        cell = candidate * open_sites.size + column[dropped]
        shape = (n_sites, open_sites.size)
        table = np.bincount(cell, weights=amount, minlength=shape[0] * shape[1]).reshape(shape)
        listed = np.bincount(cell, minlength=shape[0] * shape[1]).reshape(shape) > 0
        value = np.where(listed, table - loss[open_sites], -np.inf)
        # The first of equal values: open sites are in index order.
        at = np.argmax(value, axis=1)
        best = value[np.arange(n_sites), at]
        partner = np.where(listed.any(axis=1), open_sites[at], -1)
        return best, partner
    keys, inverse = np.unique(candidate * n_sites + dropped, return_inverse=True)
    extra = np.bincount(inverse, weights=amount, minlength=keys.size)
    candidates, partners = keys // n_sites, keys % n_sites
    value = extra - loss[partners]
    order = np.lexsort((partners, -value, candidates))
    first = np.ones(order.size, dtype=bool)
    first[1:] = candidates[order][1:] != candidates[order][:-1]
    best[candidates[order][first]] = value[order][first]
    partner[candidates[order][first]] = partners[order][first]
    return best, partner


def repair_worth(pairs: SortedPairs, weights: FloatArray, open_sites: IntArray) -> FloatArray:
    """Each site's worth to the plan ``open_sites`` when it must change to meet side rows.

    For :func:`planner.optimise.constraints.most_worth_within`: an open site
    is worth more than any closed one, plus what the plan loses without it;
    a closed site what it saves the plan, so the fewest sites change, the
    ones the plan needs least go and the ones that save most come in.
    """
    n_sites = pairs.n_sites
    is_open = np.zeros(n_sites, dtype=bool)
    is_open[open_sites] = True
    weighted = weights[pairs.owner] * pairs.cost
    nearest, nearest_site, second = _two_nearest(
        pairs, is_open, weighted, unserved_cost(pairs, weights)
    )
    served = nearest_site >= 0
    loss = np.bincount(nearest_site[served], weights=(second - nearest)[served], minlength=n_sites)
    d1 = nearest[pairs.owner]
    better = ~is_open[pairs.site] & (weighted < d1)
    gain = np.bincount(pairs.site[better], weights=(d1 - weighted)[better], minlength=n_sites)
    return np.where(is_open, float(gain.max(initial=0.0)) + 1.0 + loss, gain)


def plan_cost(pairs: SortedPairs, weights: FloatArray, open_sites: IntArray) -> float:
    """Weighted total of a plan, with ``unserved_cost`` for every row it leaves unserved."""
    is_open = np.zeros(pairs.n_sites, dtype=bool)
    is_open[open_sites] = True
    weighted = weights[pairs.owner] * pairs.cost
    nearest, _, _ = _two_nearest(pairs, is_open, weighted, unserved_cost(pairs, weights))
    return float(np.sum(nearest))


def iterated_interchange(
    pairs: SortedPairs,
    weights: FloatArray,
    start: IntArray,
    *,
    fixed: BoolArray,
    allowed: BoolArray,
    pool: BoolArray,
    seconds: float,
    seed: int,
    classes: IntArray | None = None,
) -> IntArray:
    """Iterated local search: kick the best plan by 1–3 random swaps, descend, keep if no worse.

    With ``classes`` every swap, kicks included, stays within a class
    (:func:`interchange_median`).

    The sites swapped in come from ``pool`` (e.g. the sites the LP relaxation
    opens or nearly opens), which keeps the kicks where improvements are.
    Each one replaces a site closed by the kick and is listed by a row that
    lists that site too: a random site anywhere rarely helps when hundreds
    are open (fl1400, p = 300, 30 s from the same start: 6,140 and 6,130
    with near kicks, 6,149 and 6,166 with kicks anywhere). Called with each
    row's nearest sites only (``median.model._search_pairs``), a kick and
    its descent cost milliseconds. A descent that ends at the best plan's
    cost replaces it, so the search walks across plateaus of equal cost
    instead of kicking the same plan again: on grid-like sets most moves tie
    (u1432, p = 400, 100 s from the same start, seeds 1 and 2: 104,020 and
    103,979 against 104,184 and 104,225 keeping only better plans; fl1400,
    p = 300, 17 s: 6,128-6,133 against 6,126-6,133, no change beyond the
    spread). Deterministic for a given ``seed`` and number of kicks.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    best = interchange_median(
        pairs, weights, start, fixed=fixed, allowed=allowed, seconds=seconds, classes=classes
    )
    best_cost = plan_cost(pairs, weights, best)
    kicks = improvements = 0
    by_site = np.argsort(pairs.site, kind="stable")
    site_start = np.searchsorted(pairs.site[by_site], np.arange(pairs.n_sites + 1))
    while time.perf_counter() - started < seconds:
        is_open = np.zeros(pairs.n_sites, dtype=bool)
        is_open[best] = True
        droppable = np.flatnonzero(is_open & ~fixed)
        addable = np.flatnonzero(~is_open & allowed & pool)
        if droppable.size == 0 or addable.size == 0:
            break
        size = int(rng.integers(1, 4))
        size = min(size, droppable.size, addable.size)
        for dropped in rng.choice(droppable, size, replace=False):
            is_open[dropped] = False
            # Open a site near the one closed: one listed by a row it shares.
            column = by_site[site_start[dropped] : site_start[dropped + 1]]
            near = pairs.site[_row_ranges(pairs, pairs.owner[column])] if column.size else addable
            near = near[~is_open[near] & allowed[near] & pool[near] & (near != dropped)]
            fallback = addable
            if classes is not None:
                near = near[classes[near] == classes[dropped]]
                fallback = addable[classes[addable] == classes[dropped]]
                fallback = fallback[~is_open[fallback]]
                if near.size == 0 and fallback.size == 0:
                    is_open[dropped] = True  # nothing of its class to take its place
                    continue
            is_open[rng.choice(near if near.size else fallback)] = True
        left = seconds - (time.perf_counter() - started)
        local = interchange_median(
            pairs,
            weights,
            np.flatnonzero(is_open),
            fixed=fixed,
            allowed=allowed,
            seconds=left,
            classes=classes,
        )
        cost = plan_cost(pairs, weights, local)
        kicks += 1
        tolerance = 1e-9 * max(1.0, abs(best_cost))
        if cost <= best_cost + tolerance:
            improvements += cost < best_cost - tolerance
            # A tie within the tolerance keeps the lower figure, so a chain of
            # ties cannot drift upwards.
            best, best_cost = local, min(cost, best_cost)
    logger.debug(
        "iterated interchange: %d kicks, %d improvements, %.2f s",
        kicks,
        improvements,
        time.perf_counter() - started,
    )
    return best
