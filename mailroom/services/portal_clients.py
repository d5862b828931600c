"""Portal clients: the systems (the citizen portal) that may submit requests by API.

Managed like scanning stations (``mailroom.services.credentials``); a rotated client keeps
its Idempotency-Key scope, so a retry sent with the new key finds the submission made with
the old one.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from aggregates import ids
from aggregates.portal_client import PortalClient, hash_token
from mailroom.services.credentials import CredentialService


class PortalClientRefusedError(Exception):
    """The token is missing, unknown or revoked; ``code`` names which."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class PortalClientService(CredentialService[PortalClient]):
    noun = "portal client"
    short_noun = "portal client"
    registered = PortalClient.Registered

    def authenticate(self, token: str | None) -> PortalClient:
        """The active client holding ``token``; PortalClientRefusedError otherwise."""
        token = (token or "").strip()
        if not token:
            raise PortalClientRefusedError(
                "missing_credentials",
                "a portal client key is required (Authorization: Bearer KEY)",
            )
        client = self.app.find_portal_client(ids.portal_client_id(hash_token(token)))
        if client is None:
            raise PortalClientRefusedError(
                "invalid_credentials", "the portal client key is unknown"
            )
        if not client.accepts(token):
            raise PortalClientRefusedError(
                "revoked_credentials", f"the portal client key of {client.name!r} was revoked"
            )
        return client

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
