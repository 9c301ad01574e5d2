"""Reach: which (demand point, site) pairs are within travel reach, as a sparse matrix."""
