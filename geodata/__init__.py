"""The data planner ships: the sample dealer network and the European country outlines.

Installed as the package data ``planner.geodata``; ``README.md`` here says where
each file comes from and how to regenerate it.
"""

from __future__ import annotations

from pathlib import Path

#: The folder of these files, wherever planner is installed.
GEODATA_DIR = Path(__file__).resolve().parent

#: Natural Earth outlines of the European countries (map basemap, dealer placement).
COUNTRY_OUTLINES_PATH = GEODATA_DIR / "countries_europe.geojson"


def sample_dealers_path(scale: str = "demo") -> Path:
    """The shipped sample dealer network of a scale (``demo`` or ``full``)."""
    return GEODATA_DIR / f"sample_dealers_{scale}.csv"
