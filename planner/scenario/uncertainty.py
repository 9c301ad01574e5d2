"""What a sweep may draw and what it calls robust: ``[uncertainty]`` and ``[sweep]``.

``[uncertainty]`` gives any field that ``--set`` accepts a distribution, keyed
by its dotted name::

    [uncertainty]
    "travel.radius_km" = {dist = "uniform", low = 40, high = 60}
    "demand.sessions.by_country.FR.bev_share_of_fleet" = {dist = "triangular", low = 0.03,
                                                          mode = 0.08, high = 0.15}
    "model.name" = {dist = "choice", values = ["max_coverage", "p_median"]}

``planner sweep --samples N --seed S`` draws N values of every field from
these (the same N draws at every point of a ``--grid``); ``planner run``
checks them but solves the scenario's own figures. A draw for a
whole-number field (``model.p``) is rounded. The distributions are
checked here on their own (``low`` above ``high``, a ``mode`` outside them,
a ``choice`` without values); that every key names a field is checked with the whole scenario
(:meth:`planner.scenario.schema.Scenario`), and a draw's value by the field's
own rules when the sweep applies it.

``[sweep]`` holds the sweep's settings that belong to the scenario: the share
of runs a site must be chosen in to be a no-regret site.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, StrictBool, StrictInt, model_validator

from planner.scenario.fields import Number, Share, _Section

#: The distributions a field can be given.
DistributionName = Literal["uniform", "triangular", "normal", "choice"]

#: The parameters each distribution needs (``normal`` may add ``low``/``high`` to truncate).
NEEDED = {
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd"),
    "choice": ("values",),
}

#: The parameters each distribution may have besides those it needs.
OPTIONAL = {"uniform": (), "triangular": (), "normal": ("low", "high"), "choice": ("weights",)}


class Distribution(_Section):
    """The distribution of one scenario field, drawn by planner sweep --samples."""

    dist: DistributionName = Field(
        description="uniform (low, high); triangular (low, mode, high); normal (mean, sd, "
        "optionally truncated to low and high); choice (values, optionally weights).",
        examples=["triangular"],
    )
    low: Number | None = Field(
        None, description="Least value (uniform, triangular; normal: truncates below)."
    )
    mode: Number | None = Field(None, description="Most likely value (triangular).")
    high: Number | None = Field(
        None, description="Greatest value (uniform, triangular; normal: truncates above)."
    )
    mean: Number | None = Field(None, description="Mean (normal).")
    sd: Number | None = Field(None, gt=0, description="Standard deviation (normal).")
    values: list[StrictBool | StrictInt | Number | str] | None = Field(
        None, description="The values to choose from (choice): numbers, text or true/false."
    )
    weights: list[Number] | None = Field(
        None,
        description="Relative weight of each value (choice); unset: every value alike.",
    )

    @model_validator(mode="after")
    def _parameters_fit(self) -> Distribution:
        needed, optional = NEEDED[self.dist], OPTIONAL[self.dist]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.dist} needs {' and '.join(missing)}")
        allowed = {"dist", *needed, *optional}
        extra = [
            name
            for name in type(self).model_fields
            if name not in allowed and getattr(self, name) is not None
        ]
        if extra:
            raise ValueError(f"{self.dist} takes no {' or '.join(extra)}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low: {self.low:g} is above high = {self.high:g}")
        if self.low is not None and self.high is not None and self.low == self.high:
            raise ValueError(f"low: equals high = {self.high:g}; give the field a value instead")
        if (
            self.low is not None
            and self.high is not None
            and not math.isfinite(self.high - self.low)
        ):
            raise ValueError(
                f"low: {self.low:g}..{self.high:g} is wider than a number can hold; "
                "give the range the field's values can take"
            )
        if (
            self.mode is not None
            and self.low is not None
            and self.high is not None
            and not (self.low <= self.mode <= self.high)
        ):
            raise ValueError(
                f"mode: {self.mode:g} lies outside low..high ({self.low:g}..{self.high:g})"
            )
        if self.dist == "normal" and self.mean is not None:
            # A mean beyond a bound would have every draw land on that bound.
            if self.low is not None and self.mean < self.low:
                raise ValueError(f"mean: {self.mean:g} lies below low = {self.low:g}")
            if self.high is not None and self.mean > self.high:
                raise ValueError(f"mean: {self.mean:g} lies above high = {self.high:g}")
        if self.values is not None and not self.values:
            raise ValueError("values: a choice needs at least one value")
        if self.weights is not None:
            if self.values is None or len(self.weights) != len(self.values):
                raise ValueError("weights: give one weight per value")
            if any(w < 0 for w in self.weights) or not sum(self.weights) > 0:
                raise ValueError("weights: must be 0 or more, and not all 0")
            if not math.isfinite(sum(self.weights)):
                raise ValueError("weights: their sum is more than a number can hold")
        return self


class SweepConfig(_Section):
    """planner sweep: what makes a site robust."""

    no_regret_share: Share = Field(
        0.9,
        description="A site chosen in at least this share of a sweep's runs is a no-regret "
        "site: right whatever the future brings (site_robustness.csv marks it, the map rings "
        "it).",
    )
