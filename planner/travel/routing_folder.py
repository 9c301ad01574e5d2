"""A routing folder: what ``planner routing build`` wrote, opened for the engines.

Layout (all paths relative, so the folder can be moved or copied)::

    routing.json           the manifest: format, engine versions, extract, build date, road counts
    osrm/roads.osrm.*      OSRM's contraction hierarchy (matrices, snapping)
    valhalla/tiles/        Valhalla's tiles (isochrone polygons)
    build.log              what the engines' build programs printed

Both engines run in-process (``osrm-bindings``, ``pyvalhalla``), without a
server, and are imported only when a folder is opened, so the rest of planner
imports without them. Their data files are tied to the engine version that
wrote them: a folder whose manifest names other versions (or another
:data:`ROUTING_FORMAT`) is refused with one line that says to rebuild it.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from planner._atomic import write_atomically
from planner.errors import InputError, Problem

__all__ = [
    "MANIFEST",
    "MAX_SPEED_KMH",
    "ROUTING_FORMAT",
    "RoutingFolder",
    "engine_files",
    "engine_versions",
    "file_sha256",
    "open_routing",
    "routing_path",
]

logger = logging.getLogger(__name__)

#: The manifest of a routing folder.
MANIFEST = "routing.json"
#: Bumped when the folder's layout or the car profile changes meaning.
ROUTING_FORMAT = 1
#: OSRM's data files, without their suffixes.
OSRM_BASE = "osrm/roads.osrm"
#: Valhalla's tile folder.
VALHALLA_TILES = "valhalla/tiles"
#: The car profile caps every road's speed at this (km/h), so that a drive of
#: t minutes never covers more than MAX_SPEED_KMH · t / 60 km: the bound that
#: keeps road reach sparse (see :mod:`planner.travel.road`).
MAX_SPEED_KMH = 130.0

#: The distributions whose data files a routing folder holds.
ENGINE_PACKAGES = ("osrm-bindings", "pyvalhalla")


def engine_versions() -> dict[str, str]:
    """Installed versions of the routing engines; refuses with one line when one is missing."""
    versions = {}
    for package in ENGINE_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            raise InputError(
                Problem(
                    package,
                    "not installed: road travel needs osrm-bindings and pyvalhalla, which "
                    "have wheels for Python 3.12 and later; install planner under Python 3.12",
                )
            ) from None
    return versions


@dataclass(frozen=True)
class RoutingFolder:
    """An opened routing folder.

    Attributes
    ----------
    path
        The folder, absolute.
    manifest
        ``routing.json`` as written by the build (see :mod:`planner.travel.routing_build`).
    """

    path: Path
    manifest: dict[str, Any]

    @property
    def build_id(self) -> str:
        """Digest of the extract's content, the engines and the build: keys cached matrices."""
        return str(self.manifest["build_id"])

    @property
    def max_speed_kmh(self) -> float:
        return float(self.manifest.get("max_speed_kmh", MAX_SPEED_KMH))

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """West, south, east, north of the drivable roads, degrees."""
        west, south, east, north = self.manifest["roads"]["bbox"]
        return float(west), float(south), float(east), float(north)

    def describe(self) -> dict[str, Any]:
        """What ``report.json`` says of the travel model: engine, extract and build dates."""
        extract = self.manifest["extract"]
        return {
            "routing": str(self.path),
            "engine": f"OSRM {self.manifest['engines']['osrm-bindings']} (CH, car profile)",
            "isochrones": f"Valhalla {self.manifest['engines']['pyvalhalla']}",
            "extract": extract["file"],
            "extract_date": extract.get("replication_timestamp"),
            "built": self.manifest["built"],
            "road_km": self.manifest["roads"]["km"],
        }

    @cached_property
    def osrm(self) -> Any:
        """The OSRM engine on this folder's contraction hierarchy (loaded once)."""
        import osrm

        return osrm.OSRM(
            algorithm="CH",
            storage_config=str(self.path / OSRM_BASE),
            use_shared_memory=False,
            # Blocks are sized by road.py; the engine's own caps would refuse them.
            max_locations_distance_table=1_000_000,
            default_radius="unlimited",
        )

    @cached_property
    def valhalla(self) -> Any:
        """A Valhalla actor on this folder's tiles (loaded once)."""
        import valhalla

        config = valhalla.get_config(tile_dir=str(self.path / VALHALLA_TILES), tile_extract="")
        # One call draws one site's polygon; the contour and distance limits
        # match the reach a scenario may ask for.
        config["service_limits"]["isochrone"].update(
            {"max_time_contour": 600, "max_distance_contour": 1000, "max_locations": 1}
        )
        return valhalla.Actor(config)


def engine_files(folder: Path) -> dict[str, int]:
    """Every file of the engines' data under ``folder``: relative POSIX path → bytes."""
    files = {}
    for part in ("osrm", "valhalla"):
        for file in sorted((folder / part).rglob("*")):
            if file.is_file():
                files[file.relative_to(folder).as_posix()] = file.stat().st_size
    return files


def routing_path(given: Path) -> Path:
    """The routing folder ``travel.routing`` names: the folder, or the one built from an extract.

    A scenario may name the ``.osm.pbf`` extract itself: its routing folder
    then lives in the cache (``$PLANNER_CACHE_DIR/../routing`` or
    ``~/.cache/planner/routing``), named after the extract's path, size and
    modification time, so a changed or replaced extract gets a new build
    (:func:`planner.pipeline.routing.ensure_routing` builds it on first use).

    Raises
    ------
    InputError
        The extract named does not exist: says where extracts come from.
    """
    given = Path(given)
    if not given.name.lower().endswith(".pbf"):
        return given
    try:
        stat = given.stat()
    except OSError:
        raise InputError(
            Problem(
                f"travel.routing {given}",
                "extract not found; download an OpenStreetMap extract (.osm.pbf, e.g. from "
                "download.geofabrik.de) and name it here, or name a folder planner routing "
                "build made",
            )
        ) from None
    stamp = f"{given.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    key = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    stem = given.name[: -len(".osm.pbf")] if given.name.lower().endswith(".osm.pbf") else given.stem
    return _built_extracts() / f"{stem}-{key}"


def _built_extracts() -> Path:
    """Beside the road-reach cache: the same environment settings place both."""
    # Imported here: the reach cache brings numpy and SciPy, which opening a
    # routing folder does not need.
    from planner.travel.reach_cache import cache_dir

    return cache_dir().parent / "routing"


def open_routing(path: Path, *, source: str = "travel.routing") -> RoutingFolder:
    """Open a routing folder, refusing one that is missing, incomplete or of other versions.

    Parameters
    ----------
    path
        The folder ``planner routing build`` wrote, or an extract whose
        folder was built in the cache (:func:`routing_path`).
    source
        Where the folder was named, for messages (``travel.routing``, an argument).

    Raises
    ------
    InputError
        One line naming the folder and what is wrong with it.
    """
    path = routing_path(Path(path)).resolve()
    try:
        stat = (path / MANIFEST).stat()
        # A rebuilt folder is a new folder (publishing swaps it in whole): its
        # manifest's inode and time tell it from the one opened before.
        stamp: tuple[int, int] | None = (stat.st_ino, stat.st_mtime_ns)
    except OSError:
        stamp = None
    return _open(path, source, stamp)


@lru_cache(maxsize=8)
def _open(path: Path, source: str, stamp: tuple[int, int] | None) -> RoutingFolder:
    where = f"{source} {path}"
    if path.is_file():
        raise InputError(
            Problem(
                where,
                "is a file, not a routing folder; name the folder planner routing build wrote",
            )
        )
    if not path.is_dir():
        raise InputError(
            Problem(where, "no such routing folder; build one with planner routing build")
        )
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(
            Problem(
                where,
                f"is not a routing folder (no readable {MANIFEST}); build one with "
                "planner routing build EXTRACT.osm.pbf --out FOLDER",
            )
        ) from None
    if not isinstance(manifest, dict):
        raise InputError(
            Problem(
                where,
                f"is not a routing folder ({MANIFEST} holds no manifest); build one with "
                "planner routing build EXTRACT.osm.pbf --out FOLDER",
            )
        )
    if manifest.get("format") != ROUTING_FORMAT:
        found = manifest.get("format")
        raise InputError(
            Problem(
                where,
                f"routing folder of format {found!r}, this planner reads format "
                f"{ROUTING_FORMAT}; rebuild it with planner routing build",
            )
        )
    shape = _manifest_problem(manifest)
    if shape is not None:
        raise InputError(
            Problem(
                where,
                f"{MANIFEST} is not as planner routing build wrote it ({shape}); rebuild the "
                "folder with planner routing build",
            )
        )
    installed = engine_versions()
    built_with = manifest.get("engines", {})
    if built_with != installed:
        was = ", ".join(f"{k} {v}" for k, v in sorted(built_with.items()))
        now = ", ".join(f"{k} {v}" for k, v in sorted(installed.items()))
        raise InputError(
            Problem(
                where,
                f"built by {was or 'unknown engines'}, but this planner runs {now}: the "
                "engines read only their own version's data; rebuild it with planner "
                "routing build",
            )
        )
    missing = [
        name
        for name in (f"{OSRM_BASE}.hsgr", f"{OSRM_BASE}.properties", VALHALLA_TILES)
        if not (path / name).exists()
    ]
    if missing:
        raise InputError(
            Problem(where, f"incomplete routing folder (missing {', '.join(missing)}); rebuild it")
        )
    damaged = _damaged_file(path, manifest.get("files", {})) or _altered_file(
        path, manifest.get("sha256", {})
    )
    if damaged is not None:
        raise InputError(Problem(where, f"damaged routing folder ({damaged}); rebuild it"))
    logger.info("routing folder %s (%s)", path, manifest["extract"]["file"])
    return RoutingFolder(path, manifest)


def _manifest_problem(manifest: dict[str, Any]) -> str | None:
    """What in ``routing.json`` is missing or of the wrong kind (``None``: nothing)."""

    def number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    extract, roads = manifest.get("extract"), manifest.get("roads")
    engines = manifest.get("engines")
    if not isinstance(engines, dict) or not all(isinstance(v, str) for v in engines.values()):
        return "no engine versions"
    if not isinstance(extract, dict) or not isinstance(extract.get("file"), str):
        return "no extract file name"
    if not isinstance(manifest.get("built"), str) or not isinstance(manifest.get("build_id"), str):
        return "no build date or id"
    if not isinstance(roads, dict) or not number(roads.get("km")):
        return "no road km"
    bbox = roads.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4 or not all(number(v) for v in bbox):
        return "no road bounding box"
    speed = manifest.get("max_speed_kmh", MAX_SPEED_KMH)
    if not number(speed) or not 0 < speed <= 1000:
        return f"max_speed_kmh {speed!r} is not a speed"
    files = manifest.get("files", {})
    if not isinstance(files, dict) or not all(
        isinstance(size, int) and not isinstance(size, bool) for size in files.values()
    ):
        return "its file list is not one of names and sizes"
    digests = manifest.get("sha256", {})
    if not isinstance(digests, dict) or not all(
        isinstance(digest, str) and len(digest) == 64 for digest in digests.values()
    ):
        return "its digests are not one of names and SHA-256 digests"
    return None


def _damaged_file(path: Path, files: dict[str, int]) -> str | None:
    """The first engine file missing or of another size than the build wrote."""
    for name, size in files.items():
        try:
            found = (path / name).stat().st_size
        except OSError:
            return f"{name} is missing"
        if found != size:
            return f"{name} has {found:,} bytes, the build wrote {size:,}"
    return None


def _altered_file(path: Path, digests: dict[str, str]) -> str | None:
    """The first engine file whose content is not what the build wrote (digests in the manifest).

    Reading every file takes a few seconds for a large country, so a file is
    read only when its size, time or inode differs from when it last matched:
    those are kept per folder in the cache (``verified/``). A folder built
    before its manifest held digests is checked by size alone.
    """
    record_path = _verified_dir() / f"{hashlib.sha256(str(path).encode()).hexdigest()[:16]}.json"
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    known = record.get("files") if isinstance(record, dict) else None
    known = known if isinstance(known, dict) else {}
    checked: dict[str, list[Any]] = {}
    for name, digest in digests.items():
        try:
            stat = (path / name).stat()
        except OSError:
            return f"{name} is missing"
        stamp = [stat.st_size, stat.st_mtime_ns, stat.st_ino, digest]
        if known.get(name) != stamp and file_sha256(path / name) != digest:
            return f"{name} is not the file the build wrote (its content differs)"
        checked[name] = stamp
    if checked and checked != known:
        _write_record(record_path, {"folder": str(path), "files": checked})
    return None


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's content, read in MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_record(record_path: Path, record: dict[str, Any]) -> None:
    """Keep what was checked; a cache that cannot be written only means checking again."""
    try:
        write_atomically(record_path, json.dumps(record))
    except InputError as exc:
        logger.debug("could not keep the routing check: %s", exc)


def _verified_dir() -> Path:
    return _built_extracts().parent / "verified"


# The engines are native objects: released before the interpreter finalises
# its modules, or their bindings report each one still alive as a leak.
atexit.register(_open.cache_clear)
