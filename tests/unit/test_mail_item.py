from datetime import UTC, datetime
from uuid import uuid4

import pytest

from aggregates.case import Case, CaseClosedError
from aggregates.mail_item import AlreadyAttachedError, AlreadyRoutedError, ItemStatus, MailItem
from aggregates.values import Applicant, Document, PageText, RoutingCandidate, Submission

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def received_item() -> MailItem:
    return MailItem(
        channel="portal",
        intake_key=str(uuid4()),
        reference="LIN-2026-AAAA-BBBB",
        received_at=NOW,
        documents=[Document("sha256/ab/ab", "ab", "application/pdf", 10, 1, "a.pdf")],
        access_code_hash="h",
        request_fingerprint="f",
        submission=Submission("trauung", Applicant("Eva Muster", email="e@x.de"), "Trauung"),
    )


def test_a_new_item_is_received_and_not_yet_routed():
    item = received_item()
    assert item.status is ItemStatus.RECEIVED
    assert item.department_id is None
    assert [type(e).__name__ for e in item.collect_events()] == ["Received"]


def test_routing_assigns_the_department_once():
    item = received_item()
    item.route("standesamt", method="service-key", confidence=1.0, explanation="service")
    assert item.status is ItemStatus.ROUTED and item.department_id == "standesamt"
    with pytest.raises(AlreadyRoutedError):
        item.route("ordnungsamt", method="classifier", confidence=0.9, explanation="x")


def test_an_item_in_triage_can_be_rerouted_by_a_clerk():
    item = received_item()
    item.send_to_triage("uncertain", [RoutingCandidate("abfall", 0.4)], warnings=[])
    assert item.status is ItemStatus.TRIAGE
    item.reroute("abfall", rerouted_by="clerk-1", note="Sperrmüll")
    assert item.status is ItemStatus.ROUTED and item.department_id == "abfall"


def test_text_can_only_be_recorded_for_a_document_of_the_item():
    item = received_item()
    item.record_text("sha256/ab/ab", "text-layer", [PageText(1, "Hallo", 100.0, "text-layer")])
    assert item.texts["sha256/ab/ab"][0].text == "Hallo"
    with pytest.raises(ValueError, match="no document"):
        item.record_text("sha256/zz/zz", "ocr", [])


def test_an_item_belongs_to_one_case_only():
    item = received_item()
    item.attach_to_case(uuid4(), "LIN-2026-AAAA-BBBB")
    with pytest.raises(AlreadyAttachedError):
        item.attach_to_case(uuid4(), "LIN-2026-CCCC-DDDD")


def test_a_closed_case_takes_no_more_items():
    first = uuid4()
    case = Case.open(
        reference="R",
        department_id="abfall",
        subject="Tonne",
        party="Eva",
        opened_at=NOW,
        opened_by="system:router",
        first_item_id=first,
    )
    case.attach_item(first)  # attaching the same item again changes nothing
    assert case.item_ids == [first]
    case.close(NOW, "done", closed_by="staff:eva")
    with pytest.raises(CaseClosedError):
        case.attach_item(uuid4())
