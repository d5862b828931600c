"""Garbage collection of blobs no event references.

A blob is written before its event (blobs first), so a request that failed in between, or
a process killed there, leaves a blob nobody refers to. Every stored event is searched for
blob keys (any field, so event types added later are covered without a list to keep up),
and blobs that are unreferenced and older than a grace period are reported or removed. The
grace period protects uploads whose event is being written right now.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

from mailroom.application import MailroomApp
from mailroom.ports import BlobStore, StoredBlob

_BLOB_KEY = re.compile(rb"sha256/[0-9a-f]{2}/[0-9a-f]{64}")


def referenced_keys(app: MailroomApp) -> set[str]:
    keys: set[str] = set()
    for notification in app.iter_notifications():
        keys.update(match.decode() for match in _BLOB_KEY.findall(notification.state))
    return keys


def unreferenced_blobs(
    app: MailroomApp, blobs: BlobStore, now: datetime, grace: timedelta
) -> Iterator[StoredBlob]:
    """Blobs older than ``grace`` that no stored event mentions."""
    referenced = referenced_keys(app)
    for blob in blobs.iter_blobs():
        if blob.key not in referenced and blob.modified <= now - grace:
            yield blob
