"""Scanning stations: devices of the mailroom that may upload scanned letters."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from eventsourcing.utils import get_topic

from aggregates.station import ScanningStation, hash_token
from mailroom.application import MailroomApp
from mailroom.auth.permissions import may_manage_staff
from mailroom.auth.principal import Principal
from mailroom.services import Changed, ForbiddenError, NotFoundError, ServiceError

MIN_ID_PREFIX = 4  # shorter keys are taken as names only


class StationService:
    def __init__(self, app: MailroomApp, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock

    def register(self, actor: Principal, name: str) -> tuple[Changed, str]:
        """Register a station; returns it and its token (the token is stored only hashed)."""
        _require_admin(actor, "registers")
        name = name.strip()
        if not name:
            raise ServiceError("the station needs a name", "empty_text")
        token = secrets.token_urlsafe(32)
        station = ScanningStation(
            name=name, token_hash=hash_token(token), registered_at=self.clock()
        )
        self.app.save(station)
        return Changed(station.id, station.version), token

    def any_registered(self) -> bool:
        topic = get_topic(ScanningStation.Registered)
        return bool(self.app.notifications_after(0, 1, (topic,)))

    def list_all(self, actor: Principal) -> list[ScanningStation]:
        """Every station ever registered (revoked ones too), oldest first."""
        _require_admin(actor, "lists")
        topic = get_topic(ScanningStation.Registered)
        stations: list[ScanningStation] = []
        position = 0
        while notifications := self.app.notifications_after(position, 500, (topic,)):
            for notification in notifications:
                station = self.app.find_station(UUID(str(notification.originator_id)))
                if station is not None:
                    stations.append(station)
            position = notifications[-1].id
        return sorted(stations, key=lambda station: station.registered_at)

    def find(self, actor: Principal, key: str) -> ScanningStation:
        """The one station whose id starts with ``key`` or whose name is ``key``.

        A name shared by an active and revoked stations (after a rotation) means the active one.
        """
        key = key.strip()
        if not key:
            raise ServiceError("name a station by its id (or a prefix of it) or its name")
        stations = self.list_all(actor)
        prefix = key.lower()
        by_id = [
            s
            for s in stations
            if len(prefix) >= MIN_ID_PREFIX
            and (str(s.id).startswith(prefix) or s.id.hex.startswith(prefix))
        ]
        by_name = [s for s in stations if s.name == key]
        active_by_name = [s for s in by_name if not s.revoked]
        matches = by_id or active_by_name or by_name
        if not matches:
            raise NotFoundError(f"no scanning station has the id or name {key!r}")
        if len(matches) > 1:
            found = ", ".join(f"{str(s.id)[:8]} ({s.name})" for s in matches)
            raise ServiceError(
                f"{key!r} names more than one scanning station ({found}); give more of the id",
                "ambiguous",
            )
        return matches[0]

    def revoke(self, actor: Principal, key: str) -> Changed:
        """Revoke a station: its token is refused from now on."""
        station = self.find(actor, key)
        if station.revoked:
            raise ServiceError(f"the scanning station {station.name!r} is revoked already")
        station.revoke(self.clock())
        self.app.save(station)
        return Changed(station.id, station.version)

    def rotate(self, actor: Principal, key: str) -> tuple[Changed, str]:
        """Give a station a new token: a new station of the same name replaces the old one,
        which is revoked in the same save. Returns the new station and its token."""
        old = self.find(actor, key)
        if old.revoked:
            raise ServiceError(
                f"the scanning station {old.name!r} is revoked; register a new one instead"
            )
        token = secrets.token_urlsafe(32)
        now = self.clock()
        new = ScanningStation(
            name=old.name, token_hash=hash_token(token), registered_at=now, rotated_from=old.id
        )
        old.revoke(now)
        self.app.save(old, new)
        return Changed(new.id, new.version), token


def _require_admin(actor: Principal, verb: str) -> None:
    if not may_manage_staff(actor):
        raise ForbiddenError(f"only an administrator {verb} scanning stations")
