"""Portal clients: the systems (the citizen portal) that may submit requests by API.

Managed like scanning stations: ``add`` prints a token once, only its hash is stored;
``revoke`` refuses it from now on; ``rotate`` registers a new client that replaces the old
one (revoked in the same save) and keeps its Idempotency-Key scope.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from eventsourcing.utils import get_topic

from aggregates import ids
from aggregates.portal_client import PortalClient, hash_token
from mailroom.application import MailroomApp
from mailroom.auth.permissions import may_manage_staff
from mailroom.auth.principal import Principal
from mailroom.services import Changed, ForbiddenError, NotFoundError, ServiceError

MIN_ID_PREFIX = 4  # shorter keys are taken as names only


class PortalClientRefusedError(Exception):
    """The token is missing, unknown or revoked; ``code`` names which."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class PortalClientService:
    def __init__(self, app: MailroomApp, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock

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

    def register(self, actor: Principal, name: str) -> tuple[Changed, str]:
        """Register a client; returns it and its token (the token is stored only hashed)."""
        _require_admin(actor, "registers")
        name = name.strip()
        if not name:
            raise ServiceError("the portal client needs a name", "empty_text")
        token = secrets.token_urlsafe(32)
        client = PortalClient(name=name, token_hash=hash_token(token), registered_at=self.clock())
        self.app.save(client)
        return Changed(client.id, client.version), token

    def any_registered(self) -> bool:
        topic = get_topic(PortalClient.Registered)
        return bool(self.app.notifications_after(0, 1, (topic,)))

    def list_all(self, actor: Principal) -> list[PortalClient]:
        """Every client ever registered (revoked ones too), oldest first."""
        _require_admin(actor, "lists")
        topic = get_topic(PortalClient.Registered)
        found: list[PortalClient] = []
        position = 0
        while notifications := self.app.notifications_after(position, 500, (topic,)):
            for notification in notifications:
                client = self.app.find_portal_client(UUID(str(notification.originator_id)))
                if client is not None:
                    found.append(client)
            position = notifications[-1].id
        return sorted(found, key=lambda client: client.registered_at)

    def find(self, actor: Principal, key: str) -> PortalClient:
        """The one client whose id starts with ``key`` or whose name is ``key`` (an active
        one before revoked ones of the same name)."""
        key = key.strip()
        if not key:
            raise ServiceError("name a portal client by its id (or a prefix of it) or its name")
        clients = self.list_all(actor)
        prefix = key.lower()
        by_id = [
            c
            for c in clients
            if len(prefix) >= MIN_ID_PREFIX
            and (str(c.id).startswith(prefix) or c.id.hex.startswith(prefix))
        ]
        by_name = [c for c in clients if c.name == key]
        matches = by_id or [c for c in by_name if not c.revoked] or by_name
        if not matches:
            raise NotFoundError(f"no portal client has the id or name {key!r}")
        if len(matches) > 1:
            found = ", ".join(f"{str(c.id)[:8]} ({c.name})" for c in matches)
            raise ServiceError(
                f"{key!r} names more than one portal client ({found}); give more of the id",
                "ambiguous",
            )
        return matches[0]

    def revoke(self, actor: Principal, key: str) -> Changed:
        client = self.find(actor, key)
        if client.revoked:
            raise ServiceError(f"the portal client {client.name!r} is revoked already")
        client.revoke(self.clock())
        self.app.save(client)
        return Changed(client.id, client.version)

    def rotate(self, actor: Principal, key: str) -> tuple[Changed, str]:
        """A new key for a client: a new client of the same name and Idempotency-Key scope
        replaces the old one, which is revoked in the same save."""
        old = self.find(actor, key)
        if old.revoked:
            raise ServiceError(
                f"the portal client {old.name!r} is revoked; register a new one instead"
            )
        token = secrets.token_urlsafe(32)
        now = self.clock()
        new = PortalClient(
            name=old.name,
            token_hash=hash_token(token),
            registered_at=now,
            rotated_from=old.id,
            scope=old.idempotency_scope,
        )
        old.revoke(now)
        self.app.save(old, new)
        return Changed(new.id, new.version), token


def _require_admin(actor: Principal, verb: str) -> None:
    if not may_manage_staff(actor):
        raise ForbiddenError(f"only an administrator {verb} portal clients")
