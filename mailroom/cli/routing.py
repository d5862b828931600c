"""``mailroom route`` — try a city's routing configuration on letters before going live.

    mailroom route LETTER.pdf SCAN.png ... --departments catalog.toml --examples DIR
                   [--cases cases.jsonl] [--json]

Reads each file's text (a PDF's text layer, otherwise OCR through ``ocr``; ``.txt`` as is),
builds the router from the catalog and the example letters and prints one decision per file
(with ``--json`` one JSON object per line). Files that cannot be read are reported on stderr
and make the exit status 1; the other files are still decided.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from mailroom.cli.main import app
from ocr import OcrEngine, OcrError, OcrOptions, read_text_layer
from routing import CatalogError, ExamplesError, Letter, Router, load_cases, load_examples
from routing.cases import CasesFileError, InMemoryCaseDirectory
from routing.catalog import Catalog
from routing.decision import Decision

routing_app = typer.Typer(
    help="Routing configuration: examples and re-routing.", no_args_is_help=True
)
app.add_typer(routing_app, name="routing")


class UnreadableLetterError(ValueError):
    """A letter's text cannot be obtained."""


class LetterReader:
    """Text of letter files: ``.txt`` as is, a PDF's text layer, otherwise OCR. The OCR engine
    (a process pool) is started only when a file needs it, and once."""

    def __init__(self) -> None:
        self._engine: OcrEngine | None = None

    def __enter__(self) -> LetterReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._engine is not None:
            self._engine.close()

    def read(self, path: Path) -> str:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UnreadableLetterError(f"cannot read file ({exc.strerror})") from exc
        if not data:
            raise UnreadableLetterError("empty file")
        if path.suffix.lower() == ".txt":
            try:
                return data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UnreadableLetterError("text file is not UTF-8") from exc
        if data.startswith(b"%PDF-"):
            pages = read_text_layer(data)
            if pages is not None:
                return "\f".join(pages)
        if self._engine is None:
            self._engine = OcrEngine(OcrOptions())
        try:
            return self._engine.read(data, searchable_pdf=False).text
        except OcrError as exc:
            raise UnreadableLetterError(str(exc)) from exc

    def read_example(self, folder: Path, record: Mapping[str, Any]) -> str:
        """For example letters without ``text.txt``: their PDF, scan or page image."""
        files = record.get("files") or {}
        for key in ("pdf", "scan_pdf", "scan_page1"):
            name = files.get(key) if isinstance(files, dict) else None
            if name:
                return self.read(folder.parent / str(name))
        raise UnreadableLetterError(f"example {record.get('id')} has neither text.txt nor a PDF")


@app.command("route")
def route(
    files: Annotated[list[Path], typer.Argument(help="Letters: PDF, image or .txt files.")],
    departments: Annotated[Path, typer.Option(help="City catalog (.toml or departments.json).")],
    examples: Annotated[Path, typer.Option(help="Folder of labelled example letters.")],
    cases: Annotated[Path | None, typer.Option(help="Existing cases, JSON lines.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
) -> None:
    """Decide the department (or triage) of each letter, as the router would."""
    with LetterReader() as reader:
        try:
            catalog = Catalog.load(departments)
            router = Router(catalog, load_examples(examples, reader.read_example))
            directory = load_cases(cases) if cases else InMemoryCaseDirectory()
        except (CatalogError, ExamplesError, CasesFileError, UnreadableLetterError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        failed = False
        for path in files:
            try:
                text = reader.read(path)
            except UnreadableLetterError as exc:
                typer.echo(f"error: {path}: {exc}", err=True)
                failed = True
                continue
            decision = router.decide(Letter(text, str(path)), directory)
            _print(path, decision, as_json)
    if failed:
        raise typer.Exit(1)


def _print(path: Path, decision: Decision, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"file": str(path), **decision.to_dict()}, ensure_ascii=False))
        return
    target = "TRIAGE" if decision.triage else decision.department
    case = f" case {decision.case}" if decision.case else ""
    typer.echo(f"{path}: {target} ({decision.confidence:.2f}){case} – {decision.reason}")
    typer.echo(f"    {decision.explanation.detail}")
    for warning in decision.warnings:
        typer.echo(f"    warning: {warning}")


@routing_app.command("import-examples")
def import_examples(
    folder: Annotated[Path, typer.Argument(help="labels.jsonl plus one folder per letter")],
) -> None:
    """Import labelled example letters; the router learns from them (as events, so the model
    can always be rebuilt). Importing the same folder again adds nothing."""
    from mailroom.auth.principal import system_principal
    from mailroom.bootstrap import build
    from mailroom.config import Settings
    from mailroom.services import ServiceError

    mailroom = build(Settings())
    try:
        with LetterReader() as reader:
            examples = load_examples(folder, read_text=reader.read_example)
        imported, known = mailroom.services.imports.import_examples(
            system_principal("cli:import-examples"), examples, source_prefix=folder.resolve().name
        )
    except (ExamplesError, UnreadableLetterError, ServiceError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        mailroom.stop()
    typer.echo(f"{imported} examples imported, {known} were already known")
