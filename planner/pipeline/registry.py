"""The model registry: where a model's name meets its solve, its report and its checks.

Every other module asks the registry (:func:`model_of`) instead of comparing
``model.name`` with strings. A model's entry holds:

- its :class:`~planner.scenario.models.ModelTraits` (what the scenario's fields
  mean for it);
- ``solve``: the single-year model with the side constraints;
- ``solve_rollout``: the phased roll-out, for a model that has one;
- ``report_extras``: the model's own section of ``report.json``.

Adding a model means an entry here and its traits in
:mod:`planner.scenario.models`; a test checks that both name the same models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from planner.errors import InputError, Problem
from planner.optimise import Solution
from planner.optimise.coverage.phased import PhasedSolution
from planner.pipeline.load import PlanInputs
from planner.pipeline.report import sizing_report, trips_report
from planner.pipeline.solve import (
    solve_flow_refuelling,
    solve_max_coverage,
    solve_p_median,
    solve_phases,
    solve_set_cover,
    solve_sizing,
)
from planner.scenario.models import MODEL_TRAITS, ROLLOUT_MODEL, ModelTraits
from planner.scenario.schema import Scenario

__all__ = ["MODELS", "Model", "model_of"]


@dataclass(frozen=True)
class Model:
    """One model as the pipeline runs it."""

    traits: ModelTraits
    solve: Callable[[Scenario, PlanInputs], Solution]
    solve_rollout: Callable[[Scenario, PlanInputs], PhasedSolution] | None = None
    report_extras: Callable[[Solution], dict[str, Any]] | None = None

    @property
    def name(self) -> str:
        """The value of ``model.name``."""
        return self.traits.name


MODELS: dict[str, Model] = {
    model.name: model
    for model in (
        Model(MODEL_TRAITS["max_coverage"], solve_max_coverage, solve_rollout=solve_phases),
        Model(MODEL_TRAITS["set_cover"], solve_set_cover),
        Model(MODEL_TRAITS["p_median"], solve_p_median),
        Model(MODEL_TRAITS["sizing"], solve_sizing, report_extras=sizing_report),
        Model(MODEL_TRAITS["flow_refuelling"], solve_flow_refuelling, report_extras=trips_report),
    )
}


def model_of(scenario: Scenario) -> Model:
    """The registered model a scenario names.

    Raises
    ------
    planner.errors.InputError
        A phased roll-out with a model that has none.
    """
    model = MODELS[scenario.model.name]
    if scenario.constraints.phases and model.solve_rollout is None:
        raise InputError(
            Problem(
                "scenario",
                f"a phased roll-out is solved with {ROLLOUT_MODEL}, not {model.name}",
                field="constraints.phases",
            )
        )
    return model
