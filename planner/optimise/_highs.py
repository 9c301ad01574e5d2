"""A HiGHS instance that keeps HiGHS's start-up banner off the output."""

from __future__ import annotations

import contextlib
import os
import sys

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]


def quiet_highs() -> highspy.Highs:
    """A HiGHS instance. HiGHS prints a banner on the first one a process makes, from
    C++ to file descriptor 1, before any option can silence it: it goes to /dev/null."""
    # Python's own buffer first, or it would follow the banner into /dev/null;
    # there is none when standard output is closed (``>&-``), and a full one
    # is no reason to stop a solve.
    if sys.stdout is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:
        return highspy.Highs()
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            highs = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return highs


def highs_lp(
    matrix: sp.csr_matrix | sp.csc_matrix,
    cost: FloatArray,
    col_lower: FloatArray,
    col_upper: FloatArray,
    row_lower: FloatArray,
    row_upper: FloatArray,
) -> highspy.HighsLp:
    """HiGHS's own model of min cost·x, row_lower ≤ A x ≤ row_upper: the arrays as they are."""
    model = highspy.HighsLp()
    model.num_row_, model.num_col_ = (int(n) for n in matrix.shape)
    model.col_cost_ = cost
    model.col_lower_ = col_lower
    model.col_upper_ = col_upper
    model.row_lower_ = row_lower
    model.row_upper_ = row_upper
    rowwise = sp.isspmatrix_csr(matrix)
    model.a_matrix_.format_ = (
        highspy.MatrixFormat.kRowwise if rowwise else highspy.MatrixFormat.kColwise
    )
    model.a_matrix_.start_ = matrix.indptr
    model.a_matrix_.index_ = matrix.indices
    model.a_matrix_.value_ = matrix.data
    return model


def warm_lp(
    matrix: sp.csr_matrix | sp.csc_matrix,
    cost: FloatArray,
    col_lower: FloatArray,
    col_upper: FloatArray,
    row_lower: FloatArray,
    row_upper: FloatArray,
) -> highspy.Highs:
    """A quiet HiGHS holding the LP min cost·x, row_lower ≤ A x ≤ row_upper, for re-solves.

    Presolve is off: it would rebuild the model at every re-solve and lose
    the basis that makes the next solve after a bound change or a new row fast.
    """
    highs = quiet_highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("presolve", "off")
    highs.setOptionValue("threads", 1)
    highs.passModel(highs_lp(matrix, cost, col_lower, col_upper, row_lower, row_upper))
    return highs
