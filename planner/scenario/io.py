"""Reading and writing scenario text: ``--set`` overrides, path resolution, the reference TOML.

Helpers of :mod:`planner.scenario.schema`, kept apart so the schema module holds the schema.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

import tomli_w
from pydantic import BaseModel

from planner.errors import InputError, Problem

S = TypeVar("S", bound=Any)


def resolve_paths(scenario: S, base: Path) -> S:
    """Make every input path absolute, relative to ``base``."""

    def absolute(p: Path) -> Path:
        return p if p.is_absolute() else (base / p).resolve()

    files = [f.model_copy(update={"path": absolute(f.path)}) for f in scenario.dealers.files]
    demand = scenario.demand
    if isinstance(demand.source, Path):
        demand = demand.model_copy(update={"source": absolute(demand.source)})
    existing = scenario.existing_chargers
    charger_files = [f.model_copy(update={"path": absolute(f.path)}) for f in existing.files]
    output = scenario.output
    if output.dir is not None:
        output = output.model_copy(update={"dir": absolute(output.dir)})
    return scenario.model_copy(
        update={
            "dealers": scenario.dealers.model_copy(update={"files": files}),
            "demand": demand,
            "existing_chargers": existing.model_copy(update={"files": charger_files}),
            "output": output,
        }
    )


def apply_override(raw: dict[str, Any], item: str, source: str) -> None:
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(Problem(source, f"override '{item}' is not of the form key=value"))
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    set_dotted(raw, key, value, source, shown=item)


def set_dotted(
    raw: dict[str, Any], key: str, value: Any, source: str, *, shown: str | None = None
) -> None:
    """Set ``raw[a][b][c] = value`` for the dotted ``key`` ``a.b.c``, making tables as needed."""
    node = raw
    parts = key.strip().split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            label = shown if shown is not None else key
            raise InputError(Problem(source, f"override '{label}': '{part}' is not a table"))
        node = child
    # Paths given from Python are plain values in the scenario's TOML form.
    node[parts[-1]] = value.as_posix() if isinstance(value, Path) else value



def toml_value(value: Any) -> str:
    if isinstance(value, Path):
        value = value.as_posix()
    return tomli_w.dumps({"v": value}).strip()[len("v = ") :]


def emit_fields(
    lines: list[str],
    cls: type[BaseModel],
    values: BaseModel,
    *,
    prefix: str,
    dealer_path: str,
    dealer_file_cls: type[BaseModel],
) -> None:
    """Append the commented TOML of ``values`` (an instance of ``cls``) to ``lines``."""
    sections: list[tuple[str, type[BaseModel], Any]] = []
    for name, info in cls.model_fields.items():
        value = getattr(values, name)
        annotation = info.annotation
        if isinstance(value, BaseModel):
            sections.append((name, type(value), value))
            continue
        if isinstance(value, list) and value and isinstance(value[0], BaseModel):
            sections.append((name, type(value[0]), value))
            continue
        for text in wrap(info.description or ""):
            lines.append(f"# {text}")
        if value is None:
            kind = getattr(annotation, "__name__", str(annotation))
            lines.append(f"# {name} = ...  ({kind}, unset by default)")
        elif isinstance(value, dict | list) and not value:
            lines.append(f"# {name}: none by default")
        else:
            lines.append(f"{name} = {toml_value(value)}")
        lines.append("")
    for name, sub_cls, value in sections:
        key = f"{prefix}{name}"
        items = value if isinstance(value, list) else [value]
        for item in items:
            header = f"[[{key}]]" if isinstance(value, list) else f"[{key}]"
            doc = (sub_cls.__doc__ or "").strip().splitlines()[0]
            lines.append(f"{header}")
            lines.append(f"# {doc}")
            lines.append("")
            if isinstance(item, dealer_file_cls):
                item = item.model_copy(update={"path": Path(dealer_path)})
            emit_fields(
                lines,
                sub_cls,
                item,
                prefix=f"{key}.",
                dealer_path=dealer_path,
                dealer_file_cls=dealer_file_cls,
            )


def wrap(text: str, width: int = 88) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return lines
