"""The ``[afir]`` section: the EU AFIR rule for fast-charging pools along corridors.

Regulation (EU) 2023/1804 (AFIR), art. 3: along the TEN-T core network, a
fast-charging pool in each direction at most every 60 km, of at least
400 kW with one point of at least 150 kW by the end of 2025, and at least
600 kW with two such points by the end of 2027 (the comprehensive network
follows in 2030 and 2035). A pool counts for a corridor within a short drive
of it (the regulation's 3 km from the nearest exit). Dealer sites are off
the motorway and reached from either direction, so a pool here counts for
both directions.
"""

from __future__ import annotations

from pydantic import Field

from planner.scenario.fields import FilePath, Number, _Section


class AfirConfig(_Section):
    """Corridors checked against the AFIR rule, and whether the plan must meet it."""

    corridors: FilePath | None = Field(
        None,
        description="GeoJSON (or GeoPackage) of corridor lines, e.g. a TEN-T core network "
        "export; WGS 84 unless the file states its CRS. Each feature is a corridor, named by "
        "its 'name' property. Unset: no AFIR check.",
    )
    max_gap_km: Number = Field(
        60.0, gt=0, description="Longest stretch of a corridor allowed without a pool, km."
    )
    max_offset_km: Number = Field(
        3.0,
        ge=0,
        description="A pool counts for a corridor within this distance of its line, km "
        "(straight line; AFIR counts 3 km of driving from the exit).",
    )
    enforce: bool = Field(
        False,
        description="Require a chosen site in every max_gap_km stretch of every corridor "
        "(existing qualifying stations count); otherwise the corridors are only checked and "
        "reported.",
    )
