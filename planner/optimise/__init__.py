"""Facility-location models over plain arrays and sparse matrices.

Nothing in this package imports geopandas: every model takes numpy arrays and
scipy sparse matrices, so it can be checked against textbook instances and
reused outside the planner.

``reach`` is always demand × sites: its sparsity structure says which pairs
are within reach and its data holds the travel cost of each pair (explicit
zeros are real pairs at zero cost).
"""

from planner.optimise.coverage.model import max_coverage, set_cover
from planner.optimise.coverage.p_center import p_center
from planner.optimise.facility_location import facility_location
from planner.optimise.median.model import p_median
from planner.optimise.solution import Solution, SolverSettings, Status

__all__ = [
    "Solution",
    "SolverSettings",
    "Status",
    "facility_location",
    "max_coverage",
    "p_center",
    "p_median",
    "set_cover",
]
