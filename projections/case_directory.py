"""CaseDirectoryProjection: the cases a follow-up letter may belong to, for the router
(implements ``routing.CaseDirectory``).

``case_reference_keys`` indexes each case under the format-free lookup keys of its reference
(``routing.reference_lookup.case_lookup_keys``); a reference never changes, so the keys are
written once, when the case is opened."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Column, Integer, String, Table, or_, select

from aggregates.case import Case
from projections.base import Projection
from projections.database import metadata
from projections.rows import Rows
from projections.view_support import view_text
from routing import CaseQuery, CaseRecord
from routing.reference_lookup import KEY_LENGTH, case_lookup_keys
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

case_reference_keys = Table(
    "case_reference_keys",
    metadata,
    Column("lookup_key", String(KEY_LENGTH), primary_key=True),
    Column("case_id", String(36), primary_key=True),
)

CANDIDATE_LIMIT = 500
LOOKUP_CHUNK = 500  # keys per SELECT … IN (…)


class CaseDirectoryProjection(Projection):
    name = "case-directory"
    tables = (case_reference_keys, case_directory)
    key = case_directory.c.case_id
    topics = tuple(
        get_topic(cls) for cls in (Case.Opened, Case.Reassigned, Case.Closed, Case.Reopened)
    )

    def apply(self, rows: Rows, event: Any) -> None:
        case_id = str(event.originator_id)
        if isinstance(event, Case.Opened):
            inserted = rows.insert(
                case_directory.c.case_id,
                {
                    "case_id": case_id,
                    "reference": event.reference,
                    "reference_key": reference_key(event.reference),
                    "department_id": event.department_id,
                    "party": view_text(event.party, 300),
                    "address": view_text(event.address, 500),
                    "subject": view_text(event.subject, 500),
                    "service": view_text(event.service_key or "", 200),
                    "status": "closed" if event.status == "closed" else "open",
                    "case_version": event.originator_version,
                },
            )
            if inserted:
                for key in case_lookup_keys(event.reference):
                    rows.append(case_reference_keys, {"lookup_key": key, "case_id": case_id})
            return
        current = rows.get(case_directory.c.case_id, case_id)
        if current is None or current["case_version"] >= event.originator_version:
            return
        changes: dict[str, Any] = {"case_version": event.originator_version}
        if isinstance(event, Case.Reassigned):
            changes["department_id"] = event.department_id
        elif isinstance(event, Case.Closed):
            changes["status"] = "closed"
        elif isinstance(event, Case.Reopened):
            changes["status"] = "open"
        rows.update(case_directory.c.case_id, case_id, changes)

    # -- routing.CaseDirectory ------------------------------------------------------------

    def by_reference(self, key: str) -> CaseRecord | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(case_directory).where(case_directory.c.reference_key == key))
                .mappings()
                .first()
            )
        return None if row is None else _record(row)

    def by_lookup_keys(self, keys: Sequence[str]) -> Sequence[tuple[str, CaseRecord]]:
        wanted = sorted(set(keys))
        found: list[tuple[str, CaseRecord]] = []
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                statement = (
                    select(case_reference_keys.c.lookup_key, case_directory)
                    .join(case_directory, case_directory.c.case_id == case_reference_keys.c.case_id)
                    .where(
                        case_reference_keys.c.lookup_key.in_(wanted[start : start + LOOKUP_CHUNK])
                    )
                    .order_by(case_reference_keys.c.lookup_key, case_directory.c.reference)
                )
                found += [
                    (row["lookup_key"], _record(row)) for row in conn.execute(statement).mappings()
                ]
        return found

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
