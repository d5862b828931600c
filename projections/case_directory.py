"""CaseDirectoryProjection: the cases a follow-up letter may belong to, for the router
(implements ``routing.CaseDirectory``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from sqlalchemy import Column, Engine, Integer, String, Table, insert, or_, select, update

from aggregates.case import Case
from aggregates.safe_text import view_text
from projections.database import metadata
from projections.tracking import claim_position, read_position, reset_positions
from routing import CaseQuery, CaseRecord
from routing.references import reference_key

case_directory = Table(
    "case_directory",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("reference", String(60), nullable=False),
    Column("reference_key", String(60), nullable=False, index=True),
    Column("department_id", String(100), nullable=False),
    Column("party", String(300), nullable=False),
    Column("address", String(500), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("service", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("case_version", Integer, nullable=False),
)

CANDIDATE_LIMIT = 500


class CaseDirectoryProjection:
    name = "case-directory"
    topics: tuple[str, ...] = tuple(
        get_topic(cls) for cls in (Case.Opened, Case.Reassigned, Case.Closed)
    )

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def position(self, source: str) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, f"{self.name}@{source}")

    def process(self, event: Any, tracking: Tracking) -> bool:
        with self.engine.begin() as conn:
            if not claim_position(
                conn, f"{self.name}@{tracking.application_name}", tracking.notification_id
            ):
                return False
            case_id = str(event.originator_id)
            if isinstance(event, Case.Opened):
                known = conn.execute(
                    select(case_directory.c.case_id).where(case_directory.c.case_id == case_id)
                ).first()
                if known is None:
                    conn.execute(
                        insert(case_directory).values(
                            case_id=case_id,
                            reference=event.reference,
                            reference_key=reference_key(event.reference),
                            department_id=event.department_id,
                            party=view_text(event.party, 300),
                            address=view_text(event.address, 500),
                            subject=view_text(event.subject, 500),
                            service=view_text(event.service_key or "", 200),
                            status=event.status,
                            case_version=event.originator_version,
                        )
                    )
                return True
            changes: dict[str, Any] = {}
            if isinstance(event, Case.Reassigned):
                changes["department_id"] = event.department_id
            elif isinstance(event, Case.Closed):
                changes["status"] = "closed"
            conn.execute(
                update(case_directory)
                .where(
                    case_directory.c.case_id == case_id,
                    case_directory.c.case_version < event.originator_version,
                )
                .values(case_version=event.originator_version, **changes)
            )
        return True

    def record_failure(self, event: Any, tracking: Tracking, failure: object) -> bool:
        return False  # a read model must not skip an event: it stalls, visibly

    def persist_attempts(self, event: Any) -> bool:
        return False

    # -- routing.CaseDirectory ------------------------------------------------------------

    def by_reference(self, key: str) -> CaseRecord | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(case_directory).where(case_directory.c.reference_key == key))
                .mappings()
                .first()
            )
        return None if row is None else _record(row)

    def candidates(self, query: CaseQuery) -> Sequence[CaseRecord]:
        statement = select(case_directory).limit(CANDIDATE_LIMIT)
        if query.postcodes:
            statement = statement.where(
                or_(*(case_directory.c.address.contains(p) for p in query.postcodes))
            )
        with self.engine.connect() as conn:
            return [_record(row) for row in conn.execute(statement).mappings()]

    def case_uuid(self, reference: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(case_directory.c.case_id).where(
                    case_directory.c.reference_key == reference_key(reference)
                )
            ).first()
        return None if row is None else str(row[0])

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(case_directory.delete())
            reset_positions(conn, f"{self.name}@")


def _record(row: Any) -> CaseRecord:
    return CaseRecord(
        case_id=row["reference"],
        department_id=row["department_id"],
        party=row["party"],
        address=row["address"],
        subject=row["subject"],
        status=row["status"],
        service=row["service"],
    )
