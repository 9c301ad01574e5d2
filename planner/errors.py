"""The exception types of planner.

Every error the library raises on purpose derives from :class:`PlannerError`.
The command line maps them to one line and an exit code:

* :class:`InputError` — a bad input file or scenario (exit code 2);
* :class:`InfeasibleError` — the scenario's constraints cannot all hold (exit 3);
* :class:`SolverError` — the solver failed for a reason other than the model (exit 1).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from planner._text import one_line


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: where it is and what is wrong.

    ``row`` is the 1-based data row as a spreadsheet user sees it (the header
    is row 1, so the first data row is row 2); ``None`` when the problem is
    about the whole file or a field of the scenario.
    """

    source: str
    message: str
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        # File names, headers and cells come from users' files: a control or
        # bidi character in them must not garble the line a terminal shows.
        where = one_line(self.source)
        if self.row is not None:
            where += f", row {self.row}"
        if self.field is not None:
            where += f", field '{one_line(self.field)}'"
        return f"{where}: {one_line(self.message)}"


class PlannerError(Exception):
    """Base class of the errors planner raises on purpose."""

    exit_code = 1


class InputError(PlannerError):
    """A bad input file or scenario; carries every problem found, not just the first.

    ``warnings`` are the lesser problems found on the way (rows that would be
    dropped), so that a report of the errors can list them too.
    """

    exit_code = 2

    def __init__(
        self,
        problems: Problem | str | Iterable[Problem | str],
        *,
        warnings: Iterable[Problem] = (),
    ) -> None:
        if isinstance(problems, Problem | str):
            problems = [problems]
        self.problems: tuple[Problem | str, ...] = tuple(problems)
        self.warnings: tuple[Problem, ...] = tuple(warnings)
        if not self.problems:
            raise ValueError("InputError needs at least one problem")
        first = one_line(self.problems[0])
        more = len(self.problems) - 1
        super().__init__(first if more == 0 else f"{first} (and {more} more problem(s))")


class InfeasibleError(PlannerError):
    """The constraints of a scenario cannot all hold; the message names which.

    ``remedy`` carries numbers the pipeline turns into a concrete change of
    the scenario: ``"coverage_at_most"``, the most coverage any plan can
    reach (a target above it cannot work); ``"budget"``, a budget at which a
    plan is known to exist, all else equal; ``"caps_short"``, how many caps on
    a group of sites are below what serving every row needs, whatever the
    chargers.
    """

    exit_code = 3

    def __init__(self, message: str, *, remedy: dict[str, float] | None = None) -> None:
        super().__init__(message)
        self.remedy: dict[str, float] = dict(remedy or {})


class SolverError(PlannerError):
    """The solver failed (not an infeasible model): the message carries its status."""

    exit_code = 1
