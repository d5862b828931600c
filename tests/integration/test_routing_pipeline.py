"""Scanned letters through the whole embedded pipeline: text -> router -> case / triage."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic

from aggregates.case import Case
from aggregates.mail_item import ItemStatus, MailItem
from aggregates.station import ScanningStation, hash_token
from mailroom.auth.principal import system_principal
from mailroom.bootstrap import Mailroom
from mailroom.services import ServiceError
from mailroom.services.intake import Upload
from mailroom.texts_de import triage_reason
from routing import CaseRecord, Example
from tests.fixtures import scans
from tests.fixtures.builders import FakeClock
from tests.fixtures.documents import text_pdf


def letter(sender: str, street: str, subject: str, body: str, reference: str = "") -> str:
    cited = f"Ihr Zeichen: {reference}\n" if reference else ""
    return (
        f"{sender}\n{street}\n47137 Lindenau\n\nStadt Lindenau\nRathausplatz 1\n47131 Lindenau\n\n"
        f"{cited}Lindenau, 3. März 2026\n\n{subject}\n\nSehr geehrte Damen und Herren,\n\n"
        f"{body}\n\nMit freundlichen Grüßen\n{sender}\n"
    )


SPERRMUELL = letter(
    "Erika Brandt",
    "Lindenallee 4",
    "Sperrmüll-Termin",
    "ich möchte einen Termin für die Abholung von Sperrmüll vereinbaren. "
    "Es handelt sich um einen alten Schrank und ein Sofa.",
)
CASE = CaseRecord(
    "63-BA-2026-0234",
    "bauaufsicht",
    "Peter Hakvoort",
    "Eichendorffweg 15, 47137 Lindenau",
    "Anbau Wintergarten Eichendorffweg 15",
)


ADMIN = system_principal("test")


class Casework:
    """The services a test calls, acting as an administrator."""

    def __init__(self, mailroom: Mailroom) -> None:
        self.services = mailroom.services

    def import_cases(self, cases):
        return self.services.imports.import_cases(ADMIN, cases)

    def import_examples(self, examples, prefix):
        return self.services.imports.import_examples(ADMIN, examples, prefix)

    def reroute(self, reference, department, by, note=""):
        return self.services.casework.reroute_item(
            system_principal(by), reference, department, note
        )


@pytest.fixture
def casework(mailroom: Mailroom) -> Casework:
    return Casework(mailroom)


def scan(mailroom: Mailroom, text: str) -> MailItem:
    station = ScanningStation(
        name="Scanner", token_hash=hash_token(uuid4().hex), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    pages = text.split("\f")
    receipt = mailroom.intake.scan(station, [Upload("brief.pdf", text_pdf(pages))], None)
    mailroom.runner.run_until_idle()
    mailroom.runner.run_until_idle()  # the router may wait for the case directory
    return mailroom.app.get_item(receipt.item_id)


def events_of(mailroom: Mailroom, cls: type) -> list:
    topic = get_topic(cls)
    return [
        mailroom.app.to_domain_event(n)
        for n in mailroom.app.iter_notifications()
        if n.topic == topic
    ]


def test_a_scanned_letter_is_routed_and_opens_a_case_with_an_explanation(mailroom):
    item = scan(mailroom, SPERRMUELL)
    assert item.status is ItemStatus.ROUTED and item.department_id == "abfall"
    (routed,) = events_of(mailroom, MailItem.Routed)
    assert routed.method == "classifier" and routed.confidence >= 0.6
    assert "Sperrmüll" in routed.explanation or "sperrm" in routed.explanation.lower()
    case = mailroom.app.find_case(item.case_id)
    assert case.department_id == "abfall" and case.reference == item.reference


def test_a_follow_up_from_the_cases_citizen_is_attached_to_that_case(mailroom, casework):
    casework.import_cases([CASE])
    mailroom.runner.run_until_idle()
    item = scan(
        mailroom,
        letter(
            "Peter Hakvoort",
            "Eichendorffweg 15",
            "Nachreichung Statik",
            "anbei reiche ich die Statik für unseren Bauantrag nach.",
            "63-BA-2026-0234",
        ),
    )
    assert item.department_id == "bauaufsicht"
    case = mailroom.app.find_case(item.case_id)
    assert case.reference == "63-BA-2026-0234"
    assert item.id in case.item_ids
    assert len(events_of(mailroom, Case.Opened)) == 1  # no new case


def test_someone_else_quoting_a_case_number_is_never_attached(mailroom, casework):
    casework.import_cases([CASE])
    mailroom.runner.run_until_idle()
    item = scan(
        mailroom,
        letter(
            "Maria Schulz",
            "Lindenweg 3",
            "Beschwerde Baustelle",
            "ich beschwere mich über die Baustelle meines Nachbarn.",
            "63-BA-2026-0234",
        ),
    )
    assert item.status is ItemStatus.TRIAGE and item.case_id is None
    (triaged,) = events_of(mailroom, MailItem.SentToTriage)
    assert any("63-BA-2026-0234" in w for w in triaged.warnings)


def test_mail_for_the_tax_office_goes_to_triage_marked_misdirected(mailroom):
    item = scan(
        mailroom,
        letter(
            "Jörg Weber",
            "Am Markt 7",
            "Einkommensteuererklärung 2025",
            "anbei sende ich Ihnen meine Einkommensteuererklärung für 2025 "
            "mit den Belegen. Bitte teilen Sie mir meine Steuernummer mit.",
        ),
    )
    assert item.status is ItemStatus.TRIAGE
    (triaged,) = events_of(mailroom, MailItem.SentToTriage)
    assert triaged.misdirected


def test_a_clerks_rerouting_is_an_event_the_router_learns_from(mailroom, casework):
    item = scan(mailroom, SPERRMUELL)
    before = mailroom.consumer("router").model.current().model_version
    casework.reroute(item.reference, "tiefbau", by="clerk-7", note="Gehweg blockiert")
    moved = mailroom.app.get_item(item.id)
    assert moved.department_id == "tiefbau"
    assert mailroom.app.find_case(moved.case_id).department_id == "tiefbau"
    after = mailroom.consumer("router").model.current().model_version
    assert after != before
    mailroom.runner.run_until_idle()
    record = mailroom.status_projection.find(item.reference)
    assert record.department_id == "tiefbau"


def test_rerouting_to_an_unknown_department_is_refused(mailroom, casework):
    item = scan(mailroom, SPERRMUELL)
    with pytest.raises(ServiceError, match="unknown department"):
        casework.reroute(item.reference, "nirgendwo", by="clerk")


def test_imported_examples_are_events_and_importing_twice_adds_nothing(mailroom, casework):
    examples = [Example("ex-1", "abfall", SPERRMUELL)]
    before = mailroom.consumer("router").model.current().model_version
    assert casework.import_examples(examples, "train") == (1, 0)
    assert casework.import_examples(examples, "train") == (0, 1)
    assert mailroom.consumer("router").model.current().model_version != before


def scan_files(mailroom: Mailroom, *files: tuple[str, bytes]) -> MailItem:
    station = ScanningStation(
        name="Scanner", token_hash=hash_token(uuid4().hex), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    receipt = mailroom.intake.scan(station, [Upload(n, d) for n, d in files], None)
    mailroom.runner.run_until_idle()
    mailroom.runner.run_until_idle()
    return mailroom.app.get_item(receipt.item_id)


def test_a_letter_fed_upside_down_is_read_turned_back_and_routed(mailroom):
    """GIVEN a paper letter scanned upside down with dust on it
    WHEN the pipeline has run
    THEN OCR turned it back, read it, and the router sent it to the Bürgerbüro."""
    page = scans.dirtied(scans.turned(scans.letter_page(), 180))
    item = scan_files(mailroom, ("scan_0001.png", scans.png_bytes(page)))
    (pages,) = item.texts.values()
    assert pages[0].method == "ocr" and pages[0].rotation == 180
    assert "Personalausweis" in pages[0].text
    assert item.department_id == "buergerbuero"
    assert item.searchable_pdfs  # a searchable PDF was stored beside the original


def test_a_blank_scan_goes_to_triage_for_rescanning_instead_of_guessing(mailroom):
    item = scan_files(mailroom, ("leer.png", scans.png_bytes(scans.blank_page())))
    assert item.status is ItemStatus.TRIAGE
    (triaged,) = events_of(mailroom, MailItem.SentToTriage)
    assert triaged.code == "rescan"
    assert set(triaged.detail.split(", ")) <= {"blank_page", "no_text"}  # what was wrong
    assert triage_reason(triaged.code) == "Bitte neu scannen oder von Hand erfassen"
    assert item.quality_issues[0].code in {"blank_page", "no_text"}


def test_the_case_of_a_scanned_letter_is_named_after_its_subject(mailroom):
    item = scan(mailroom, SPERRMUELL)
    assert mailroom.app.find_case(item.case_id).subject == "Sperrmüll-Termin"
