"""The sample city's templates render to PDF/A letters in the DIN 5008 layout (Form B)."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from letters import (
    LetterError,
    MissingFieldError,
    RenderedLetter,
    TemplateDefinitionError,
    TemplateLibrary,
    UnknownTemplateError,
)
from tests.unit.letters.conftest import (
    LINDENAU_LETTERS,
    TEMPLATES,
    letter_of_pages,
    sample_data,
)
from tests.unit.letters.helpers import page_codes, page_count, page_texts, text_box, text_boxes

# DIN 5008 Form B, millimetres from the paper's top-left corner
WINDOW = (20.0, 45.0, 105.0, 90.0)  # left, top, right, bottom
ADDRESS_ZONE = (20.0, 62.7, 105.0, 90.0)  # the Anschriftzone: below return line and notes
RETURN_ZONE = (20.0, 45.0, 105.0, 50.0)
INFO_BLOCK = (125.0, 50.0, 200.0, 100.0)


def test_the_library_lists_the_four_templates_sorted_with_their_rules(
    library: TemplateLibrary,
) -> None:
    infos = library.list()

    assert [info.name for info in infos] == list(TEMPLATES)
    rules = {i.name: (i.requires_second_approval, i.inbox_fallback_days) for i in infos}
    assert rules == {
        "anforderung_unterlagen": (False, 7),
        "begleitschreiben": (False, 14),
        "bescheid": (True, 7),
        "eingangsbestaetigung": (False, None),
    }
    bescheid = library.info("bescheid")
    assert bescheid.title == "Bescheid"
    names = [spec.name for spec in bescheid.fields]
    assert names[:2] == ["sender.authority", "sender.department"]  # the layout's come first
    assert {"decision", "reasoning", "legal_remedy", "recipient.lines"} <= set(names)
    assert set(bescheid.required_fields) >= {"decision", "reasoning", "info.case_reference"}
    assert "legal_remedy" not in bescheid.required_fields
    lines = next(spec for spec in bescheid.fields if spec.name == "recipient.lines")
    assert lines.kind == "list"
    assert all(spec.label and spec.label[0].isupper() for spec in bescheid.fields)


@pytest.mark.parametrize("name", TEMPLATES)
def test_each_template_renders_its_sample(name: str, samples: dict[str, RenderedLetter]) -> None:
    letter = samples[name]

    assert letter.pdf.startswith(b"%PDF-")
    assert letter.pages == page_count(letter.pdf) >= 1
    assert letter.sha256 == hashlib.sha256(letter.pdf).hexdigest()


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_recipient_lands_in_the_envelope_window(
    name: str, library: TemplateLibrary, samples: dict[str, RenderedLetter]
) -> None:
    sample = library.info(name).sample
    pdf = samples[name].pdf

    recipient = text_box(pdf, sample["recipient"]["name"])
    # the postcode and city also stand in the return line (the sender's) and the footer
    last_lines = text_boxes(pdf, sample["recipient"]["lines"][-1])
    return_line = text_box(pdf, sample["sender"]["return_line"])

    assert recipient is not None and return_line is not None
    assert recipient.within(*WINDOW)
    assert recipient.within(*ADDRESS_ZONE), recipient
    below = [box for box in last_lines if box.top > recipient.bottom and box.left < 30]
    assert below and below[0].within(*ADDRESS_ZONE), last_lines
    assert recipient.left == pytest.approx(25.0, abs=1.0)  # 5 mm into the field
    assert return_line.within(*RETURN_ZONE), return_line


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_information_block_sits_right_of_the_window(
    name: str, library: TemplateLibrary, samples: dict[str, RenderedLetter]
) -> None:
    info = library.info(name).sample["info"]
    pdf = samples[name].pdf

    for text in ("Vorgangsnummer", info["case_reference"], "Datum", info["date"]):
        boxes = text_boxes(pdf, text)  # the reference also stands in the text
        assert any(box.within(*INFO_BLOCK) for box in boxes), (text, boxes)
    subject = text_box(pdf, library.info(name).sample["subject"])
    assert subject is not None
    assert subject.top == pytest.approx(98.46, abs=1.5)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_page_carries_a_qr_code_of_the_case_reference(
    name: str, library: TemplateLibrary, samples: dict[str, RenderedLetter]
) -> None:
    reference = library.info(name).sample["info"]["case_reference"]
    letter = samples[name]

    for index in range(letter.pages):
        (code,) = page_codes(letter.pdf, index)
        assert code.text == reference
        assert code.format == "QR Code"  # a regular QR code, not Micro QR
        assert code.ec_level == "M"
        # In the footer, left: clear of the window, the information block and the text.
        assert code.box.within(20.0, 255.0, 50.0, 292.0), code.box


def test_the_qr_code_is_read_from_a_coarse_rendering(samples: dict[str, RenderedLetter]) -> None:
    """A 100-dpi rendering (a poor fax or a phone photo from afar) still decodes."""
    (code,) = page_codes(samples["bescheid"].pdf, 0, dpi=100)
    assert code.text == "LIN-2026-H4TW-8M2G"


@pytest.mark.parametrize("name", TEMPLATES)
def test_pages_are_numbered_seite_x_von_y(name: str, samples: dict[str, RenderedLetter]) -> None:
    letter = samples[name]
    texts = page_texts(letter.pdf)

    for number, text in enumerate(texts, start=1):
        assert f"Seite {number} von {letter.pages}" in text


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_letter_is_pdf_a_with_embedded_fonts_title_and_language(
    name: str, library: TemplateLibrary, samples: dict[str, RenderedLetter]
) -> None:
    reader = PdfReader(io.BytesIO(samples[name].pdf))
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data().decode()

    assert re.search(r'pdfaid:part="2"', xmp) and re.search(r'pdfaid:conformance="B"', xmp)
    assert library.info(name).title in xmp  # dc:title
    assert root["/Lang"] == "de"
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    assert reader.metadata is not None and reader.metadata.title.startswith(
        library.info(name).title
    )
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def test_the_bescheid_has_tenor_reasoning_and_a_rechtsbehelfsbelehrung(
    samples: dict[str, RenderedLetter],
) -> None:
    text = " ".join(page_texts(samples["bescheid"].pdf))
    flat = re.sub(r"\s+", " ", text)

    for heading in ("Entscheidung", "Begründung", "Rechtsbehelfsbelehrung"):
        assert heading in flat
    assert "innerhalb eines Monats nach seiner Bekanntgabe Klage" in flat
    assert "Verwaltungsgericht" in flat


def test_a_bescheid_may_bring_its_own_legal_remedy(library: TemplateLibrary) -> None:
    data = sample_data(library, "bescheid")
    data["legal_remedy"] = (
        "Gegen diesen Bescheid kann innerhalb eines Monats Widerspruch erhoben werden."
    )

    letter = library.render("bescheid", data, qr_payload="LIN-2026-H4TW-8M2G")

    flat = re.sub(r"\s+", " ", " ".join(page_texts(letter.pdf)))
    assert "Widerspruch erhoben werden" in flat
    assert "Verwaltungsgericht" not in flat


def test_the_acknowledgement_and_the_request_name_reference_access_code_and_status_page(
    samples: dict[str, RenderedLetter],
) -> None:
    for name in ("eingangsbestaetigung", "anforderung_unterlagen"):
        flat = re.sub(r"\s+", " ", " ".join(page_texts(samples[name].pdf)))
        assert "LIN-2026-7K3F-92QX" in flat
        assert "4KQ7-M2XD" in flat
        assert "https://www.lindenau.de/status" in flat
    request = re.sub(r"\s+", " ", " ".join(page_texts(samples["anforderung_unterlagen"].pdf)))
    assert "22.12.2026" in request
    assert "Zulassungsbescheinigung Teil I" in request


def test_a_missing_field_error_names_every_missing_field(library: TemplateLibrary) -> None:
    data = sample_data(library, "bescheid")
    del data["decision"]
    data["recipient"]["name"] = "  "
    data["recipient"]["lines"] = []

    with pytest.raises(MissingFieldError) as raised:
        library.render("bescheid", data, qr_payload="LIN-2026-H4TW-8M2G")

    assert raised.value.fields == ["recipient.name", "recipient.lines", "decision"]
    assert raised.value.labels[2] == "Entscheidung (Tenor)"
    assert "decision" in str(raised.value)
    with pytest.raises(MissingFieldError) as checked:
        library.check("bescheid", data)
    assert checked.value.fields == raised.value.fields


def test_check_passes_the_sample(library: TemplateLibrary) -> None:
    for name in TEMPLATES:
        library.check(name, library.info(name).sample)


@pytest.mark.parametrize("name", ["nope", "../bescheid", "_stadt", "Bescheid", ""])
def test_an_unknown_template_is_refused(library: TemplateLibrary, name: str) -> None:
    with pytest.raises(UnknownTemplateError) as raised:
        library.info(name)
    assert "bescheid" in raised.value.known
    with pytest.raises(UnknownTemplateError):
        library.render(name, {}, qr_payload="X")


def test_data_is_escaped_and_not_changed(library: TemplateLibrary) -> None:
    data = sample_data(library, "begleitschreiben")
    data["body"] = "Bitte <b>nicht</b> fett & so."
    data["recipient"]["lines"] = "Lindenstraße 5\n59999 Lindenau"  # one string: split in lines
    before = repr(data)

    letter = library.render("begleitschreiben", data, qr_payload="LIN-2026-P9XB-3RVQ")

    assert repr(data) == before
    assert "Bitte <b>nicht</b> fett & so." in page_texts(letter.pdf)[0]
    assert text_box(letter.pdf, "59999 Lindenau") is not None


def test_rendering_is_deterministic(library: TemplateLibrary) -> None:
    first = library.render_sample("eingangsbestaetigung")
    second = library.render_sample("eingangsbestaetigung")
    assert first.sha256 == second.sha256


def test_a_long_letter_repeats_qr_code_footer_and_header_on_every_page(
    library: TemplateLibrary,
) -> None:
    letter = letter_of_pages(library, 3, "LIN-2026-P9XB-3RVQ")

    texts = page_texts(letter.pdf)
    assert len(texts) == 3
    for index, text in enumerate(texts):
        assert [c.text for c in page_codes(letter.pdf, index)] == ["LIN-2026-P9XB-3RVQ"]
        assert "Sparkasse Lindenau" in text
        if index:  # following pages: who writes and the case, above the text
            assert "Vorgangsnummer LIN-2026-P9XB-3RVQ" in text


def test_bad_values_and_payloads_are_letter_errors(library: TemplateLibrary) -> None:
    data = sample_data(library, "begleitschreiben")
    with pytest.raises(LetterError):
        library.render("begleitschreiben", data, qr_payload="")
    data["recipient"] = "Frau Mustermann"
    with pytest.raises(LetterError):
        library.render("begleitschreiben", data, qr_payload="LIN-2026-P9XB-3RVQ")


def test_a_template_using_undeclared_data_is_a_definition_error(tmp_path: Path) -> None:
    (tmp_path / "kurz.toml").write_text('title = "Kurzbrief"\n[sample]\n')
    (tmp_path / "kurz.html.j2").write_text(
        '{% extends "layout/base.html.j2" %}{% block body %}{{ undeclared }}{% endblock %}'
    )
    library = TemplateLibrary(tmp_path)
    data = sample_data(TemplateLibrary(LINDENAU_LETTERS), "begleitschreiben")

    with pytest.raises(TemplateDefinitionError, match="undeclared"):
        library.render("kurz", data, qr_payload="X-1")


def test_a_letter_may_not_fetch_files_outside_its_folders(tmp_path: Path) -> None:
    (tmp_path / "kurz.toml").write_text('title = "Kurzbrief"\n[sample]\n')
    (tmp_path / "kurz.html.j2").write_text(
        '{% extends "layout/base.html.j2" %}'
        '{% block body %}<img src="file:///etc/hostname">{% endblock %}'
    )
    library = TemplateLibrary(tmp_path)
    data = sample_data(TemplateLibrary(LINDENAU_LETTERS), "begleitschreiben")

    with pytest.raises(LetterError):
        library.render("kurz", data, qr_payload="X-1")


def test_a_postal_note_stands_above_the_address_and_a_seventh_line_is_refused(
    library: TemplateLibrary,
) -> None:
    data = sample_data(library, "bescheid")
    data["recipient"]["note"] = "Einschreiben mit Rückschein"
    data["recipient"]["lines"] = ["z. Hd. Frau Aylin Yılmaz", "Café Lindenblüte", "Markt 7"]
    data["recipient"]["lines"].append("59999 Lindenau")

    letter = library.render("bescheid", data, qr_payload="LIN-2026-H4TW-8M2G")

    note = text_box(letter.pdf, "Einschreiben mit Rückschein")
    last = [b for b in text_boxes(letter.pdf, "59999 Lindenau") if b.top > 60 and b.left < 30]
    assert note is not None and note.within(20.0, 50.0, 105.0, 62.7), note  # Vermerkzone
    assert last and last[0].within(*ADDRESS_ZONE), last
    data["recipient"]["lines"] += ["Hinterhaus", "2. Obergeschoss"]
    with pytest.raises(LetterError, match="7 lines"):
        library.render("bescheid", data, qr_payload="LIN-2026-H4TW-8M2G")
