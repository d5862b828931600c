"""A letter we sent comes back on paper (the citizen returns the form with their documents):
printed, scanned at the station, read by Tesseract — the QR code on it attaches it to its case,
whatever the text says and whichever department the words would suggest."""

from __future__ import annotations

from uuid import uuid4

import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFont

from aggregates.mail_item import ItemStatus
from aggregates.station import ScanningStation, hash_token
from aggregates.values import Applicant
from mailroom.auth.principal import Principal, Role
from mailroom.bootstrap import Mailroom
from mailroom.services.intake import Upload
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.scans import scan_pdf_bytes

ERIKA = Principal(
    "staff:erika", "erika", "Erika Muster", frozenset({Role.CLERK}), frozenset({"standesamt"})
)


def printed_and_scanned(pdf: bytes, scribble: str) -> Image.Image:
    """Page 1 as a 300 dpi greyscale scan, with what the citizen wrote on it."""
    page = pdfium.PdfDocument(pdf)[0]
    image = page.render(scale=300 / 72, grayscale=True).to_pil().convert("L")
    draw = ImageDraw.Draw(image)
    draw.text((250, 2900), scribble, fill=0, font=ImageFont.load_default(size=40))
    return image


def test_a_returned_letter_is_attached_to_its_case_by_the_qr_code(mailroom: Mailroom):
    applicant = Applicant(name="Eva Musterfrau", address="Lindenallee 1, 59999 Lindenau")
    receipt = mailroom.intake.submit(submission(applicant=applicant), [], uuid4().hex)
    mailroom.runner.run_until_idle()
    case = mailroom.app.find_case(mailroom.app.get_item(receipt.item_id).case_id)
    assert case is not None
    drafted = mailroom.services.letters.draft(
        ERIKA,
        case.reference,
        "begleitschreiben",
        {"body": "anbei erhalten Sie das Formular zurück. Bitte unterschreiben Sie es."},
    )
    pdf = mailroom.services.letters.preview(ERIKA, drafted.id)

    # Words that point at another department: only the QR code says where it belongs.
    scan = printed_and_scanned(pdf, "Unterschrieben zurück. Meine Mülltonne ist auch kaputt!")
    station = ScanningStation(
        name="Scanner", token_hash=hash_token(uuid4().hex), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    returned = mailroom.intake.scan(
        station, [Upload("rueckantwort.pdf", scan_pdf_bytes([scan]))], None
    )
    for _ in range(3):
        mailroom.runner.run_until_idle()

    item = mailroom.app.get_item(returned.item_id)
    assert case.reference in item.codes, f"no QR code read: {item.codes}"
    assert item.status is ItemStatus.ROUTED and item.routing_method == "qr-code"
    assert item.case_id == case.id
    assert item.id in mailroom.app.find_case(case.id).item_ids
