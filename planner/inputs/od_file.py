"""A user's origin–destination file of long-distance trips, read by the one table reader.

Columns (headers matched without case, spaces or punctuation): ``origin``
(or ``from``), ``destination`` (or ``to``) and ``trips_per_day`` (or
``trips``, ``flow``): round trips per day between two demand places. A place
is named by its ``demand_id`` (``gn:2988507`` for GeoNames) or by its name
when exactly one demand place bears it. Rows of one pair (either direction)
add up, with a warning. Rows with 0 trips are dropped and
counted; every other problem (an unknown or ambiguous place, a negative or
missing number, a trip from a place to itself) is reported with its file,
row and field, all at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from planner._files import unreachable
from planner.errors import InputError, Problem
from planner.inputs.cells import cell_text, number_style, parse_number
from planner.inputs.columns import columns_headed_alike, normalise_header
from planner.inputs.raw import filled, shifted_rows
from planner.inputs.tables import read_tables
from planner.scenario.schema import DealerFile

__all__ = ["OD_COLUMNS", "read_od_file"]

#: Each column's accepted headers (normalised), in order of preference.
OD_COLUMNS = {
    "origin": ("origin", "from", "o"),
    "destination": ("destination", "to", "d", "dest"),
    "trips_per_day": ("tripsperday", "trips", "flow", "tripsday"),
}

IntArray = npt.NDArray[np.int64]

#: Most trips a day one origin-destination pair may hold: about ten times the
#: traffic of Europe's busiest roads (near a million vehicles a day). It
#: catches a misread or corrupted number (1e300) before it reaches the
#: solver, which refuses such a model.
MAX_TRIPS_PER_DAY = 1e7

logger = logging.getLogger(__name__)


def _column(headers: list[str], field: str, source: str) -> int:
    normalised = [normalise_header(h) for h in headers]
    found = [k for k, header in enumerate(normalised) if header in OD_COLUMNS[field]]
    # Columns headed alike ("trips", "Trips") are named by columns_headed_alike.
    if len({normalised[k] for k in found}) > 1:
        # "from,to,flow,trips": taking either would silently drop the other's figures.
        listed = " and ".join(repr(headers[k]) for k in found)
        raise InputError(
            Problem(
                source,
                f"{listed} could each be the {field} column; keep one (rename or remove the other)",
                field=field,
            )
        )
    if found:
        return found[0]
    raise InputError(
        Problem(
            source,
            f"no {field} column (headers: {', '.join(headers)}); name it "
            + " or ".join(repr(n) for n in OD_COLUMNS[field][:2]),
            field=field,
        )
    )


def read_od_file(
    path: Path, demand: pd.DataFrame
) -> tuple[IntArray, IntArray, npt.NDArray[np.float64], dict[str, float]]:
    """Trips of the file as demand-place indices: (origins, destinations, trips/day, counts).

    ``demand`` is the scenario's demand table (``demand_id``, ``name``,
    ``country``, ``population``).

    Raises
    ------
    planner.errors.InputError
        Every problem of the file, each naming its row and field.
    """
    source = str(path)
    reason = unreachable(path)
    if reason is not None:
        raise InputError(Problem(source, f"origin-destination file {reason}", field="trips.source"))
    tables = read_tables(DealerFile(path=path), source=source)
    if len(tables) != 1:
        raise InputError(Problem(source, "holds several tables: keep one sheet of trips"))
    table = tables[0]
    at = {field: _column(table.headers, field, source) for field in OD_COLUMNS}
    alike = columns_headed_alike(source, table.headers, at) + shifted_rows(table)
    if alike:
        raise InputError(alike)
    by_id = {str(v): k for k, v in enumerate(demand["demand_id"].astype(str))}
    names = demand["name"].astype(str).str.casefold()
    by_name = names.groupby(names).indices
    # A row shorter than the header lacks its last cells: they are empty.
    width = len(table.headers)
    rows = [list(given) + [None] * (width - len(given)) for given in table.rows]
    style = number_style(
        {"trips_per_day": [cells[at["trips_per_day"]] for cells in rows]}, statable=False
    )
    problems: list[Problem] = []
    origins: list[int] = []
    destinations: list[int] = []
    flows: list[float] = []
    zero = 0

    def place(text: str, row: int, field: str) -> int | None:
        if text in by_id:
            return by_id[text]
        found = by_name.get(text.casefold())
        if found is None:
            problems.append(
                Problem(source, f"'{text}' is no demand place (id or name)", row=row, field=field)
            )
            return None
        if len(found) > 1:
            listed = "; ".join(
                f"{demand['demand_id'].iat[k]} in {demand['country'].iat[k]}, "
                f"{demand['population'].iat[k]:,.0f} people"
                for k in found[:4]
            )
            problems.append(
                Problem(
                    source,
                    f"'{text}' names {len(found)} demand places ({listed}): give its demand_id",
                    row=row,
                    field=field,
                )
            )
            return None
        return int(found[0])

    blank = 0
    first_row: dict[tuple[str, ...], int] = {}
    repeated: list[int] = []
    pairs_seen: dict[tuple[int, int], int] = {}
    added: list[int] = []
    for cells, row in zip(rows, table.row_numbers, strict=True):
        if not filled(cells):
            blank += 1
            continue
        # A row pasted twice would double its trips; dealer and demand files
        # drop such rows too.
        key = tuple(cell_text(cell).strip() for cell in cells)
        if key in first_row:
            repeated.append(row)
            continue
        first_row[key] = row
        origin = place(cell_text(cells[at["origin"]]).strip(), row, "origin")
        destination = place(cell_text(cells[at["destination"]]).strip(), row, "destination")
        value, error = parse_number(cells[at["trips_per_day"]], style, "trips_per_day")
        if error is not None or value is None:
            problems.append(
                Problem(source, error or "no number of trips", row=row, field="trips_per_day")
            )
            continue
        if value < 0 or value > MAX_TRIPS_PER_DAY:
            limit = "must be 0 or more"
            if value > 0:
                limit = f"more than {MAX_TRIPS_PER_DAY:,.0f} a day"
            problems.append(
                Problem(source, f"{value:g} trips: {limit}", row=row, field="trips_per_day")
            )
            continue
        if origin is None or destination is None:
            continue
        if origin == destination:
            problems.append(
                Problem(source, "a trip from a place to itself", row=row, field="destination")
            )
            continue
        if value == 0:
            zero += 1
            continue
        # Round trips: Lille-Paris and Paris-Lille are one pair (a symmetric
        # matrix would count each trip twice).
        pair = (min(origin, destination), max(origin, destination))
        if pair in pairs_seen:
            # One trip between the two, as the warning says (trips.csv had a row each).
            added.append(row)
            flows[pairs_seen[pair]] += value
            continue
        pairs_seen[pair] = len(flows)
        origins.append(origin)
        destinations.append(destination)
        flows.append(value)
    if problems:
        raise InputError(problems)
    if not flows:
        raise InputError(Problem(source, "no trip with more than 0 trips per day"))
    if repeated:
        shown = ", ".join(str(row) for row in repeated[:5]) + (" …" if len(repeated) > 5 else "")
        logger.warning(
            "%s: %d row(s) repeat an earlier row exactly and were dropped (rows %s)",
            source,
            len(repeated),
            shown,
        )
    if added:
        # Rows of one pair by trip purpose add up; a pair typed twice would too.
        shown = ", ".join(str(row) for row in added[:5]) + (" …" if len(added) > 5 else "")
        logger.warning(
            "%s: %d row(s) repeat the two places of an earlier row (in either direction: "
            "trips are round trips) with other figures; their trips are added to it (rows %s)",
            source,
            len(added),
            shown,
        )
    counts = {
        "rows": float(len(table.rows)),
        "pair_rows_added": float(len(added)),
        "zero_trips_dropped": float(zero),
        "blank_rows_dropped": float(blank),
        "duplicate_rows_dropped": float(len(repeated)),
    }
    return (
        np.asarray(origins, dtype=np.int64),
        np.asarray(destinations, dtype=np.int64),
        np.asarray(flows, dtype=np.float64),
        counts,
    )
