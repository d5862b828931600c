"""Portal clients: the systems (the citizen portal) that may submit requests by API.

Managed like scanning stations (``mailroom.services.credentials``); a rotated client keeps
its Idempotency-Key scope, so a retry sent with the new key finds the submission made with
the old one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from aggregates import ids
from aggregates.portal_client import PortalClient, hash_token
from mailroom.application import MailroomApp
from mailroom.services.credentials import CredentialService


class PortalClientRefusedError(Exception):
    """The token is missing, unknown or revoked; ``code`` names which."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class PortalClientService(CredentialService[PortalClient]):
    """Portal clients, and which keys this process accepted a moment ago.

    Every submission carries the client key; reading the client's events for each one cost
    a database round trip and a thread hand-off per request. An accepted key is remembered
    for ``accepted_for_s`` seconds (0: never): a key revoked here is refused at once, one
    revoked by another process (the CLI, another API replica) at the latest after that time.
    """

    noun = "portal client"
    short_noun = "portal client"
    registered = PortalClient.Registered

    def __init__(
        self,
        app: MailroomApp,
        clock: Callable[[], datetime],
        accepted_for_s: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(app, clock)
        self.accepted_for_s = accepted_for_s
        self.monotonic = monotonic
        self._accepted: dict[str, tuple[PortalClient, float]] = {}  # token hash -> until

    def recently_accepted(self, token: str | None) -> PortalClient | None:
        """The client if this process accepted ``token`` within the last moments (no I/O)."""
        token_hash = hash_token((token or "").strip())
        found = self._accepted.get(token_hash)
        if found is None:
            return None
        client, until = found
        if self.monotonic() >= until:
            self._accepted.pop(token_hash, None)
            return None
        return client

    def authenticate(self, token: str | None) -> PortalClient:
        """The active client holding ``token``; PortalClientRefusedError otherwise."""
        token = (token or "").strip()
        if not token:
            raise PortalClientRefusedError(
                "missing_credentials",
                "a portal client key is required (Authorization: Bearer KEY)",
            )
        token_hash = hash_token(token)
        client = self.app.find_portal_client(ids.portal_client_id(token_hash))
        if client is None:
            raise PortalClientRefusedError(
                "invalid_credentials", "the portal client key is unknown"
            )
        if not client.accepts(token):
            raise PortalClientRefusedError(
                "revoked_credentials", f"the portal client key of {client.name!r} was revoked"
            )
        if self.accepted_for_s > 0:
            self._accepted[token_hash] = (client, self.monotonic() + self.accepted_for_s)
        return client

    def _revoked(self, holder: PortalClient) -> None:
        self._accepted.pop(holder.token_hash, None)

    def _get(self, holder_id: UUID) -> PortalClient | None:
        return self.app.find_portal_client(holder_id)

    def _new(
        self,
        name: str,
        token_hash: str,
        registered_at: datetime,
        replaces: PortalClient | None,
    ) -> PortalClient:
        return PortalClient(
            name=name,
            token_hash=token_hash,
            registered_at=registered_at,
            rotated_from=replaces.id if replaces else None,
            scope=replaces.idempotency_scope if replaces else None,
        )
