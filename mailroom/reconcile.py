"""Reconciliation: does an install agree with its event store (the truth)?

Two checks, each a list of findings (empty: all is well):

- every blob an event mentions is in the blob store, and its bytes hash to the SHA-256 in its
  content-addressed key (so the size is right too);
- the status view and the case directory equal a rebuild from the event store, made into a
  scratch SQLite database beside the install (rows compared without surrogate ids).

Used after ``mailroom restore``, by ``mailroom reconcile``, and by the backup tests. Views
that are still catching up (workers behind) differ from the rebuild and are reported.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from mailroom.blob_gc import referenced_keys
from mailroom.ports import CHUNK_BYTES, BlobNotFoundError, BlobStore
from projections.database import create_views_engine

if TYPE_CHECKING:
    from mailroom.bootstrap import Mailroom
    from projections.base import Projection

RECONCILED_VIEWS = ("status", "case-directory")
MAX_LISTED = 20  # findings listed per check; the rest are counted


def reconcile(mailroom: Mailroom, checksums: bool = True) -> list[str]:
    """Every disagreement between the event store and the blob store and views."""
    return check_blobs(mailroom, checksums) + check_views(mailroom)


def check_blobs(mailroom: Mailroom, checksums: bool = True) -> list[str]:
    findings: list[str] = []
    for key in sorted(referenced_keys(mailroom.app)):
        problem = _blob_problem(mailroom.blobs, key, checksums)
        if problem:
            findings.append(f"blob {key}: {problem}")
    return _capped(findings)


def _blob_problem(blobs: BlobStore, key: str, checksums: bool) -> str | None:
    if not checksums:
        return None if blobs.exists(key) else "missing"
    digest = hashlib.sha256()
    try:
        with blobs.open(key) as stream:
            while chunk := stream.read(CHUNK_BYTES):
                digest.update(chunk)
    except BlobNotFoundError:
        return "missing"
    expected = key.rsplit("/", 1)[-1]
    return None if digest.hexdigest() == expected else f"content hashes to {digest.hexdigest()}"


def check_views(mailroom: Mailroom) -> list[str]:
    """The reconciled views against a rebuild from the event store into a scratch database."""
    from mailroom.bootstrap import build_read_models
    from mailroom.cli.admin import replay

    live = [p for p in mailroom.projections if p.name in RECONCILED_VIEWS]
    findings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mailroom-reconcile-") as scratch_dir:
        scratch = create_views_engine(f"sqlite:///{Path(scratch_dir) / 'views.sqlite'}")
        try:
            models = build_read_models(scratch, mailroom.catalog)
            replay(mailroom.app, [p for p in models.all() if p.name in RECONCILED_VIEWS])
            for mine in live:
                findings += _compare(mine, mailroom.views, scratch)
        finally:
            scratch.dispose()
    return findings


def _compare(mine: Projection, live: Engine, scratch: Engine) -> list[str]:
    findings: list[str] = []
    for table in mine.tables:
        have = _rows(live, table)
        want = _rows(scratch, table)
        missing, extra = want - have, have - want
        if missing or extra:
            findings.append(
                f"{mine.name} view, table {table.name}: {len(missing)} rows missing,"
                f" {len(extra)} rows differ or are extra (against a rebuild from the event store)"
            )
    return findings


def _rows(engine: Engine, table: Any) -> set[tuple[str, ...]]:
    columns = [c for c in table.columns if c.name != "id"]  # surrogate ids are numbered anew
    with engine.connect() as conn:
        found = conn.execute(select(*columns)).all()
    return {tuple(_normal(v) for v in row) for row in found}


def _normal(value: object) -> str:
    """One spelling per value across SQLite (naive UTC datetimes) and PostgreSQL (aware)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return str(value)


def _capped(findings: Iterable[str]) -> list[str]:
    listed = list(findings)
    if len(listed) <= MAX_LISTED:
        return listed
    return [*listed[:MAX_LISTED], f"... and {len(listed) - MAX_LISTED} more"]
