"""PortalClient: a system (the city's citizen portal) that may submit requests by API.

Its key is a 256-bit random token shown once and stored only as a SHA-256 (as for
scanning stations). A rotation registers a new client that takes over the old one's
``scope``: Idempotency-Keys are scoped per client, and a retry sent with the new key
after a rotation must still find the submission made with the old one.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aggregates import ids
from aggregates.station import hash_token

__all__ = ["PortalClient", "hash_token"]


class PortalClient(Aggregate):
    class Registered(Aggregate.Created):
        """``scope``: the id of the first client of a rotation chain (None: this one)."""

        name: str
        token_hash: str
        registered_at: datetime
        rotated_from: UUID | None
        scope: UUID | None

    class Revoked(Aggregate.Event):
        revoked_at: datetime

    @staticmethod
    def create_id(token_hash: str) -> UUID:
        return ids.portal_client_id(token_hash)

    @event(Registered)
    def __init__(
        self,
        name: str,
        token_hash: str,
        registered_at: datetime,
        rotated_from: UUID | None = None,
        scope: UUID | None = None,
    ) -> None:
        self.name = name
        self.token_hash = token_hash
        self.registered_at = registered_at
        self.rotated_from = rotated_from
        self._scope = scope
        self.revoked = False
        self.revoked_at: datetime | None = None

    @property
    def idempotency_scope(self) -> UUID:
        """What Idempotency-Keys are scoped by: the same across rotations of one client."""
        return self._scope or self.id

    def accepts(self, token: str) -> bool:
        return not self.revoked and hmac.compare_digest(hash_token(token), self.token_hash)

    def revoke(self, revoked_at: datetime) -> None:
        if not self.revoked:
            self._revoked(revoked_at=revoked_at)

    @event(Revoked)
    def _revoked(self, revoked_at: datetime) -> None:
        self.revoked = True
        self.revoked_at = revoked_at
