"""Corridor lines (for the AFIR check) read from GeoJSON or GeoPackage, in WGS 84.

A corridor is what a name holds: every feature of that name and every part
of a MultiLineString, joined into one line, because a motorway exported in
pieces (TEN-T exports split it at junctions, in features or parts) must be
checked along its whole length, not piece by piece, where every gap would
restart at each piece. Pieces are joined in three steps, on a local plane
around the corridor (km east and north):

1. pieces that meet end to end are merged (``shapely.line_merge``);
2. a piece that runs alongside a longer one of the same name, all of it
   within :data:`ALONGSIDE_KM` (the other carriageway of a motorway, a
   repeated feature), is left out: pools within ``afir.max_offset_km`` of
   one are within reach of the other;
3. the rest are chained end to nearest end, the joins straight, when the
   ends lie within :data:`JOIN_KM`; pieces farther apart are corridors of
   their own, named ``"A1 (1)"``, ``"A1 (2)"``, with a warning.

An unnamed feature is a corridor of its own, ``"corridor N"`` after its
feature number. A corridor of zero length is refused.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiLineString

from planner._files import NOT_REGULAR, is_special
from planner.errors import InputError, Problem
from planner.inputs.raw import reason, refuse_empty
from planner.inputs.tables import geojson_rechecked
from planner.travel.corridors import line_length_km
from planner.travel.sphere import EARTH_RADIUS_KM

__all__ = ["ALONGSIDE_KM", "JOIN_KM", "Corridor", "corridor_notes", "load_corridors"]

#: A piece all of whose points lie this close to a longer piece of the same
#: corridor runs alongside it, km: two carriageways are 20-100 m apart.
ALONGSIDE_KM = 0.5

#: Pieces of one corridor whose ends lie this close are joined, km; farther
#: apart they are separate corridors (junctions split exports by metres).
JOIN_KM = 5.0

_KM_PER_DEGREE = np.radians(1.0) * EARTH_RADIUS_KM


@dataclass(frozen=True)
class Corridor:
    """One corridor line: its name, its points and its length."""

    name: str
    lon: np.ndarray
    lat: np.ndarray
    length_km: float


def load_corridors(path: Path) -> list[Corridor]:
    """The corridor lines of a GeoJSON or GeoPackage file, in WGS 84.

    Read once per file version (path, size, modification time): the check
    before the solve, the covering rows, the report and the map all ask for
    the same lines.

    Raises
    ------
    planner.errors.InputError
        The file cannot be read, holds no line, or has coordinates that are
        not longitudes and latitudes without stating its CRS.
    """
    return list(_read(path)[0])


def corridor_notes(path: Path) -> list[str]:
    """What joining the file's pieces into corridors did, for the run's warnings."""
    return list(_read(path)[1])


def _read(path: Path) -> tuple[tuple[Corridor, ...], tuple[str, ...]]:
    try:
        stat = path.stat()
    except OSError:
        return _read_corridors(path, None)
    return _read_corridors(path, (stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=8)
def _read_corridors(
    path: Path, version: tuple[int, int] | None
) -> tuple[tuple[Corridor, ...], tuple[str, ...]]:
    """The lines of one version of the file and notes on how they were joined.

    ``version`` keys the cache only.
    """
    field = "afir.corridors"
    if is_special(path):
        raise InputError(Problem(str(path), NOT_REGULAR, field=field))
    refuse_empty(path, str(path), field=field)
    try:
        # NaN coordinates are refused below, by feature, without numpy's warning first.
        with np.errstate(invalid="ignore"):
            frame = gpd.read_file(path)
    except Exception as exc:  # the GIS drivers raise many kinds
        raise InputError(
            Problem(str(path), f"cannot be read as corridor lines: {reason(exc)}", field=field)
        ) from None
    frame = geojson_rechecked(path, frame, str(path))
    no_corridor = Problem(
        str(path), "holds no LineString or MultiLineString: no corridor", field=field
    )
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise InputError(no_corridor)  # a table without geometry (a CSV read by the same driver)
    kinds = frame.geometry.geom_type.to_numpy()
    missing = (frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    is_line = np.isin(kinds, ["LineString", "MultiLineString"]) & ~missing
    xy, owner = shapely.get_coordinates(frame.geometry.to_numpy(), return_index=True)
    unnumbered = np.zeros(len(frame), dtype=bool)
    unnumbered[owner[~np.isfinite(xy).all(axis=1)]] = True
    unnumbered &= is_line

    def what_is_wrong(k: int) -> str:
        if unnumbered[k]:
            return "coordinates are not numbers (NaN or infinite)"
        if missing[k]:
            return "no geometry"
        return f"a {kinds[k]} is not a corridor line (LineString or MultiLineString)"

    if is_line.any() and not (is_line & ~unnumbered).all():
        # Every feature is a corridor; one that is not a line is not silently left out.
        raise InputError(
            [
                Problem(str(path), f"feature {k + 1}: {what_is_wrong(int(k))}", field=field)
                for k in np.flatnonzero(~is_line | unnumbered)[:50]
            ]
        )
    lines = frame[is_line]
    if lines.empty:
        raise InputError(no_corridor)
    if lines.crs is not None and not lines.crs.equals("EPSG:4326"):
        lines = lines.to_crs("EPSG:4326")
    xmin, ymin, xmax, ymax = lines.total_bounds
    # GeoJSON is WGS 84 unless it says otherwise, so a projected file that
    # states no CRS shows up as impossible longitudes and latitudes.
    if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
        raise InputError(
            Problem(
                str(path),
                "coordinates are not longitudes and latitudes (a projected CRS?) and the file "
                "states no CRS: export it in WGS 84 or with its CRS",
                field=field,
            )
        )
    groups: dict[str, list[LineString]] = {}
    for number, name, geometry in zip(
        np.flatnonzero(is_line) + 1, _names(lines), lines.geometry, strict=True
    ):
        parts = geometry.geoms if isinstance(geometry, MultiLineString) else [geometry]
        for part in parts:
            assert isinstance(part, LineString)
            if len(part.coords) >= 2:
                groups.setdefault(name or f"corridor {number}", []).append(part)
    corridors: list[Corridor] = []
    notes: list[str] = []
    for name, parts in groups.items():
        corridors.extend(_assembled(name, parts, str(path), notes))
    return tuple(_uniquely_named(corridors)), tuple(f"{path.name}: {note}" for note in notes)


def _uniquely_named(corridors: list[Corridor]) -> list[Corridor]:
    """Corridors whose made-up names ("A1 (2)", "corridor 3") met a feature's name, renamed.

    The report and the map find a corridor by its name.
    """
    seen: set[str] = set()
    named = []
    for corridor in corridors:
        name, k = corridor.name, 1
        while name in seen:
            k += 1
            name = f"{corridor.name} #{k}"
        seen.add(name)
        named.append(corridor if name == corridor.name else replace(corridor, name=name))
    return named


def _names(lines: gpd.GeoDataFrame) -> list[str]:
    """Each feature's name as text, ``""`` where it has none (null, NaN, blank)."""
    if "name" not in lines:
        return [""] * len(lines)
    return ["" if pd.isna(v) else str(v).strip() for v in lines["name"].tolist()]


def _assembled(
    name: str, parts: Sequence[LineString], source: str, notes: list[str]
) -> list[Corridor]:
    """The corridors one name's pieces make (see the module docstring); notes added to ``notes``."""
    xy = np.concatenate([np.asarray(p.coords, dtype=np.float64)[:, :2] for p in parts])
    lon0, lat0 = float(np.median(xy[:, 0])), float(np.median(xy[:, 1]))
    east = np.cos(np.radians(lat0)) * _KM_PER_DEGREE

    def to_plane(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [(coords[:, 0] - lon0) * east, (coords[:, 1] - lat0) * _KM_PER_DEGREE]
        )

    merged = shapely.line_merge(
        MultiLineString([to_plane(np.asarray(p.coords, dtype=np.float64)[:, :2]) for p in parts])
    )
    pieces = [
        g for g in getattr(merged, "geoms", [merged]) if isinstance(g, LineString) and g.length > 0
    ]
    if not pieces:
        raise InputError(
            Problem(
                source,
                f"corridor '{name}' has zero length: its points are one place",
                field="afir.corridors",
            )
        )
    pieces.sort(key=lambda piece: -piece.length)
    kept = _not_alongside(pieces)
    alongside = len(pieces) - len(kept)
    if alongside:
        notes.append(
            f"corridor '{name}': {alongside} line(s) run alongside a longer one of the "
            "same name (another carriageway?) and are read as one with it"
        )
    chains = _chains([np.asarray(piece.coords) for piece in kept])
    if len(chains) > 1:
        notes.append(
            f"corridor '{name}' is in {len(chains)} pieces more than {JOIN_KM:g} km apart: "
            f"each is checked as a corridor of its own, '{name} (1)' to '{name} ({len(chains)})'"
        )
    corridors = []
    for k, chain in enumerate(chains):
        lon, lat = chain[:, 0] / east + lon0, chain[:, 1] / _KM_PER_DEGREE + lat0
        label = name if len(chains) == 1 else f"{name} ({k + 1})"
        corridors.append(Corridor(label, lon, lat, line_length_km(lon, lat)))
    return corridors


def _not_alongside(pieces: list[LineString]) -> list[LineString]:
    """The pieces (longest first) that do not run alongside a longer piece kept."""
    buffers = shapely.buffer(np.asarray(pieces, dtype=object), ALONGSIDE_KM)
    tree = shapely.STRtree(buffers)
    kept = np.zeros(len(pieces), dtype=bool)
    for k, piece in enumerate(pieces):
        near = [j for j in tree.query(piece) if j < k and kept[j]]
        kept[k] = not near or piece.difference(shapely.union_all(buffers[near])).length > 1e-6
    return [piece for piece, keep in zip(pieces, kept, strict=True) if keep]


def _chains(pieces: list[np.ndarray]) -> list[np.ndarray]:
    """Pieces (plane km, longest first) chained end to nearest end within :data:`JOIN_KM`.

    Each chain starts from the longest piece left and grows at its tail, then
    at its head, by the piece whose end lies nearest, until none is within
    :data:`JOIN_KM`.
    """
    n = len(pieces)
    # Point i < n is the start of piece i, point n + i its end.
    tree = cKDTree(np.array([p[0] for p in pieces] + [p[-1] for p in pieces]))
    used = np.zeros(n, dtype=bool)

    def nearest(tip: np.ndarray) -> tuple[int, bool] | None:
        """The unused piece with an end nearest ``tip``, and whether that end is its start."""
        found = [i for i in tree.query_ball_point(tip, JOIN_KM) if not used[i % n]]
        if not found:
            return None
        best = min(found, key=lambda i: float(np.hypot(*(tree.data[i] - tip))))
        return best % n, best < n

    chains = []
    for first in range(n):
        if used[first]:
            continue
        used[first] = True
        tail: list[np.ndarray] = [pieces[first]]
        while (step := nearest(tail[-1][-1])) is not None:
            piece, from_start = step
            used[piece] = True
            tail.append(pieces[piece] if from_start else pieces[piece][::-1])
        head: list[np.ndarray] = []
        while (step := nearest((head[-1] if head else tail[0])[0])) is not None:
            piece, from_start = step
            used[piece] = True
            # Prepended: the piece must end at the head, so one that starts there turns round.
            head.append(pieces[piece][::-1] if from_start else pieces[piece])
        chains.append(np.concatenate(head[::-1] + tail))
    return chains
