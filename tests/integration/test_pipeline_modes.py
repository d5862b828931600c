"""The pipeline scenarios, run in both modes: embedded, and PostgreSQL + Kafka + S3 with
the relay and each worker as a separate process."""

from __future__ import annotations

from uuid import uuid4

from aggregates.station import ScanningStation, hash_token
from mailroom.auth.principal import system_principal
from mailroom.services.intake import Upload
from routing import CaseRecord
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.documents import text_pdf
from tests.integration.stack import (
    all_visible,
    reconcile,
    wait_until,
)


def test_a_portal_submission_reaches_the_status_view_with_its_department(stack):
    receipt = stack.mailroom.intake.submit(submission(service_key="hundesteuer"), [], None)
    wait_until(lambda: all_visible(stack.mailroom, [receipt], "in_progress"), 90, "routing")
    record = stack.mailroom.status.lookup(receipt.reference, receipt.access_code, "c")
    assert record.department_id == "steueramt"
    reconcile(stack.mailroom, [receipt])


def test_a_born_digital_pdf_gets_its_text_layer_recorded(stack):
    pdf = text_pdf(["Antrag auf Hundesteuer-Ermäßigung", "Seite zwei mit Anlage"])
    receipt = stack.mailroom.intake.submit(submission(), [Upload("antrag.pdf", pdf)], None)

    def extracted() -> bool:
        return bool(stack.mailroom.app.get_item(receipt.item_id).texts)

    wait_until(extracted, 90, "text extraction")
    (pages,) = stack.mailroom.app.get_item(receipt.item_id).texts.values()
    assert "Ermäßigung" in pages[0].text and "Anlage" in pages[1].text
    assert stack.mailroom.blobs.exists(
        stack.mailroom.app.get_item(receipt.item_id).documents[0].blob_key
    )


def test_a_restart_in_the_middle_loses_nothing_and_doubles_nothing(stack):
    intake = stack.mailroom.intake
    first = [intake.submit(submission(), [], None) for _ in range(20)]
    wait_until(lambda: all_visible(stack.mailroom, first[:5], "in_progress"), 60, "progress")
    stack.stop_consumers()
    second = [intake.submit(submission(service_key="trauung"), [], None) for _ in range(20)]
    stack.start_consumers()
    everything = first + second
    wait_until(lambda: all_visible(stack.mailroom, everything, "in_progress"), 90, "catch-up")
    reconcile(stack.mailroom, everything)


def test_scanned_letters_are_routed_and_follow_ups_join_their_case(stack):
    """A new letter opens a case at the department the router chose; a follow-up from the
    same citizen citing that case's legacy reference is attached to it."""
    mailroom = stack.mailroom
    mailroom.services.imports.import_cases(system_principal("test"), [LEGACY_CASE])
    station = ScanningStation(
        name="Scanner", token_hash=hash_token(uuid4().hex), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    wait_until(
        lambda: mailroom.case_directory.case_uuid(LEGACY_CASE.case_id) is not None,
        90,
        "the imported case in the case directory",
    )
    new = mailroom.intake.scan(station, [Upload("a.pdf", text_pdf(SPERRMUELL))], None)
    follow_up = mailroom.intake.scan(station, [Upload("b.pdf", text_pdf(FOLLOW_UP))], None)

    def decided() -> bool:
        return all(mailroom.app.get_item(r.item_id).case_id for r in (new, follow_up))

    wait_until(decided, 90, "routing of both letters")
    assert mailroom.app.get_item(new.item_id).department_id == "abfall"
    attached = mailroom.app.get_item(follow_up.item_id)
    case = mailroom.app.find_case(attached.case_id)
    assert case.reference == LEGACY_CASE.case_id and attached.id in case.item_ids
    wait_until(lambda: all_visible(mailroom, [new, follow_up], "in_progress"), 90, "status")


LEGACY_CASE = CaseRecord(
    "63-BA-2026-0234",
    "bauaufsicht",
    "Peter Hakvoort",
    "Eichendorffweg 15, 47137 Lindenau",
    "Anbau Wintergarten Eichendorffweg 15",
)
SPERRMUELL = (
    "Erika Brandt\nLindenallee 4\n47137 Lindenau\n\nStadt Lindenau\n47131 Lindenau\n\n"
    "Sperrmüll-Termin\n\nSehr geehrte Damen und Herren,\nich möchte einen Termin für die "
    "Abholung von Sperrmüll vereinbaren: ein alter Schrank und ein Sofa.\n\n"
    "Mit freundlichen Grüßen\nErika Brandt"
)
FOLLOW_UP = (
    "Peter Hakvoort\nEichendorffweg 15\n47137 Lindenau\n\nStadt Lindenau\nBauaufsicht\n"
    "47131 Lindenau\n\nIhr Zeichen: 63-BA-2026-0234\n\nNachreichung Statik\n\n"
    "Sehr geehrte Damen und Herren,\nanbei reiche ich die Statik für unseren Bauantrag nach.\n\n"
    "Mit freundlichen Grüßen\nPeter Hakvoort"
)
