"""Scanning stations: devices of the mailroom that may upload scanned letters."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from aggregates.station import ScanningStation
from mailroom.services.credentials import CredentialService


class StationService(CredentialService[ScanningStation]):
    noun = "scanning station"
    short_noun = "station"
    registered = ScanningStation.Registered

    def _get(self, holder_id: UUID) -> ScanningStation | None:
        return self.app.find_station(holder_id)

    def _new(
        self,
        name: str,
        token_hash: str,
        registered_at: datetime,
        replaces: ScanningStation | None,
    ) -> ScanningStation:
        return ScanningStation(
            name=name,
            token_hash=token_hash,
            registered_at=registered_at,
            rotated_from=replaces.id if replaces else None,
        )
