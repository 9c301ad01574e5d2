"""The constraint sections of the scenario: side constraints and the phased roll-out.

The ``[constraints]`` table of a scenario file (budget, brand shares, sites per
country) and its ``[[constraints.phases]]`` list, with the validators that
check them on their own; the checks that need other sections (a roll-out needs
a model that rolls out, some country must allow a site) are on
:class:`planner.scenario.schema.Scenario`, which re-exports every name here.
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from planner.scenario.fields import (
    MAX_BUDGET_EUR,
    Count,
    Number,
    Share,
    SiteCount,
    _Section,
    country_codes,
    merged_keys,
)

#: The brands a scenario can name; dealer files' brands are harmonised to these
#: (Dacia and Alpine count as Renault, Infiniti as Nissan).
SCENARIO_BRANDS = ("Nissan", "Renault")


class Phase(_Section):
    """One year of a phased roll-out."""

    # A two-digit year (26) would be year 26, the phases' order unchanged and unsaid.
    year: Count = Field(
        ge=2000, le=2100, description="Calendar year of the phase, 2000-2100.", examples=[2027]
    )
    p: Count | None = Field(
        None, ge=1, description="Sites open by the end of this year (cumulative)."
    )
    budget_eur: Number | None = Field(
        None,
        ge=0,
        le=MAX_BUDGET_EUR,
        description="Spending allowed in this year on newly opened sites, EUR, counted as for "
        "constraints.budget_eur (site cost + chargers.min_per_site chargers); report.json puts "
        "the real spend with the sized chargers beside it.",
    )
    demand_factor: Number = Field(
        1.0,
        gt=0,
        description="Demand of this year relative to the scenario's sessions per day (BEV "
        "growth): 0.5 in an early year, 1.0 in the target year.",
    )

    @property
    def chargers_column(self) -> str:
        """The sites table's column of the chargers installed by the end of this year."""
        return f"chargers_{self.year}"

    @property
    def queue_column(self) -> str:
        """The sites table's column of whether a site meets the queueing target this year."""
        return f"queue_target_met_{self.year}"


class ConstraintsConfig(_Section):
    """Side constraints on the chosen sites, usable with every model."""

    budget_eur: Number | None = Field(
        None,
        ge=0,
        le=MAX_BUDGET_EUR,
        description="Total budget, EUR, for opening sites: a site counts its site_cost_eur (or "
        "chargers.site_cost_eur) plus chargers.min_per_site × chargers.charger_cost_eur. The "
        "chargers sized afterwards for the demand a site serves may cost more; report.json shows "
        "both. With max_coverage or flow_refuelling the budget replaces p (unless p is set "
        "too); with the other "
        "models it is an extra limit (sizing counts its real chargers).",
    )
    brand_min_share: dict[str, Share] = Field(
        default_factory=dict,
        description="Least share of the chosen sites carrying each brand, e.g. {Renault = 0.4, "
        "Nissan = 0.4}; a dual-brand site counts for both.",
    )
    brand_share_proportional: Number = Field(
        0.0,
        ge=0,
        le=1,
        description="Each brand's share of the chosen sites is at least this fraction of its "
        "share of the candidate sites (1.0: in proportion to its dealer network).",
    )
    country_min_sites: dict[str, SiteCount] = Field(
        default_factory=dict, description="Least chosen sites per country, e.g. {LU = 1}."
    )
    country_max_sites: dict[str, SiteCount] = Field(
        default_factory=dict, description="Most chosen sites per country, e.g. {FR = 40}."
    )
    phases: list[Phase] = Field(
        default_factory=list,
        description="Phased roll-out with max_coverage: each year its own p or budget and "
        "demand level, solved as one nested plan (a site opened stays open); chargers are "
        "sized year by year on that year's demand.",
    )

    @field_validator("country_min_sites", "country_max_sites", mode="before")
    @classmethod
    def _country_codes_upper(cls, bounds: object) -> object:
        # demand.countries takes "lu" as LU; so do the bounds (before: "has no candidate site").
        return merged_keys(bounds, str.upper, "country")

    @field_validator("brand_min_share", mode="before")
    @classmethod
    def _brand_names(cls, shares: object) -> object:
        # Dealer files' brands are read in any case; so are the shares' ("nissan").
        names = {brand.lower(): brand for brand in SCENARIO_BRANDS}
        return merged_keys(shares, lambda key: names.get(key.strip().lower(), key), "brand")

    @field_validator("country_min_sites", "country_max_sites")
    @classmethod
    def _known_countries(cls, bounds: dict[str, int]) -> dict[str, int]:
        # Before: "country 'XX' has no candidate site", as if XX were a country.
        unknown = sorted(code for code in bounds if code not in country_codes())
        if unknown:
            raise ValueError(f"no such country code: {', '.join(map(repr, unknown))}")
        return bounds

    @field_validator("brand_min_share")
    @classmethod
    def _known_brands(cls, shares: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(shares) - set(SCENARIO_BRANDS))
        if unknown:
            raise ValueError(
                f"unknown brand(s) {', '.join(map(repr, unknown))}; the brands "
                f"are {' and '.join(SCENARIO_BRANDS)} (Dacia and Alpine count as Renault, "
                "Infiniti as Nissan)"
            )
        return shares

    @field_validator("country_max_sites")
    @classmethod
    def _bounds_ordered(cls, maximum: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        # country_min_sites is validated first (field order); absent when it was invalid.
        minimum: dict[str, int] = info.data.get("country_min_sites", {})
        crossed = {
            country: (minimum[country], most)
            for country, most in maximum.items()
            if minimum.get(country, 0) > most
        }
        if crossed:
            shown = ", ".join(f"{c}: min {lo} > max {hi}" for c, (lo, hi) in crossed.items())
            raise ValueError(f"a country's most sites is below its least sites ({shown})")
        return maximum

    @field_validator("phases")
    @classmethod
    def _phases_nested(cls, phases: list[Phase]) -> list[Phase]:
        years = [phase.year for phase in phases]
        if years != sorted(set(years)):
            raise ValueError(f"years must be distinct and increasing, not {years}")
        for phase in phases:
            if (phase.p is None) == (phase.budget_eur is None):
                raise ValueError(f"year {phase.year} needs exactly one of p or budget_eur")
        # p counts the sites open by the end of the year and a site opened stays
        # open: a later year's p below an earlier one's cannot hold.
        earlier: Phase | None = None
        for phase in phases:
            if phase.p is None:
                continue
            if earlier is not None and earlier.p is not None and phase.p < earlier.p:
                raise ValueError(
                    f"year {phase.year} has p = {phase.p}, below year {earlier.year}'s p = "
                    f"{earlier.p}; p is the sites open by the end of the year (cumulative) and "
                    "an opened site stays open, so p must not shrink"
                )
            earlier = phase
        return phases
