"""Which column of a dealer file holds which field.

A column named in the scenario's :class:`~planner.scenario.schema.ColumnMapping` is
taken as given. Otherwise the reader compares the file's headers with the
names below after normalising both: accents removed, letters that do not
decompose transliterated (``ł`` → ``l``, ``ø`` → ``o``, ``ß`` → ``ss``, ``æ`` →
``ae``; :data:`TRANSLITERATION`), case folded, anything in brackets dropped
(``"Längengrad [DG]"`` → ``langengrad``, ``"Długość"`` → ``dlugosc``) and
everything but letters and digits removed (``"Dealer ID"`` → ``dealerid``).
The names cover the users' common languages: English, French, German, Dutch,
Spanish, Italian, Portuguese, Polish and Czech. Earlier names win over later
ones, so a file with both ``lon`` and ``x`` columns uses ``lon``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from planner._text import one_line
from planner.errors import Problem
from planner.scenario.schema import ColumnMapping

#: Fields every dealer file needs (``brand`` unless the scenario gives it per file).
REQUIRED = ("id", "name", "country", "brand")
#: Per-dealer optional fields.
OPTIONAL = ("grid_kw", "site_cost_eur", "max_chargers", "fixed", "excluded")

# Word tables: kept compact, a few entries to a line.
# fmt: off
#: Normalised header names per field, most specific first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": (
        "dealerid", "dealercode", "dealerno", "dealernumber", "siteid", "bir", "birid",
        "codeconcession", "idconcession", "concessionid", "haendlernummer", "handlernummer",
        "dealernummer", "codigoconcesionario", "codiceconcessionario", "kodealera",
        "numerdealera", "cislodealera", "id", "code", "nr", "no", "number", "numero",
        "nummer", "numer", "cislo", "codigo", "codice", "kod", "identifier",
        "identifiant", "identificador", "identificativo", "identyfikator", "identifikator",
        "ref",
    ),
    "name": (
        "dealername", "dealer", "nomconcession", "concession", "raisonsociale", "nom",
        "name", "naam", "nombre", "nome", "nazwa", "nazev", "haendlername", "handlername",
        "haendler", "handler", "bezeichnung", "firmenname", "firma", "bedrijfsnaam",
        "razonsocial", "ragionesociale", "denominazione", "denominacao", "company",
        "companyname", "sitename", "title", "label",
    ),
    "country": (
        "countrycode", "country", "iso2", "isocode", "iso", "countryiso", "cc", "land",
        "landcode", "laenderkennzeichen", "landerkennzeichen", "pays", "codepays", "pais",
        "codigopais", "paese", "nazione", "kraj", "zeme", "nation",
    ),
    "brand": (
        "brand", "brandname", "marque", "marke", "marca", "merk", "make", "marka", "znacka",
    ),
    "lon": (
        "lon", "lng", "long", "longitude", "longitudewgs84", "lonwgs84", "wgs84lon",
        "geolon", "geolongitude", "longitud", "longitudine", "lengte", "lengtegraad",
        "langengrad", "laengengrad", "geographischelange", "dlugosc",
        "dlugoscgeograficzna", "zemepisnadelka", "delka", "lange", "laenge", "pointx",
        "xcoord", "coordx", "x",
    ),
    "lat": (
        "lat", "latitude", "latitudewgs84", "latwgs84", "wgs84lat", "geolat",
        "geolatitude", "latitud", "latitudine", "breedte", "breedtegraad", "breitengrad",
        "geographischebreite", "szerokosc", "szerokoscgeograficzna", "zemepisnasirka",
        "sirka", "breite", "pointy", "ycoord", "coordy", "y",
    ),
    "grid_kw": (
        "gridkw", "grid", "gridcapacitykw", "gridconnectionkw", "netzanschlusskw",
        "netzanschluss", "puissancekw", "raccordementkw",
    ),
    "site_cost_eur": ("sitecosteur", "sitecost", "costeur", "cost", "kosten", "cout"),
    "max_chargers": ("maxchargers", "chargersmax", "maxladepunkte", "maxbornes"),
    "fixed": ("fixed", "mustchoose", "forced", "fixe", "gesetzt"),
    "excluded": ("excluded", "exclude", "exclu", "ausgeschlossen"),
}

#: What each field is called in messages.
LABELS = {
    "id": "dealer id",
    "name": "name",
    "country": "country",
    "brand": "brand",
    "lon": "longitude",
    "lat": "latitude",
}


#: Letters that Unicode does not decompose into a base letter and an accent.
TRANSLITERATION = str.maketrans(
    {
        "ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae",
        "œ": "oe", "Œ": "oe", "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th",
        "ı": "i", "ħ": "h", "Ħ": "h", "ŧ": "t", "Ŧ": "t", "ŀ": "l", "Ŀ": "l",
    }
)
# fmt: on


def normalise_header(header: str) -> str:
    """A header reduced to lowercase ASCII letters and digits, bracketed parts dropped."""
    text = re.sub(r"[\[(].*?[\])]", "", str(header))
    text = unicodedata.normalize("NFKD", text.translate(TRANSLITERATION))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", text.casefold())


@dataclass(frozen=True)
class ColumnChoice:
    """The file column chosen for each field; None where a field has no column."""

    columns: dict[str, str | None]

    def get(self, field: str) -> str | None:
        """The column of ``field``, or None."""
        return self.columns.get(field)


def choose_columns(
    headers: Sequence[str],
    mapping: ColumnMapping,
    *,
    source: str,
    need_brand: bool,
    need_coordinates: bool,
) -> tuple[ColumnChoice, list[Problem]]:
    """Pick a column for every field, from the mapping or by guessing.

    Parameters
    ----------
    headers
        The file's column names, in file order.
    mapping
        The scenario's column mapping of this file.
    source
        The file's name, for messages.
    need_brand
        Whether the file must have a brand column (no brand given per file).
    need_coordinates
        Whether the file must have lon/lat columns (it has no geometry).

    Returns
    -------
    The choice and the problems found (missing or ambiguous columns).
    """
    problems: list[Problem] = []
    chosen: dict[str, str | None] = {}
    present = [str(h) for h in headers]
    taken: set[str] = set()
    fields = ("id", "name", "country", "brand", "lon", "lat", *OPTIONAL)
    for field in fields:
        named = getattr(mapping, field)
        if named is not None:
            if named not in present:
                problems.append(
                    Problem(
                        source,
                        f"column '{one_line(named)}' named in the scenario (columns.{field}) "
                        f"is not in the file; its columns are {_listing(present)}",
                    )
                )
            chosen[field] = named if named in present else None
            taken.add(named)
    for field in fields:
        if field in chosen:
            continue
        chosen[field] = _guess(field, present, taken)
        if chosen[field] is not None:
            taken.add(str(chosen[field]))
    required = ["id", "name", "country"]
    if need_brand:
        required.append("brand")
    if need_coordinates:
        required += ["lon", "lat"]
    recognised = [f for f in fields if chosen.get(f) is not None]
    named = [f for f in fields if getattr(mapping, f) is not None]
    if not recognised and not named:
        # Nothing is known: the file is no table of dealers (or not this file at all),
        # so its first line is not quoted; it may be anything.
        problems.append(
            Problem(
                source,
                f"does not look like a dealer table: none of its {len(present)} column "
                "headers is a known field name (id, name, brand, country, lon, lat, ...); "
                "the header must be the first row with two or more filled cells, or name "
                "the columns in [dealers.files.columns] of the scenario",
            )
        )
        return ColumnChoice(chosen), problems
    repeated = _repeated(chosen, present, source, mapping)
    problems.extend(repeated.values())
    for field in ("lon", "lat"):
        if need_coordinates and getattr(mapping, field) is None and field not in repeated:
            problems.extend(_ambiguous(field, present, taken, chosen, source))
    for field in required:
        if chosen.get(field) is None and getattr(mapping, field) is None:
            problems.append(
                Problem(
                    source,
                    f"no {LABELS[field]} column: none of the columns {_listing(present)} "
                    f"looks like one; name it with columns.{field} in the scenario",
                )
            )
    return ColumnChoice(chosen), problems


#: Names of projected or generic axes: a geographic name beside one of them wins.
_AXIS_NAMES = frozenset({"pointx", "xcoord", "coordx", "x", "pointy", "ycoord", "coordy", "y"})


def _ambiguous(
    field: str,
    headers: Sequence[str],
    taken: set[str],
    chosen: dict[str, str | None],
    source: str,
) -> list[Problem]:
    """A problem when two columns both name the longitude (or latitude) by a geographic name."""
    others = taken - {chosen.get(field)}
    matches = [
        h
        for h in headers
        if h not in others
        and normalise_header(h) in SYNONYMS[field]
        and normalise_header(h) not in _AXIS_NAMES
    ]
    if len(matches) < 2:
        return []
    return [
        Problem(
            source,
            f"{len(matches)} columns could be the {LABELS[field]}: "
            f"{_listing(matches)}; name the one to use with {field} = '...' in "
            "[dealers.files.columns] of the scenario",
            field=field,
        )
    ]


def headed_alike(
    source: str,
    headers: Sequence[str],
    index: int,
    what: str,
    *,
    key: Callable[[str], str] = normalise_header,
) -> Problem | None:
    """A problem when the column at ``index`` shares its header with another column.

    Columns are found by header (compared by ``key``), so of two headed alike
    only the first would be read and the other's values silently ignored.
    """
    header = key(headers[index])
    where = [str(i + 1) for i, h in enumerate(headers) if key(h) == header]
    if len(where) < 2:
        return None
    return Problem(
        source,
        f"the {what} could be any of {len(where)} columns headed "
        f"'{one_line(str(headers[index]), limit=40)}' (columns {', '.join(where)}); "
        "rename or delete the others in the file",
        field=str(headers[index]),
    )


def columns_headed_alike(
    source: str,
    headers: Sequence[str],
    columns: Mapping[str, int | None],
    *,
    key: Callable[[str], str] = normalise_header,
) -> list[Problem]:
    """:func:`headed_alike` for each field's column in ``columns`` (``None``: no column)."""
    found = (
        headed_alike(source, headers, index, what, key=key)
        for what, index in columns.items()
        if index is not None
    )
    return [problem for problem in found if problem is not None]


def _repeated(
    chosen: dict[str, str | None], headers: Sequence[str], source: str, mapping: ColumnMapping
) -> dict[str, Problem]:
    """The problem of each field whose column shares its header with another.

    A column the scenario names is compared as written; a guessed one as the
    guess compares it, normalised (:func:`headed_alike`).
    """
    found: dict[str, Problem] = {}
    for field, header in chosen.items():
        if header is None:
            continue
        key = str if getattr(mapping, field) is not None else normalise_header
        what = LABELS.get(field, field)
        problem = headed_alike(source, headers, list(headers).index(header), what, key=key)
        if problem is not None:
            found[field] = problem
    return found


def _guess(field: str, headers: Sequence[str], taken: set[str]) -> str | None:
    normalised = [(normalise_header(h), h) for h in headers if h not in taken]
    for synonym in SYNONYMS[field]:
        for norm, header in normalised:
            if norm == synonym:
                return header
    return None


def _listing(headers: Sequence[str]) -> str:
    shown = ", ".join(f"'{one_line(h, limit=40)}'" for h in headers[:12])
    if len(headers) > 12:
        shown += f", ... ({len(headers)} in all)"
    return f"({shown})" if headers else "(none)"
