r"""The LP bound of p-median from its Benders reformulation, with reduced costs.

For binary :math:`y` with every row served within reach, the cost of row
:math:`i` is the largest of the affine functions

.. math:: f_i^D(y) = D - \sum_{j : c_{ij} < D} (D - c_{ij})\, y_j

over its distinct costs :math:`D` (Duran-Mateluna, Ales & Elloumi, EJOR 2023,
the projection of Elloumi's radius formulation onto :math:`y`). The master
problem keeps one variable :math:`\theta_i` per row and the cuts found so far::

    min  Σ_i w_i θ_i
    s.t. θ_i + Σ_{j : c_ij < D} (D - c_ij) y_j ≥ D    for the cuts found   (1)
         Σ_{j ∈ N_i} y_j ≥ 1     rows whose reach misses an allowed site   (2)
         Σ_j y_j = p                                                       (3)
         side constraints over y                                           (4)
         θ_i ≥ D_i^1,  0 ≤ y_j ≤ 1,  y_j = 1 fixed, 0 excluded

Its LP optimum is the LP bound of the radius formulation, and every master
LP on the way is a relaxation too, so each value is a valid lower bound.

Separation: :math:`f_i^D(y)` is concave in :math:`D` for fractional
:math:`y`; its maximum sits where the running sum of :math:`y` over the
row's sites, nearest first, reaches 1. One pass with prefix sums over the
pairs sorted by row and cost finds the most violated cut of every row.
Cuts are separated both at the LP point and at a point halfway to a
stability centre (in-out, Ben-Ameur & Neto 2007), which starts at the
uniform :math:`y = p/m` and follows the separation points; on rl1304 this
halved the number of rounds.

The master LP lives in one HiGHS instance: each round adds its cuts as
rows and the dual simplex continues from the last basis, which the new
rows leave dual feasible. On u1817 with p = 10 this converged in 7 rounds
and 23.9 s, where solving every round's LP afresh (SciPy's ``linprog``)
had done 4 rounds in 60 s without converging. OR-Tools' model builder
returns no reduced costs for HiGHS, and GLOP, which does, took 38.6 s on
the largest master LP of rl1304 with p = 5 against 4.8 s. The reduced
costs let :mod:`planner.optimise.median.model` fix sites before the
integer solve.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from planner.optimise._highs import warm_lp
from planner.optimise._reach import SortedPairs
from planner.optimise.constraints import SiteRows

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: A cut enters when violated by more than this share of its level.
VIOLATION = 1e-6
#: Weight of the LP point in the in-out separation point.
IN_OUT = 0.5
_INF = highspy.kHighsInf
#: Seconds the first round takes per entry of the rows' reach sets (the cover
#: rows of rows that do not reach every site), about half of what it took: the
#: default network's 318,000 entries 6-7 s. A first round that would outlast
#: its time is not started (every dealer of five countries: 3.2 million
#: entries, unfinished after 19 s of a 60 s limit, and those seconds lost to
#: the local search).
FIRST_ROUND_S_PER_ENTRY = 1e-5


@dataclass(frozen=True)
class MedianLp:
    """What the cutting-plane LP learnt.

    Attributes
    ----------
    bound
        Best master LP value: a proven lower bound on the p-median optimum
        (``inf`` when the master LP is infeasible, ``-inf`` when no LP finished).
    y
        Site values of the last master LP solved.
    reduced_lower, reduced_upper
        Reduced costs of the site variables in that LP: at least 0 for sites at
        0, at most 0 for sites at 1. Opening (closing) a site raises that LP's
        value by at least ``reduced_lower`` (``-reduced_upper``).
    lp_value
        Value of that last LP (the reduced costs are relative to it).
    converged
        No violated cut is left: ``bound`` is the full LP bound.
    rounds, cuts
        Master LPs solved and cuts generated.
    """

    bound: float
    y: FloatArray
    reduced_lower: FloatArray
    reduced_upper: FloatArray
    lp_value: float
    converged: bool
    rounds: int
    cuts: int

    @property
    def infeasible(self) -> bool:
        return self.bound == math.inf


def separate(pairs: SortedPairs, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per row, the level of its most violated cut at ``y`` and the cut's value there."""
    y_pair = y[pairs.site]
    running_y = np.cumsum(y_pair) - y_pair
    running_cy = np.cumsum(pairs.cost * y_pair) - pairs.cost * y_pair
    base = pairs.start[pairs.owner]
    # Sums over the pairs before this one in its row (equal costs add 0 to f).
    before_y = running_y - running_y[base]
    before_cy = running_cy - running_cy[base]
    value = pairs.cost * (1.0 - before_y) + before_cy
    best = np.maximum.reduceat(value, pairs.start)
    # The first (nearest) level reaching the maximum gives the sparsest cut.
    reaching = value >= best[pairs.owner] - 1e-12 * np.maximum(1.0, np.abs(value))
    firsts = pairs.row_firsts(reaching)
    return pairs.cost[firsts], best


def cut_values(pairs: SortedPairs, levels: FloatArray, y: FloatArray) -> FloatArray:
    """f_i^D(y) of each row i at its level D = ``levels[i]``."""
    level = levels[pairs.owner]
    inside = pairs.cost < level
    saved = np.bincount(
        pairs.owner[inside],
        weights=((level - pairs.cost) * y[pairs.site])[inside],
        minlength=pairs.n_rows,
    )
    return np.asarray(levels - saved)


def cut_rows(pairs: SortedPairs, rows: IntArray, levels: FloatArray) -> sp.csr_matrix:
    """Constraint (1) for the given rows and levels, over the columns (y, θ)."""
    slot = np.full(pairs.n_rows, -1, dtype=np.int64)
    slot[rows] = np.arange(rows.size)
    which = slot[pairs.owner]
    level = np.where(which >= 0, levels[np.maximum(which, 0)], -np.inf)
    inside = pairs.cost < level
    cut_index = np.concatenate([which[inside], np.arange(rows.size)])
    column = np.concatenate([pairs.site[inside], pairs.n_sites + rows])
    value = np.concatenate([(level - pairs.cost)[inside], np.ones(rows.size)])
    return sp.csr_matrix(
        (value, (cut_index, column)), shape=(rows.size, pairs.n_sites + pairs.n_rows)
    )


def add_violated_cuts(
    master: highspy.Highs,
    pairs: SortedPairs,
    level: FloatArray,
    value: FloatArray,
    theta: FloatArray,
) -> IntArray:
    """Add to ``master`` the cut (1) of every row whose ``value`` at ``level`` exceeds θ.

    Returns the rows cut.
    """
    violated = np.flatnonzero(value - theta > VIOLATION * np.maximum(1.0, np.abs(level)))
    if violated.size:
        block = cut_rows(pairs, violated, level[violated])
        master.addRows(
            int(violated.size),
            level[violated],
            np.full(violated.size, _INF),
            int(block.nnz),
            block.indptr[:-1].astype(np.int32),
            block.indices.astype(np.int32),
            block.data,
        )
    return violated


def median_lp(
    pairs: SortedPairs,
    weights: FloatArray,
    p: int,
    *,
    fixed: BoolArray,
    allowed: BoolArray,
    side: SiteRows,
    seconds: float,
    first_round_seconds: float = math.inf,
) -> MedianLp:
    """Solve the master LP by cutting planes within ``seconds``.

    Parameters
    ----------
    pairs
        Pairs of the reduced rows (every row has at least one pair).
    weights
        Row weights.
    p
        Number of sites to open.
    fixed, allowed
        Sites forced open; sites that may open.
    side
        Side constraints over the sites.
    seconds
        Time budget; the best bound so far is returned when it runs out.
    first_round_seconds
        Time budget of the first round: a master whose first round outlasts
        it will not converge in the time (unconverged, no bound, is returned,
        at once when its size says it would; see ``FIRST_ROUND_S_PER_ENTRY``).
    """
    started = time.perf_counter()
    n_rows, n_sites = pairs.n_rows, pairs.n_sites
    nearest = pairs.cost[pairs.start] if n_rows else np.empty(0)
    lower = np.concatenate([fixed.astype(np.float64), nearest])
    upper = np.concatenate([allowed.astype(np.float64), np.full(n_rows, np.inf)])
    objective = np.concatenate([np.zeros(n_sites), weights])

    # Fixed rows (3), (2) and (4), then the cuts (1) as they come, all as lo ≤ A x ≤ hi.
    reach_count = np.diff(np.append(pairs.start, pairs.size))
    partial = np.flatnonzero(reach_count < int(allowed.sum()))
    entries = int(reach_count[partial].sum())
    if entries * FIRST_ROUND_S_PER_ENTRY > min(seconds, first_round_seconds):
        logger.debug("median LP not started: %d cover entries", entries)
        nothing = np.zeros(n_sites)
        return MedianLp(
            -math.inf, _centre(p, fixed, allowed), nothing, nothing, -math.inf, False, 0, 0
        )
    cover = sp.csr_matrix(
        (
            np.ones(entries),
            (
                np.repeat(np.arange(partial.size), reach_count[partial]),
                pairs.site[np.isin(pairs.owner, partial)],
            ),
        ),
        shape=(partial.size, n_sites + n_rows),
    )
    side_matrix = sp.hstack([side.matrix, sp.csr_matrix((len(side), n_rows))], format="csr")
    cardinality = sp.csr_matrix(np.concatenate([np.ones(n_sites), np.zeros(n_rows)])[None, :])
    master = warm_lp(
        sp.vstack([cardinality, cover, side_matrix], format="csr"),
        objective,
        lower,
        upper,
        np.concatenate([[float(p)], np.ones(partial.size), side.lower]),
        np.concatenate([[float(p)], np.full(partial.size, _INF), side.upper]),
    )
    levels: list[FloatArray] = []

    def add_cuts(level: FloatArray, value: FloatArray, theta: FloatArray) -> int:
        """Add the cuts at ``level`` whose ``value`` exceeds θ; return how many."""
        added = add_violated_cuts(master, pairs, level, value, theta)
        if added.size:
            levels.append(level[added])
        return int(added.size)

    centre = _centre(p, fixed, allowed)
    first_level, first_value = separate(pairs, centre)
    add_cuts(first_level, first_value, np.full(n_rows, -np.inf))

    bound = -math.inf
    y = centre
    reduced_lower = np.zeros(n_sites)
    reduced_upper = np.zeros(n_sites)
    lp_value = -math.inf
    converged = False
    rounds = 0
    while True:
        left = seconds - (time.perf_counter() - started)
        if rounds == 0:
            left = min(left, first_round_seconds)
        if left <= 0:
            break
        # Each round continues from the last basis: the new cuts are violated rows
        # of a dual-feasible basis, which the dual simplex repairs in few pivots.
        master.setOptionValue("time_limit", master.getRunTime() + left)
        master.run()
        rounds += 1
        status = master.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return MedianLp(
                math.inf, y, reduced_lower, reduced_upper, math.inf, True, rounds, _count(levels)
            )
        if status != highspy.HighsModelStatus.kOptimal:
            logger.debug(
                "median LP round %d stopped: %s", rounds, master.modelStatusToString(status)
            )
            break
        solution = master.getSolution()
        values = np.asarray(solution.col_value, dtype=np.float64)
        y, theta = values[:n_sites], values[n_sites:]
        lp_value = float(master.getInfo().objective_function_value)
        bound = max(bound, lp_value)
        reduced = np.asarray(solution.col_dual, dtype=np.float64)[:n_sites]
        reduced_lower = np.maximum(reduced, 0.0)
        reduced_upper = np.minimum(reduced, 0.0)
        # In-out: cuts from a point between the LP point and the centre, kept
        # when the LP point violates them; then the LP point's own cuts.
        centre = IN_OUT * y + (1.0 - IN_OUT) * centre
        centre_level, _ = separate(pairs, centre)
        add_cuts(centre_level, cut_values(pairs, centre_level, y), theta)
        level, value = separate(pairs, y)
        if add_cuts(level, value, theta) == 0:
            converged = True
            break
    logger.debug(
        "median LP: %d rounds, %d cuts, bound %.10g, converged %s, %.2f s",
        rounds,
        _count(levels),
        bound,
        converged,
        time.perf_counter() - started,
    )
    return MedianLp(
        bound, y, reduced_lower, reduced_upper, lp_value, converged, rounds, _count(levels)
    )


def _centre(p: int, fixed: BoolArray, allowed: BoolArray) -> FloatArray:
    """The fixed sites at 1 and the p left spread evenly over the other allowed sites."""
    centre = fixed.astype(np.float64)
    free = allowed & ~fixed
    if free.any():
        centre[free] = min(1.0, (p - int(fixed.sum())) / int(free.sum()))
    return centre


def _count(levels: list[FloatArray]) -> int:
    return int(sum(level.size for level in levels))
