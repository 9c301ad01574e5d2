"""Facility-location models over plain arrays and sparse matrices.

Nothing in this package imports geopandas: every model takes numpy arrays and
scipy sparse matrices, so it can be checked against textbook instances and
reused outside the planner.
"""

from planner.optimise.solution import SolverSettings, Solution, Status

__all__ = ["Solution", "SolverSettings", "Status"]
