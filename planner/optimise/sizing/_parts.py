"""The sizing model's reduced instance, greedy start, LP rounding, counting bound, checks.

See :mod:`planner.optimise.sizing.model` for the model and what each piece is for.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.errors import InfeasibleError, SolverError
from planner.optimise._aggregate import aggregate_rows
from planner.optimise._milp import Milp, MilpStatus, solve_milp
from planner.optimise._reach import (
    drop_sites,
    entry_rows,
    keep_entries,
    packed_rows,
    spans,
    structure,
)
from planner.optimise.coverage._core import lagrangian_core
from planner.optimise.solution import SolverSettings

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


#: Sites of the lazy greedy's queue rescored at once.
_LAZY_BATCH = 16


@dataclass(frozen=True)
class Capacity:
    """Peak-hour demand an open site of n chargers takes: ``intercept + per_charger × n``.

    ``intercept`` ≤ 0 (0 gives the plain μ n of a capacity per charger).
    """

    per_charger: float
    intercept: float = 0.0

    def room(self, chargers: npt.ArrayLike) -> FloatArray:
        """Demand a site takes with ``chargers`` chargers (0 with none)."""
        count = np.asarray(chargers, dtype=np.float64)
        return np.where(count > 0, np.maximum(self.intercept + self.per_charger * count, 0.0), 0.0)

    def chargers_for(self, load: npt.ArrayLike) -> FloatArray:
        """Least chargers taking ``load`` (0 for no load)."""
        load = np.asarray(load, dtype=np.float64)
        need = np.ceil((load - self.intercept) / self.per_charger - 1e-9)
        return np.where(load > 1e-12, np.maximum(need, 1.0), 0.0)


@dataclass(frozen=True)
class SizingInstance:
    """The reduced instance the MILP is built on."""

    rows: sp.csr_matrix  # distinct reach sets (0/1 structure), pairs to excluded sites gone
    row_demand: FloatArray  # summed demand of each distinct row
    group: IntArray  # for each kept original row, its distinct row
    kept: BoolArray  # original rows in the model
    limit: FloatArray  # reduced charger limit M'_j (0 at excluded sites)


def reduce_instance(
    matrix: sp.csr_matrix,
    lam: FloatArray,
    limit: FloatArray,
    capacity: Capacity,
    never: BoolArray,
    least: int,
) -> SizingInstance:
    usable = drop_sites(matrix, never)
    kept = (np.diff(usable.indptr) > 0) & (lam > 0)
    merged = aggregate_rows(
        sp.csr_matrix(usable[np.flatnonzero(kept)]), lam[kept], match_costs=False
    )
    rows = structure(merged.reach)
    demand_in_reach = np.asarray(rows.T @ merged.weights).ravel()
    useful = capacity.chargers_for(demand_in_reach)
    # An open site keeps room for its least chargers (constraint 6) even without demand;
    # a site whose limit is below that can never open.
    reduced = np.where(never | (limit < least), 0.0, np.minimum(limit, np.maximum(useful, least)))
    return SizingInstance(rows, merged.weights, merged.group, kept, reduced)


def pairs_of(rows: sp.csr_matrix) -> tuple[IntArray, IntArray]:
    return entry_rows(rows), rows.indices.astype(np.int64)


def within_room(
    inst: SizingInstance, shares: FloatArray, chargers: FloatArray, mu: Capacity
) -> FloatArray:
    """``shares`` with each site's cut to what its ``chargers`` take, where they take more.

    A solver's values meet the capacity rows to its tolerance only: with demand
    in millionths of a session, 41 sites of a plan carried up to 1e-5 more than
    their room (a site of 418 chargers, 1.65e-9 sessions over 0.0010445).
    """
    pair_row, pair_site = pairs_of(inst.rows)
    load = np.bincount(pair_site, shares * inst.row_demand[pair_row], minlength=chargers.size)
    room = mu.room(chargers)
    over = load > room
    if not over.any():
        return shares
    factor = np.ones(chargers.size)
    factor[over] = room[over] / load[over]
    return shares * factor[pair_site]


def served_demand(inst: SizingInstance, shares: FloatArray) -> float:
    """Demand the shares of every pair (instance order) serve."""
    return float(np.dot(np.repeat(inst.row_demand, np.diff(inst.rows.indptr)), shares))


def max_service(
    inst: SizingInstance,
    mu: Capacity,
    coverage: float,
    target: float,
    within: float,
    settings: SolverSettings,
    *,
    scale: float = 1.0,
) -> FloatArray:
    """Shares of the LP serving the most demand with every allowed site at its limit.

    Raises :class:`InfeasibleError` with the numbers when even that misses the
    target; ``scale`` is the factor the demand was multiplied by, divided out
    of the numbers shown.
    """
    pair_row, pair_site = pairs_of(inst.rows)
    (n_rows, n_sites), n_pairs = inst.rows.shape, pair_row.size
    weight = inst.row_demand[pair_row]
    columns = np.arange(n_pairs)
    lp = Milp(
        objective=weight.copy(),
        matrix=sp.vstack(
            [
                sp.csr_matrix((np.ones(n_pairs), (pair_row, columns)), (n_rows, n_pairs)),
                sp.csr_matrix((weight, (pair_site, columns)), (n_sites, n_pairs)),
            ],
            format="csr",
        ),
        row_lower=np.full(n_rows + n_sites, -np.inf),
        row_upper=np.concatenate([np.ones(n_rows), mu.room(inst.limit)]),
        lower=np.zeros(n_pairs),
        upper=np.ones(n_pairs),
        integer=np.zeros(n_pairs, dtype=bool),
        maximise=True,
    )
    result = solve_milp(lp, settings, backend="highs") if n_pairs else None
    if result is not None and result.status is MilpStatus.NO_SOLUTION:
        raise SolverError(
            "sizing: the greedy start missed the coverage target, and the LP that tells whether "
            f"any plan can meet it did not finish within the {settings.time_limit_s:g} s left; "
            "raise solver.time_limit_s"
        )
    if result is not None and result.status not in (MilpStatus.OPTIMAL, MilpStatus.FEASIBLE):
        raise SolverError(f"sizing: the maximum-service LP ended with {result.status.value}")
    shares = np.zeros(0) if result is None else np.clip(result.values, 0.0, 1.0)
    most = float(np.dot(weight, shares))
    if most < target * (1 - 1e-9):
        share = most / within if within > 0 else 0.0
        raise InfeasibleError(
            f"sizing: coverage target {coverage:.1%} of the {within / scale:,.1f} peak-hour "
            f"sessions within reach cannot be met: with every allowed site at its charger limit "
            f"({int(inst.limit.sum())} chargers) at most {most / scale:,.1f} sessions "
            f"({100 * share:.3g} %) can be served within the queueing target",
            remedy={"coverage_at_most": _floor_3_digits(share)},
        )
    return shares


def _floor_3_digits(share: float) -> float:
    """``share`` rounded down to 3 significant digits: a target it suggests stays reachable."""
    if share <= 0:
        return 0.0
    scale = 10.0 ** (2 - math.floor(math.log10(share)))
    return math.floor(share * scale) / scale


def greedy_start(
    inst: SizingInstance,
    prices: FloatArray,
    per_charger: FloatArray,
    mu: Capacity,
    target: float,
    penalty: float | None,
    must: BoolArray,
    least: int,
    deadline: float | None = None,
) -> FloatArray:
    """Pair shares of the greedy heuristic of the module docstring.

    Each step scores every site afresh (a product over every pair): opening
    thousands of sites that way took minutes (146,000 sites, 2.5 M pairs,
    18,000 sites opened: 53 s under a 20 s limit). Past ``deadline``
    (``time.perf_counter()`` seconds) the rest goes lazily: a site's score is
    recomputed only when it tops the queue, from gains kept up to date over
    the rows each opening touches. Scores fall as demand is served, so the
    site opened is the best or close to it (a site's charger cost can fall
    with its gain, which the stale scores do not see).
    """
    rows = inst.rows
    # Column view whose data are the CSR pair numbers + 1, to write shares per site.
    numbered = np.arange(1, rows.nnz + 1, dtype=np.float64)
    by_site = sp.csr_matrix((numbered, rows.indices, rows.indptr), shape=rows.shape).tocsc()
    options = np.diff(rows.indptr)
    remaining = inst.row_demand.copy()
    room = mu.room(inst.limit)
    shares = np.zeros(rows.nnz)
    closed = inst.limit < least
    served = 0.0

    def open_site(j: int) -> None:
        nonlocal served
        start, stop = by_site.indptr[j], by_site.indptr[j + 1]
        members = by_site.indices[start:stop]
        pairs = by_site.data[start:stop].astype(np.int64) - 1
        # Rows with the fewest other sites first: others can serve the rest. Each
        # takes what is left of its demand while the site has room: the room
        # left before a row is the room less the demand of the rows before it.
        order = np.argsort(options[members], kind="stable")
        members, pairs = members[order], pairs[order]
        wanted = remaining[members]
        take = np.clip(room[j] - (np.cumsum(wanted) - wanted), 0.0, wanted)
        took = take > 0
        shares[pairs[took]] = take[took] / inst.row_demand[members[took]]
        remaining[members[took]] -= take[took]
        room[j] = max(room[j] - float(take.sum()), 0.0)
        served += float(take.sum())
        closed[j] = True

    def scores(sites: IntArray, reach_demand: FloatArray) -> FloatArray:
        gain = np.minimum(reach_demand, room[sites])
        useful = np.minimum(gain, target - served) if penalty is None else gain
        cost = prices[sites] + per_charger[sites] * np.maximum(mu.chargers_for(gain), least)
        score = np.where(closed[sites] | (useful <= 0), -np.inf, useful / np.maximum(cost, 1e-12))
        if penalty is not None:
            score = np.where(penalty * gain > cost, score, -np.inf)
        return score

    def unmet() -> bool:
        return penalty is not None or served < target * (1 - 1e-12)

    def left() -> float:
        return math.inf if penalty is not None else target - served

    for fixed_site in np.flatnonzero(must):
        open_site(int(fixed_site))
    every_site = np.arange(rows.shape[1])
    while unmet():
        if deadline is not None and time.perf_counter() > deadline:
            _lazy_rest(rows, by_site, remaining, open_site, scores, unmet, left)
            break
        score = scores(every_site, np.asarray(rows.T @ remaining).ravel())
        best = int(np.argmax(score))
        if not np.isfinite(score[best]):
            break
        open_site(best)
    return shares


def _lazy_rest(
    rows: sp.csr_matrix,
    by_site: sp.csc_matrix,
    remaining: FloatArray,
    open_site: Callable[[int], None],
    scores: Callable[[IntArray, FloatArray], FloatArray],
    unmet: Callable[[], bool],
    left: Callable[[], float],
) -> None:
    """The greedy's remaining steps from a queue of stale scores (see :func:`greedy_start`).

    A site's queued score is exact while the demand in its reach is the one it
    was scored with and, when that is more than what is ``left`` to serve (the
    target then caps its gain), so is what is left: such a site on top of the
    queue opens at once.
    Otherwise it is rescored with the next ``_LAZY_BATCH - 1`` in the queue
    (one numpy call per site cost more than the rest of a step) and they go
    back into the queue.
    """
    reach_demand = np.asarray(rows.T @ remaining).ravel()
    scored = reach_demand.copy()
    scored_left = np.full(reach_demand.size, left())
    row_size = np.diff(rows.indptr)
    first = scores(np.arange(rows.shape[1]), reach_demand)
    queue = [(-float(first[j]), int(j)) for j in np.flatnonzero(np.isfinite(first))]
    heapq.heapify(queue)
    while queue and unmet():
        site = heapq.heappop(queue)[1]
        now_left = left()
        if reach_demand[site] != scored[site] or (
            scored[site] > now_left and scored_left[site] != now_left
        ):
            more = min(_LAZY_BATCH - 1, len(queue))
            batch = np.array([site] + [heapq.heappop(queue)[1] for _ in range(more)])
            fresh = scores(batch, reach_demand[batch])
            scored[batch] = reach_demand[batch]
            scored_left[batch] = now_left
            # Sites closed, useless or not worth their cost now are not queued again.
            for k in np.flatnonzero(np.isfinite(fresh)):
                heapq.heappush(queue, (-float(fresh[k]), int(batch[k])))
            continue
        touched = by_site.indices[by_site.indptr[site] : by_site.indptr[site + 1]]
        before = remaining[touched].copy()
        open_site(site)
        served_now = before - remaining[touched]
        changed = served_now > 0
        at, row = spans(rows.indptr[touched[changed]], row_size[touched[changed]])
        np.subtract.at(reach_demand, rows.indices[at], served_now[changed][row])


def counting_bound(
    inst: SizingInstance,
    prices: FloatArray,
    per_charger: FloatArray,
    mu: Capacity,
    target: float,
    must: BoolArray,
    least: int,
    *,
    least_sites: int = 0,
) -> float:
    """A lower bound on the cost from counting alone, for solves stopped before the root LP.

    Any plan opens at least k sites: the fixed ones and then, largest room
    first, as many as it takes for their rooms (a + μ M'_j) to hold the
    target; and at least one per row it serves of a packing of rows whose
    reach sets share no site (:func:`planner.optimise._reach.packed_rows`),
    of which it may leave unserved only as many as the demand beyond the
    target allows, smallest first (with every row to serve, the full-scale
    sample dealers: 132 such rows, against 37 sites by room); and at least
    ``least_sites``, when the caller knows more (every row to serve: the
    fewest sites that reach every row, :func:`fewest_covering_sites`). Its K ≥ k open
    sites hold the target only if Σ_j (a + μ n_j) ≥ target, so Σ n_j ≥
    (target − a K)/μ ≥ (target − a k)/μ (a ≤ 0), and at least m per open
    site. The bound: the fixed sites, the k − fixed cheapest other sites,
    and that many chargers at the cheapest charger price.
    """
    allowed = inst.limit >= least
    if not allowed.any():
        return float(prices[must].sum())
    room = mu.room(inst.limit)
    held = float(room[must].sum())
    sites = int(must.sum())
    for extra_room in np.sort(room[allowed & ~must])[::-1]:
        if held >= target * (1 - 1e-12):
            break
        held += float(extra_room)
        sites += 1
    usable = keep_entries(inst.rows, allowed[inst.rows.indices])
    packed = packed_rows(usable.indptr, usable.indices)
    spare = float(inst.row_demand.sum()) - target  # demand a plan may leave unserved
    smallest = np.cumsum(np.sort(inst.row_demand[packed]))
    unserved = int(np.searchsorted(smallest, spare * (1 + 1e-12), side="right"))
    sites = max(sites, packed.size - unserved, least_sites)
    chargers = max(
        math.ceil((target - mu.intercept * sites) / mu.per_charger - 1e-9) if target > 0 else 0,
        least * sites,
    )
    optional = np.sort(prices[allowed & ~must])
    extra = float(optional[: max(sites - int(must.sum()), 0)].sum())
    return float(prices[must].sum()) + extra + chargers * float(per_charger[allowed].min())


def fewest_covering_sites(
    inst: SizingInstance, least: int, upper: float, *, deadline: float, per_row: int = 0
) -> tuple[int, BoolArray]:
    """A lower bound on the sites of any plan serving every row, and a core of sites.

    The open sites of such a plan reach every row: set covering's Lagrangian
    relaxation (:func:`planner.optimise.coverage._core.lagrangian_core`, every
    site of cost 1) runs until ``deadline``, its steps aiming at ``upper``
    sites (a known cover's). The packing of :func:`counting_bound` is one of
    its dual points, rarely the best (full-scale sample dealers with every
    row to serve: 132 packed rows; the relaxation 156 sites in its 3 s of a
    minute's limit, about 177 given longer). The core is the sites of
    negative reduced cost and the ``per_row`` cheapest of each row at the
    best multipliers (none with ``per_row`` 0): where covers are cheap.
    """
    allowed = inst.limit >= least
    usable = np.diff(keep_entries(inst.rows, allowed[inst.rows.indices]).indptr) > 0
    if not allowed.any() or not usable.all():
        # Some row no site can serve: no plan serves every row, say nothing.
        return 0, np.zeros(allowed.size, dtype=bool)
    relaxation = lagrangian_core(
        inst.rows, np.ones(allowed.size), allowed, upper, per_row=per_row, deadline=deadline
    )
    core = relaxation.sites if per_row > 0 else np.zeros(allowed.size, dtype=bool)
    return max(math.ceil(relaxation.bound - 1e-6), 0), core


def round_up(
    inst: SizingInstance, shares: FloatArray, capacity: Capacity, must: BoolArray, least: int
) -> tuple[FloatArray, FloatArray]:
    """Open sites and charger counts that carry the given pair shares."""
    pair_row, pair_site = pairs_of(inst.rows)
    n_sites = inst.rows.shape[1]
    load = np.bincount(pair_site, weights=inst.row_demand[pair_row] * shares, minlength=n_sites)
    count = capacity.chargers_for(load)
    count = np.minimum(np.where((count > 0) | must, np.maximum(count, least), 0.0), inst.limit)
    return (count > 0).astype(np.float64), count


def explain_budget(
    budget: float, prices: FloatArray, per_charger: FloatArray, must: BoolArray, least: int
) -> None:
    """Raise with the numbers when the fixed sites alone cost more than the budget."""
    cost = float(prices[must].sum() + least * per_charger[must].sum())
    if cost > budget + 1e-9:
        raise InfeasibleError(
            f"sizing: the {int(must.sum())} fixed sites with {least} charger(s) each cost "
            f"{cost:,.0f} EUR, above the budget of {budget:,.0f} EUR"
        )


def per_site_values(
    name: str, values: float | FloatArray, n_sites: int, problems: list[str]
) -> FloatArray:
    """One value per site from one number or an array; problems go to ``problems``."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        array = np.full(n_sites, float(array))
    if array.shape != (n_sites,):
        problems.append(f"{name} must be one number or one per site ({n_sites})")
        return np.zeros(n_sites)
    if np.any(np.isnan(array)) or np.any(array < 0):
        problems.append(f"{name} must be non-negative")
    return array
