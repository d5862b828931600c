"""The case directory finds a case by the format-free lookup keys of its reference — for cases
opened after the upgrade and for those already there when migration 0007 ran."""

from __future__ import annotations

from datetime import UTC, datetime

from eventsourcing.persistence import Tracking
from sqlalchemy import create_engine, insert

from aggregates.case import Case
from projections.case_directory import CaseDirectoryProjection, case_directory
from projections.schema import upgrade_schema
from routing.reference_lookup import citation_of


def keys(written: str) -> list[str]:
    citation = citation_of(written)
    assert citation is not None
    return sorted(citation.keys)


def test_an_opened_case_is_found_by_a_sloppy_citation(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'views.sqlite'}")
    upgrade_schema(engine)
    projection = CaseDirectoryProjection(engine)
    case = Case.open(
        reference="63-BA-2026-0234",
        department_id="bauaufsicht",
        subject="Umbau Hafenstraße 3",
        party="Jonas Albers",
        address="Hafenstraße 3, 47134 Lindenau",
        opened_at=datetime(2026, 1, 27, tzinfo=UTC),
        opened_by="test",
        first_item_id=None,
    )
    for position, event in enumerate(case.collect_events(), 1):
        projection.process(event, Tracking("log", position))
    found = projection.by_lookup_keys(keys("0234/2026"))
    assert {c.case_id for _, c in found} == {"63-BA-2026-0234"}
    assert projection.by_lookup_keys(keys("0243/2026")) == []
    engine.dispose()


def test_the_migration_indexes_the_cases_already_in_the_directory(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'views.sqlite'}")
    upgrade_schema(engine, "0006")
    with engine.begin() as conn:
        conn.execute(
            insert(case_directory),
            {
                "case_id": "6f1c2b8e-0000-4000-8000-000000000001",
                "reference": "KD-4711/0815",
                "reference_key": "KD47110815",
                "department_id": "abfall",
                "party": "Ingrid Vogt",
                "address": "Lindenweg 8, 47131 Lindenau",
                "subject": "Kundenkonto",
                "service": "",
                "status": "open",
                "case_version": 1,
            },
        )
    upgrade_schema(engine)
    found = CaseDirectoryProjection(engine).by_lookup_keys(keys("4711-0815"))
    assert {c.case_id for _, c in found} == {"KD-4711/0815"}
    engine.dispose()
