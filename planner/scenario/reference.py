"""The reference scenario file: every field of the schema with its default and description.

Kept apart from :mod:`planner.scenario.schema` so that the schema module holds
the schema; ``scenarios/default.toml`` is the text :func:`reference_toml` gives.
"""

from __future__ import annotations

from planner.scenario.io import emit_fields
from planner.scenario.schema import DealerFile, Scenario


def reference_toml(*, dealer_path: str = "../geodata/sample_dealers_demo.csv") -> str:
    """Every field of the schema with its default and description, as a commented TOML file.

    ``scenarios/default.toml`` is this text; a test fails when the two drift.
    Unset optional fields are shown commented out.

    Parameters
    ----------
    dealer_path
        Path written for the dealer file; relative to the ``scenarios`` folder.

    Returns
    -------
    str
        The TOML text, ending in a newline.
    """
    lines = [
        "# The default scenario: every field with its default value and description.",
        "# Generated from planner/scenario/schema.py by "
        "planner.scenario.reference.reference_toml();",
        "# relative paths are resolved against this file's folder.",
        "",
    ]
    defaults = Scenario()
    emit_fields(
        lines, Scenario, defaults, prefix="", dealer_path=dealer_path, dealer_file_cls=DealerFile
    )
    return "\n".join(lines).rstrip() + "\n"
