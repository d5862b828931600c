"""The read models of the clerk workspace — cases, items, search, statistics — fed with events
of the real aggregates, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from sqlalchemy import Engine, select

from aggregates.case import Case
from aggregates.deadlines import DeadlineFlag, calendar_for
from aggregates.mail_item import MailItem
from aggregates.values import (
    Applicant,
    Document,
    PageText,
    QualityIssue,
    RoutingCandidate,
    Submission,
)
from projections import statistics
from projections.base import Projection
from projections.cases import (
    NO_ASSIGNEE,
    CaseDetail,
    CaseViewProjection,
    InvalidCursorError,
    QueueFilter,
    case_detail,
    case_timeline,
    case_view,
    department_counts,
    my_cases,
    queue,
)
from projections.database import create_views_engine
from projections.items import (
    ItemDetail,
    ItemViewProjection,
    item_detail,
    item_view,
    items_of_case,
    triage_queue,
)
from projections.search import SearchProjection, highlight_terms, search, search_documents

NW = calendar_for("NW")
MONDAY = date(2026, 3, 2)
BUDGETS = {"standesamt": 10, "bauamt": 20}
STAFF = {"u-lead": "Lea Leitung", "u-anna": "Anna Becker"}


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


# -- the views and how events reach them ----------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def views(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'views.sqlite'}"
    else:
        base = request.getfixturevalue("postgres_url")
        schema = request.getfixturevalue("postgres_schema")
        url = base.replace("postgresql://", "postgresql+psycopg://", 1)
        url += f"?options=-csearch_path%3D{schema}"
    engine = create_views_engine(url)
    yield engine
    engine.dispose()


@dataclass
class Feed:
    """Delivers the events of aggregates to every projection subscribed to their topic."""

    projections: list[Projection]
    positions: Iterator[int] = field(default_factory=lambda: count(1))
    delivered: list[Any] = field(default_factory=list)

    def __call__(self, *aggregates: Aggregate) -> None:
        for aggregate in aggregates:
            for event in aggregate.collect_events():
                self.deliver(event)

    def deliver(self, event: Any) -> None:
        position = next(self.positions)
        self.delivered.append(event)
        for projection in self.projections:
            if get_topic(type(event)) in projection.topics:
                projection.process(event, Tracking("log", position))


@dataclass
class Workspace:
    engine: Engine
    cases: CaseViewProjection
    items: ItemViewProjection
    search: SearchProjection
    feed: Feed


@pytest.fixture
def ws(views: Engine) -> Workspace:
    cases = CaseViewProjection(views, NW, lambda d, s: BUDGETS.get(d, 15), STAFF.get)
    items = ItemViewProjection(views)
    finder = SearchProjection(views)
    return Workspace(views, cases, items, finder, Feed([cases, items, finder]))


def open_case(
    department: str = "bauamt",
    opened: date = MONDAY,
    days: int | None = 10,
    reference: str | None = None,
    service: str | None = "bauantrag",
    item: MailItem | None = None,
) -> Case:
    return Case.open(
        reference=reference or f"C-{uuid4().hex[:8].upper()}",
        department_id=department,
        subject="Bauantrag Gartenhaus",
        party="Jörg Ähnlich",
        address="Müllerstraße 1, 12345 Lindenau",
        opened_at=at(opened),
        opened_by="system:router",
        first_item_id=item.id if item else None,
        service_key=service,
        processing_days=days,
    )


def new_item(
    text: str = "",
    channel: str = "portal",
    received: datetime | None = None,
    subject: str = "Antrag",
    reference: str | None = None,
    documents: int = 1,
) -> MailItem:
    docs = [
        Document(f"sha256/{i}{uuid4().hex[:6]}", "aa", "application/pdf", 10, 1, f"brief{i}.pdf")
        for i in range(documents)
    ]
    submission = None
    if channel == "portal":
        submission = Submission(
            "bauantrag", Applicant("Jörg Ähnlich", address="Hauptstraße 5"), subject, {}
        )
    item = MailItem(
        channel=channel,
        intake_key=uuid4().hex,
        reference=reference or f"LIN-2026-{uuid4().hex[:6].upper()}",
        received_at=received or at(MONDAY),
        documents=docs,
        access_code_hash="hash",
        request_fingerprint="fp",
        submission=submission,
    )
    if text:
        item.record_text(docs[0].blob_key, "ocr", [PageText(1, text, 91.0, "ocr")])
    return item


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every workspace row, without surrogate ids, in a stable order."""
    tables = {
        "case_view": (case_view, "id"),
        "case_timeline": (case_timeline, "id"),
        "item_view": (item_view, "id"),
        "search_documents": (search_documents, "id"),
    }
    result = {}
    with engine.connect() as conn:
        for name, (table, surrogate) in tables.items():
            columns = [c for c in table.c if c.name != surrogate]
            rows = conn.execute(select(*columns)).all()
            result[name] = sorted((tuple(r) for r in rows), key=repr)
    return result


def case_of(ws: Workspace, key: str, today: date | None = None) -> CaseDetail:
    detail = case_detail(ws.engine, key, today=today, calendar=NW if today else None)
    assert detail is not None
    return detail


def item_of(ws: Workspace, key: str) -> ItemDetail:
    detail = item_detail(ws.engine, key)
    assert detail is not None
    return detail


def ids(page: Any) -> list[str]:
    return [row.case_id for row in page.rows]


# -- deadlines ---------------------------------------------------------------------------------


def test_an_opened_case_falls_due_after_its_processing_days_counted_in_working_days(
    ws: Workspace,
) -> None:
    case = open_case(days=10)
    ws.feed(case)
    detail = case_of(ws, case.reference, MONDAY)
    assert detail is not None
    assert detail.case.due_on == date(2026, 3, 16) == NW.add_working_days(MONDAY, 10)
    assert detail.case.opened_on == MONDAY
    assert detail.case.status == "open"
    assert detail.case.flag == DeadlineFlag.ON_TRACK


def test_a_case_without_a_budget_gets_its_departments_processing_days_from_the_catalog(
    ws: Workspace,
) -> None:
    case = open_case(department="standesamt", days=None)
    ws.feed(case)
    row = case_of(ws, str(case.id)).case
    assert row.processing_days == 10
    assert row.due_on == NW.add_working_days(MONDAY, 10)


def test_overdue_and_at_risk_follow_today_alone_without_any_event(ws: Workspace) -> None:
    case = open_case(days=10)  # due Monday 16 March; at risk from 2 working days before
    ws.feed(case)

    def flag(today: date) -> str | None:
        return queue(ws.engine, {"bauamt"}, today=today, calendar=NW).rows[0].flag

    def filtered(flag: str, today: date) -> list[str]:
        page = queue(ws.engine, {"bauamt"}, QueueFilter(flag=flag), today=today, calendar=NW)
        return ids(page)

    assert flag(date(2026, 3, 11)) == DeadlineFlag.ON_TRACK
    assert filtered("at_risk", date(2026, 3, 11)) == []
    assert flag(date(2026, 3, 12)) == DeadlineFlag.AT_RISK
    assert filtered("at_risk", date(2026, 3, 12)) == [str(case.id)]
    assert flag(date(2026, 3, 16)) == DeadlineFlag.AT_RISK
    assert filtered("overdue", date(2026, 3, 16)) == []
    assert flag(date(2026, 3, 17)) == DeadlineFlag.OVERDUE
    assert filtered("overdue", date(2026, 3, 17)) == [str(case.id)]
    assert filtered("at_risk", date(2026, 3, 17)) == []
    row = queue(ws.engine, {"bauamt"}, today=date(2026, 3, 17), calendar=NW).rows[0]
    assert row.working_days_left == -1


def test_the_flag_filters_in_sql_agree_with_the_flag_of_every_row(ws: Workspace) -> None:
    cases = [
        open_case(opened=MONDAY + timedelta(days=i % 9), days=days)
        for i, days in enumerate([1, 3, 5, 10, 14, 15, 19, 20, 24, 25, 40, 60, 90, 250] * 2)
    ]
    ws.feed(*cases)
    for offset in range(0, 120, 3):
        today = MONDAY + timedelta(days=offset)
        everything = queue(ws.engine, {"bauamt"}, limit=1000, today=today, calendar=NW).rows
        for flag in ("overdue", "at_risk"):
            page = queue(
                ws.engine, {"bauamt"}, QueueFilter(flag=flag), limit=1000, today=today, calendar=NW
            )
            expected = {row.case_id for row in everything if row.flag == flag}
            assert set(ids(page)) == expected, (today, flag)
            assert {row.flag for row in page.rows} <= {flag}


def test_waiting_for_the_citizen_pauses_the_deadline_and_the_pause_moves_it(ws: Workspace) -> None:
    case = open_case(days=10)
    ws.feed(case)
    case.assign("u-anna", "Anna Becker", by="u-anna", at=at(MONDAY, 10))
    case.request_information(
        "r1", "Bitte Lageplan", date(2026, 3, 18), "u-anna", at(date(2026, 3, 4))
    )
    ws.feed(case)
    today = date(2026, 3, 9)  # three working days into the pause
    row = case_of(ws, case.reference, today).case
    assert (row.status, row.flag, row.paused_since) == ("waiting", "paused", date(2026, 3, 4))
    assert row.info_due_on == date(2026, 3, 18)
    assert row.current_due_on == date(2026, 3, 19)
    later = case_of(ws, case.reference, date(2026, 3, 30)).case
    assert later.flag == "paused"  # never overdue while waiting
    paused = queue(ws.engine, {"bauamt"}, QueueFilter(flag="paused"), today=today, calendar=NW)
    assert ids(paused) == [str(case.id)]
    case.receive_information(None, "u-anna", at(date(2026, 3, 10)))
    ws.feed(case)
    row = case_of(ws, case.reference, date(2026, 3, 30)).case
    assert (row.status, row.paused_since, row.paused_days) == ("in_progress", None, 4)
    assert row.due_on == row.current_due_on == date(2026, 3, 20)


def test_an_extension_moves_the_due_date_by_working_days(ws: Workspace) -> None:
    case = open_case(days=10)
    case.extend_deadline(5, "complex", "Statik fehlt", "u-anna", at(MONDAY, 11))
    ws.feed(case)
    detail = case_of(ws, case.reference)
    assert detail.case.extension_days == 5
    assert detail.case.due_on == date(2026, 3, 23)
    assert detail.timeline[-1].data == {
        "days": 5,
        "reason": "complex",
        "note": "Statik fehlt",
        "due_on": "2026-03-23",
    }


# -- the queue -------------------------------------------------------------------------------


@pytest.fixture
def crowded(ws: Workspace) -> list[Case]:
    """27 cases in two departments with many equal due dates and opening moments."""
    cases = []
    for i in range(27):
        case = open_case(
            department="bauamt" if i % 3 else "standesamt",
            opened=MONDAY + timedelta(days=i % 4),
            days=(5, 10, 10)[i % 3],
            reference=f"C-{(i * 7) % 27:03d}",
        )
        if i % 5 == 0:
            case.assign("u-anna", "Anna Becker", by="u-lead", at=at(MONDAY, 12))
        if i % 9 == 4:
            case.close(at(MONDAY, 13), "done", "u-anna")
        cases.append(case)
    ws.feed(*cases)
    return cases


@pytest.mark.parametrize("sort", ["due", "opened", "reference"])
def test_keyset_paging_visits_every_case_once_without_gaps(
    ws: Workspace, crowded: list[Case], sort: str
) -> None:
    all_at_once = queue(ws.engine, None, sort=sort, limit=1000, today=MONDAY, calendar=NW)
    assert all_at_once.next_cursor is None
    paged: list[str] = []
    cursor = None
    while True:
        page = queue(ws.engine, None, sort=sort, after=cursor, limit=4, today=MONDAY, calendar=NW)
        paged += ids(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert paged == ids(all_at_once)
    assert len(paged) == len(set(paged)) == sum(1 for c in crowded if not c.closed)
    key = {"due": "due_on", "opened": "opened_at", "reference": "reference"}[sort]
    values = [getattr(row, key) for row in all_at_once.rows]
    assert values == sorted(values)


def test_the_queue_shows_only_the_departments_asked_for(ws: Workspace, crowded: list[Case]) -> None:
    standesamt = queue(ws.engine, {"standesamt"}, limit=1000, today=MONDAY, calendar=NW)
    assert {row.department_id for row in standesamt.rows} == {"standesamt"}
    both = queue(ws.engine, {"standesamt", "bauamt"}, limit=1000, today=MONDAY, calendar=NW)
    assert len(both.rows) == len(queue(ws.engine, None, limit=1000, today=MONDAY, calendar=NW).rows)
    assert queue(ws.engine, set(), today=MONDAY, calendar=NW).rows == ()


def test_the_queue_filters_by_status_assignee_service_and_age(
    ws: Workspace, crowded: list[Case]
) -> None:
    def find(filters: QueueFilter, today: date = MONDAY) -> set[str]:
        page = queue(ws.engine, None, filters, limit=1000, today=today, calendar=NW)
        return set(ids(page))

    open_cases = [c for c in crowded if not c.closed]
    assert find(QueueFilter(statuses=frozenset({"closed"}))) == {
        str(c.id) for c in crowded if c.closed
    }
    assert find(QueueFilter(assignee_id="u-anna")) == {
        str(c.id) for c in open_cases if c.assignee_id == "u-anna"
    }
    assert find(QueueFilter(assignee_id=NO_ASSIGNEE)) == {
        str(c.id) for c in open_cases if c.assignee_id is None
    }
    assert find(QueueFilter(service_key="other")) == set()
    today = MONDAY + timedelta(days=4)
    assert find(QueueFilter(older_than_days=3), today) == {
        str(c.id) for c in open_cases if (today - c.opened_at.date()).days >= 3
    }


def test_a_cursor_of_another_sort_or_made_up_is_refused(ws: Workspace, crowded: list[Case]) -> None:
    page = queue(ws.engine, None, sort="due", limit=2, today=MONDAY, calendar=NW)
    with pytest.raises(InvalidCursorError):
        queue(ws.engine, None, sort="opened", after=page.next_cursor, today=MONDAY, calendar=NW)
    with pytest.raises(InvalidCursorError):
        queue(ws.engine, None, after="not-a-cursor", today=MONDAY, calendar=NW)


def test_reassigning_moves_the_case_to_the_other_departments_queue(ws: Workspace) -> None:
    case = open_case(department="bauamt")
    case.assign("u-anna", "Anna Becker", by="u-anna", at=at(MONDAY, 10))
    ws.feed(case)
    case.reassign("standesamt", "u-anna", "Zuständigkeit Standesamt")
    ws.feed(case)
    assert queue(ws.engine, {"bauamt"}, today=MONDAY, calendar=NW).rows == ()
    (row,) = queue(ws.engine, {"standesamt"}, today=MONDAY, calendar=NW).rows
    assert (row.case_id, row.status, row.assignee_id) == (str(case.id), "open", None)
    assert my_cases(ws.engine, "u-anna", today=MONDAY, calendar=NW) == ()


def test_my_cases_are_the_open_cases_on_my_desk_most_urgent_first(ws: Workspace) -> None:
    late = open_case(days=20)
    soon = open_case(days=5)
    done = open_case(days=1)
    other = open_case(days=2)
    for case in (late, soon, done):
        case.assign("u-anna", "Anna Becker", by="u-anna", at=at(MONDAY, 10))
    done.close(at(MONDAY, 11), "granted", "u-anna")
    other.assign("u-ben", "Ben Braun", by="u-lead", at=at(MONDAY, 10))
    ws.feed(late, soon, done, other)
    mine = my_cases(ws.engine, "u-anna", today=MONDAY, calendar=NW)
    assert [row.case_id for row in mine] == [str(soon.id), str(late.id)]
    assert all(row.status == "in_progress" for row in mine)


def test_the_timeline_records_each_step_with_its_kind_and_actor(ws: Workspace) -> None:
    item = new_item()
    case = open_case(item=item)
    follow_up = new_item()
    case.assign("u-ben", "Ben Braun", by="u-lead", at=at(MONDAY, 10))
    case.assign("u-anna", "Anna Becker", by="u-anna", at=at(MONDAY, 11))
    case.add_note("Rückfrage Statik", "u-anna", "Anna B.", at(MONDAY, 12))
    case.request_information("r1", "Bitte Lageplan", date(2026, 3, 18), "u-anna", at(MONDAY, 13))
    case.attach_item(follow_up.id)
    case.receive_information(follow_up.id, "u-anna", at(date(2026, 3, 4)))
    case.extend_deadline(3, "third_party", "", "u-lead", at(date(2026, 3, 5)))
    case.reassign("standesamt", "u-x", "falsch")
    case.close(at(date(2026, 3, 6)), "handed_over", "u-x")
    case.reopen("Irrtum", "u-lead", at(date(2026, 3, 9)))
    ws.feed(item, follow_up, case)
    detail = case_of(ws, case.reference, date(2026, 3, 9))
    steps = [(e.kind, e.actor_id, e.actor_name) for e in detail.timeline]
    assert steps == [
        ("opened", "system:router", None),
        ("assigned", "u-lead", "Lea Leitung"),
        ("taken", "u-anna", "Anna Becker"),
        ("note", "u-anna", "Anna B."),
        ("information_requested", "u-anna", "Anna Becker"),
        ("item_attached", None, None),
        ("information_received", "u-anna", "Anna Becker"),
        ("deadline_extended", "u-lead", "Lea Leitung"),
        ("reassigned", "u-x", None),
        ("closed", "u-x", None),
        ("reopened", "u-lead", "Lea Leitung"),
    ]
    data = {e.kind: e.data for e in detail.timeline}
    assert data["assigned"] == {"assignee_id": "u-ben", "assignee_name": "Ben Braun"}
    assert data["note"] == {"text": "Rückfrage Statik"}
    assert data["information_requested"]["due_on"] == "2026-03-18"
    assert data["reassigned"]["from_department_id"] == "bauamt"
    assert data["closed"] == {"outcome": "handed_over"}
    assert [e.version for e in detail.timeline] == list(range(1, 12))
    assert detail.item_ids == (str(item.id), str(follow_up.id))
    assert detail.case.item_count == 2
    assert (detail.case.status, detail.case.outcome, detail.case.closed_at) == ("open", None, None)
    assert [i.item_id for i in items_of_case(ws.engine, str(case.id))] == []  # not attached


def test_department_counts_show_open_overdue_at_risk_and_paused(ws: Workspace) -> None:
    overdue = open_case(days=1)
    at_risk = open_case(days=10)
    fine = open_case(days=20)
    waiting = open_case(days=1)
    waiting.request_information("r", "Bitte", date(2026, 3, 20), "u-anna", at(MONDAY, 10))
    closed = open_case(days=1)
    closed.close(at(MONDAY, 10), "done", "u-anna")
    elsewhere = open_case(department="standesamt", days=1)
    ws.feed(overdue, at_risk, fine, waiting, closed, elsewhere)
    today = date(2026, 3, 12)
    counts = department_counts(ws.engine, None, today=today, calendar=NW)
    by_department = {c.department_id: (c.open, c.overdue, c.at_risk, c.paused) for c in counts}
    assert by_department == {"bauamt": (4, 1, 1, 1), "standesamt": (1, 1, 0, 0)}
    assert department_counts(ws.engine, {"standesamt"}, today=today, calendar=NW)[0].open == 1


# -- items and triage ----------------------------------------------------------------------------


def test_the_triage_queue_lists_items_oldest_first_with_reasons_and_candidates(
    ws: Workspace,
) -> None:
    items = [new_item(channel="scan", received=at(MONDAY, 8 + i)) for i in (3, 1, 2, 0)]
    for n, item in enumerate(items):
        item.send_to_triage(
            "uncertain",
            [RoutingCandidate("bauamt", 0.41), RoutingCandidate("standesamt", 0.38)],
            ["Kein Aktenzeichen"],
            detail=f"top 0.41 #{n}",
        )
    routed = new_item(received=at(MONDAY, 7))
    routed.route("bauamt", "classifier", 0.93, "Bauantrag")
    ws.feed(*items, routed)
    first = triage_queue(ws.engine, limit=3)
    second = triage_queue(ws.engine, after=first.next_cursor, limit=3)
    order = [row.item_id for row in first.rows + second.rows]
    assert order == [str(i.id) for i in sorted(items, key=lambda i: i.received_at)]
    assert second.next_cursor is None
    row = first.rows[0]
    assert (row.status, row.triage_code, row.channel) == ("triage", "uncertain", "scan")
    assert [(c.department_id, c.confidence) for c in row.candidates] == [
        ("bauamt", 0.41),
        ("standesamt", 0.38),
    ]
    assert row.warnings == ("Kein Aktenzeichen",)
    assert (row.sender_name, row.subject) == ("", "")
    items[0].request_rescan("unleserlich", "u-post", at(MONDAY, 12))
    items[1].mark_misdirected("Finanzamt", "", "u-post", at(MONDAY, 12))
    ws.feed(*items)
    assert len(triage_queue(ws.engine).rows) == 2
    misdirected = item_of(ws, items[1].reference)
    assert (misdirected.status, misdirected.misdirected, misdirected.addressee) == (
        "misdirected",
        True,
        "Finanzamt",
    )


def test_an_item_keeps_its_documents_text_in_document_order_and_its_reading_quality(
    ws: Workspace,
) -> None:
    item = new_item(documents=3)
    first, second, third = (d.blob_key for d in item.documents)
    item.record_text(
        third,
        "ocr",
        [PageText(1, "Seite C", 55.0, "ocr")],
        quality_issues=[QualityIssue("low_confidence", "schlecht", 1)],
    )
    item.record_text(
        first,
        "text-layer",
        [PageText(1, "A1", 99.0, "text-layer"), PageText(2, "A2\x00", 98.0, "text-layer")],
    )
    item.record_extraction_failure(second, "encrypted", "password")
    ws.feed(item)
    detail = item_of(ws, str(item.id))
    assert detail.text == "A1\fA2\fSeite C"
    assert detail.min_confidence == 55.0
    assert [(q.code, q.page, q.blob_key) for q in detail.quality_issues] == [
        ("low_confidence", 1, third)
    ]
    assert [(f.blob_key, f.code) for f in detail.extraction_failures] == [(second, "encrypted")]
    assert [d.method for d in detail.documents] == ["text-layer", None, "ocr"]
    item.record_text(third, "ocr", [PageText(1, "Seite C neu", 90.0, "ocr")])
    ws.feed(item)
    detail = item_of(ws, item.reference)
    assert detail.text == "A1\fA2\fSeite C neu"
    assert detail.quality_issues == ()
    assert detail.min_confidence == 90.0


def test_an_item_routed_attached_and_corrected_shows_where_it_is(ws: Workspace) -> None:
    item = new_item(text="Bauantrag")
    item.route("standesamt", "classifier", 0.7, "Urkunde?")
    case = open_case(department="bauamt", item=item)
    item.reroute("bauamt", "u-anna", "gehört zum Bauamt")
    item.attach_to_case(case.id, case.reference)
    ws.feed(item, case)
    (row,) = items_of_case(ws.engine, str(case.id))
    assert (row.status, row.department_id, row.case_reference) == (
        "routed",
        "bauamt",
        case.reference,
    )
    assert (row.routing_method, row.routing_confidence, row.rerouted) == ("classifier", 0.7, True)
    assert (row.sender_name, row.sender_address, row.subject) == (
        "Jörg Ähnlich",
        "Hauptstraße 5",
        "Antrag",
    )


# -- search ----------------------------------------------------------------------------------


@pytest.fixture
def letters(ws: Workspace) -> dict[str, MailItem]:
    bau = new_item(
        "Hiermit stelle ich mehrere Anträge für die Müllerstraße in Lindenau.",
        subject="Baugenehmigung Gartenhaus",
        reference="LIN-2026-0007",
    )
    bau.route("bauamt", "classifier", 0.9, "")
    geburt = new_item("Bitte eine Geburtsurkunde für Jörg Müller aus Lindenau.", channel="scan")
    geburt.route("standesamt", "classifier", 0.9, "")
    singular = new_item("Mein Antrag vom Januar.", channel="scan")
    singular.route("bauamt", "classifier", 0.9, "")
    odd = new_item('Hundesteuer <script>alert("x")</script> für Tom & Jerry', channel="scan")
    odd.send_to_triage("uncertain", [], [])
    ws.feed(bau, geburt, singular, odd)
    return {"bau": bau, "geburt": geburt, "singular": singular, "odd": odd}


def found(ws: Workspace, q: str, departments: set[str] | None = None) -> set[str]:
    return {hit.reference for hit in search(ws.engine, q, departments)}


def test_search_finds_german_words_in_other_forms(
    ws: Workspace, letters: dict[str, MailItem]
) -> None:
    assert letters["singular"].reference in found(ws, "Anträge")
    assert letters["bau"].reference in found(ws, "Antrag")
    assert letters["geburt"].reference in found(ws, "Muller")  # Müller without the umlaut
    assert found(ws, "LIN-2026-0007") == {"LIN-2026-0007"}
    hits = search(ws.engine, "Antrag", None)
    assert hits == sorted(hits, key=lambda h: -h.rank)


def test_search_shows_only_items_of_the_departments_one_may_see(
    ws: Workspace, letters: dict[str, MailItem]
) -> None:
    bau, geburt = letters["bau"].reference, letters["geburt"].reference
    assert found(ws, "Lindenau") == {bau, geburt}
    assert found(ws, "Lindenau", {"bauamt"}) == {bau}
    assert found(ws, "Lindenau", {"standesamt", "ordnungsamt"}) == {geburt}
    assert found(ws, "Lindenau", set()) == set()
    assert found(ws, "Hundesteuer", {"bauamt"}) == set()  # in triage: no department yet


def test_search_follows_an_item_that_is_rerouted_and_attached(
    ws: Workspace, letters: dict[str, MailItem]
) -> None:
    odd = letters["odd"]
    odd.reroute("bauamt", "u-post", "")
    case = open_case(department="bauamt", item=odd, reference="BAU-2026-1")
    odd.attach_to_case(case.id, case.reference)
    ws.feed(odd)
    (hit,) = search(ws.engine, "Hundesteuer", {"bauamt"})
    assert (hit.department_id, hit.case_reference, hit.case_id) == (
        "bauamt",
        "BAU-2026-1",
        str(case.id),
    )
    assert found(ws, "BAU-2026-1") == {odd.reference}


def test_search_understands_phrases_or_and_exclusion(
    ws: Workspace, letters: dict[str, MailItem]
) -> None:
    bau, geburt = letters["bau"].reference, letters["geburt"].reference
    assert found(ws, "Baugenehmigung OR Geburtsurkunde") == {bau, geburt}
    assert found(ws, "Lindenau -Geburtsurkunde") == {bau}
    assert found(ws, '"Jörg Müller"') == {geburt}
    assert found(ws, "-Lindenau") == set()


@pytest.mark.parametrize(
    "q",
    [
        '"',
        '"unclosed',
        "*",
        "-",
        ":",
        "OR",
        "AND",
        "NOT",
        "NEAR(",
        "(",
        ")",
        "a:b",
        "Antrag*",
        "OR Antrag",
        "Antrag OR",
        "^Antrag",
        "'",
        "\\",
        "%",
        "_",
        "\x00Antrag",
        "Antrag\x1b",
        "col:Antrag",
        "{Antrag}",
        "Antrag AND NOT",
        "'; DROP TABLE item_view; --",
        "ä" * 2000,
        "der die das",
        "",
    ],
)
def test_search_never_fails_on_odd_queries(
    ws: Workspace, letters: dict[str, MailItem], q: str
) -> None:
    hits = search(ws.engine, q, None)
    assert isinstance(hits, list)
    assert item_of(ws, letters["bau"].reference).item_id == str(letters["bau"].id)


def test_search_snippets_escape_the_text_and_mark_only_the_hits(
    ws: Workspace, letters: dict[str, MailItem]
) -> None:
    (hit,) = search(ws.engine, "Hundesteuer", None)
    assert "<mark>Hundesteuer</mark>" in hit.snippet_html
    markup = hit.snippet_html.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in markup and ">" not in markup
    assert "&amp;" in hit.snippet_html


def test_the_words_to_highlight_leave_out_operators_and_exclusions() -> None:
    assert highlight_terms('"Antrag auf" -Müller OR Bau* a:b') == ["Antrag", "auf", "Bau", "a", "b"]
    assert highlight_terms("  ") == []


# -- statistics -----------------------------------------------------------------------------


def test_statistics_on_a_small_known_data_set(ws: Workspace) -> None:
    day1, day2 = MONDAY, MONDAY + timedelta(days=1)
    auto = [new_item(received=at(day1)) for _ in range(3)]
    for item in auto:
        item.route("bauamt", "classifier", 0.9, "")
    by_hand = new_item(channel="scan", received=at(day2))
    by_hand.send_to_triage("uncertain", [], [])
    by_hand.reroute("bauamt", "u-post", "")
    corrected = new_item(received=at(day2))
    corrected.route("standesamt", "classifier", 0.7, "")
    corrected.reroute("bauamt", "u-anna", "")
    waiting = new_item(channel="scan", received=at(day2))
    waiting.send_to_triage("uncertain", [], [])
    old = open_case(opened=MONDAY - timedelta(days=25), days=10)
    middle = open_case(opened=MONDAY - timedelta(days=8), days=10)
    new = open_case(opened=MONDAY, days=10, department="standesamt")
    gone = open_case(opened=MONDAY - timedelta(days=8), days=10)
    gone.close(at(MONDAY), "done", "u-anna")
    ws.feed(*auto, by_hand, corrected, waiting, old, middle, new, gone)
    today = day2

    intake = statistics.intake_per_day(ws.engine, None, today=today, days=7)
    assert [(r.day, r.department_id, r.channel, r.count) for r in intake] == [
        (day1, "bauamt", "portal", 3),
        (day2, None, "scan", 1),
        (day2, "bauamt", "portal", 1),
        (day2, "bauamt", "scan", 1),
    ]
    assert sum(r.count for r in statistics.intake_per_day(ws.engine, {"bauamt"}, today=today)) == 5
    assert statistics.intake_per_day(ws.engine, None, today=today, days=1)[0].day == day2

    rates = statistics.routing_rates(ws.engine, None, today=today)
    assert (rates.routed, rates.auto_routed, rates.corrected) == (5, 4, 1)
    assert (rates.auto_rate, rates.correction_rate) == (0.8, 0.25)
    assert statistics.routing_rates(ws.engine, {"standesamt"}, today=today).auto_rate is None

    backlog = statistics.backlog_by_age(ws.engine, None, today=today)
    counts = {(b.department_id, b.bucket): b.count for b in backlog if b.count}
    assert counts == {("bauamt", "21+"): 1, ("bauamt", "6-10"): 1, ("standesamt", "0-5"): 1}
    assert len(backlog) == 8

    deadlines = statistics.deadlines(ws.engine, {"bauamt"}, today=today, calendar=NW)
    assert [(d.department_id, d.open, d.overdue) for d in deadlines] == [("bauamt", 2, 1)]


# -- delivery -------------------------------------------------------------------------------


def busy_day(ws: Workspace) -> list[Aggregate]:
    item = new_item("Antrag auf Baugenehmigung, Lindenau", documents=2)
    item.route("bauamt", "classifier", 0.9, "")
    case = open_case(item=item)
    item.attach_to_case(case.id, case.reference)
    case.assign("u-anna", "Anna Becker", by="u-anna", at=at(MONDAY, 10))
    case.request_information("r1", "Bitte", date(2026, 3, 10), "u-anna", at(MONDAY, 11))
    case.receive_information(None, "u-anna", at(date(2026, 3, 3)))
    case.extend_deadline(2, "workload", "", "u-lead", at(date(2026, 3, 3)))
    other = new_item(channel="scan")
    other.send_to_triage("rescan", [], ["unscharf"])
    second = open_case(department="standesamt", days=None)
    second.close(at(MONDAY), "withdrawn", "u-lead")
    return [item, case, other, second]


def test_an_event_delivered_twice_changes_nothing(ws: Workspace) -> None:
    ws.feed(*busy_day(ws))
    before = snapshot(ws.engine)
    for event in list(ws.feed.delivered):
        ws.feed.deliver(event)  # the relay published it again: a new position
    assert snapshot(ws.engine) == before
    assert ws.cases.process(ws.feed.delivered[0], Tracking("log", 1)) is False


def test_a_view_cleared_and_rebuilt_from_the_events_equals_the_live_view(ws: Workspace) -> None:
    ws.feed(*busy_day(ws))
    live = snapshot(ws.engine)
    live_hits = search(ws.engine, "Baugenehmigung", None)
    for projection in (ws.cases, ws.items, ws.search):
        projection.clear()
        assert projection.position("log") == 0
    assert all(rows == [] for rows in snapshot(ws.engine).values())
    assert search(ws.engine, "Baugenehmigung", None) == []
    replay = Feed([ws.cases, ws.items, ws.search])
    for event in ws.feed.delivered:
        replay.deliver(event)
    assert snapshot(ws.engine) == live
    assert search(ws.engine, "Baugenehmigung", None) == live_hits


def test_a_page_can_wait_until_the_views_have_seen_a_change(ws: Workspace) -> None:
    case = open_case()
    item = new_item("Text")
    ws.feed(case, item)
    assert ws.cases.seen_version(case.id) == case.version
    assert ws.items.wait_for(item.id, item.version, timeout_s=0.5) is True
    assert ws.search.seen_version(item.id) == item.version
    case.assign("u-anna", "Anna Becker", by="u-anna", at=at(MONDAY, 10))
    assert ws.cases.wait_for(case.id, case.version, timeout_s=0.05) is False
    ws.feed(case)
    assert ws.cases.wait_for(case.id, case.version, timeout_s=0.5) is True
