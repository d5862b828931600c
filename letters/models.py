"""Plain value types of the letters library, and its errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

FieldKind = Literal["text", "list"]


@dataclass(frozen=True)
class FieldSpec:
    """One datum a template uses: ``name`` is a dotted path into the data
    (``"recipient.name"``), ``label`` what a clerk's form calls it (German)."""

    name: str
    label: str
    required: bool = False
    multiline: bool = False  # may hold line breaks; blank lines separate paragraphs
    kind: FieldKind = "text"  # "list": a list of strings (address lines, enclosures)


@dataclass(frozen=True)
class TemplateInfo:
    """What a template is called, which data it needs and how its letters are delivered."""

    name: str
    title: str  # German, e.g. "Bescheid"
    fields: tuple[FieldSpec, ...]  # the layout's common fields first, then the template's
    requires_second_approval: bool = False
    inbox_fallback_days: int | None = None  # unread in the citizen's inbox this long: print
    sample: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    description: str = ""  # German, one sentence for the clerk

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields if spec.required)


@dataclass(frozen=True)
class RenderedLetter:
    """A rendered letter: PDF/A bytes, its page count and the SHA-256 (hex) of the bytes."""

    pdf: bytes = field(repr=False)
    pages: int
    sha256: str


class LetterError(Exception):
    """A letter cannot be rendered; ``str(exc)`` says why, in English."""


class UnknownTemplateError(LetterError):
    """No template of that name in the library."""

    def __init__(self, name: str, known: Sequence[str] = ()) -> None:
        choices = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"unknown letter template {name!r}{choices}")
        self.name = name
        self.known = tuple(known)

    def __reduce__(self) -> tuple[type[UnknownTemplateError], tuple[str, tuple[str, ...]]]:
        return (UnknownTemplateError, (self.name, self.known))


class MissingFieldError(LetterError):
    """Required data is missing; ``fields`` names every missing field (dotted paths) and
    ``labels`` their German labels, in the template's order."""

    def __init__(
        self, template: str, fields: Sequence[str], labels: Sequence[str] | None = None
    ) -> None:
        super().__init__(f"letter template {template!r} is missing {', '.join(fields)}")
        self.template = template
        self.fields = list(fields)
        self.labels = list(labels) if labels is not None else list(fields)

    def __reduce__(
        self,
    ) -> tuple[type[MissingFieldError], tuple[str, list[str], list[str]]]:
        return (MissingFieldError, (self.template, self.fields, self.labels))


class TemplateDefinitionError(LetterError):
    """A template's files are broken (sidecar unreadable, Jinja syntax, undeclared data)."""
