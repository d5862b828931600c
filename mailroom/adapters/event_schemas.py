"""JSON Schemas (draft 2020-12) of the public event data, generated from the event classes'
type hints so that they cannot drift from the events: one file per public event type,
``docs/events/<aggregate>.<event>.v<N>.json``, its ``$id`` the CloudEvents ``dataschema``.

    python -m mailroom.adapters.event_schemas --write docs/events   # regenerate
    python -m mailroom.adapters.event_schemas --check docs/events   # exit 1 when stale

A test compares the committed files with what this module generates.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import types
import typing
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

from mailroom.adapters.cloudevents import schema_uri
from mailroom.adapters.public_events import SECRET_FIELD, PublicEvent, public_events

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    datetime: {"type": "string", "format": "date-time"},
    date: {"type": "string", "format": "date"},
    UUID: {"type": "string", "format": "uuid"},
}


def schema_for(event: PublicEvent) -> dict[str, Any]:
    hints = typing.get_type_hints(event.cls)
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": schema_uri(event.name),
        "title": event.name,
    }
    doc = _docstring(event.cls)
    if doc:
        schema["description"] = doc
    schema |= _object({name: hints[name] for name in event.fields})
    return schema


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, for every public event type."""
    return {f"{event.name}.json": schema_for(event) for event in public_events()}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _object(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: _type(hint) for name, hint in fields.items()},
        "required": list(fields),
        "additionalProperties": False,
    }


def _type(hint: Any) -> dict[str, Any]:
    if hint is Any:
        return {}
    if hint in _SCALARS:
        return dict(_SCALARS[hint])
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"enum": [member.value for member in hint]}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        fields = [f.name for f in dataclasses.fields(hint) if not SECRET_FIELD.search(f.name)]
        return _object({name: hints[name] for name in fields})
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        options = [_type(arg) for arg in args if arg is not type(None)]
        nullable = type(None) in args
        if len(options) == 1 and nullable:
            return {"anyOf": [options[0], {"type": "null"}]}
        return {"anyOf": options + ([{"type": "null"}] if nullable else [])}
    if origin in (list, tuple, set, frozenset):
        items = [a for a in args if a is not Ellipsis]
        return {"type": "array", "items": _type(items[0]) if items else {}}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type(args[1]) if args else {}}
    raise TypeError(f"no JSON Schema for the type hint {hint!r}")


def _docstring(cls: type[Any]) -> str:
    """The event class's own docstring (dataclasses invent one from the signature)."""
    doc = cls.__dict__.get("__doc__") or ""
    if not doc or doc.startswith(f"{cls.__name__}("):
        return ""
    return " ".join(doc.split())


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = directory / name
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def stale(directory: Path) -> list[str]:
    """Schema files that are missing, differ, or belong to no event type any more."""
    expected = {name: render(schema) for name, schema in all_schemas().items()}
    present = {p.name for p in directory.glob("*.v*.json")}
    wrong = [
        name
        for name, text in expected.items()
        if not (directory / name).exists() or (directory / name).read_text("utf-8") != text
    ]
    return sorted(wrong + sorted(present - expected.keys()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path, metavar="DIR")
    mode.add_argument("--check", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    if args.write:
        for path in write(args.write):
            print(path)
        return 0
    problems = stale(args.check)
    for name in problems:
        print(f"stale: {name}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
