"""What scanning stations and portal clients share: systems that authenticate with a managed
key. ``add`` prints a random token once and only its hash is stored; ``revoke`` refuses it
from now on; ``rotate`` registers a new holder of the same name that replaces the old one
(revoked in the same save). Names or id prefixes pick one out for the CLI."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Generic, Protocol, TypeVar
from uuid import UUID

from eventsourcing.utils import get_topic

from aggregates.station import hash_token
from mailroom.application import MailroomApp
from mailroom.auth.permissions import may_manage_staff
from mailroom.auth.principal import Principal
from mailroom.services import Changed, ForbiddenError, NotFoundError, ServiceError

MIN_ID_PREFIX = 4  # shorter keys are taken as names only


class Credential(Protocol):
    """A key holder (``ScanningStation``, ``PortalClient``) as far as management needs it."""

    @property
    def id(self) -> UUID: ...

    @property
    def version(self) -> int: ...

    name: str
    registered_at: datetime
    revoked: bool

    def revoke(self, revoked_at: datetime) -> None: ...


C = TypeVar("C", bound=Credential)


class CredentialService(Generic[C]):
    """Register, list, find, revoke and rotate the holders of one kind of key."""

    noun = "key holder"  # in messages: "the scanning station 'Poststelle' is revoked already"
    short_noun = "key holder"  # "the station needs a name"
    registered: type  # the aggregate's Registered event (its topic lists every holder)

    def __init__(self, app: MailroomApp, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock

    def _get(self, holder_id: UUID) -> C | None:
        raise NotImplementedError

    def _new(self, name: str, token_hash: str, registered_at: datetime, replaces: C | None) -> C:
        raise NotImplementedError

    def register(self, actor: Principal, name: str) -> tuple[Changed, str]:
        """Register a holder; returns it and its token (the token is stored only hashed)."""
        self._require_admin(actor, "registers")
        name = name.strip()
        if not name:
            raise ServiceError(f"the {self.short_noun} needs a name", "empty_text")
        token = secrets.token_urlsafe(32)
        holder = self._new(name, hash_token(token), self.clock(), None)
        self.app.save(holder)
        return Changed(holder.id, holder.version), token

    def any_registered(self) -> bool:
        return bool(self.app.notifications_after(0, 1, (get_topic(self.registered),)))

    def list_all(self, actor: Principal) -> list[C]:
        """Every holder ever registered (revoked ones too), oldest first."""
        self._require_admin(actor, "lists")
        topic = get_topic(self.registered)
        found: list[C] = []
        position = 0
        while notifications := self.app.notifications_after(position, 500, (topic,)):
            for notification in notifications:
                holder = self._get(UUID(str(notification.originator_id)))
                if holder is not None:
                    found.append(holder)
            position = notifications[-1].id
        return sorted(found, key=lambda holder: holder.registered_at)

    def find(self, actor: Principal, key: str) -> C:
        """The one holder whose id starts with ``key`` or whose name is ``key``.

        A name shared by an active and revoked holders (after a rotation) means the active one.
        """
        key = key.strip()
        if not key:
            raise ServiceError(
                f"name a {self.short_noun} by its id (or a prefix of it) or its name"
            )
        holders = self.list_all(actor)
        prefix = key.lower()
        by_id = [
            h
            for h in holders
            if len(prefix) >= MIN_ID_PREFIX
            and (str(h.id).startswith(prefix) or h.id.hex.startswith(prefix))
        ]
        by_name = [h for h in holders if h.name == key]
        matches = by_id or [h for h in by_name if not h.revoked] or by_name
        if not matches:
            raise NotFoundError(f"no {self.noun} has the id or name {key!r}")
        if len(matches) > 1:
            found = ", ".join(f"{str(h.id)[:8]} ({h.name})" for h in matches)
            raise ServiceError(
                f"{key!r} names more than one {self.noun} ({found}); give more of the id",
                "ambiguous",
            )
        return matches[0]

    def revoke(self, actor: Principal, key: str) -> Changed:
        """Revoke a holder: its token is refused from now on."""
        holder = self.find(actor, key)
        if holder.revoked:
            raise ServiceError(f"the {self.noun} {holder.name!r} is revoked already")
        holder.revoke(self.clock())
        self.app.save(holder)
        self._revoked(holder)
        return Changed(holder.id, holder.version)

    def rotate(self, actor: Principal, key: str) -> tuple[Changed, str]:
        """A new token: a new holder of the same name replaces the old one, which is revoked
        in the same save. Returns the new holder and its token."""
        old = self.find(actor, key)
        if old.revoked:
            raise ServiceError(
                f"the {self.noun} {old.name!r} is revoked; register a new one instead"
            )
        token = secrets.token_urlsafe(32)
        now = self.clock()
        new = self._new(old.name, hash_token(token), now, old)
        old.revoke(now)
        self.app.save(old, new)
        self._revoked(old)
        return Changed(new.id, new.version), token

    def _revoked(self, holder: C) -> None:
        """Called once a revocation is saved (a subclass drops what it cached)."""

    def _require_admin(self, actor: Principal, verb: str) -> None:
        if not may_manage_staff(actor):
            raise ForbiddenError(f"only an administrator {verb} {self.noun}s")
