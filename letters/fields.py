"""The data of a letter: reading dotted field paths, finding what is missing, and the
normalised copy that templates are rendered with (optional fields that are absent become
None or an empty list, so templates can test them even under StrictUndefined)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from letters.models import FieldSpec, LetterError, MissingFieldError

_ABSENT = object()


def lookup(data: Mapping[str, Any], path: str) -> Any:
    """The value at ``path`` ("info.date") or ``_ABSENT``."""
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _ABSENT
        value = value[part]
    return value


def is_missing(value: Any) -> bool:
    if value is _ABSENT or value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not any(not is_missing(item) for item in value)
    return False


def missing_fields(specs: Iterable[FieldSpec], data: Mapping[str, Any]) -> list[FieldSpec]:
    return [spec for spec in specs if spec.required and is_missing(lookup(data, spec.name))]


def check(template: str, specs: Iterable[FieldSpec], data: Mapping[str, Any]) -> None:
    """Raise MissingFieldError naming every required field that ``data`` lacks."""
    missing = missing_fields(specs, data)
    if missing:
        raise MissingFieldError(
            template, [spec.name for spec in missing], [spec.label for spec in missing]
        )


def prepared(template: str, specs: Iterable[FieldSpec], data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``data`` to render with: every declared field present (absent optional ones
    as None or []), lists as lists of non-empty strings, text as strings. Raises
    MissingFieldError, or LetterError when a value has a shape no field can take."""
    specs = tuple(specs)
    check(template, specs, data)
    values = _plain(data)
    for spec in specs:
        parent, key = _parent(values, spec.name)
        value = parent.get(key)
        if spec.kind == "list":
            parent[key] = _as_lines(value, spec.name)
        elif is_missing(value):
            parent[key] = None
        elif isinstance(value, Mapping | list | tuple):
            raise LetterError(f"field {spec.name} must be text, not {type(value).__name__}")
        else:
            parent[key] = str(value).strip() if not spec.multiline else str(value).strip("\n")
    return values


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy made of dicts, so that the caller's data is never changed."""
    return {
        str(key): _plain(value) if isinstance(value, Mapping) else copy.deepcopy(value)
        for key, value in data.items()
    }


def _parent(values: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    *parents, key = path.split(".")
    node = values
    for index, part in enumerate(parents):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            where = ".".join(parents[: index + 1])
            raise LetterError(f"field {where} must be an object, not {type(child).__name__}")
        node = child
    return node, key


def _as_lines(value: Any, name: str) -> list[str]:
    if is_missing(value):
        return []
    if isinstance(value, str):
        items: Iterable[Any] = value.splitlines()
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise LetterError(f"field {name} must be a list of lines, not {type(value).__name__}")
    lines = []
    for item in items:
        if isinstance(item, Mapping | list | tuple):
            raise LetterError(f"field {name} must be a list of lines")
        if not is_missing(item):
            lines.append(str(item).strip())
    return lines
