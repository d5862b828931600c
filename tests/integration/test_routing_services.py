"""A scanned letter's case gets the service the router read from its text (and so the service's
deadline); misdirected mail goes to triage marked as such, never to a department."""

from __future__ import annotations

from aggregates.mail_item import ItemStatus
from tests.integration.test_routing_pipeline import SPERRMUELL, scan


def test_a_scanned_letters_case_gets_the_service_and_its_deadline(mailroom):
    item = scan(mailroom, SPERRMUELL)
    assert item.status is ItemStatus.ROUTED and item.department_id == "abfall"
    case = mailroom.app.find_case(item.case_id)
    assert case.service_key == "sperrmuell-termin"
    assert case.processing_days == mailroom.catalog.processing_days("abfall", "sperrmuell-termin")


def test_a_scanned_letter_for_the_finanzamt_goes_to_triage_marked_misdirected(mailroom):
    text = (
        "Erika Brandt\nLindenallee 4\n47137 Lindenau\n\nFinanzamt Lindenau\nPostfach 1234\n"
        "47131 Lindenau\n\nLindenau, 3. März 2026\n\nMeine Unterlagen\n\n"
        "Sehr geehrte Damen und Herren,\n\nanbei die Unterlagen.\n\nMit freundlichen Grüßen\n"
    )
    item = scan(mailroom, text)
    assert item.status is ItemStatus.TRIAGE
    assert item.misdirected and item.department_id is None and item.case_id is None
