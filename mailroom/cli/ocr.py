"""``mailroom ocr FILE...`` — read scans and PDFs with the OCR library (issue 4).

Thin on purpose: argument parsing and output. Bad files get an error line each and a non-zero
exit status at the end; the other files are still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from mailroom.cli.main import app
from mailroom.intake.pdf_inspection import pypdf_warnings_hidden
from ocr import OcrEngine, OcrError, OcrOptions, OcrResult

_stderr = Console(stderr=True, highlight=False, soft_wrap=True)


@app.command("ocr")
def ocr_command(
    files: Annotated[list[Path], typer.Argument(help="PDF, TIFF, PNG or JPEG files.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Tesseract languages.")] = "deu+eng",
    jobs: Annotated[int | None, typer.Option("--jobs", help="Worker processes.")] = None,
) -> None:
    """Read the text of scanned letters (text layer first, OCR otherwise)."""
    with pypdf_warnings_hidden():  # noise on this command's output
        failed = _read(files, as_json, lang, jobs)
    if failed:
        raise typer.Exit(code=1)


def _read(files: list[Path], as_json: bool, lang: str, jobs: int | None) -> int:
    """Print the text of every file; returns how many could not be read."""
    readable = [path for path in files if _check_readable(path, as_json)]
    failed = len(files) - len(readable)
    with OcrEngine(OcrOptions(languages=lang, jobs=jobs)) as engine:
        outcomes = engine.read_many(_contents(readable), searchable_pdf=False)
        show_progress = len(readable) > 1 and not as_json and _stderr.is_terminal
        with Progress(console=_stderr, transient=True, disable=not show_progress) as progress:
            task = progress.add_task("OCR", total=len(readable))
            for path, outcome in zip(readable, outcomes, strict=True):
                if isinstance(outcome, OcrError):
                    failed += 1
                    _report_error(path, str(outcome), as_json)
                elif as_json:
                    typer.echo(json.dumps(_as_json(path, outcome), ensure_ascii=False))
                else:
                    _print_text(path, outcome)
                progress.advance(task)
    return failed


def _contents(paths: list[Path]) -> Iterator[bytes]:
    for path in paths:
        yield path.read_bytes()


def _check_readable(path: Path, as_json: bool) -> bool:
    if path.is_file():
        return True
    _report_error(path, "no such file" if not path.exists() else "not a regular file", as_json)
    return False


def _report_error(path: Path, reason: str, as_json: bool) -> None:
    typer.echo(f"error: {path}: {reason}", err=True)
    if as_json:
        typer.echo(json.dumps({"file": str(path), "error": reason}, ensure_ascii=False))


def _as_json(path: Path, result: OcrResult) -> dict[str, object]:
    return {
        "file": str(path),
        "method": result.method,
        "pages": [
            {"text": page.text, "confidence": page.confidence, "rotation": page.rotation}
            for page in result.pages
        ],
        "flags": [
            {"code": flag.code, "message": flag.message, "page": flag.page} for flag in result.flags
        ],
    }


def _print_text(path: Path, result: OcrResult) -> None:
    typer.echo(f"==> {path} ({result.method}, {len(result.pages)} pages)")
    for flag in result.flags:
        typer.echo(f"[{flag.code}] {flag.message}")
    for page in result.pages:
        typer.echo(
            f"--- page {page.number}: confidence {page.confidence:.0f}, "
            f"rotation {page.rotation}, {page.method}"
        )
        typer.echo(page.text)
