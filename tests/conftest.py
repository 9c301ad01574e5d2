"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

#: ``../shared`` beside the checkout: benchmark instances and real data.
SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared_path(*parts: str) -> Path:
    """A file under ``../shared``, or skip the test with the reason when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (../shared beside the checkout is needed)")
    return path
