""":class:`TemplateLibrary`: a city's letter templates, checked and rendered to PDF/A.

A city's folder holds, per template ``NAME``, ``NAME.html.j2`` (Jinja2, usually extending
the city's own partial which extends ``layout/base.html.j2``) and ``NAME.toml``, its
sidecar::

    title = "Bescheid"                     # German
    description = "..."                    # optional, German
    requires_second_approval = true        # default false
    inbox_fallback_days = 7                # optional: unread in the inbox this long -> print

    [[fields]]                             # the template's own data, after the layout's
    name = "decision"                      # dotted path
    label = "Entscheidung (Tenor)"         # German
    required = true                        # default false
    multiline = true                       # default false
    kind = "text"                          # or "list"

    [sample]                               # complete example data (CLI, tests, previews)
    subject = "..."

Files whose names start with ``_`` are partials, not templates; an optional ``style.css``
in the folder is applied after the layout's stylesheet. Templates are rendered with
autoescaping and ``StrictUndefined``: data is always text, and a template that uses data
its fields do not declare fails instead of printing nothing.
"""

from __future__ import annotations

import builtins
import hashlib
import re
import threading
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from letters import fields
from letters.models import (
    FieldSpec,
    LetterError,
    RenderedLetter,
    TemplateDefinitionError,
    TemplateInfo,
    UnknownTemplateError,
)
from letters.pdf import PDF_VARIANT, PdfRenderer
from letters.qr import qr_svg

LAYOUT_DIR = Path(__file__).parent / "layout"
LAYOUT_STYLESHEET = LAYOUT_DIR / "din5008.css"
CITY_STYLESHEET = "style.css"
TEMPLATE_SUFFIX = ".html.j2"
SIDECAR_SUFFIX = ".toml"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class TemplateLibrary:
    """The letter templates in ``directory``; one instance serves many letters (the PDF
    renderer, with its fonts and stylesheets, is set up on the first render and reused).
    Safe to share between threads; renders run one at a time."""

    def __init__(self, directory: Path, *, pdf_variant: str = PDF_VARIANT) -> None:
        self.directory = Path(directory)
        self.pdf_variant = pdf_variant
        self._common = _read_fields(LAYOUT_DIR / "fields.toml")
        self._infos: dict[str, tuple[float, TemplateInfo]] = {}
        self._environment = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.PrefixLoader({"layout": jinja2.FileSystemLoader(LAYOUT_DIR)}),
                    jinja2.FileSystemLoader(self.directory),
                ]
            ),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._environment.filters["paragraphs"] = paragraphs
        self._environment.filters["lines"] = lines
        self._environment.filters["items"] = items
        self._renderer: PdfRenderer | None = None
        self._setup = threading.Lock()

    # ---- templates ------------------------------------------------------------------------

    def names(self) -> builtins.list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(
            path.name.removesuffix(SIDECAR_SUFFIX)
            for path in self.directory.glob(f"*{SIDECAR_SUFFIX}")
            if _NAME.fullmatch(path.name.removesuffix(SIDECAR_SUFFIX))
            and path.with_name(path.name.removesuffix(SIDECAR_SUFFIX) + TEMPLATE_SUFFIX).is_file()
        )

    def list(self) -> builtins.list[TemplateInfo]:
        """Every template, sorted by name."""
        return [self.info(name) for name in self.names()]

    def info(self, name: str) -> TemplateInfo:
        """The template's title, fields and delivery rules. Raises UnknownTemplateError."""
        sidecar = self._sidecar(name)
        modified = sidecar.stat().st_mtime
        cached = self._infos.get(name)
        if cached is not None and cached[0] == modified:
            return cached[1]
        info = _read_info(name, sidecar, self._common)
        self._infos[name] = (modified, info)
        return info

    def check(self, name: str, data: Mapping[str, Any]) -> None:
        """Raise MissingFieldError naming every required field ``data`` lacks (dotted paths,
        in the template's order), UnknownTemplateError for an unknown template."""
        info = self.info(name)
        fields.check(name, info.fields, data)

    # ---- rendering ------------------------------------------------------------------------

    def render_html(self, name: str, data: Mapping[str, Any], *, qr_payload: str) -> str:
        """The letter as HTML (what :meth:`render` lays out), for previews and tests."""
        info = self.info(name)
        values = fields.prepared(name, info.fields, data)
        _check_address(values)
        try:
            template = self._environment.get_template(name + TEMPLATE_SUFFIX)
            return template.render(**values, title=info.title, qr_svg=qr_svg(qr_payload))
        except jinja2.UndefinedError as exc:
            raise TemplateDefinitionError(
                f"letter template {name!r} uses data its fields do not declare: {exc}"
            ) from exc
        except jinja2.TemplateError as exc:
            raise TemplateDefinitionError(f"letter template {name!r} is broken: {exc}") from exc

    def render(self, name: str, data: Mapping[str, Any], *, qr_payload: str) -> RenderedLetter:
        """Render the letter to PDF/A; every page carries a QR code encoding ``qr_payload``.

        Raises UnknownTemplateError, MissingFieldError (every missing field named), or
        another LetterError (a value of the wrong shape, a broken template).
        """
        html = self.render_html(name, data, qr_payload=qr_payload)
        pdf, pages = self._pdf_renderer().render(html, base_url=self.directory)
        return RenderedLetter(pdf=pdf, pages=pages, sha256=hashlib.sha256(pdf).hexdigest())

    def render_sample(self, name: str, *, qr_payload: str | None = None) -> RenderedLetter:
        """The template rendered with its sample data (QR: the sample's case reference)."""
        sample = self.info(name).sample
        payload = qr_payload or fields.lookup(sample, "info.case_reference")
        if not isinstance(payload, str):
            raise TemplateDefinitionError(f"the sample of {name!r} has no info.case_reference")
        return self.render(name, sample, qr_payload=payload)

    def _pdf_renderer(self) -> PdfRenderer:
        with self._setup:
            if self._renderer is None:
                stylesheets = [LAYOUT_STYLESHEET]
                if (self.directory / CITY_STYLESHEET).is_file():
                    stylesheets.append(self.directory / CITY_STYLESHEET)
                self._renderer = PdfRenderer(
                    stylesheets, roots=[LAYOUT_DIR, self.directory], pdf_variant=self.pdf_variant
                )
            return self._renderer

    def _sidecar(self, name: str) -> Path:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise UnknownTemplateError(str(name), self.names())
        sidecar = self.directory / f"{name}{SIDECAR_SUFFIX}"
        if not sidecar.is_file() or not (self.directory / f"{name}{TEMPLATE_SUFFIX}").is_file():
            raise UnknownTemplateError(name, self.names())
        return sidecar


ADDRESS_LINES = 6  # the Anschriftzone of DIN 5008 holds six lines, the name included


def _check_address(values: Mapping[str, Any]) -> None:
    recipient = values.get("recipient")
    lines = recipient.get("lines", []) if isinstance(recipient, Mapping) else []
    if isinstance(lines, list) and len(lines) + 1 > ADDRESS_LINES:
        raise LetterError(
            f"the address has {len(lines) + 1} lines with the name; the window holds "
            f"{ADDRESS_LINES}"
        )


# ---- Jinja filters ----------------------------------------------------------------------


def paragraphs(value: object) -> Markup:
    """Multiline text as HTML paragraphs: blank lines separate them, line breaks stay."""
    if value is None:
        return Markup("")
    blocks = re.split(r"\n\s*\n", str(value).strip())
    return Markup("\n").join(
        Markup("<p>{}</p>").format(lines(block)) for block in blocks if block.strip()
    )


def lines(value: object) -> Markup:
    """Text with its line breaks kept (as ``<br>``)."""
    if value is None:
        return Markup("")
    return Markup("<br>").join(escape(line.strip()) for line in str(value).strip().splitlines())


def items(value: object) -> Markup:
    """Multiline text as a bulleted list, one item per line (leading "-", "*" or "•" and
    blank lines dropped)."""
    if value is None:
        return Markup("")
    entries = [line.strip().lstrip("-*•–").strip() for line in str(value).splitlines()]
    listed = Markup("").join(Markup("<li>{}</li>").format(entry) for entry in entries if entry)
    return Markup('<ul class="items">{}</ul>').format(listed) if listed else Markup("")


# ---- sidecars ---------------------------------------------------------------------------


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TemplateDefinitionError(f"{path.name}: {exc}") from exc


def _read_fields(path: Path) -> tuple[FieldSpec, ...]:
    return _field_specs(_read_toml(path).get("fields", []), path.name)


def _field_specs(raw: Any, source: str) -> tuple[FieldSpec, ...]:
    if not isinstance(raw, list):
        raise TemplateDefinitionError(f"{source}: fields must be an array of tables")
    specs = []
    for entry in raw:
        try:
            kind = entry.get("kind", "text")
            if kind not in ("text", "list"):
                raise ValueError(f"kind {kind!r}")
            spec = FieldSpec(
                name=str(entry["name"]),
                label=str(entry["label"]),
                required=bool(entry.get("required", False)),
                multiline=bool(entry.get("multiline", False)),
                kind=kind,
            )
        except (AttributeError, KeyError, ValueError) as exc:
            raise TemplateDefinitionError(f"{source}: bad field {entry!r}: {exc}") from exc
        specs.append(spec)
    return tuple(specs)


def _read_info(name: str, sidecar: Path, common: tuple[FieldSpec, ...]) -> TemplateInfo:
    raw = _read_toml(sidecar)
    own = _field_specs(raw.get("fields", []), sidecar.name)
    overridden = {spec.name for spec in own}
    merged = tuple(spec for spec in common if spec.name not in overridden) + own
    fallback = raw.get("inbox_fallback_days")
    if fallback is not None and (not isinstance(fallback, int) or fallback < 1):
        raise TemplateDefinitionError(f"{sidecar.name}: inbox_fallback_days must be >= 1")
    sample = raw.get("sample", {})
    if not isinstance(sample, dict) or "title" not in raw:
        raise TemplateDefinitionError(f"{sidecar.name}: needs a title and a [sample] table")
    return TemplateInfo(
        name=name,
        title=str(raw["title"]),
        fields=merged,
        requires_second_approval=bool(raw.get("requires_second_approval", False)),
        inbox_fallback_days=fallback,
        sample=sample,
        description=str(raw.get("description", "")),
    )


__all__ = ["LetterError", "TemplateLibrary", "items", "lines", "paragraphs"]
