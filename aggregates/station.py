"""ScanningStation: a device of the mailroom that may upload scanned letters."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aggregates import ids


def hash_token(token: str) -> str:
    """Station tokens are 256-bit random strings; a plain SHA-256 of them is safe to store."""
    return hashlib.sha256(token.encode()).hexdigest()


class ScanningStation(Aggregate):
    class Registered(Aggregate.Created):
        """v2 adds ``rotated_from``: the station this one replaces (a token rotation)."""

        class_version = 2
        name: str
        token_hash: str
        registered_at: datetime
        rotated_from: UUID | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            state["rotated_from"] = None

    class Revoked(Aggregate.Event):
        revoked_at: datetime

    @staticmethod
    def create_id(token_hash: str) -> UUID:
        return ids.station_id(token_hash)

    @event(Registered)
    def __init__(
        self,
        name: str,
        token_hash: str,
        registered_at: datetime,
        rotated_from: UUID | None = None,
    ) -> None:
        self.name = name
        self.token_hash = token_hash
        self.registered_at = registered_at
        self.rotated_from = rotated_from
        self.revoked = False
        self.revoked_at: datetime | None = None

    def accepts(self, token: str) -> bool:
        return not self.revoked and hmac.compare_digest(hash_token(token), self.token_hash)

    def revoke(self, revoked_at: datetime) -> None:
        if not self.revoked:
            self._revoked(revoked_at=revoked_at)

    @event(Revoked)
    def _revoked(self, revoked_at: datetime) -> None:
        self.revoked = True
        self.revoked_at = revoked_at
