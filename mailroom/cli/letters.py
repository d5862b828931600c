"""``mailroom letters``: the city's letter templates — list them, render one to PDF/A."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from mailroom.cli.main import app

letters_app = typer.Typer(
    help="Letter templates: list them and render one to PDF (DIN 5008, PDF/A).",
    no_args_is_help=True,
)
app.add_typer(letters_app, name="letters")

TemplatesOption = Annotated[
    Path | None,
    typer.Option(
        "--templates",
        help="Template folder (default: MAILROOM_LETTERS_DIR, or `letters` beside the catalog)",
    ),
]


def _library(templates: Path | None) -> Any:
    from letters import TemplateLibrary
    from mailroom.config import Settings

    directory = templates or Settings().letter_templates
    if not directory.is_dir():
        _fail(f"no letter template folder at {directory}")
    return TemplateLibrary(directory)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@letters_app.command("list")
def letters_list(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print each template with the fields it needs")
    ] = False,
    templates: TemplatesOption = None,
) -> None:
    """Print the template names, one per line (with --json: titles, fields and rules)."""
    from letters import LetterError

    library = _library(templates)
    try:
        infos = library.list()
    except LetterError as exc:
        _fail(str(exc))
    if not as_json:
        for info in infos:
            typer.echo(info.name)
        return
    listing = [
        {
            "name": info.name,
            "title": info.title,
            "description": info.description,
            "requires_second_approval": info.requires_second_approval,
            "inbox_fallback_days": info.inbox_fallback_days,
            "fields": [
                {
                    "name": spec.name,
                    "label": spec.label,
                    "required": spec.required,
                    "multiline": spec.multiline,
                    "kind": spec.kind,
                }
                for spec in info.fields
            ],
        }
        for info in infos
    ]
    typer.echo(json.dumps(listing, ensure_ascii=False, indent=2))


@letters_app.command("render")
def letters_render(
    template: Annotated[str, typer.Argument(help="Template name, see `mailroom letters list`")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the PDF")],
    data: Annotated[
        Path | None,
        typer.Option("--data", help="JSON file with the letter's data (default: the sample)"),
    ] = None,
    templates: TemplatesOption = None,
) -> None:
    """Render a letter to PDF/A: from --data, or from the template's sample data.

    The QR code on every page carries the data's info.case_reference.
    """
    from letters import LetterError, MissingFieldError, UnknownTemplateError

    library = _library(templates)
    try:
        info = library.info(template)
    except UnknownTemplateError as exc:
        known = ", ".join(exc.known) or "none"
        _fail(f"unknown letter template {template!r} (known: {known})")
    except LetterError as exc:
        _fail(str(exc))
    values = info.sample if data is None else _read_json(data)
    reference = _case_reference(values) or _case_reference(info.sample) or "MUSTER-0000"
    try:
        letter = library.render(template, values, qr_payload=reference)
    except MissingFieldError as exc:
        missing = ", ".join(
            f"{name} ({label})" for name, label in zip(exc.fields, exc.labels, strict=True)
        )
        _fail(f"{template} needs data that is missing: {missing}")
    except LetterError as exc:
        _fail(str(exc))
    try:
        out.write_bytes(letter.pdf)
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror or exc}")
    plural = "page" if letter.pages == 1 else "pages"
    typer.echo(f"Wrote {out} ({letter.pages} {plural}, QR {reference}, sha256 {letter.sha256}).")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        parsed = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror or exc}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(f"{path} is not valid JSON: {exc}")
    if not isinstance(parsed, dict):
        _fail(f"{path} must hold a JSON object (the letter's data), not {type(parsed).__name__}")
    return parsed


def _case_reference(values: Any) -> str | None:
    info = values.get("info") if isinstance(values, dict) else None
    reference = info.get("case_reference") if isinstance(info, dict) else None
    return reference.strip() if isinstance(reference, str) and reference.strip() else None
