"""A citizen's letter from arrival to decision, in both modes (embedded; PostgreSQL + Kafka +
S3 with every worker as its own process):

scanned letter → routed (Eingangsbestätigung queued for print) → the clerk asks for documents
(Anforderung queued for print) → the citizen answers online with reference and access code →
the deadline resumes → the citizen signs in and agrees to digital delivery, the clerk links
the letter to the Bürgerkonto → the clerk issues a notice, a colleague approves it → it is
delivered to the Postfach → the citizen opens it (read receipt) → the case is closed and the
status page says "entschieden"."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from aggregates.case import CaseStatus
from aggregates.outgoing_document import DocumentState
from aggregates.station import ScanningStation, hash_token
from mailroom.auth.principal import Principal, Role
from mailroom.services.citizen import Citizen
from mailroom.services.intake import Upload
from tests.fixtures.builders import FakeClock
from tests.fixtures.pdf_documents import text_pdf
from tests.integration.stack import wait_until

ERIKA = Principal(
    "staff:erika", "erika", "Erika Muster", frozenset({Role.CLERK}), frozenset({"standesamt"})
)
JONAS = Principal(
    "staff:jonas", "jonas", "Jonas Lind", frozenset({Role.CLERK}), frozenset({"standesamt"})
)
LETTER = (
    "Eva Musterfrau\nLindenallee 1\n59999 Lindenau\n\nStadt Lindenau\nStandesamt\n\n"
    "Antrag auf eine Geburtsurkunde\n\nSehr geehrte Damen und Herren,\n"
    "bitte senden Sie mir eine Geburtsurkunde meiner Tochter zu. Die Geburt wurde im "
    "Standesamt Lindenau beurkundet.\nMit freundlichen Grüßen\nEva Musterfrau\n"
)
ACCOUNT = "sub-eva-musterfrau"


def letters_of(mailroom: Any, case_reference: str) -> list[tuple[str, str]]:
    return [(r.template, r.state) for r in mailroom.read_models.outgoing.of_case(case_reference)]


def test_a_scanned_letter_is_decided_and_the_notice_read_in_the_postfach(stack):
    mailroom = stack.mailroom
    timeout = 90 if stack.mode == "production" else 20
    station = ScanningStation(
        name="Scanner", token_hash=hash_token(uuid4().hex), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    receipt = mailroom.intake.scan(station, [Upload("antrag.pdf", text_pdf([LETTER]))], None)
    wait_until(lambda: mailroom.app.get_item(receipt.item_id).case_id, timeout, "routing")
    case = mailroom.app.find_case(mailroom.app.get_item(receipt.item_id).case_id)
    assert case.department_id == "standesamt"
    reference = case.reference
    wait_until(
        lambda: letters_of(mailroom, reference) == [("eingangsbestaetigung", "print_queued")],
        timeout,
        "the Eingangsbestätigung queued for print",
    )
    acknowledgement = mailroom.app.find_document(
        UUID(mailroom.read_models.outgoing.of_case(reference)[0].id)
    )
    access_code = acknowledgement.data["access_code"]  # what the citizen finds in the letter

    # The clerk asks for a document: the Anforderung goes by post, the deadline pauses.
    wait_until(lambda: mailroom.case_directory.case_uuid(reference), timeout, "case directory")
    mailroom.services.casework.request_information(
        ERIKA, reference, "Bitte senden Sie uns eine Kopie Ihres Ausweises.", date(2026, 12, 31)
    )
    wait_until(
        lambda: ("anforderung_unterlagen", "print_queued") in letters_of(mailroom, reference),
        timeout,
        "the Anforderung queued for print",
    )
    citizen = mailroom.services.citizen
    wait_until(
        lambda: citizen.status_page(receipt.reference, access_code, "t").may_answer,
        timeout,
        "the status page to show the request",
    )

    # The citizen answers online, typing the reference sloppily.
    sloppy = receipt.reference.lower().replace("-", " ")
    citizen.answer_request(
        sloppy,
        access_code,
        "198.51.100.7",
        "Anbei die Kopie meines Ausweises.",
        [Upload("ausweis.pdf", text_pdf(["Personalausweis Eva Musterfrau"]))],
    )
    assert mailroom.app.find_case(case.id).status is not CaseStatus.WAITING  # resumed
    page = citizen.status_page(receipt.reference, access_code, "t")
    assert not page.deadline_paused and not page.may_answer

    # Bürgerkonto: sign-in, digital delivery, the clerk links the letter to the account.
    citizen.signed_in(Citizen(ACCOUNT, "Eva Musterfrau", "eva@example.org"))
    citizen.set_digital_delivery(ACCOUNT, True, "eva@example.org")
    mailroom.services.casework.link_to_account(ERIKA, reference, ACCOUNT)

    # The notice: drafted by Erika, approved by Jonas, delivered to the Postfach.
    letters = mailroom.services.letters
    drafted = letters.draft(
        ERIKA,
        reference,
        "bescheid",
        {"decision": "Die Geburtsurkunde wird ausgestellt.", "reasoning": "§ 62 PStG."},
    )
    letters.approve(JONAS, drafted.id, drafted.version)
    wait_until(
        lambda: mailroom.app.find_document(drafted.id).state is DocumentState.IN_INBOX,
        timeout,
        "the notice in the Postfach",
    )
    wait_until(lambda: citizen.postfach(ACCOUNT), timeout, "the Postfach view")
    assert [d.title for d in citizen.postfach(ACCOUNT)] == ["Bescheid"]
    _, pdf = citizen.open_document(ACCOUNT, str(drafted.id))
    assert pdf.startswith(b"%PDF")
    notice = mailroom.app.find_document(drafted.id)
    assert notice.state is DocumentState.READ and notice.read_at is not None
    assert [r.reference for r in citizen.requests_of(ACCOUNT)] == [receipt.reference]

    mailroom.services.casework.close(ERIKA, reference, "granted")
    wait_until(
        lambda: (
            "entschieden"
            in citizen.status_page(receipt.reference, access_code, "t").headline.lower()
        ),
        timeout,
        "the status page to say entschieden",
    )
