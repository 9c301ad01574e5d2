"""A result's plot as PNG bytes, and plot plus table as a notebook's HTML.

Shared by the frontier, the trips trade-off and the sweep, whose results
show inline in Jupyter (``_repr_html_``) and write their plot to a file.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pandas as pd

__all__ = ["figure_html", "png_bytes"]


def png_bytes(figure: Any) -> bytes:
    """A matplotlib figure as PNG, with no software stamp (byte-identical reruns)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def figure_html(png: bytes, table: pd.DataFrame, *, alt: str, digits: str = ",.4g") -> str:
    """The plot as an inline image above the table."""
    image = base64.b64encode(png).decode("ascii")
    html = table.to_html(index=False, float_format=lambda v: format(v, digits))
    return f'<img src="data:image/png;base64,{image}" alt="{alt}">{html}'
