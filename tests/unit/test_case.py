"""The case lifecycle: every action is an event naming who did it, in an allowed order."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from aggregates.case import Case, CaseClosedError, CaseError, CaseStatus

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def opened_case() -> Case:
    return Case.open(
        reference="LIN-2026-AAAA-BBBB",
        department_id="abfall",
        subject="Sperrmüll",
        party="Eva Schulz",
        opened_at=NOW,
        opened_by="system:router",
        first_item_id=uuid4(),
        processing_days=5,
    )


def kinds(case: Case) -> list[str]:
    return [type(e).__name__ for e in case.collect_events()]


def test_a_case_goes_from_new_to_in_progress_to_waiting_and_back_and_is_closed():
    case = opened_case()
    assert case.status is CaseStatus.OPEN and case.opened_by == "system:router"
    case.assign("staff:eva", "Eva", by="staff:eva", at=NOW)
    assert case.status is CaseStatus.IN_PROGRESS and case.assignee_id == "staff:eva"
    case.request_information("r1", "Bitte Foto senden", date(2026, 12, 15), "staff:eva", NOW)
    assert case.status is CaseStatus.WAITING and case.open_request_id == "r1"
    follow_up = uuid4()
    case.attach_item(follow_up)
    case.receive_information(follow_up, "system:router", NOW)
    assert case.status is CaseStatus.IN_PROGRESS and case.open_request_id is None
    case.extend_deadline(5, "third_party", "Stellungnahme Bauamt", "staff:eva", NOW)
    assert case.extension_days == 5
    case.add_note("Anruf: Termin am Montag", "staff:eva", "Eva", NOW)
    case.close(NOW, "done", closed_by="staff:eva")
    assert case.closed and case.outcome == "done"
    case.reopen("Bürgerin widerspricht", "staff:eva", NOW)
    assert case.status is CaseStatus.IN_PROGRESS and case.outcome is None
    assert kinds(case) == [
        "Opened",
        "Assigned",
        "InformationRequested",
        "ItemAttached",
        "InformationReceived",
        "DeadlineExtended",
        "NoteAdded",
        "Closed",
        "Reopened",
    ]


def test_a_closed_case_refuses_work_until_it_is_reopened():
    case = opened_case()
    case.close(NOW, "granted", closed_by="staff:eva")
    for command in (
        lambda: case.assign("staff:eva", "Eva", "staff:eva", NOW),
        lambda: case.attach_item(uuid4()),
        lambda: case.reassign("tiefbau", "staff:eva"),
        lambda: case.extend_deadline(3, "complex", "", "staff:eva", NOW),
    ):
        with pytest.raises(CaseClosedError):
            command()
    with pytest.raises(CaseClosedError):
        case.close(NOW, "done", closed_by="staff:eva")


def test_codes_outside_the_known_lists_are_refused_with_the_known_ones_named():
    case = opened_case()
    with pytest.raises(CaseError, match="known: granted"):
        case.close(NOW, "erledigt", closed_by="staff:eva")
    with pytest.raises(CaseError, match="ExtensionReason"):
        case.extend_deadline(3, "weil", "", "staff:eva", NOW)
    with pytest.raises(CaseError, match="1 to 120"):
        case.extend_deadline(0, "complex", "", "staff:eva", NOW)


def test_asking_twice_or_answering_nothing_is_refused():
    case = opened_case()
    with pytest.raises(CaseError, match="no open information request"):
        case.receive_information(None, "staff:eva", NOW)
    with pytest.raises(CaseError, match="after today"):
        case.request_information("r", "Bitte", NOW.date(), "staff:eva", NOW)
    case.request_information("r", "Bitte", date(2026, 12, 20), "staff:eva", NOW)
    with pytest.raises(CaseError, match="already waits"):
        case.request_information("r2", "Noch", date(2026, 12, 20), "staff:eva", NOW)


def test_rerouting_takes_the_case_off_the_assignees_desk():
    case = opened_case()
    case.assign("staff:eva", "Eva", "staff:eva", NOW)
    case.reassign("tiefbau", reassigned_by="staff:eva", note="Gehweg")
    assert case.department_id == "tiefbau" and case.assignee_id is None
    assert case.status is CaseStatus.OPEN


def test_v1_events_are_read_with_a_legacy_actor():
    state = {"reference": "R"}
    Case.Opened.upcast_v1_v2(state)
    assert state == {"reference": "R", "opened_by": "system:legacy", "processing_days": None}
    closed: dict[str, object] = {"outcome": "erledigt"}
    Case.Closed.upcast_v1_v2(closed)
    assert closed["closed_by"] == "system:legacy"
