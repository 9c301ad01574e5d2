r"""A core of the weighted set-covering model: for each row, the sites a Lagrangian prices lowest.

Relaxing the cover rows :math:`Σ_{j ∈ N_k} y_j ≥ 1` with multipliers
:math:`u_k ≥ 0` (Beasley, 1990) leaves one free choice per site::

    L(u) = Σ_k u_k + Σ_j min(0, c_j - Σ_{k: j ∈ N_k} u_k)

and L(u) bounds the cheapest cover from below for every u. Subgradient steps
towards a cover's cost raise it close to the LP bound in a few hundred sparse
products. The reduced cost :math:`c_j - Σ u_k` then says which sites an
optimal cover is likely to use: a core (Caprara, Fischetti & Toth, 1999)
keeps, for every row, the ``per_row`` sites in its reach of least reduced
cost. Every core is a set-covering model of its own, much smaller than the
whole one on dense instances, whose covers are covers of the whole model; the
MIP finds good ones there far sooner than on every site.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Polyak's step factor at first, halved after ``_STALL`` steps without a
#: better value, down to ``_LEAST_FACTOR`` (Beasley's rule).
_FACTOR = 2.0
_STALL = 30
_LEAST_FACTOR = 0.005
#: The steps aim this far above the best cover's cost, so that they do not
#: vanish when the relaxation reaches it.
_AIM = 1.05


@dataclass(frozen=True)
class Core:
    """The sites of a core and the relaxation behind it.

    ``bound`` is the best Lagrangian value, a lower bound on every cover's cost.
    """

    sites: BoolArray
    bound: float
    steps: int


def lagrangian_core(
    rows: sp.csr_matrix,
    prices: FloatArray,
    allowed: BoolArray,
    upper: float,
    *,
    per_row: int,
    deadline: float,
) -> Core:
    """The core of ``per_row`` sites per row at the best multipliers found by ``deadline``.

    ``rows`` is rows × sites (every row has an allowed site in reach),
    ``upper`` the cost of a known cover, which the steps aim at.
    """
    cover = sp.csr_matrix(rows[:, np.flatnonzero(allowed)], dtype=np.float64)
    cover.data[:] = 1.0
    by_site = cover.T.tocsr()
    cost = prices[allowed].astype(np.float64)
    # Start from each row's cheapest share of a site: the price of its
    # cheapest site per row that site covers.
    share = cost / np.maximum(np.diff(by_site.indptr), 1)
    point = _row_min(cover, share)
    best_value, best_point = -np.inf, point
    factor, stall, steps = _FACTOR, 0, 0
    while factor >= _LEAST_FACTOR and time.perf_counter() < deadline:
        reduced = cost - by_site @ point
        chosen = reduced < 0
        value = float(point.sum() + reduced[chosen].sum())
        steps += 1
        if steps == 1 or value > best_value + 1e-9 * abs(best_value):
            best_value, best_point, stall = value, point, 0
        else:
            stall += 1
            if stall >= _STALL:
                factor, stall = factor / 2, 0
        gradient = 1.0 - cover @ chosen.astype(np.float64)
        gradient[(point <= 0) & (gradient < 0)] = 0.0
        norm = float(gradient @ gradient)
        if norm == 0.0:  # the minimiser covers every row exactly once: optimal
            break
        step = factor * (_AIM * upper - value) / norm
        point = np.maximum(point + step * gradient, 0.0)
    reduced = cost - by_site @ best_point
    kept = reduced < 0
    if per_row > 0:  # 0: only the bound is wanted
        kept |= _least_per_row(cover, reduced, per_row)
    sites = np.zeros(allowed.size, dtype=bool)
    sites[np.flatnonzero(allowed)[kept]] = True
    return Core(sites, best_value, steps)


def _row_min(matrix: sp.csr_matrix, values: FloatArray) -> FloatArray:
    """The least of ``values`` over each row's stored columns (inf for an empty row)."""
    picked = values[matrix.indices]
    starts = matrix.indptr[:-1]
    out = np.full(matrix.shape[0], np.inf)
    filled = np.diff(matrix.indptr) > 0
    out[filled] = np.minimum.reduceat(picked, starts[filled])
    return out


def _least_per_row(matrix: sp.csr_matrix, values: FloatArray, count: int) -> BoolArray:
    """Columns among the ``count`` of least value in some row."""
    keep = np.zeros(matrix.shape[1], dtype=bool)
    for row in range(matrix.shape[0]):
        columns = matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]
        if columns.size <= count:
            keep[columns] = True
        else:
            keep[columns[np.argpartition(values[columns], count - 1)[:count]]] = True
    return keep
