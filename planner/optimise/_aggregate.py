"""Merging demand rows that a model cannot tell apart.

Two demand points with the same set of sites in reach are interchangeable in
a coverage model: merging them and summing their weights leaves the optimum
unchanged and shrinks the model. In p-median the costs matter as well, so
rows merge only when the sites *and* the costs are identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Aggregated:
    """Distinct demand rows and how the original rows map onto them.

    Attributes
    ----------
    reach
        One row per distinct reach set (CSR, explicit zeros kept).
    weights
        Summed weight of the original rows merged into each distinct row.
    group
        For each original row, the index of its distinct row.
    """

    reach: sp.csr_matrix
    weights: FloatArray
    group: IntArray


def aggregate_rows(reach: sp.csr_matrix, weights: FloatArray, *, match_costs: bool) -> Aggregated:
    """Merge rows of ``reach`` (sorted indices) with identical sites (and costs if asked).

    Empty rows are kept as one distinct empty row if present.
    """
    indptr, indices, data = reach.indptr, reach.indices, reach.data
    keys: dict[bytes, int] = {}
    group = np.empty(reach.shape[0], dtype=np.int64)
    representatives: list[int] = []
    for row in range(reach.shape[0]):
        start, stop = indptr[row], indptr[row + 1]
        key = indices[start:stop].tobytes()
        if match_costs:
            key += b"|" + data[start:stop].tobytes()
        found = keys.get(key)
        if found is None:
            found = len(representatives)
            keys[key] = found
            representatives.append(row)
        group[row] = found
    summed = np.bincount(group, weights=weights, minlength=len(representatives))
    distinct = reach[np.asarray(representatives, dtype=np.int64)]
    distinct = sp.csr_matrix(distinct)
    return Aggregated(distinct, summed.astype(np.float64), group)
