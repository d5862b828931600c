"""Outgoing letters on the web pages without a browser: a clerk drafts, previews and approves
from the case page (a Bescheid by a second clerk), missing fields are named and nothing is
stored, stale and unsaved forms change nothing, the case is linked to a Bürgerkonto; the
Poststelle builds a print batch, marks it printed (an event per letter) and records a
returned letter. Who may not see a case or the Postausgang gets the 404 of an unknown page."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from aggregates.values import Applicant
from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom
from mailroom.texts_de import LETTER_SECOND_APPROVAL, LETTER_UNSAVED_CHANGES
from projections.outgoing import OutgoingRow
from tests.fixtures.builders import submission
from tests.fixtures.web_casework import (
    ADMIN,
    csrf_of,
    signed_in_client,
    start_mailroom,
    wait_until,
)

UNKNOWN_REFERENCE = "LIN-2026-0000-0000"
BESCHEID = {
    "decision": "Die beantragte Geburtsurkunde wird ausgestellt.",
    "reasoning": "Die Voraussetzungen nach § 62 PStG liegen vor.",
}


@dataclass
class Site:
    mailroom: Mailroom
    app: object

    def client(self, login: str) -> TestClient:
        return signed_in_client(self.app, login)

    def new_case(self) -> str:
        """A portal request for the Standesamt, with a postal address and no Bürgerkonto."""
        applicant = Applicant(
            name="Eva Musterfrau", email="eva@example.org", address="Lindenallee 1, 59999 Lindenau"
        )
        receipt = self.mailroom.intake.submit(submission(applicant=applicant), [], uuid4().hex)
        found: list[str] = []

        def shown() -> bool:
            item = self.mailroom.app.get_item(receipt.item_id)
            case = self.mailroom.app.find_case(item.case_id) if item.case_id else None
            if case is None:
                return False
            try:
                self.mailroom.services.workspace.case_page(ADMIN, case.reference)
            except Exception:
                return False
            found.append(case.reference)
            return True

        wait_until(shown, what="the case page")
        return found[0]

    def letters(self, reference: str) -> list[OutgoingRow]:
        return self.mailroom.read_models.outgoing.of_case(reference)

    def letter(self, document_id: str | UUID) -> OutgoingRow:
        row = self.mailroom.read_models.outgoing.get(str(document_id))
        assert row is not None
        return row

    def wait_for_state(self, document_id: str | UUID, state: str) -> None:
        wait_until(lambda: self.letter(document_id).state == state, what=f"letter {state}")

    def events(self) -> int:
        return int(self.mailroom.app.max_notification_id() or 0)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    mailroom = start_mailroom(tmp_path_factory.mktemp("web-letters") / "var")
    try:
        yield Site(mailroom, create_app(mailroom))
    finally:
        mailroom.stop()


def version_in(page: str) -> str:
    found = re.search(r'name="expected_version" value="(\d+)"', page)
    assert found, "no version on the page"
    return found.group(1)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def draft(
    site: Site, client: TestClient, reference: str, template: str, fields: dict[str, str]
) -> str:
    """Open the draft form from the case page and save it; the new letter's id."""
    form = client.get(f"/faelle/{reference}/schreiben/neu", params={"vorlage": template})
    assert form.status_code == 200
    data = {"csrf_token": csrf_of(form.text), "expected_version": "0", "vorlage": template}
    saved = client.post(
        f"/faelle/{reference}/schreiben/neu", data={**data, **fields}, follow_redirects=False
    )
    assert saved.status_code == 303, text_of(saved.text)
    document_id = saved.headers["location"].rsplit("/", 1)[-1]
    assert site.letter(document_id).state == "draft"
    return document_id


def act(
    client: TestClient,
    reference: str,
    document_id: str,
    action: str,
    fields: dict[str, str] | None = None,
    version: str | None = None,
) -> tuple[object, str]:
    page = client.get(f"/faelle/{reference}/schreiben/{document_id}")
    data = {"csrf_token": csrf_of(page.text), "expected_version": version or version_in(page.text)}
    answer = client.post(
        f"/faelle/{reference}/schreiben/{document_id}/{action}",
        data={**data, **(fields or {})},
        follow_redirects=False,
    )
    return answer, page.text


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


# -- drafting, previewing, approving ----------------------------------------------------------


def test_a_bescheid_is_drafted_previewed_and_approved_by_a_second_clerk(site: Site) -> None:
    reference = site.new_case()
    erika = site.client("erika")
    case_page = erika.get(f"/faelle/{reference}")
    assert 'id="schreiben-titel"' in case_page.text
    assert "Zu diesem Vorgang gibt es noch keine Schreiben." in case_page.text
    assert '<option value="bescheid">Bescheid</option>' in case_page.text

    form = erika.get(f"/faelle/{reference}/schreiben/neu", params={"vorlage": "bescheid"})
    assert form.status_code == 200
    assert "Entscheidung (Tenor)" in form.text and "Begründung" in form.text
    assert re.search(r'<textarea[^>]*name="decision"', form.text)  # multiline: a textarea
    assert "Lindenallee 1\n59999 Lindenau</textarea>" in form.text  # the address, prefilled
    assert 'value="Eva Musterfrau"' in form.text
    token = csrf_of(form.text)
    base = {"csrf_token": token, "expected_version": "0", "vorlage": "bescheid"}

    # The preview renders what was typed; nothing is stored.
    before = site.events()
    preview = erika.post(f"/faelle/{reference}/schreiben/vorschau", data={**base, **BESCHEID})
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "application/pdf"
    assert "inline" in preview.headers["content-disposition"]
    text = pdf_text(preview.content)
    assert "Die beantragte Geburtsurkunde wird ausgestellt." in text and reference in text
    missing_preview = erika.post(
        f"/faelle/{reference}/schreiben/vorschau", data={**base, "decision": "Ja."}
    )
    assert missing_preview.status_code == 422
    assert "Begründung" in text_of(missing_preview.text)

    # Missing fields are named by their labels; nothing is stored.
    refused = erika.post(
        f"/faelle/{reference}/schreiben/neu",
        data={**base, "decision": "Ja.", "reasoning": "", "recipient.lines": ""},
    )
    assert refused.status_code == 422
    message = text_of(refused.text)
    assert "Es fehlen Angaben:" in message and "Begründung" in message
    assert "Anschrift (Zeilen unter dem Namen)" in message
    assert "Es wurde nichts gespeichert." in message
    assert "Ja.</textarea>" in refused.text  # what was typed comes back
    assert re.search(r'id="schreiben-reasoning"[^>]*aria-invalid="true"', refused.text)
    assert site.events() == before and site.letters(reference) == []

    saved = erika.post(
        f"/faelle/{reference}/schreiben/neu", data={**base, **BESCHEID}, follow_redirects=False
    )
    assert saved.status_code == 303
    document_id = saved.headers["location"].rsplit("/", 1)[-1]
    letter_page = erika.get(saved.headers["location"])
    assert "Der Entwurf „Bescheid“ ist gespeichert." in letter_page.text
    # The drafter may not approve a Bescheid: the button is disabled and says why.
    assert re.search(r"<button[^>]*freigeben\"\s+disabled[^>]*>Freigeben", letter_page.text)
    assert LETTER_SECOND_APPROVAL in letter_page.text
    own, _ = act(erika, reference, document_id, "freigeben")
    assert own.status_code == 422 and LETTER_SECOND_APPROVAL in own.text
    assert site.letter(document_id).state == "draft"
    listed = text_of(erika.get(f"/faelle/{reference}").text)
    assert "Bescheid Entwurf" in listed and LETTER_SECOND_APPROVAL in listed
    draft_pdf = erika.get(f"/schreiben/{document_id}.pdf")
    assert draft_pdf.status_code == 200 and draft_pdf.content.startswith(b"%PDF")

    # A second clerk approves what is stored, not what is typed and unsaved.
    hans = site.client("hans")
    changed, page = act(hans, reference, document_id, "freigeben", {"decision": "Nein."})
    assert "disabled" not in re.search(r"<button[^>]*>Freigeben", page).group(0)
    assert changed.status_code == 422 and LETTER_UNSAVED_CHANGES in text_of(changed.text)
    assert site.letter(document_id).state == "draft"
    approved, _ = act(hans, reference, document_id, "freigeben", BESCHEID)
    assert approved.status_code == 303
    assert approved.headers["location"] == f"/faelle/{reference}#schreiben-titel"
    assert site.letter(document_id).approved_by_name == "Hans Berger"
    site.wait_for_state(document_id, "print_queued")
    shown = text_of(hans.get(f"/faelle/{reference}").text)
    assert "Bescheid Wartet auf Druck" in shown
    assert "Per Post: Kein Bürgerkonto verknüpft" in shown
    assert "Freigabe: Hans Berger" in shown and "Entwurf: Erika Muster" in shown
    assert "Bescheid: Entwurf angelegt" in shown and "Bescheid freigegeben" in shown  # Verlauf
    assert "Bescheid geht per Post" in shown
    sent = hans.get(f"/faelle/{reference}/schreiben/{document_id}").text
    assert "<textarea" not in sent and "Freigeben" not in sent  # sent: nothing to change
    assert f'href="/schreiben/{document_id}.pdf"' in sent
    assert "Die Voraussetzungen nach § 62 PStG liegen vor." in sent
    rendered = hans.get(f"/schreiben/{document_id}.pdf")
    assert rendered.status_code == 200 and "Lindenallee 1" in pdf_text(rendered.content)
    fragment = hans.get(f"/faelle/{reference}/schreiben")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "hx-get" not in fragment.text  # nothing being made: no more refreshing


def test_a_draft_is_saved_discarded_and_a_stale_form_changes_nothing(site: Site) -> None:
    reference = site.new_case()
    erika = site.client("erika")
    fields = {"body": "Anbei erhalten Sie die Urkunde.", "enclosures": "Urkunde\n\nQuittung\n"}
    document_id = draft(site, erika, reference, "begleitschreiben", fields)
    page = erika.get(f"/faelle/{reference}/schreiben/{document_id}").text
    assert "Urkunde\nQuittung</textarea>" in page  # a list: one item per line

    saved, _ = act(erika, reference, document_id, "speichern", {"body": "Neuer Text."})
    assert saved.status_code == 303
    assert "Neuer Text.</textarea>" in erika.get(saved.headers["location"]).text
    before = site.events()
    stale, _ = act(erika, reference, document_id, "speichern", {"body": "Alt."}, version="1")
    assert stale.status_code == 409
    assert "Jemand anderes hat das Schreiben inzwischen geändert." in text_of(stale.text)
    assert site.events() == before

    discarded, _ = act(erika, reference, document_id, "verwerfen")
    assert discarded.status_code == 303
    assert site.letter(document_id).state == "discarded"
    listed = text_of(erika.get(f"/faelle/{reference}/schreiben").text)
    assert "Zu diesem Vorgang gibt es noch keine Schreiben." in listed
    current = site.mailroom.app.find_document(UUID(document_id))
    assert current is not None
    again, _ = act(erika, reference, document_id, "verwerfen", version=str(current.version))
    assert again.status_code == 422
    assert "Das passt nicht zum aktuellen Stand des Schreibens." in text_of(again.text)
    unknown, _ = act(erika, reference, document_id, "loeschen", version="1")
    assert unknown.status_code == 404


def test_who_may_not_see_the_case_gets_nothing_of_its_letters(site: Site) -> None:
    reference = site.new_case()
    erika = site.client("erika")
    document_id = draft(site, erika, reference, "bescheid", BESCHEID)
    for login in ("olaf", "paul"):
        client = site.client(login)
        unknown = client.get(f"/faelle/{UNKNOWN_REFERENCE}")
        token = csrf_of(unknown.text)
        for url in (
            f"/faelle/{reference}/schreiben",
            f"/faelle/{reference}/schreiben/neu?vorlage=bescheid",
            f"/faelle/{reference}/schreiben/{document_id}",
        ):
            hidden = client.get(url)
            assert hidden.status_code == 404 and hidden.text == unknown.text, (login, url)
        before = site.events()
        base = {"csrf_token": token, "expected_version": "1", "vorlage": "bescheid"}
        for url in (
            f"/faelle/{reference}/schreiben/neu",
            f"/faelle/{reference}/schreiben/vorschau",
            f"/faelle/{reference}/schreiben/{document_id}/freigeben",
            f"/faelle/{reference}/schreiben/{document_id}/verwerfen",
            f"/faelle/{reference}/buergerkonto/verknuepfen",
        ):
            posted = client.post(url, data={**base, **BESCHEID, "konto": "x"})
            assert posted.status_code == 404 and posted.text == unknown.text, (login, url)
        assert site.events() == before
        # The draft is not rendered: nobody outside the case sees even its preview.
        assert client.get(f"/schreiben/{document_id}.pdf").status_code == 404
    # A letter of another case does not open under this one.
    other = site.new_case()
    assert erika.get(f"/faelle/{other}/schreiben/{document_id}").status_code == 404
    assert erika.get(f"/faelle/{reference}/schreiben/kein-brief").status_code == 404


def test_the_case_is_linked_to_a_buergerkonto(site: Site) -> None:
    reference = site.new_case()
    erika = site.client("erika")
    page = erika.get(f"/faelle/{reference}").text
    data = {"csrf_token": csrf_of(page), "expected_version": version_in(page)}
    url = f"/faelle/{reference}/buergerkonto/verknuepfen"
    unknown = erika.post(url, data={**data, "konto": "sub-niemand"})
    assert unknown.status_code == 422
    assert "Ein Bürgerkonto mit dieser Nummer ist nicht bekannt." in text_of(unknown.text)
    assert 'value="sub-niemand"' in unknown.text  # what was typed comes back
    empty = erika.post(url, data={**data, "konto": " "})
    assert empty.status_code == 422
    assert "Bitte geben Sie die Nummer des Bürgerkontos ein." in text_of(empty.text)

    site.mailroom.services.letters.register_account("sub-eva-7", "eva@example.org")
    linked = erika.post(url, data={**data, "konto": "sub-eva-7"}, follow_redirects=False)
    assert linked.status_code == 303
    shown = text_of(erika.get(linked.headers["location"]).text)
    assert "Der Vorgang ist mit dem Bürgerkonto sub-eva-7 verknüpft." in shown
    assert "Verknüpft mit dem Bürgerkonto sub-eva-7" in shown
    records = site.mailroom.read_models.status.of_account("sub-eva-7")
    assert [r.case_reference for r in records] == [reference]


# -- the Postausgang ---------------------------------------------------------------------------


def queued_bescheid(site: Site) -> tuple[str, str]:
    reference = site.new_case()
    document_id = draft(site, site.client("erika"), reference, "bescheid", BESCHEID)
    approved, _ = act(site.client("hans"), reference, document_id, "freigeben")
    assert approved.status_code == 303
    site.wait_for_state(document_id, "print_queued")
    return reference, document_id


def test_only_the_mailroom_and_admins_see_the_postausgang(site: Site) -> None:
    erika = site.client("erika")
    unknown = erika.get("/gibt-es-nicht", headers={"Accept": "text/html"})
    refused = erika.get("/postausgang")
    assert refused.status_code == unknown.status_code == 404
    assert refused.text == unknown.text
    assert 'href="/postausgang"' not in erika.get("/arbeitskorb").text
    token = csrf_of(unknown.text)
    for url in ("/postausgang/druckstapel", "/postausgang/ruecklauf"):
        assert erika.post(url, data={"csrf_token": token}).status_code == 404
    stranger = uuid4()
    assert erika.get(f"/postausgang/druckstapel/{stranger}.pdf").status_code == 404
    paul = site.client("paul")
    assert 'href="/postausgang"' in paul.get("/arbeitskorb").text
    assert paul.get("/postausgang").status_code == 200
    assert paul.get(f"/postausgang/druckstapel/{stranger}.pdf").status_code == 404
    assert paul.get(f"/postausgang/druckstapel/{stranger}/begleitliste.json").status_code == 404
    forged = paul.post("/postausgang/druckstapel", data={"csrf_token": "falsch"})
    assert forged.status_code == 403


def test_the_mailroom_prints_a_batch_and_records_a_returned_letter(site: Site) -> None:
    first_case, first = queued_bescheid(site)
    second_case, second = queued_bescheid(site)
    paul = site.client("paul")
    outbox = paul.get("/postausgang")
    shown = text_of(outbox.text)
    assert first_case in shown and second_case in shown
    assert "Kein Bürgerkonto verknüpft" in shown and "Lindenallee 1" in shown
    assert f"/schreiben/{first}.pdf" in outbox.text
    assert paul.get(f"/schreiben/{first}.pdf").status_code == 200  # the mailroom prints it
    assert paul.get(f"/faelle/{first_case}").status_code == 404  # …but sees no case

    built = paul.post(
        "/postausgang/druckstapel",
        data={"csrf_token": csrf_of(outbox.text)},
        follow_redirects=False,
    )
    assert built.status_code == 303
    batch_id = re.search(r"stapel=([0-9a-f-]{36})", built.headers["location"]).group(1)
    page = paul.get(built.headers["location"])
    shown = text_of(page.text)
    assert re.search(r"Druckstapel erstellt: \d+ Briefe auf \d+ Blatt", shown)
    assert "Zurzeit warten keine Briefe auf den Druck." in shown
    assert f'id="stapel-{batch_id}"' in page.text and "gerade erstellt" in shown
    assert site.letter(first).state == site.letter(second).state == "batched"
    pdf = paul.get(f"/postausgang/druckstapel/{batch_id}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith('attachment; filename="druckstapel-')
    manifest = paul.get(f"/postausgang/druckstapel/{batch_id}/begleitliste.json").json()
    assert {first, second} <= {entry["letter_id"] for entry in manifest["letters"]}
    pages = len(PdfReader(io.BytesIO(pdf.content)).pages)
    assert pages == 2 * sum(entry["sheets"] for entry in manifest["letters"])  # duplex
    assert "Im Druckstapel" in text_of(site.client("erika").get(f"/faelle/{first_case}").text)

    empty = paul.post("/postausgang/druckstapel", data={"csrf_token": csrf_of(page.text)})
    assert empty.status_code == 422
    assert "Es warten keine Briefe auf den Druck." in text_of(empty.text)

    printed = paul.post(
        f"/postausgang/druckstapel/{batch_id}/gedruckt",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert printed.status_code == 303
    assert "Der Druckstapel ist als gedruckt vermerkt" in text_of(paul.get("/postausgang").text)
    for letter_id in (first, second):  # an event per letter
        assert site.letter(letter_id).state == "printed"
        events = site.mailroom.app.recorder.select_events(UUID(letter_id))
        assert events[-1].topic.endswith("OutgoingDocument.Printed")
    twice = paul.post(
        f"/postausgang/druckstapel/{batch_id}/gedruckt", data={"csrf_token": csrf_of(page.text)}
    )
    assert twice.status_code == 422
    assert "bereits als gedruckt vermerkt" in text_of(twice.text)
    assert f"/postausgang/druckstapel/{batch_id}.pdf" not in paul.get("/postausgang").text

    # Returned mail: by the case reference on the letter, or by its number.
    token = csrf_of(page.text)
    url = "/postausgang/ruecklauf"
    no_reason = paul.post(url, data={"csrf_token": token, "brief": first_case, "grund": ""})
    assert no_reason.status_code == 422
    assert "Bitte wählen Sie einen Grund aus der Liste." in text_of(no_reason.text)
    nothing = paul.post(
        url, data={"csrf_token": token, "brief": UNKNOWN_REFERENCE, "grund": "moved"}
    )
    assert nothing.status_code == 422
    assert "Dazu gibt es keinen gedruckten Brief." in text_of(nothing.text)
    returned = paul.post(
        url,
        data={
            "csrf_token": token,
            "brief": first_case.lower(),
            "grund": "moved",
            "notiz": "Empfänger verzogen",
        },
        follow_redirects=False,
    )
    assert returned.status_code == 303
    shown = text_of(paul.get("/postausgang").text)
    assert f"Rücklauf erfasst: Bescheid zu {first_case} – Empfänger/in verzogen." in shown
    assert site.letter(first).state == "returned"
    clerk_view = text_of(site.client("erika").get(f"/faelle/{first_case}").text)
    assert "Unzustellbar zurück" in clerk_view and "Grund: Empfänger/in verzogen" in clerk_view
    by_number = paul.post(
        url,
        data={"csrf_token": token, "brief": second[:8].upper(), "grund": "refused"},
        follow_redirects=False,
    )
    assert by_number.status_code == 303
    assert site.letter(second).state == "returned"
    again = paul.post(url, data={"csrf_token": token, "brief": second[:8], "grund": "refused"})
    assert again.status_code == 422
    assert "Nur gedruckte Briefe können als Rücklauf erfasst werden." in text_of(again.text)
