"""Which of the network's brands a shop found in open data sells, from its tags.

OpenStreetMap and All The Places describe a dealer with the same keys:

1. ``brand:wikidata`` — Wikidata items, the most reliable:
   :data:`WIKIDATA_BRANDS`;
2. ``brand`` — the brand's name, as mappers write it (``Renault``,
   ``Renault;Dacia``, ``RENAULT``);
3. ``name`` — only when the shop carries neither brand key: a workshop
   mapped as ``name=Garage Konrad Nissan`` with no brand tag.

A shop tagged with several brands (``brand=Renault;Peugeot``, a multi-brand
dealer) sells each of them: it is kept for the brands of the network it
names, whatever else it sells. The brand keys count together (a dealer with
``brand:wikidata=Q6686`` and ``brand=Renault;Nissan`` sells both); the name is
read only when there is no brand key at all, because a shop whose brand tags
name other makes is another make's dealer even when its name mentions
Renault (``Peugeot – Service toutes marques, Renault``).

Sub-brands map as in the dealer reader (:data:`planner.inputs.cells.BRAND_GROUPS`):
Dacia and Alpine are Renault, Infiniti is Nissan. Names and brand texts are
compared word by word after the dealer reader's normalisation (case, accents
and punctuation do not matter), with two exceptions that keep false matches
out: *Alpine* counts only as a whole brand value, never as a word in a name
or longer brand (``Garage Alpin``, ``Alpine Motors`` in the Alps are not
Alpine dealers), and a brand word followed by *Trucks*, *VI* or *Forklift*
(Renault Trucks, a Volvo company; Renault VI; Nissan forklifts) is another
company.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from planner._arguments import text_list
from planner.errors import InputError, Problem
from planner.inputs.cells import BRAND_GROUPS, CANONICAL_BRANDS
from planner.inputs.columns import normalise_header

#: Wikidata items of the brands (and sub-brands): item → (network brand, make).
#: The company items are the ones All The Places' spiders and the OpenStreetMap
#: name-suggestion index put on dealers (Alpine Q26944 and Infiniti Q29714 in
#: the Renault and Nissan spiders). Wikidata also has separate "brand" items
#: for some of them (created in 2024); a mapper may use either.
WIKIDATA_BRANDS: dict[str, tuple[str, str]] = {
    "Q6686": ("Renault", "Renault"),
    "Q125544573": ("Renault", "Renault"),
    "Q27460": ("Renault", "Dacia"),
    "Q131701890": ("Renault", "Dacia"),
    "Q26944": ("Renault", "Alpine"),
    "Q20165": ("Nissan", "Nissan"),
    "Q125130399": ("Nissan", "Nissan"),
    "Q29714": ("Nissan", "Infiniti"),
}

#: How a dealer's brand was found, in order of trust.
BY_WIKIDATA, BY_BRAND, BY_NAME = "brand:wikidata", "brand", "name"

#: Why a shop is not a dealer of the network's brands.
DROP_OTHER_BRAND = "other brand"
DROP_NO_BRAND = "no brand in tags or name"

#: Normalised words that count only as a whole brand value (see the module docstring).
_WHOLE_VALUE_ONLY = frozenset({"alpine"})
#: Normalised words after a brand word that make it another company.
_OTHER_COMPANY = frozenset({"trucks", "truck", "vi", "forklift", "forklifts"})
#: OSM separates several values of one key with ``;``; people also write ``,`` ``/`` ``&`` ``+``.
_VALUE_SPLIT = re.compile(r"\s*[;,/&+|]\s*")
_WORD_SPLIT = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class BrandMatch:
    """The network brands a shop sells and how that was found.

    Attributes
    ----------
    brands
        Canonical brands (``Nissan``, ``Renault``), sorted; empty when none.
    matched_by
        :data:`BY_WIKIDATA`, :data:`BY_BRAND` or :data:`BY_NAME`; ``""`` when none.
    makes
        The makes as tagged (``Dacia``, ``Renault``), for the counts.
    reason
        Why nothing matched (:data:`DROP_OTHER_BRAND`, :data:`DROP_NO_BRAND`); ``""``
        when something did.
    """

    brands: tuple[str, ...]
    matched_by: str
    makes: tuple[str, ...]
    reason: str = ""


def match_brands(tags: Mapping[str, str]) -> BrandMatch:
    """The network brands named by a shop's ``brand:wikidata``, ``brand`` or ``name`` tags."""
    found: dict[str, str] = {}
    matched_by = ""
    wikidata = tags.get("brand:wikidata", "").strip()
    brand = tags.get("brand", "").strip()
    for item in _VALUE_SPLIT.split(wikidata) if wikidata else ():
        known = WIKIDATA_BRANDS.get(item.strip().upper())
        if known is not None:
            found.setdefault(known[1], known[0])
            matched_by = BY_WIKIDATA
    for value in _VALUE_SPLIT.split(brand) if brand else ():
        for make, group in _brands_in_text(value, whole_value=True):
            found.setdefault(make, group)
            matched_by = matched_by or BY_BRAND
    if not found and not wikidata and not brand:
        for make, group in _brands_in_text(tags.get("name", ""), whole_value=False):
            found.setdefault(make, group)
            matched_by = BY_NAME
    if not found:
        reason = DROP_OTHER_BRAND if wikidata or brand else DROP_NO_BRAND
        return BrandMatch((), "", (), reason)
    return BrandMatch(tuple(sorted(set(found.values()))), matched_by, tuple(sorted(found)))


def _brands_in_text(text: str, *, whole_value: bool) -> list[tuple[str, str]]:
    """(make, network brand) pairs named in a brand value or a name."""
    whole = normalise_header(text)
    if whole_value and whole in BRAND_GROUPS:
        return [(_make_label(whole), BRAND_GROUPS[whole])]
    words = [normalise_header(w) for w in _WORD_SPLIT.split(text)]
    words = [w for w in words if w]
    pairs = []
    for i, word in enumerate(words):
        group = BRAND_GROUPS.get(word)
        if group is None or word in _WHOLE_VALUE_ONLY:
            continue
        if i + 1 < len(words) and words[i + 1] in _OTHER_COMPANY:
            continue
        pairs.append((_make_label(word), group))
    return pairs


def _make_label(normalised: str) -> str:
    """``dacia`` → ``Dacia``; combined values (``renaultdacia``) → their group."""
    labels = {
        "renault": "Renault",
        "dacia": "Dacia",
        "alpine": "Alpine",
        "nissan": "Nissan",
        "infiniti": "Infiniti",
    }
    return labels.get(normalised, BRAND_GROUPS[normalised])


def requested_brands(
    brands: str | Iterable[str] | None, *, source: str = "brands"
) -> tuple[str, ...]:
    """The network brands to keep, from ``"renault,nissan"`` or a list; None for both.

    Raises
    ------
    InputError
        An empty list, an unknown brand, or a sub-brand (Dacia, Alpine,
        Infiniti: their dealers are kept with their group's brand, so
        asking for them alone cannot be honoured).
    """
    if brands is None:
        return CANONICAL_BRANDS
    # str(5) and bytes would name a brand '5' or '114' that nobody asked for.
    values = text_list(
        [brands] if isinstance(brands, str) else brands,
        source,
        "brands as text, e.g. 'renault,nissan'",
    )
    parts = [p.strip() for v in values for p in str(v).split(",") if p.strip()]
    if not parts:
        raise InputError(Problem(source, "no brand given; choose from renault, nissan"))
    chosen: set[str] = set()
    for part in parts:
        key = normalise_header(part)
        group = BRAND_GROUPS.get(key)
        if group is None:
            raise InputError(
                Problem(source, f"unknown brand '{part}'; choose from renault, nissan")
            )
        if key != group.lower():
            raise InputError(
                Problem(
                    source,
                    f"'{part}' dealers count as {group} dealers here; use "
                    f"{group.lower()} (it keeps every {group} make)",
                )
            )
        chosen.add(group)
    return tuple(sorted(chosen))


def searched_tags_text(brands: Iterable[str]) -> str:
    """What the importers look for, for the message when nothing matches."""
    wanted = set(brands)
    items = ", ".join(
        f"{item} ({make})" for item, (group, make) in WIKIDATA_BRANDS.items() if group in wanted
    )
    makes = sorted({_make_label(k) for k, g in BRAND_GROUPS.items() if g in wanted})
    in_names = [m for m in makes if m.lower() not in _WHOLE_VALUE_ONLY]
    return (
        f"brand:wikidata {items}; brand {', '.join(makes)}; without brand tags, a name "
        f"with {', '.join(in_names)}"
    )
