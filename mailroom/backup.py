"""``mailroom backup`` / ``mailroom restore``: a backup is a directory with a manifest.

Layout of a backup directory (``tar -cf`` it afterwards if one file is wanted)::

    manifest.json     format, version, mode, created_at (with offset), counts, sha256 per file
    events.sqlite     embedded: the event store (SQLite online backup API)
    views.sqlite      embedded: the read models and the views' own tables (e-mail outbox, ...)
    events.dump       production: ``pg_dump -Fc`` of the event store's schema (views included
                      when they live in that schema, the default)
    secret.key        embedded: the server secret kept under the data directory (access codes)
    blobs/sha256/..   every blob of the blob store, same keys

Order, so that a backup is consistent while the mailroom runs: views, then the event store,
then blobs. Views are thus never ahead of the events (the restore catches them up); blobs
are written before the event that mentions them, so every referenced blob is in the copy
(blobs stored after the snapshot are harmless extras). The event store is the truth: a
restore verifies every checksum, catches the views up and reconciles (``mailroom.reconcile``)
before the restored data directory replaces the target.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from mailroom import backup_postgres
from mailroom.adapters.event_store import persistence_env
from mailroom.config import Settings
from mailroom.ports import CHUNK_BYTES, BlobRef, BlobStore

FORMAT = "mailroom-backup"
VERSION = 1
MANIFEST = "manifest.json"
SECRET_FILES = ("secret.key",)
STORE_FILES = frozenset({"events.sqlite", "views.sqlite", "events.dump", *SECRET_FILES})
_BLOB_FILE = re.compile(r"blobs/sha256/[0-9a-f]{2}/[0-9a-f]{64}")  # never a path outside
Progress = Callable[[int, int], None]  # (blobs done, blobs in all)


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is one line for the operator."""


def is_embedded(settings: Settings) -> bool:
    return settings.event_store_url.startswith("sqlite:")


# -- backup ---------------------------------------------------------------------------------


def create_backup(
    settings: Settings, target: Path, progress: Progress | None = None
) -> dict[str, Any]:
    """Write a backup of the install of ``settings`` to the new directory ``target``."""
    from mailroom.bootstrap import build_blob_store

    target = target.absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not an empty directory")
    staging = _sibling(target, "partial")
    staging.mkdir(parents=True)
    try:
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "mode": "embedded" if is_embedded(settings) else "production",
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": {},
        }
        if is_embedded(settings):
            manifest["counts"]["events"] = _backup_sqlite_stores(settings, staging)
            for name in SECRET_FILES:
                if (settings.data_dir / name).is_file():
                    shutil.copy2(settings.data_dir / name, staging / name)
        else:
            manifest.update(backup_postgres.dump(settings, staging / "events.dump"))
        manifest["counts"]["blobs"] = _copy_blobs_out(
            build_blob_store(settings), staging / "blobs", progress
        )
        manifest["files"] = {
            path.relative_to(staging).as_posix(): {"sha256": _sha256(path), "size": size(path)}
            for path in sorted(staging.rglob("*"))
            if path.is_file()
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _backup_sqlite_stores(settings: Settings, staging: Path) -> int:
    """Views first, then the event store (see the module docstring); the event count."""
    views = make_url(settings.views_db_url)
    if views.get_backend_name() == "sqlite" and views.database:
        _sqlite_backup(Path(views.database), staging / "views.sqlite")
    events = Path(persistence_env(settings.event_store_url)["SQLITE_DBNAME"])
    return _sqlite_backup(events, staging / "events.sqlite", "stored_events")


def _sqlite_backup(source: Path, target: Path, counted: str = "sqlite_master") -> int:
    """A consistent copy while writers go on: SQLite's online backup, in one step (the
    copy as one file, no WAL); returns the rows of table ``counted`` in the copy."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist: nothing to back up")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        return int(dst.execute(f"SELECT count(*) FROM {counted}").fetchone()[0])  # noqa: S608
    finally:
        dst.close()
        src.close()


def _copy_blobs_out(blobs: BlobStore, target: Path, progress: Progress | None) -> int:
    keys = [b.key for b in blobs.iter_blobs() if _BLOB_FILE.fullmatch(f"blobs/{b.key}")]
    for done, key in enumerate(keys, 1):
        path = target / key
        path.parent.mkdir(parents=True, exist_ok=True)
        with blobs.open(key) as stream, path.open("wb") as out:
            shutil.copyfileobj(stream, out, CHUNK_BYTES)
        if progress is not None:
            progress(done, len(keys))
    return len(keys)


# -- restore --------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest of a backup directory, after every file is checked against it."""
    path = source / MANIFEST
    if not source.is_dir():
        raise BackupError(f"{source} is not a backup directory")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupError(f"{source} has no {MANIFEST}: not a mailroom backup") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(f"{path}: not a version {VERSION} mailroom backup")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BackupError(f"{path}: no file list")
    for name, expected in files.items():
        if not (name in STORE_FILES or _BLOB_FILE.fullmatch(name)):
            raise BackupError(f"{path}: unexpected file {name!r}")
        file = source / name
        if not file.is_file():
            raise BackupError(f"backup is incomplete: {name} is missing")
        try:
            matches = size(file) == expected["size"] and _sha256(file) == expected["sha256"]
        except (KeyError, TypeError):
            raise BackupError(f"{path}: no checksum for {name}") from None
        if not matches:
            raise BackupError(f"backup is corrupt: {name} does not match its checksum")
    return manifest


def restore_backup(
    settings: Settings, source: Path, force: bool = False, progress: Progress | None = None
) -> list[str]:
    """Restore ``source`` into the install of ``settings``; returns the reconciliation's
    findings (empty). Raises ``BackupError`` and leaves the target as it was on bad input."""
    manifest = read_manifest(source.absolute())
    if manifest["mode"] == "production":
        if is_embedded(settings):
            raise BackupError("this is a production backup: restore it with production settings")
        return backup_postgres.restore(settings, source.absolute(), manifest, force, progress)
    if not is_embedded(settings):
        raise BackupError("this is an embedded backup: restore it with embedded settings")
    return _restore_embedded(settings, source.absolute(), manifest, force, progress)


def _restore_embedded(
    settings: Settings,
    source: Path,
    manifest: dict[str, Any],
    force: bool,
    progress: Progress | None,
) -> list[str]:
    if settings.event_store or settings.views_db or settings.blob_store:
        raise BackupError(
            "restore writes the default layout under MAILROOM_DATA_DIR:"
            " unset MAILROOM_EVENT_STORE, MAILROOM_VIEWS_DB and MAILROOM_BLOB_STORE"
        )
    target = settings.data_dir.absolute()
    if target.exists() and any(target.iterdir()) and not force:
        raise BackupError(
            f"{target} is not empty: restore into an empty data directory or use --force"
        )
    staging = _sibling(target, "restoring")
    staging.mkdir(parents=True)
    try:
        for name in manifest["files"]:
            if not name.startswith("blobs/"):
                shutil.copy2(source / name, staging / name)
        copy_blobs_in(source, manifest, lambda: _file_store(staging / "blobs"), progress)
        findings = catch_up_and_reconcile(settings.model_copy(update={"data_dir": staging}))
        if findings:
            raise BackupError("restored install does not reconcile: " + "; ".join(findings))
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return findings


def copy_blobs_in(
    source: Path,
    manifest: dict[str, Any],
    store: Callable[[], BlobStore],
    progress: Progress | None,
) -> int:
    """Put every blob of the backup into the blob store (checksums were verified)."""
    names = [(n, f) for n, f in manifest["files"].items() if n.startswith("blobs/")]
    blobs = store()
    for done, (name, file) in enumerate(names, 1):
        key = name.removeprefix("blobs/")
        blobs.put_file(source / name, ref=BlobRef(key, file["sha256"], file["size"]))
        if progress is not None:
            progress(done, len(names))
    return len(names)


def catch_up_and_reconcile(settings: Settings, rebuild: bool = False) -> list[str]:
    """Open the restored install, bring its views up to the event store and reconcile it.

    Embedded views track positions in the log: they catch up from where the backup left
    them. ``rebuild`` clears them first (production: their positions are the old bus's)."""
    from mailroom.bootstrap import build
    from mailroom.cli.admin import replay
    from mailroom.reconcile import reconcile

    mailroom = build(settings)
    try:
        if rebuild:
            for projection in mailroom.projections:
                projection.clear()
        replay(mailroom.app, mailroom.projections)
        return reconcile(mailroom)
    finally:
        mailroom.stop()


def _file_store(root: Path) -> BlobStore:
    from mailroom.adapters.filesystem_blobs import FileSystemBlobStore

    return FileSystemBlobStore(root)


def _swap_in(staging: Path, target: Path) -> None:
    """Rename the restored directory into place; a replaced one is removed only after."""
    old = _sibling(target, "replaced") if target.exists() else None
    if old is not None:
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _sibling(path: Path, purpose: str) -> Path:
    """A hidden directory next to ``path`` (same file system, so renames are atomic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.parent / f".{path.name}.{purpose}-{uuid.uuid4().hex[:8]}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def size(path: Path) -> int:
    return os.stat(path).st_size
