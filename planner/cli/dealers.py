"""``planner dealers``: dealer files from OpenStreetMap extracts and All The Places.

Thin commands over :func:`planner.pipeline.dealers.import_dealers`; errors
reach :func:`planner.cli.main.main` as :class:`~planner.errors.InputError`
and become one line with exit code 2. Like the main module, this one
imports no numerical library at import time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from planner._files import path_argument
from planner._text import one_line
from planner.cli._options import named_as_options
from planner.cli._streams import consoles

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Dealer files from open data: OpenStreetMap extracts and All The Places.",
)
# Messages quote names from open data: never read them as markup.
out, err = consoles()

OutOption = Annotated[
    # Text, not a Path: the command line would make '' the working folder.
    str,
    typer.Option(
        "--out",
        metavar="FILE.csv",
        help="The dealer file to write (CSV; replaced all or nothing); use it as a scenario's "
        "dealer file.",
        show_default=False,
    ),
]
BrandsOption = Annotated[
    str,
    typer.Option(
        "--brands",
        metavar="BRANDS",
        help="Brands to keep, comma-separated: renault, nissan (Dacia and Alpine dealers "
        "count as Renault, Infiniti as Nissan).",
    ),
]


@app.command("import-osm", short_help="Dealers from OpenStreetMap extracts (.osm.pbf).")
def import_osm(
    extracts: Annotated[
        list[Path],
        typer.Argument(
            metavar="EXTRACT.osm.pbf", help="OpenStreetMap extracts (e.g. Geofabrik's)."
        ),
    ],
    out_file: OutOption,
    brands: BrandsOption = "renault,nissan",
) -> None:
    """Dealers of the network's brands from OpenStreetMap extracts, as a dealer CSV.

    Reads nodes, ways and relations (areas at their centroid) tagged shop=car
    or shop=car_repair, keeps those whose brand:wikidata, brand or (without
    brand tags) name names a brand, and gives each the country its point lies
    in. Prints the counts by brand and shop type and what was left out.
    OpenStreetMap data is ODbL: credit OpenStreetMap contributors.
    """
    _import(extracts, "osm", brands, out_file)


@app.command("import-atp", short_help="Dealers from All The Places GeoJSON files.")
def import_atp(
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE.geojson", help="All The Places spider outputs."),
    ],
    out_file: OutOption,
    brands: BrandsOption = "renault,nissan",
) -> None:
    """Dealers of the network's brands from All The Places GeoJSON files, as a dealer CSV.

    Keeps sales (shop=car) and service points (shop=car_repair) apart, as the
    spiders publish them, and warns about points of one brand close together.
    All The Places data is CC0.
    """
    _import(files, "atp", brands, out_file)


def _import(files: list[Path], kind: str, brands: str, out_text: str) -> None:
    from planner.inputs.importers.brands import requested_brands
    from planner.pipeline.dealers import import_dealers

    out_file = path_argument(out_text, "--out")
    wanted = requested_brands(brands, source="--brands")
    started = time.perf_counter()
    with err.status("reading …") as status, named_as_options({"out": "--out"}):
        result = import_dealers(
            files,
            kind="osm" if kind == "osm" else "atp",
            brands=wanted,
            out=out_file,
            progress=lambda line: status.update(one_line(line)),
        )
    seconds = time.perf_counter() - started
    for line in result.summary():
        out.print(one_line(line), soft_wrap=True)
    for warning in result.warnings:
        err.print(one_line(f"warning: {warning}"), soft_wrap=True)
    for note in result.licences():
        out.print(note, soft_wrap=True)
    count = len(result.dealers)
    dealers = f"{count} dealer{'s' if count != 1 else ''}"
    out.print(f"wrote {one_line(out_file)} ({dealers}) in {seconds:.1f} s", soft_wrap=True)
