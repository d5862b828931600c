"""Scanning stations: devices of the mailroom that may upload scanned letters."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime

from eventsourcing.utils import get_topic

from aggregates.station import ScanningStation, hash_token
from mailroom.application import MailroomApp
from mailroom.auth.permissions import may_manage_staff
from mailroom.auth.principal import Principal
from mailroom.services import Changed, ForbiddenError, ServiceError


class StationService:
    def __init__(self, app: MailroomApp, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock

    def register(self, actor: Principal, name: str) -> tuple[Changed, str]:
        """Register a station; returns it and its token (the token is stored only hashed)."""
        if not may_manage_staff(actor):
            raise ForbiddenError("only an administrator registers scanning stations")
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
