"""Reading and writing scenario text: ``--set`` overrides, path resolution, the reference TOML.

Helpers of :mod:`planner.scenario.schema`, kept apart so the schema module holds the schema.
"""

from __future__ import annotations

import difflib
import numbers
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import tomli_w
from pydantic import BaseModel, ValidationError

from planner import _arguments
from planner import _toml as toml
from planner._files import home_expanded, resolved
from planner.errors import InputError, Problem


def resolve_paths[S: Any](scenario: S, base: Path, source: str = "scenario") -> S:
    """Make every input path absolute, relative to ``base``; refuse a path holding a NUL.

    A NUL cannot be in a file name: the system refuses the path when it is
    opened, with a message naming neither the file nor the field.
    """

    def absolute(p: Path, field: str) -> Path:
        if "\x00" in str(p):
            raise InputError(
                Problem(source, f"{str(p)!r} is no path: it holds a NUL character", field=field)
            )
        # "~/data/x.csv": the home folder, as a shell reads it (not a folder named "~").
        p = home_expanded(p, source, field)
        return p if p.is_absolute() else resolved(base / p)

    files = [
        f.model_copy(update={"path": absolute(f.path, f"dealers.files.{i}.path")})
        for i, f in enumerate(scenario.dealers.files)
    ]
    demand = scenario.demand
    if isinstance(demand.source, Path):
        demand = demand.model_copy(update={"source": absolute(demand.source, "demand.source")})
    existing = scenario.existing_chargers
    charger_files = [
        f.model_copy(update={"path": absolute(f.path, f"existing_chargers.files.{i}.path")})
        for i, f in enumerate(existing.files)
    ]
    output = scenario.output
    if output.dir is not None:
        output = output.model_copy(update={"dir": absolute(output.dir, "output.dir")})
    travel = scenario.travel
    if travel.routing is not None:
        travel = travel.model_copy(update={"routing": absolute(travel.routing, "travel.routing")})
    trips = scenario.trips
    if isinstance(trips.source, Path):
        trips = trips.model_copy(update={"source": absolute(trips.source, "trips.source")})
    afir = scenario.afir
    if afir.corridors is not None:
        afir = afir.model_copy(update={"corridors": absolute(afir.corridors, "afir.corridors")})
    return scenario.model_copy(
        update={
            "afir": afir,
            "trips": trips,
            "travel": travel,
            "dealers": scenario.dealers.model_copy(update={"files": files}),
            "demand": demand,
            "existing_chargers": existing.model_copy(update={"files": charger_files}),
            "output": output,
        }
    )


def validation_problems(
    exc: ValidationError, source: str, root: type[BaseModel] | None = None
) -> list[Problem]:
    """One problem per error of a scenario's validation, each naming its dotted field.

    A check across fields (a model validator) is located at its section, not
    at a field; its message starts with the field it is about, relative to
    that section (``"coverage_target: ..."`` of ``model``, or
    ``"constraints.country_max_sites: ..."`` of the whole scenario), and that
    becomes the field. An unknown field (``model.pp``) names the closest
    field of its section (``model.p``), or lists the section's fields when
    none is close; ``root`` is the validated class, whose sections are looked up.
    """
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or None
        # Pydantic puts "Value error, " before the message of a validator's ValueError,
        # and names the schema's classes where a section is due.
        message = err["msg"].removeprefix("Value error, ")
        message = _SECTION_DUE.sub(
            "Input should be a table ([section] in TOML, a dict in Python)", message
        )
        if err["type"] == "extra_forbidden" and root is not None:
            message = unknown_field_message(root, err["loc"])
        elif err["type"].endswith(_VALUE_SAID) and "input" in err:
            given = err["input"]
            if isinstance(given, dict) and err["type"] == "list_type":
                # {"dealers.files.0.path": …}: lists have no dotted names for entries.
                message = "is a list, set as a whole ([…]): no dotted name picks one entry"
            elif isinstance(given, dict) and err["type"].endswith("_type"):
                # {"model.p.x": 3} made model.p a table: the name went a level too deep.
                message = "is a single value, not a table: no field lies below it"
            # "Input should be a valid integer" of 3.0 or "3" did not say what it got.
            message += f" (got {shown_value(given)})"
        named = _NAMED.match(message)
        if err["type"] == "value_error" and named:
            inner = named["field"]
            field = inner if field is None else f"{field}.{inner}"
            message = named["rest"]
        problems.append(Problem(source, message, field=field))
    return problems


#: Pydantic's error types that quote the value given (its type, its range).
_VALUE_SAID = (
    "_type",
    "_parsing",
    "_from_float",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "literal_error",
)


def shown_value(value: Any) -> str:
    """A value a scenario was given, as a message quotes it: short, with its type when unclear."""
    text = _arguments.shown(value)
    if isinstance(value, bool | int | float | str) or value is None:
        return text
    return f"{text}, a {type(value).__name__}"


_SECTION_DUE = re.compile(r"Input should be a valid dictionary or instance of \w+")

_NAMED = re.compile(r"(?P<field>[a-z_]+(?:\.[a-z_]+)*): (?P<rest>.+)", re.DOTALL)


def unknown_field_message(root: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """What to say of the unknown field at ``loc``: the closest field of its section, if any.

    ``loc`` is pydantic's location of the field (``("model", "pp")``); the
    suggestion is the dotted name a user writes (``model.p``).
    """
    section = section_at(root, loc[:-1])
    if section is None:
        return "unknown field"
    fields = list(section.model_fields)
    prefix = "".join(f"{part}." for part in loc[:-1])
    given = str(loc[-1])
    # "model.P": case first (difflib finds nothing that close for one letter).
    same_case = [name for name in fields if name.lower() == given.lower()]
    close = same_case or difflib.get_close_matches(given, fields, n=1)
    if close:
        return f"unknown field; did you mean '{prefix}{close[0]}'?"
    where = f"'{prefix.rstrip('.')}'" if prefix else "a scenario"
    return f"unknown field; the fields of {where} are {', '.join(fields)}"


def section_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The class of the section at ``loc`` below ``root``, following lists and dicts.

    A list's entry is located by its index and a dict's by its key
    (``("demand", "sessions", "by_country", "LU")``); ``None`` when ``loc`` leads
    to no section.
    """
    annotation: Any = root
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return None
    return next(iter(_candidates(annotation, BaseModel)), None)


def dotted_field(root: type[BaseModel], key: str) -> tuple[Any, str | None]:
    """The annotation of the field a dotted name (as ``--set`` takes it) names, or what is wrong.

    Returns ``(annotation, None)`` for a field that holds a value, through
    sections and the keys of tables (``demand.sessions.by_country.FR.bev_share_of_fleet``);
    ``(None, message)`` for an unknown name (with the closest field, as for
    ``--set``) or a name of a whole section.
    """
    parts = tuple(key.strip().split("."))
    annotation: Any = root
    for depth, part in enumerate(parts):
        step = _step(annotation, part) if part else None
        if step is None:
            return None, unknown_field_message(root, parts[: depth + 1])
        annotation = step
    if _candidates(annotation, BaseModel):
        return None, "a section, not a field; name one of its fields"
    return annotation, None


def holds_integer(annotation: Any) -> bool:
    """Whether a field's values are whole numbers (``model.p``), not floats or text."""
    if get_origin(annotation) is Annotated:
        return holds_integer(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        kinds = [arg for arg in get_args(annotation) if arg is not type(None)]
        return bool(kinds) and all(holds_integer(arg) for arg in kinds)
    return annotation is int


def _step(annotation: Any, part: int | str) -> Any:
    for model in _candidates(annotation, BaseModel):
        if isinstance(part, str) and part in model.model_fields:
            return model.model_fields[part].annotation
    for container in _candidates(annotation, list):
        if isinstance(part, int):
            return get_args(container)[0]
    for container in _candidates(annotation, dict):
        return get_args(container)[1]
    return None


def _candidates(annotation: Any, kind: type) -> list[Any]:
    """The members of ``annotation`` (through ``Annotated`` and unions) that are ``kind``."""
    if get_origin(annotation) is Annotated:
        return _candidates(get_args(annotation)[0], kind)
    if get_origin(annotation) in (Union, UnionType):
        return [found for arg in get_args(annotation) for found in _candidates(arg, kind)]
    if kind is BaseModel:
        is_kind = (
            get_origin(annotation) is None
            and isinstance(annotation, type)
            and issubclass(annotation, BaseModel)
        )
    else:
        is_kind = get_origin(annotation) is kind and len(get_args(annotation)) > 0
    return [annotation] if is_kind else []


def override_fields(overrides: Mapping[str, Any] | Sequence[str] | None) -> list[str]:
    """The dotted fields ``overrides`` sets: mapping keys, or keys of ``key=value`` strings."""
    if overrides is None or isinstance(overrides, str | bytes):
        return []
    if isinstance(overrides, Mapping):
        return [str(key).strip() for key in overrides]
    return [str(item).partition("=")[0].strip() for item in overrides]


def same_field(a: str, b: str) -> bool:
    """Whether dotted names ``a`` and ``b`` set one field: equal, or one a table of the other."""
    return a == b or a.startswith(f"{b}.") or b.startswith(f"{a}.")


def apply_override(raw: dict[str, Any], item: str, source: str, root: type[BaseModel]) -> str:
    """Apply one ``key=value`` override to a scenario's raw tables; return its key.

    ``root`` is the scenario's class, against which ``key=null`` (which sets
    nothing pydantic would check) is checked to name a field or a section.
    """
    key, sep, text = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(Problem(source, f"override '{item}' is not of the form key=value"))
    if text.strip() == "null":
        # TOML has no null, so a file unsets a field by leaving it out; on the
        # command line the bare word does the same (quote it for the text "null").
        unset_dotted(raw, key, source, root, shown=item)
        return key
    try:
        value = toml.loads(f"v = {text.strip()}")["v"]
    except toml.TOMLDecodeError:
        value = text.strip()
    set_dotted(raw, key, value, source, shown=item)
    return key


def unset_dotted(
    raw: dict[str, Any], key: str, source: str, root: type[BaseModel], *, shown: str
) -> None:
    """Remove the dotted ``key`` from a scenario's raw tables; its field takes its default."""
    parts = tuple(key.strip().split("."))
    _, problem = dotted_field(root, key)
    if problem is not None and section_at(root, parts) is None:
        raise InputError(Problem(f"override '{shown.strip()}'", problem, field=key.strip()))
    node: Any = raw
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(parts[-1], None)


def set_dotted(
    raw: dict[str, Any], key: str, value: Any, source: str, *, shown: str | None = None
) -> None:
    """Set ``raw[a][b][c] = value`` for the dotted ``key`` ``a.b.c``, making tables as needed."""
    node = raw
    parts = key.strip().split(".")
    label = shown if shown is not None else key
    if not all(part.strip() for part in parts):
        # "model..p" or ".p" would set a field named "" and be refused as unknown, unnamed.
        raise InputError(
            Problem(source, f"override '{label}': the field name has an empty part between dots")
        )
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            what = f"'{part}' is not a table"
            if isinstance(child, list):
                # A list is set whole: its entries have no dotted names.
                whole = ".".join(parts[: depth + 1])
                what = (
                    f"'{part}' is a list, set as a whole: {whole}=[…] "
                    f'(e.g. dealers.files=[{{path = "dealers.csv"}}])'
                )
            raise InputError(Problem(source, f"override '{label}': {what}"))
        node = child
    _merged_into(node, parts[-1], plain_value(value))


def _merged_into(node: dict[str, Any], key: str, value: Any) -> None:
    """Set ``node[key] = value``, a table merged field by field into the table there.

    ``{"model": {"name": "sizing"}}`` sets ``model.name`` and keeps the
    scenario's ``model.p``, as ``model.name`` does; before, it replaced the
    whole table and the file's other settings fell back to their defaults
    without a word. Lists are set whole.
    """
    current = node.get(key)
    if isinstance(value, dict) and isinstance(current, dict):
        for name, item in value.items():
            _merged_into(current, name, item)
    else:
        node[key] = value


def plain_value(value: Any) -> Any:
    """A value from Python as TOML would give it, copied: nested mappings become dicts.

    Paths become text; numpy numbers become ``int`` and ``float`` (the
    schema's counts are strict, so a numpy integer from ``np.arange`` would
    else be refused); a bool, numpy's included, stays a bool and is refused
    where a count is due. The copy keeps overrides from changing the caller's
    values.
    """
    if isinstance(value, Mapping):
        return {key: plain_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_value(item) for item in value]
    if isinstance(value, Path):
        return value.as_posix()
    # numpy's bool is neither Integral nor Real, so it passes through as it is.
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


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
    examples: list[tuple[str, type[BaseModel], Mapping[str, Any]]] = []
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
        entry = _entry_model(annotation) if isinstance(value, dict | list) and not value else None
        if value is None:
            kind = type_name(annotation)
            lines.append(f"# {name} = ...  ({kind}, unset by default)")
        elif entry is not None:
            # A list (or table) of tables, empty by default: its keys are shown
            # in a commented example entry after this section's own fields.
            header = _example_header(f"{prefix}{name}", value, info.examples)
            lines.append(f"# {name}: none by default (see the commented {header} example below)")
            examples.append((header, entry, _example_entry(value, info.examples)))
        elif isinstance(value, dict | list) and not value:
            lines.append(f"# {name}: none by default")
        else:
            lines.append(f"{name} = {toml_value(value)}")
        lines.append("")
    for header, entry, shown in examples:
        emit_example(lines, entry, header, shown)
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


def emit_example(
    lines: list[str],
    cls: type[BaseModel],
    header: str,
    shown: Mapping[str, Any] | None = None,
) -> None:
    """Append a commented example entry of ``cls`` under ``header``: every key, described.

    Each line starts with ``#``; removing the ``# `` of the header and of the
    keys to set gives a valid entry. A key without a default shows its
    example value (the field's ``examples``) marked required; ``shown`` gives
    example values of other keys (the holding field's example entry).
    """
    doc = (cls.__doc__ or "").strip().splitlines()[0]
    lines.append(f"# {header}")
    lines.append(f"# {doc}")
    key = header.strip("[]")
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, info in cls.model_fields.items():
        sub = _entry_model(info.annotation)
        if sub is not None and get_origin(info.annotation) is None:
            nested.append((f"[{key}.{name}]", sub))
            continue
        lines.append("#")
        for text in wrap(info.description or ""):
            lines.append(f"# {text}")
        kind = type_name(info.annotation)
        if shown and name in shown and not info.is_required():
            lines.append(f"# {name} = {toml_value(shown[name])}  # example; {kind}")
            continue
        if info.is_required():
            required = toml_value(info.examples[0]) if info.examples else "..."
            lines.append(f"# {name} = {required}  # {kind}, required")
            continue
        default = info.get_default(call_default_factory=True)
        if default is None:
            lines.append(f"# {name} = ...  ({kind}, unset by default)")
        elif isinstance(default, dict | list) and not default:
            lines.append(f"# {name}: none by default")
        else:
            lines.append(f"# {name} = {toml_value(default)}")
    for sub_header, sub in nested:
        lines.append("#")
        emit_example(lines, sub, sub_header)


def _entry_model(annotation: Any) -> type[BaseModel] | None:
    """The class of the tables a field holds: ``Phase`` of ``list[Phase]``, ``None`` if none."""
    for container in (*_candidates(annotation, list), *_candidates(annotation, dict)):
        models = _candidates(get_args(container)[-1], BaseModel)
        if models:
            return models[0]
    models = _candidates(annotation, BaseModel)
    return models[0] if models else None


def _example_header(key: str, value: Any, examples: list[Any] | None) -> str:
    """``[[key]]`` for a list of tables, ``[key.NAME]`` for a table of tables.

    NAME is the first key of the field's first example, else ``NAME``.
    """
    if isinstance(value, list):
        return f"[[{key}]]"
    names = [name for example in examples or [] if isinstance(example, dict) for name in example]
    name = names[0] if names else "NAME"
    # A dotted name as a key (a field of [uncertainty]) is one quoted TOML key.
    return f"[{key}.{name if _BARE_KEY.fullmatch(name) else toml_value(name)}]"


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _example_entry(value: Any, examples: list[Any] | None) -> Mapping[str, Any]:
    """The first example entry of a table of tables (its values), or an empty mapping."""
    if isinstance(value, list):
        return {}
    for example in examples or []:
        if isinstance(example, dict):
            for entry in example.values():
                if isinstance(entry, dict):
                    return entry
    return {}


def type_name(annotation: Any) -> str:
    """A field's type as a reader knows it: ``float | None``, without the schema's constraints."""
    if get_origin(annotation) is Annotated:
        return type_name(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return " | ".join(type_name(arg) for arg in get_args(annotation))
    if annotation is type(None):
        return "None"
    if get_origin(annotation) is list:
        return f"list[{', '.join(type_name(arg) for arg in get_args(annotation))}]"
    if isinstance(annotation, type) and get_origin(annotation) is None:
        if annotation.__module__ == "builtins":
            return annotation.__name__
        return f"{annotation.__module__}.{annotation.__qualname__}"
    return str(annotation)


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
