"""Shared test fixtures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from planner.errors import InputError, Problem

# Property tests draw the same examples on every run ("ci", the default), so a
# failure in CI reproduces locally; HYPOTHESIS_PROFILE=explore draws new ones.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "explore",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: ``../shared`` beside the checkout: benchmark instances and real data.
SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_path(*parts: str) -> Path:
    """A file under ``../shared``, or skip the test with the reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared beside the checkout is needed)")
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``planner ARGS`` in this process: its exit code, standard output and standard error."""
    from planner.cli.main import main

    old = sys.argv
    sys.argv = ["planner", *args]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def problems_of(caught: pytest.ExceptionInfo[InputError]) -> list[Problem]:
    """The located problems of a caught input error (its plain-text ones left out)."""
    return [p for p in caught.value.problems if isinstance(p, Problem)]
