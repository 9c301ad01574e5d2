"""Dealer lists from open data: OpenStreetMap extracts and All The Places GeoJSON.

:mod:`~planner.inputs.importers.osm` and :mod:`~planner.inputs.importers.atp`
read the two sources into dealers found, :mod:`~planner.inputs.importers.brands`
decides which brand each one sells, and
:mod:`~planner.inputs.importers.dealer_table` turns them into one table in the
columns the dealer reader expects, with what was dropped and why.
"""
