"""Small operations on reach matrices that keep explicit zeros (zero-cost pairs)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def entry_rows(reach: sp.csr_matrix) -> npt.NDArray[np.int64]:
    """Row index of every stored entry."""
    return np.repeat(np.arange(reach.shape[0], dtype=np.int64), np.diff(reach.indptr))


def spans(
    starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Positions ``starts[i] .. starts[i] + lengths[i] - 1`` of every span, in order, and the
    span ``i`` each position belongs to (stored entries of chosen rows, say)."""
    owner = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
    offsets = np.cumsum(lengths) - lengths
    return starts[owner] + (np.arange(owner.size, dtype=np.int64) - offsets[owner]), owner


def keep_entries(reach: sp.csr_matrix, keep: BoolArray) -> sp.csr_matrix:
    """``reach`` with only the stored entries where ``keep`` holds (zeros stay stored)."""
    counts = np.bincount(entry_rows(reach)[keep], minlength=reach.shape[0])
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return sp.csr_matrix(
        (reach.data[keep], reach.indices[keep], indptr), shape=reach.shape, copy=False
    )


def drop_sites(reach: sp.csr_matrix, sites: BoolArray) -> sp.csr_matrix:
    """``reach`` without the pairs to the masked sites (columns kept, entries removed)."""
    return keep_entries(reach, ~sites[reach.indices])


def select_rows(reach: sp.csr_matrix, rows: BoolArray) -> sp.csr_matrix:
    """The masked rows of ``reach``, explicit zeros kept."""
    return sp.csr_matrix(reach[np.flatnonzero(rows)])


def rows_touching(reach: sp.csr_matrix, sites: BoolArray) -> BoolArray:
    """Rows with at least one pair to a masked site."""
    hits = np.bincount(entry_rows(reach)[sites[reach.indices]], minlength=reach.shape[0])
    return np.asarray(hits > 0)


def structure(reach: sp.csr_matrix) -> sp.csr_matrix:
    """0/1 matrix with the same sparsity structure (every pair becomes a 1)."""
    return sp.csr_matrix(
        (np.ones(reach.nnz), reach.indices, reach.indptr), shape=reach.shape, copy=False
    )


def packed_rows(indptr: IntArray, sites: IntArray) -> IntArray:
    """Rows of a greedy packing whose reach sets share no site, fewest sites in reach first.

    Row ``r``'s sites are ``sites[indptr[r]:indptr[r + 1]]``. Each packed row
    needs an open site of its own, so a plan serving them all opens at least
    as many sites as there are packed rows. Rows with no site are left out.
    """
    sizes = np.diff(indptr)
    used = np.zeros(int(sites.max(initial=-1)) + 1, dtype=bool)
    packed = []
    for row in np.argsort(sizes, kind="stable")[np.sort(sizes) > 0].tolist():
        reached = sites[indptr[row] : indptr[row + 1]]
        if not used[reached].any():
            used[reached] = True
            packed.append(row)
    return np.asarray(packed, dtype=np.int64)


class SortedPairs:
    """The pairs of a reach matrix ordered by row, then cost, then site.

    p-median's bounds and heuristics look at each row's sites from the
    nearest outwards; sorting once lets them do so for every row at once
    with prefix sums instead of per-row loops.

    Attributes
    ----------
    owner, site, cost
        Row, site and cost of every pair, in that order.
    start
        Index of each row's first pair (rows without pairs start where the next row does).
    n_rows, n_sites
        Shape of the reach matrix.
    """

    def __init__(self, reach: sp.csr_matrix) -> None:
        owner = entry_rows(reach)
        order = np.lexsort((reach.indices, reach.data, owner))
        self.owner: npt.NDArray[np.int64] = owner[order]
        self.site: npt.NDArray[np.int64] = reach.indices[order].astype(np.int64)
        self.cost: npt.NDArray[np.float64] = np.asarray(reach.data[order], dtype=np.float64)
        self.start: npt.NDArray[np.int64] = reach.indptr[:-1].astype(np.int64)
        self.n_rows, self.n_sites = (int(n) for n in reach.shape)

    @property
    def size(self) -> int:
        return int(self.owner.size)

    def row_firsts(self, selected: BoolArray) -> npt.NDArray[np.int64]:
        """Positions of the first selected pair of each row that has one."""
        positions = np.flatnonzero(selected)
        first = np.ones(positions.size, dtype=bool)
        first[1:] = self.owner[positions[1:]] != self.owner[positions[:-1]]
        return positions[first]
