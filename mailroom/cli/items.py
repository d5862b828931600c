"""``mailroom item show`` and ``mailroom blobs gc``: operators' views of stored state."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mailroom.cli.main import app
from mailroom.texts_de import triage_reason

if TYPE_CHECKING:
    from aggregates.mail_item import MailItem
    from aggregates.values import Document
    from mailroom.application import MailroomApp

item_app = typer.Typer(help="Mail items (one per letter or submission).", no_args_is_help=True)
blobs_app = typer.Typer(help="The document store.", no_args_is_help=True)
app.add_typer(item_app, name="item")
app.add_typer(blobs_app, name="blobs")


@item_app.command("show")
def show(
    reference: Annotated[str, typer.Argument(help="The item's reference")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """An item's state from the event store (needs the server's settings, no access code):
    status, department, case, triage reason and the OCR outcome of each document."""
    from aggregates.reference import InvalidReferenceError, Reference
    from mailroom.bootstrap import build_app
    from mailroom.config import Settings
    from routing.catalog import Catalog

    settings = Settings()
    catalog = Catalog.load(settings.city_catalog)
    try:
        canonical = str(Reference.parse(reference, catalog.city.reference_prefix))
    except InvalidReferenceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    mailroom_app = build_app(settings)
    try:
        item = mailroom_app.find_item_by_reference(canonical)
        if item is None:
            typer.echo(f"error: no item with reference {canonical}", err=True)
            raise typer.Exit(1)
        state = item_state(item, mailroom_app)
    finally:
        mailroom_app.close()
    if as_json:
        typer.echo(json.dumps(state, ensure_ascii=False, indent=2))
    else:
        _print_state(state)


def item_state(item: MailItem, mailroom_app: MailroomApp) -> dict[str, Any]:
    case = mailroom_app.find_case(item.case_id) if item.case_id else None
    triage = None
    if item.status == "triage":
        triage = {
            "reason": item.triage_reason,
            "reason_text": triage_reason(item.triage_reason),
            "detail": item.triage_detail,
            "warnings": item.triage_warnings,
            "misdirected": item.misdirected,
            "candidates": [
                {"department": c.department_id, "confidence": c.confidence}
                for c in item.triage_candidates
            ],
        }
    return {
        "reference": item.reference,
        "channel": item.channel,
        "received_at": item.received_at.isoformat(),
        "status": str(item.status),
        "department": item.department_id,
        "case": case.reference if case is not None else None,
        "triage": triage,
        "documents": [_document_state(item, d) for d in item.documents],
    }


def _document_state(item: MailItem, document: Document) -> dict[str, Any]:
    key = document.blob_key
    ocr: dict[str, Any] = {"outcome": "pending"}
    if key in item.extraction_failures:
        failure = item.extraction_failures[key]
        ocr = {"outcome": "failed", "code": failure.code, "detail": failure.detail}
    elif key in item.texts:
        pages = item.texts[key]
        issues = item.document_issues.get(key, [])
        ocr = {
            "outcome": "read",
            "method": pages[0].method if pages else None,
            "pages": len(pages),
            "confidence": round(sum(p.confidence for p in pages) / max(1, len(pages)), 1),
            "characters": sum(len(p.text) for p in pages),
            "quality_issues": sorted({i.code for i in issues}),
        }
    return {
        "filename": document.filename,
        "media_type": document.media_type,
        "pages": document.pages,
        "size": document.size,
        "flags": list(document.flags),
        "ocr": ocr,
    }


def _print_state(state: dict[str, Any]) -> None:
    typer.echo(f"{state['reference']}  ({state['channel']}, received {state['received_at']})")
    typer.echo(f"  status:     {state['status']}")
    typer.echo(f"  department: {state['department'] or '-'}")
    typer.echo(f"  case:       {state['case'] or '-'}")
    if state["triage"]:
        triage = state["triage"]
        typer.echo(f"  triage:     {triage['reason']}")
        for warning in triage["warnings"]:
            typer.echo(f"              - {warning}")
    for number, document in enumerate(state["documents"], start=1):
        ocr = document["ocr"]
        typer.echo(
            f"  document {number}: {document['filename'] or '(no name)'} "
            f"{document['media_type']}, {document['pages']} pages"
        )
        if ocr["outcome"] == "read":
            issues = ", ".join(ocr["quality_issues"]) or "none"
            typer.echo(
                f"    OCR: read ({ocr['method']}), confidence {ocr['confidence']}, "
                f"{ocr['characters']} characters, quality issues: {issues}"
            )
        elif ocr["outcome"] == "failed":
            typer.echo(f"    OCR: failed [{ocr['code']}] {ocr['detail']}")
        else:
            typer.echo("    OCR: pending")


@blobs_app.command("gc")
def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go")] = False,
    grace_hours: Annotated[
        float | None, typer.Option(help="Keep younger blobs (default MAILROOM_BLOB_GC_GRACE_HOURS)")
    ] = None,
) -> None:
    """Remove blobs that no event references and that are older than the grace period."""
    from mailroom.blob_gc import unreferenced_blobs
    from mailroom.bootstrap import build_app, build_blob_store, utc_now
    from mailroom.config import Settings

    settings = Settings()
    grace = timedelta(hours=settings.blob_gc_grace_hours if grace_hours is None else grace_hours)
    mailroom_app = build_app(settings)
    blobs = build_blob_store(settings)
    count = size = 0
    try:
        for blob in list(unreferenced_blobs(mailroom_app, blobs, utc_now(), grace)):
            typer.echo(
                f"{'would remove' if dry_run else 'removing'} {blob.key} ({blob.size} bytes)"
            )
            if not dry_run:
                blobs.delete(blob.key)
            count += 1
            size += blob.size
    finally:
        mailroom_app.close()
    verb = "would be removed" if dry_run else "removed"
    typer.echo(f"{count} unreferenced blobs ({size} bytes) {verb}")
