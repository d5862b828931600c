"""Fair OCR: a large item is read in its own lane and does not hold up the letters behind
it; a file that would decode to an absurd number of pixels is refused at intake."""

from __future__ import annotations

import io
import time
from uuid import uuid4

import pytest
from eventsourcing.utils import get_topic
from PIL import Image

from aggregates.mail_item import MailItem
from aggregates.station import ScanningStation, hash_token
from mailroom.bootstrap import build
from mailroom.intake.inspection import ImageTooLargeError, UploadLimits, inspect_file
from mailroom.services.intake import Upload
from tests.fixtures import documents
from tests.fixtures.builders import FakeClock
from tests.integration.stack import wait_until

pytestmark = pytest.mark.slow


def test_a_one_page_letter_is_read_while_a_large_stack_is_still_being_read(settings):
    """The original failure: the single OCR lane read a 60-page item for minutes and every
    letter behind it waited. GIVEN an eight-page stack (the bulk lane here starts above two
    pages) and then a one-page letter, one OCR process WHEN both are read THEN the letter's
    text is recorded first."""
    lanes = settings.model_copy(update={"ocr_bulk_pages": 2, "ocr_jobs": 1})
    mailroom = build(lanes, clock=FakeClock())
    station = ScanningStation(
        name="Scanner", token_hash=hash_token(uuid4().hex), registered_at=FakeClock()()
    )
    mailroom.app.save(station)
    try:
        mailroom.start()
        stack = mailroom.intake.scan(station, [Upload("stapel.pdf", documents.image_pdf(8))], None)
        time.sleep(0.2)  # the stack's pages are queued first
        letter = mailroom.intake.scan(station, [Upload("brief.png", documents.png_page())], None)

        def read(receipt) -> bool:
            return mailroom.app.get_item(receipt.item_id).text_complete

        wait_until(lambda: read(letter) and read(stack), 240, "both read")
        extracted = [
            n.originator_id
            for n in mailroom.app.iter_notifications()
            if n.topic == get_topic(MailItem.TextExtracted)
        ]
        assert extracted == [letter.item_id, stack.item_id]
    finally:
        mailroom.stop()


def test_a_tiff_of_many_huge_pages_is_refused_before_it_is_decoded():
    """The original: a 380 KB TIFF of 60 pages of 100 MP each was accepted and held the
    OCR lane for minutes. All pages together may decode to at most 600 MP."""
    page = Image.new("1", (10_000, 9_000), 1)  # 90 MP, blank: a few KB in G4
    buffer = io.BytesIO()
    page.save(buffer, format="TIFF", compression="group4", save_all=True, append_images=[page] * 6)
    data = buffer.getvalue()
    assert len(data) < 200_000
    started = time.monotonic()
    with pytest.raises(ImageTooLargeError, match="in total"):
        inspect_file(data, filename="bombe.tif", limits=UploadLimits())
    assert time.monotonic() - started < 5
