"""Town names over the offline basemap: the larger GeoNames places of the plan's countries.

The largest places are named from zoom 6, smaller ones as the map zooms in
(:func:`town_min_zoom`); :func:`town_label_layer` is the data the page's
``towns()`` draws.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd

from planner.maps.data import delta_coords

log = logging.getLogger(__name__)

#: Town labels: GeoNames places of at least this many inhabitants...
TOWN_MIN_POPULATION = 15_000
#: ...and at most this many of them, the largest, so the page stays small.
TOWN_LIMIT = 2500
#: Town labels' coordinates to 3 decimals (about 100 m): a label needs no more.
TOWN_DECIMALS = 3
#: (places of larger rank, zoom from which a label shows): the largest 12
#: places from zoom 5 (a map of several countries opens at 5-5.5 and showed
#: no name at all from 6), the next from 7, and so on; the rest from the last zoom.
TOWN_ZOOMS = ((12, 5), (40, 7), (120, 8), (400, 9), (1200, 10))
TOWN_LAST_ZOOM = 11


def town_min_zoom(rank: int) -> int:
    """Zoom from which the label of the place of population rank ``rank`` (0: largest) shows."""
    for upto, zoom in TOWN_ZOOMS:
        if rank < upto:
            return zoom
    return TOWN_LAST_ZOOM


def town_label_layer(
    countries: Sequence[str],
    *,
    min_population: int = TOWN_MIN_POPULATION,
    limit: int = TOWN_LIMIT,
) -> dict[str, Any] | None:
    """Names of the larger GeoNames places of ``countries``, for the offline basemap.

    Returns ``{"s", "lat", "lon"}`` (:func:`delta_coords` to
    :data:`TOWN_DECIMALS`), ``"names"`` and ``"z"`` (the zoom from which each
    label shows, :func:`town_min_zoom` of its population rank), largest place
    first; ``None`` when no country is given or GeoNames has none of them.
    City sections (Paris 15, Anderlecht) are left out. The names travel as
    JSON data and reach the page as ``textContent``.
    """
    # Imported here: only the map needs GeoNames, and only when it has countries.
    from planner.errors import InputError
    from planner.inputs.geonames import populated_places

    # One country at a time: a country without such places (Monaco) or a code
    # GeoNames does not know costs its own labels only.
    frames = []
    for country in dict.fromkeys(c.upper() for c in countries):
        try:
            frames.append(
                populated_places([country], min_population=min_population, drop_sections=True)
            )
        except InputError as error:
            log.info("map: no town names for %s: %s", country, error)
    if not frames:
        return None
    places = pd.concat(frames, ignore_index=True)
    if places.empty:
        return None
    places = places.sort_values(["population", "geonameid"], ascending=[False, True]).head(limit)
    return {
        **delta_coords(places["lat"], places["lon"], TOWN_DECIMALS),
        "names": [str(name) for name in places["name"]],
        "z": [town_min_zoom(rank) for rank in range(len(places))],
    }
