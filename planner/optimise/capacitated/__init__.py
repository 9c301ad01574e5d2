"""Capacitated facility location: Lagrangian bound, plans by flow, fixing, then SCIP."""
