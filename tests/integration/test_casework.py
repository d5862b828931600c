"""Case work through the services: permissions by department, stale forms, the router
learning from corrections, and a follow-up letter answering an information request."""

from datetime import date, timedelta
from uuid import uuid4

import pytest

from aggregates.case import CaseStatus
from aggregates.station import ScanningStation, hash_token
from mailroom.auth.principal import Principal, Role, system_principal
from mailroom.bootstrap import Mailroom
from mailroom.services import NotFoundError, ServiceError, StaleError
from mailroom.services.intake import Upload
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.pdf_documents import text_pdf

ADMIN = system_principal("test")
STANDESAMT_CLERK = Principal(
    "staff:erika", "erika", "Erika Muster", frozenset({Role.CLERK}), frozenset({"standesamt"})
)
ABFALL_CLERK = Principal(
    "staff:olaf", "olaf", "Olaf Berg", frozenset({Role.CLERK}), frozenset({"abfall"})
)
MAILROOM = Principal("staff:paul", "paul", "Paul", frozenset({Role.MAILROOM}), frozenset())


def portal_case(mailroom: Mailroom) -> str:
    """A Geburtsurkunde request: routed by its service key to the Standesamt."""
    receipt = mailroom.intake.submit(submission(), [], uuid4().hex)
    mailroom.runner.run_until_idle()
    case = mailroom.app.find_case(mailroom.app.get_item(receipt.item_id).case_id)
    assert case is not None and case.department_id == "standesamt"
    return case.reference


def test_a_clerk_takes_notes_and_closes_a_case_of_their_department(mailroom):
    reference = portal_case(mailroom)
    casework = mailroom.services.casework
    taken = casework.take(STANDESAMT_CLERK, reference)
    noted = casework.add_note(STANDESAMT_CLERK, reference, "Urkunde liegt vor", taken.version)
    closed = casework.close(STANDESAMT_CLERK, reference, "granted", noted.version)
    case = mailroom.app.find_case(closed.id)
    assert case.closed and case.outcome == "granted" and case.version == closed.version
    assert case.assignee_id == "staff:erika"


def test_a_case_of_another_department_answers_like_an_unknown_one(mailroom):
    reference = portal_case(mailroom)
    casework = mailroom.services.casework
    for principal in (ABFALL_CLERK, MAILROOM):
        with pytest.raises(NotFoundError) as other:
            casework.take(principal, reference)
        with pytest.raises(NotFoundError) as unknown:
            casework.take(principal, "LIN-2026-0000-0000")
        assert type(other.value) is type(unknown.value)
    assert (
        mailroom.app.find_case(
            mailroom.services.casework.find_visible(ADMIN, reference).id
        ).assignee_id
        is None
    )  # nothing changed


def test_a_form_based_on_an_older_version_changes_nothing(mailroom):
    reference = portal_case(mailroom)
    casework = mailroom.services.casework
    shown = casework.find_visible(STANDESAMT_CLERK, reference).version
    casework.add_note(STANDESAMT_CLERK, reference, "zuerst", shown)
    with pytest.raises(StaleError):
        casework.close(STANDESAMT_CLERK, reference, "done", shown)
    assert not casework.find_visible(ADMIN, reference).closed


def test_rerouting_a_case_moves_its_item_so_the_router_learns(mailroom):
    reference = portal_case(mailroom)
    before = mailroom.consumer("router").model.current().model_version
    changed = mailroom.services.casework.reroute(
        STANDESAMT_CLERK, reference, "abfall", "gehört zur Abfallberatung"
    )
    case = mailroom.app.find_case(changed.id)
    item = mailroom.app.get_item(case.first_item_id)
    assert case.department_id == "abfall" and item.department_id == "abfall"
    assert mailroom.consumer("router").model.current().model_version != before
    with pytest.raises(NotFoundError):  # it left the Standesamt
        mailroom.services.casework.take(STANDESAMT_CLERK, reference)
    mailroom.services.casework.take(ABFALL_CLERK, reference)


def test_bad_input_is_refused_with_a_code(mailroom):
    reference = portal_case(mailroom)
    casework = mailroom.services.casework
    cases = [
        (lambda: casework.add_note(STANDESAMT_CLERK, reference, "  "), "empty_text"),
        (lambda: casework.add_note(STANDESAMT_CLERK, reference, "a\x00b"), "invalid_text"),
        (lambda: casework.close(STANDESAMT_CLERK, reference, "weg"), "invalid_state"),
        (lambda: casework.reroute(STANDESAMT_CLERK, reference, "mars"), "unknown_department"),
        (
            lambda: casework.assign(STANDESAMT_CLERK, reference, "staff:nobody"),
            "unknown_assignee",
        ),
    ]
    for command, code in cases:
        with pytest.raises(ServiceError) as refused:
            command()
        assert refused.value.code == code


def test_a_follow_up_letter_answers_the_open_request_and_resumes_the_deadline(mailroom):
    reference = portal_case(mailroom)
    casework = mailroom.services.casework
    due = date.today() + timedelta(days=14)
    casework.request_information(STANDESAMT_CLERK, reference, "Bitte Ausweiskopie", due)
    assert casework.find_visible(ADMIN, reference).status is CaseStatus.WAITING
    station = ScanningStation(
        name="Scanner", token_hash=hash_token(uuid4().hex), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    letter = (
        "Eva Musterfrau\nLindenallee 1\n\nIhr Zeichen: " + reference + "\n\n"
        "Sehr geehrte Damen und Herren,\nanbei die Kopie meines Ausweises zur Geburtsurkunde.\n"
    )
    receipt = mailroom.intake.scan(station, [Upload("antwort.pdf", text_pdf([letter]))], None)
    mailroom.runner.run_until_idle()
    mailroom.runner.run_until_idle()
    item = mailroom.app.get_item(receipt.item_id)
    case = casework.find_visible(ADMIN, reference)
    if item.case_id != case.id:
        pytest.fail(f"the follow-up was not attached (status {item.status})")
    assert case.status is CaseStatus.OPEN and case.open_request_id is None
