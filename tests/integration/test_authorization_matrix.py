"""Every role × department × every route: nobody sees or changes what is not theirs.

Each route of the app must have a rule here (a new route without one fails the first test),
and each rule is checked for every principal: something not visible answers exactly like
something unknown (404, same page), and a refused command changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from aggregates.station import ScanningStation, hash_token
from mailroom.api.app import create_app
from mailroom.auth.principal import system_principal
from mailroom.bootstrap import Mailroom, build
from mailroom.config import Settings
from mailroom.services.intake import Upload
from tests.fixtures.builders import FakeClock, submission
from tests.fixtures.pdf_documents import text_pdf

PASSWORD = "ein-sehr-langes-passwort"
ACCOUNTS = {
    "clerk-std": (["clerk"], ["standesamt"]),
    "clerk-abf": (["clerk"], ["abfall"]),
    "lead-std": (["lead"], ["standesamt"]),
    "post": (["mailroom"], []),
    "admin": (["admin"], []),
}
WHO = [*ACCOUNTS, "anonymous"]


@dataclass
class World:
    mailroom: Mailroom
    client: TestClient
    cases: dict[str, str]  # department -> case reference
    items: dict[str, UUID]  # department or "triage" -> item id
    letters: dict[str, UUID] = field(default_factory=dict)  # department -> outgoing letter
    batch: UUID | None = None  # a print batch (of the Standesamt's letter)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("matrix") / "var", secret_key="k" * 48)
    mailroom = build(settings, clock=FakeClock())
    admin = system_principal("test")
    for login, (roles, departments) in ACCOUNTS.items():
        mailroom.services.staff.add(admin, login, login.title(), roles, departments, PASSWORD)
    cases, items = {}, {}
    for department, service in (
        ("standesamt", "geburtsurkunde"),
        ("abfall", "defekte-oder-gestohlene-tonne"),
    ):
        receipt = mailroom.intake.submit(submission(service_key=service), [], uuid4().hex)
        mailroom.runner.run_until_idle()
        item = mailroom.app.get_item(receipt.item_id)
        cases[department] = mailroom.app.find_case(item.case_id).reference
        items[department] = item.id
    station = ScanningStation(name="S", token_hash=hash_token("t"), registered_at=FakeClock()())
    mailroom.app.save(station)
    unroutable = text_pdf(["Sehr geehrte Damen und Herren,\nbitte rufen Sie mich zurück."])
    receipt = mailroom.intake.scan(station, [Upload("brief.pdf", unroutable)], None)
    mailroom.runner.run_until_idle()
    mailroom.runner.run_until_idle()
    items["triage"] = receipt.item_id
    assert mailroom.app.get_item(receipt.item_id).status == "triage"
    letters, batch = outgoing_letters(mailroom, cases, tmp_path_factory.mktemp("druck"))
    with TestClient(create_app(mailroom), follow_redirects=False) as client:
        yield World(mailroom, client, cases, items, letters, batch)
    mailroom.stop()


def outgoing_letters(
    mailroom: Mailroom, cases: dict[str, str], folder: Path
) -> tuple[dict[str, UUID], UUID]:
    """A letter per case: the Standesamt's approved, rendered and in a print batch, the
    Abfallwirtschaft's a draft."""
    admin, letters = system_principal("test"), {}
    for department, reference in cases.items():
        fields = {"body": "Anbei die Unterlagen.", "recipient.lines": "Markt 1\n59999 Lindenau"}
        letters[department] = mailroom.services.letters.draft(
            admin, reference, "begleitschreiben", fields
        ).id
    mailroom.services.letters.approve(admin, letters["standesamt"])
    mailroom.runner.run_until_idle()
    batch = mailroom.services.letters.build_print_batch(admin, folder / "stapel.pdf").batch_id
    mailroom.runner.run_until_idle()
    return letters, batch


def signed_in(world: World, who: str) -> TestClient:
    client = world.client
    client.cookies.clear()
    if who != "anonymous":
        page = client.get("/anmelden")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        answer = client.post(
            "/anmelden", data={"login": who, "password": PASSWORD, "csrf_token": token}
        )
        assert answer.status_code == 303, answer.text
    return client


def csrf_of(client: TestClient, path: str = "/arbeitskorb") -> str:
    page = client.get(path)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sees_department(who: str, department: str) -> bool:
    if who == "admin":
        return True
    return who in ACCOUNTS and department in ACCOUNTS[who][1]


# -- rules: path -> (how to fill it in, who may see it) -------------------------------

Rule = Callable[[World, str], list[tuple[str, bool]]]  # -> [(url, allowed)]


def case_pages(world: World, who: str) -> list[tuple[str, bool]]:
    return [(f"/faelle/{ref}", sees_department(who, d)) for d, ref in world.cases.items()]


def documents(kind: str) -> Rule:
    def urls(world: World, who: str) -> list[tuple[str, bool]]:
        result = []
        for where, item_id in world.items.items():
            allowed = who in ("post", "admin") if where == "triage" else sees_department(who, where)
            suffix = "seiten/1.png" if kind == "page" else "original"
            if where != "triage" and world.mailroom.app.get_item(item_id).documents == []:
                continue  # a portal submission without files has no documents to show
            result.append((f"/dokumente/{item_id}/0/{suffix}", allowed))
        return result

    return urls


def queues(world: World, who: str) -> list[tuple[str, bool]]:
    return [(f"/fachdienste/{d}", sees_department(who, d)) for d in world.cases]


def only(*allowed: str, path: str) -> Rule:
    return lambda world, who: [(path, who in allowed)]


def staff(path: str) -> Rule:
    return lambda world, who: [(path, who != "anonymous")]


def case_letters(suffix: str) -> Rule:
    """``/faelle/{reference}/schreiben…``: only who sees the case (``{letter}``: its letter)."""

    def urls(world: World, who: str) -> list[tuple[str, bool]]:
        return [
            (
                f"/faelle/{ref}/schreiben" + suffix.format(letter=world.letters[d]),
                sees_department(who, d),
            )
            for d, ref in world.cases.items()
        ]

    return urls


def letter_pdfs(world: World, who: str) -> list[tuple[str, bool]]:
    """Who sees the case; a rendered letter also the mailroom (it prints it)."""
    return [
        (
            f"/schreiben/{letter}.pdf",
            sees_department(who, d) or (d == "standesamt" and who in ("post", "admin")),
        )
        for d, letter in world.letters.items()
    ]


def print_batch(suffix: str) -> Rule:
    return lambda world, who: [
        (f"/postausgang/druckstapel/{world.batch}{suffix}", who in ("post", "admin"))
    ]


PAGES: dict[str, Rule] = {
    "/faelle/{reference}": case_pages,
    "/dokumente/{item_id}/{index}/seiten/{page}.png": documents("page"),
    "/dokumente/{item_id}/{index}/original": documents("original"),
    "/fachdienste/{department_id}": queues,
    "/fachdienste": staff("/fachdienste"),
    "/arbeitskorb": staff("/arbeitskorb"),
    "/suche": staff("/suche?q=Geburtsurkunde"),
    "/triage": only("post", "admin", path="/triage"),
    "/statistik": only("lead-std", "admin", path="/statistik"),
    "/statistik.csv": only("lead-std", "admin", path="/statistik.csv?tabelle=fristen"),
    "/faelle/{reference}/schreiben": case_letters(""),
    "/faelle/{reference}/schreiben/neu": case_letters("/neu?vorlage=bescheid"),
    "/faelle/{reference}/schreiben/{document_id}": case_letters("/{letter}"),
    "/schreiben/{document_id}.pdf": letter_pdfs,
    "/postausgang": only("post", "admin", path="/postausgang"),
    "/postausgang/druckstapel/{batch_id}.pdf": print_batch(".pdf"),
    "/postausgang/druckstapel/{batch_id}/begleitliste.json": print_batch("/begleitliste.json"),
}
PUBLIC = {
    "/",
    "/anmelden",
    "/anmelden/oidc",
    "/anmelden/oidc/zurueck",
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/v1/services",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/status",  # the citizen's status form (reference + access code)
    "/buergerkonto",  # signed out: the Bürgerkonto's sign-in page
    "/buergerkonto/anmelden",
    "/buergerkonto/zurueck",
}
CITIZEN = {  # only for a citizen signed in with the Bürgerkonto; checked below
    "/buergerkonto/anliegen/{reference}",
    "/buergerkonto/postfach/{document_id}",
}
COMMANDS = {  # state-changing routes, checked below with their own rules
    "/anmelden",
    "/abmelden",
    "/faelle/{reference}/{aktion}",
    "/triage/{item_id}/{aktion}",
    "/fachdienste/{department_id}/sammelaktion",
    "/fachdienste/{department_id}/filter",
    "/fachdienste/{department_id}/filter/{filter_id}/loeschen",
    # outgoing letters and the Postausgang: checked in tests/integration/test_web_letters.py
    "/faelle/{reference}/schreiben/vorschau",
    "/faelle/{reference}/schreiben/{document_id}/{aktion}",
    "/faelle/{reference}/buergerkonto/verknuepfen",
    "/postausgang/druckstapel",
    "/postausgang/druckstapel/{batch_id}/gedruckt",
    "/postausgang/ruecklauf",
    "/status",
    "/status/antwort",
    "/buergerkonto/abmelden",
    "/buergerkonto/anliegen/{reference}/antwort",
    "/buergerkonto/zustellung",
}
MACHINE = {  # the API: no staff session gets anything from these (own credentials)
    "/api/v1/submissions",
    "/api/v1/scans",
    "/api/v1/status/{reference}",
}


def test_every_route_has_a_rule(world):
    paths = {r.path for r in world.client.app.routes if isinstance(r, APIRoute)}
    unruled = paths - PAGES.keys() - PUBLIC - COMMANDS - MACHINE - CITIZEN
    assert not unruled, f"routes without an authorization rule: {sorted(unruled)}"


@pytest.mark.parametrize("who", WHO)
def test_pages_show_only_what_the_principal_may_see(world, who):
    client = signed_in(world, who)
    unknown = client.get("/faelle/LIN-2026-0000-0000")
    for rule in PAGES.values():
        for url, allowed in rule(world, who):
            answer = client.get(url)
            if who == "anonymous":
                assert answer.status_code in (303, 401), (url, answer.status_code)
            elif allowed:  # the page, or (an overview) a redirect to the one page it lists
                assert answer.status_code in (200, 303), (who, url, answer.status_code)
                assert not answer.headers.get("location", "").startswith("/anmelden"), url
            else:
                assert answer.status_code == 404, (who, url, answer.status_code)
                if url.startswith("/faelle/"):
                    assert _main(answer.text) == _main(unknown.text), url


@pytest.mark.parametrize("who", WHO)
def test_search_finds_nothing_of_other_departments(world, who):
    client = signed_in(world, who)
    if who == "anonymous":
        return
    page = client.get("/suche", params={"q": "Musterfrau"}).text
    for department, reference in world.cases.items():
        if not sees_department(who, department):
            assert reference not in page, (who, reference)


@pytest.mark.parametrize("who", WHO)
def test_commands_outside_ones_departments_change_nothing(world, who):
    client = signed_in(world, who)
    token = csrf_of(client) if who != "anonymous" else "none"
    app = world.mailroom.app
    for department, reference in world.cases.items():
        case_id = app.get_item(world.items[department]).case_id
        before = app.find_case(case_id).version
        answer = client.post(
            f"/faelle/{reference}/notiz",
            data={"csrf_token": token, "expected_version": before, "text": "Matrix"},
        )
        allowed = sees_department(who, department)
        if not allowed:
            assert answer.status_code in (303, 401, 403, 404), (who, answer.status_code)
            assert app.find_case(case_id).version == before, (who, reference)
    triage_item = world.items["triage"]
    before = app.get_item(triage_item).version
    answer = client.post(
        f"/triage/{triage_item}/neu-scannen",
        data={"csrf_token": token, "expected_version": before},
    )
    if who not in ("post", "admin"):
        assert answer.status_code in (303, 401, 403, 404), (who, answer.status_code)
        assert app.get_item(triage_item).version == before, who


def test_staff_sessions_open_none_of_the_machine_endpoints(world):
    client = signed_in(world, "admin")
    reference = world.cases["standesamt"]
    assert client.get(f"/api/v1/status/{reference}").status_code in (401, 404, 422)
    assert client.post("/api/v1/scans").status_code == 401


@pytest.mark.parametrize("who", WHO)
def test_staff_sessions_get_nothing_of_citizens(world, who):
    """No staff role is a citizen: the Bürgerkonto's pages send everyone else to its sign-in,
    an answer needs the request's access code, and nothing changes."""
    client = signed_in(world, who)
    token = csrf_of(client, "/status")
    reference = world.cases["standesamt"]
    for url in (f"/buergerkonto/anliegen/{reference}", f"/buergerkonto/postfach/{uuid4()}"):
        answer = client.get(url)
        assert answer.status_code == 303, (who, url, answer.status_code)
        assert answer.headers["location"].startswith("/buergerkonto/anmelden"), (who, url)
    assert "Meine Anliegen" not in client.get("/buergerkonto").text
    app = world.mailroom.app
    case_id = app.get_item(world.items["standesamt"]).case_id
    before = app.find_case(case_id).version
    answer = client.post(
        "/status/antwort",
        data={"csrf_token": token, "reference": reference, "access_code": "", "nachricht": "x"},
    )
    assert answer.status_code == 404, (who, answer.status_code)
    for url in (f"/buergerkonto/anliegen/{reference}/antwort", "/buergerkonto/zustellung"):
        answer = client.post(url, data={"csrf_token": token, "nachricht": "x", "digital": "1"})
        assert answer.status_code == 303, (who, url, answer.status_code)
    assert app.find_case(case_id).version == before, who


def _main(html: str) -> str:
    """The page's content without the per-request parts (CSRF token, nonce)."""
    match = re.search(r"<main.*?</main>", html, re.S)
    body = match.group(0) if match else html
    return re.sub(r'value="[^"]{20,}"', "", body)
