"""The triage and case pages without a browser: who may open what (404 exactly like unknown),
forged CSRF tokens and stale forms change nothing, refused input answers in German, the page
images and originals come with the right headers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom
from mailroom.services import NotFoundError
from mailroom.texts_de import SERVICE_ERRORS, TRIAGE_STALE
from mailroom.web.routes_documents import content_disposition, snap_width
from mailroom.web.text_marks import mark_hits
from tests.fixtures.builders import submission
from tests.fixtures.web_casework import (
    ADMIN,
    HINWEIS,
    NACHFRAGE,
    RUECKRUF,
    case_from_triage,
    csrf_of,
    scan_to_triage,
    signed_in_client,
    start_mailroom,
    station,
    version_of,
    wait_until,
)

UNKNOWN_REFERENCE = "LIN-2026-0000-0000"


@dataclass
class Site:
    mailroom: Mailroom
    app: object
    item_id: UUID  # the letter of the case, placed with the Standesamt
    reference: str
    triage_item: UUID  # still in triage

    def client(self, login: str) -> TestClient:
        return signed_in_client(self.app, login)

    def case_version(self) -> int:
        return int(self.mailroom.services.casework.find_visible(ADMIN, self.reference).version)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    mailroom = start_mailroom(tmp_path_factory.mktemp("web-casework") / "var")
    try:
        scanner = station(mailroom)
        item_id, reference = case_from_triage(
            mailroom, scanner, RUECKRUF, "rückruf.pdf", "standesamt"
        )
        waiting = scan_to_triage(mailroom, scanner, NACHFRAGE, "nachfrage.pdf")
        yield Site(mailroom, create_app(mailroom), item_id, reference, waiting)
    finally:
        mailroom.stop()


def page_png(item_id: UUID) -> str:
    return f"/dokumente/{item_id}/0/seiten/1.png?breite=900"


def original(item_id: UUID) -> str:
    return f"/dokumente/{item_id}/0/original"


# -- who may open what ------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["olaf", "paul"])
def test_a_case_out_of_reach_answers_exactly_like_an_unknown_one(site: Site, login: str) -> None:
    client = site.client(login)
    unknown = client.get(f"/faelle/{UNKNOWN_REFERENCE}")
    hidden = client.get(f"/faelle/{site.reference}")
    assert unknown.status_code == hidden.status_code == 404
    assert hidden.text == unknown.text
    assert site.reference not in hidden.text and "Nicht gefunden" in hidden.text
    posted = client.post(
        f"/faelle/{site.reference}/notiz",
        data={"csrf_token": csrf_of(unknown.text), "expected_version": "1", "notiz": "x"},
    )
    assert posted.status_code == 404
    assert posted.text == unknown.text


def test_documents_out_of_reach_answer_like_unknown_ones(site: Site) -> None:
    client = site.client("olaf")
    stranger = uuid4()
    for hidden, unknown in [
        (page_png(site.item_id), page_png(stranger)),
        (original(site.item_id), original(stranger)),
        (f"/dokumente/{site.item_id}/5/original", "/dokumente/kein-eintrag/0/original"),
    ]:
        refused, missing = client.get(hidden), client.get(unknown)
        assert refused.status_code == missing.status_code == 404
        assert refused.text == missing.text


def test_the_clerk_gets_the_page_image_and_the_original(site: Site) -> None:
    client = site.client("erika")
    image = client.get(page_png(site.item_id))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.headers["cache-control"] == "private, no-store"  # a letter: personal data
    assert image.content.startswith(b"\x89PNG")
    assert client.get(f"/dokumente/{site.item_id}/0/seiten/3.png").status_code == 404
    download = client.get(original(site.item_id))
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"r_ckruf.pdf\"; filename*=UTF-8''r%C3%BCckruf.pdf"
    )
    assert download.content.startswith(b"%PDF-")


def test_only_the_mailroom_sees_triage(site: Site) -> None:
    clerk = site.client("erika")
    unknown = clerk.get("/gibt-es-nicht", headers={"Accept": "text/html"})
    refused = clerk.get("/triage")
    assert refused.status_code == unknown.status_code == 404
    assert refused.text == unknown.text
    token = csrf_of(unknown.text)
    posted = clerk.post(
        f"/triage/{site.triage_item}/neu-scannen",
        data={"csrf_token": token, "expected_version": "1"},
    )
    assert posted.status_code == 404
    # …and the clerk's documents route does not open triaged letters either.
    assert clerk.get(page_png(site.triage_item)).status_code == 404
    mailroom_worker = site.client("paul")
    page = mailroom_worker.get("/triage")
    assert page.status_code == 200
    assert "Triage" in page.text and str(site.triage_item) in page.text
    assert mailroom_worker.get(page_png(site.triage_item)).status_code == 200


# -- forms that must change nothing --------------------------------------------------------


def test_a_forged_csrf_token_changes_nothing(site: Site) -> None:
    client = site.client("erika")
    page = client.get(f"/faelle/{site.reference}")
    before = site.case_version()
    for token in ("gefälscht", ""):
        answer = client.post(
            f"/faelle/{site.reference}/notiz",
            data={"csrf_token": token, "expected_version": version_of(page.text), "notiz": "x"},
        )
        assert answer.status_code == 403
        assert "Das Formular ist abgelaufen oder ungültig." in answer.text
    assert site.case_version() == before


def test_a_stale_case_form_changes_nothing_and_says_so(site: Site) -> None:
    client = site.client("erika")
    page = client.get(f"/faelle/{site.reference}")
    shown = version_of(page.text)
    form = {"csrf_token": csrf_of(page.text), "expected_version": shown}
    first = client.post(
        f"/faelle/{site.reference}/notiz", data={**form, "notiz": "Zuerst"}, follow_redirects=False
    )
    assert first.status_code == 303 and first.headers["location"] == f"/faelle/{site.reference}"
    after_note = site.case_version()
    stale = client.post(
        f"/faelle/{site.reference}/notiz", data={**form, "notiz": "Mein langer Vermerk"}
    )
    assert stale.status_code == 409
    assert SERVICE_ERRORS["stale"] in stale.text
    assert "Mein langer Vermerk" in stale.text  # what was typed is kept
    assert version_of(stale.text) == str(after_note)  # the page shows the current state
    closing = client.post(
        f"/faelle/{site.reference}/abschliessen", data={**form, "ergebnis": "done"}
    )
    assert closing.status_code == 409
    assert site.case_version() == after_note
    assert not site.mailroom.services.casework.find_visible(ADMIN, site.reference).closed


def test_refused_input_is_explained_in_german(site: Site) -> None:
    client = site.client("erika")
    page = client.get(f"/faelle/{site.reference}")
    form = {"csrf_token": csrf_of(page.text), "expected_version": version_of(page.text)}
    before = site.case_version()
    cases = [
        (
            "unterlagen-anfordern",
            {"nachricht": "Bitte", "frist": "2026-03-02"},
            "nach dem heutigen",
        ),
        ("unterlagen-anfordern", {"nachricht": "", "frist": "2026-04-01"}, "nachreichen soll"),
        ("frist-verlaengern", {"tage": "500", "grund": "complex"}, "1 bis 120 Arbeitstage"),
        ("abschliessen", {"ergebnis": "weg"}, "Ergebnis aus der Liste"),
        ("zuweisen", {"bearbeitung": "staff:olaf"}, SERVICE_ERRORS["unknown_assignee"]),
        ("notiz", {"notiz": "  "}, "Text der Notiz"),
    ]
    for action, data, message in cases:
        answer = client.post(f"/faelle/{site.reference}/{action}", data={**form, **data})
        assert answer.status_code == 422, action
        assert message in answer.text, action
    assert client.post(f"/faelle/{site.reference}/loeschen", data=form).status_code == 404
    assert site.case_version() == before


def test_a_stale_triage_form_changes_nothing(site: Site) -> None:
    mailroom_worker = site.client("paul")
    item = site.mailroom.services.workspace.triage_item(ADMIN, site.triage_item)
    page = mailroom_worker.get(f"/triage?eintrag={item.item_id}")
    form = {"csrf_token": csrf_of(page.text), "expected_version": str(item.item_version - 1)}
    answer = mailroom_worker.post(
        f"/triage/{item.item_id}/zuordnen", data={**form, "fachdienst": "abfall"}
    )
    assert answer.status_code == 409
    assert TRIAGE_STALE in answer.text
    unknown = mailroom_worker.post(
        f"/triage/{item.item_id}/zuordnen",
        data={**form, "expected_version": str(item.item_version), "fachdienst_suche": "Mars"},
    )
    assert unknown.status_code == 422
    assert SERVICE_ERRORS["unknown_department"] in unknown.text
    still = site.mailroom.services.workspace.triage_item(ADMIN, site.triage_item)
    assert still.status == "triage" and still.item_version == item.item_version


def test_triage_by_department_name_then_the_next_item(site: Site) -> None:
    scanner = station(site.mailroom)
    item_id = scan_to_triage(site.mailroom, scanner, HINWEIS, "hinweis.pdf")
    mailroom_worker = site.client("paul")
    page = mailroom_worker.get(f"/triage?eintrag={item_id}")
    form = {"csrf_token": csrf_of(page.text), "expected_version": version_of(page.text)}
    name = site.mailroom.department_name("abfall")
    answer = mailroom_worker.post(
        f"/triage/{item_id}/zuordnen",
        data={**form, "fachdienst_suche": f" {name.upper()} ", "nach": str(site.triage_item)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/triage?eintrag={site.triage_item}"
    shown = mailroom_worker.get(answer.headers["location"])
    reference = site.mailroom.services.workspace.triage_item(ADMIN, item_id).reference
    assert f"{reference} an {name} weitergeleitet." in shown.text
    placed = site.mailroom.services.workspace.triage_item(ADMIN, item_id)
    assert placed.status != "triage" and placed.department_id == "abfall"


def test_rerouting_away_leads_back_to_the_work_basket(site: Site) -> None:
    scanner = station(site.mailroom)
    _, reference = case_from_triage(
        site.mailroom,
        scanner,
        ["Bitte um Auskunft zu meinem Schreiben."],
        "auskunft.pdf",
        "standesamt",
    )
    client = site.client("hans")
    page = client.get(f"/faelle/{reference}")
    answer = client.post(
        f"/faelle/{reference}/weiterleiten",
        data={
            "csrf_token": csrf_of(page.text),
            "expected_version": version_of(page.text),
            "fachdienst": "abfall",
            "notiz": "Betrifft die Müllabfuhr",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/arbeitskorb"
    assert client.get(f"/faelle/{reference}").status_code == 404
    olaf = site.client("olaf")
    moved = olaf.get(f"/faelle/{reference}")
    assert moved.status_code == 200 and "Betrifft die Müllabfuhr" in moved.text


def test_staff_of_a_department_for_the_assign_select(site: Site) -> None:
    staff = site.mailroom.services.staff.list_for_department("standesamt")
    assert staff == [("staff:erika", "Erika Muster"), ("staff:hans", "Hans Berger")]
    assert site.mailroom.services.staff.list_for_department("abfall") == [
        ("staff:olaf", "Olaf Berg")
    ]


def test_odd_links_still_show_the_pages(site: Site) -> None:
    receipt = site.mailroom.intake.submit(submission(), [], uuid4().hex)
    wait_until(lambda: _case_of(site, receipt.item_id) is not None, what="the portal case")
    portal_reference = _case_of(site, receipt.item_id)
    clerk = site.client("erika")
    without_files = clerk.get(f"/faelle/{portal_reference}?q=")
    assert without_files.status_code == 200
    assert "der Online-Antrag kam ohne Anlagen" in without_files.text
    odd = clerk.get(f"/faelle/{site.reference}?dokument=99&seite=-5&breite=abc&q=%22")
    assert odd.status_code == 200 and "Seite 1 von 2" in odd.text
    mailroom_worker = site.client("paul")
    restarted = mailroom_worker.get("/triage?ab=kaputt&eintrag=nicht-da")
    assert restarted.status_code == 200
    assert SERVICE_ERRORS["invalid_cursor"] in restarted.text


def _case_of(site: Site, item_id: UUID) -> str | None:
    try:
        return site.mailroom.services.workspace.triage_item(ADMIN, item_id).case_reference
    except NotFoundError:
        return None


# -- the pieces in between --------------------------------------------------------------------


def test_hits_are_marked_after_escaping() -> None:
    marked, hits = mark_hits('<b class="x">Rückruf</b> & RÜCKRUFE; amp', ["rückruf", "amp"])
    assert str(marked) == (
        "&lt;b class=&#34;x&#34;&gt;<mark>Rückruf</mark>&lt;/b&gt; &amp; "
        "<mark>RÜCKRUFE</mark>; <mark>amp</mark>"
    )
    assert hits == 3
    assert mark_hits("a < b", [])[0] == "a &lt; b"
    assert mark_hits("Antrag", ["<mark>"]) == ("Antrag", 0)


def test_download_names_and_image_widths() -> None:
    assert content_disposition("Antrag Müller.pdf") == (
        "attachment; filename=\"Antrag M_ller.pdf\"; filename*=UTF-8''Antrag%20M%C3%BCller.pdf"
    )
    assert content_disposition('../x"; evil.pdf') == (
        "attachment; filename=\"x__ evil.pdf\"; filename*=UTF-8''x%22%3B%20evil.pdf"
    )
    assert content_disposition(None).startswith('attachment; filename="dokument"')
    assert [snap_width(w) for w in (1, 200, 201, 900, 5000)] == [200, 200, 600, 900, 1400]
