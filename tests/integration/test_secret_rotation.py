"""A rotation of MAILROOM_SECRET_KEY (the old key kept in MAILROOM_OLD_SECRET_KEYS): codes
issued before keep working, a retried submission returns its ORIGINAL access code, new
submissions get codes of the new key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aggregates.access_code import AccessCodeKeys
from mailroom.api.app import create_app
from mailroom.bootstrap import Mailroom, build
from mailroom.config import Settings
from mailroom.services.intake import AccessCodeUnavailableError
from tests.fixtures.builders import FakeClock, metadata_json, portal_client_key, submission

OLD = "old-secret-" + "o" * 40
NEW = "new-secret-" + "n" * 40


def started(tmp_path: Path, secret: str, old: str = "") -> Mailroom:
    settings = Settings(data_dir=tmp_path / "var", secret_key=secret, old_secret_keys=old)
    return build(settings, clock=FakeClock())


@pytest.fixture
def before(tmp_path: Path) -> Iterator[Mailroom]:
    mailroom = started(tmp_path, OLD)
    yield mailroom
    mailroom.stop()


def test_a_retry_after_the_rotation_returns_the_original_code_that_still_works(
    before: Mailroom, tmp_path: Path
):
    key = portal_client_key(before)
    with TestClient(create_app(before), headers={"Authorization": f"Bearer {key}"}) as client:
        first = client.post(
            "/api/v1/submissions",
            data={"metadata": metadata_json()},
            headers={"Idempotency-Key": "antrag-1"},
        ).json()
    before.stop()
    after = started(tmp_path, NEW, old=f" {OLD} ")
    try:
        with TestClient(create_app(after), headers={"Authorization": f"Bearer {key}"}) as client:
            retried = client.post(
                "/api/v1/submissions",
                data={"metadata": metadata_json()},
                headers={"Idempotency-Key": "antrag-1"},
            )
            assert retried.status_code == 202, retried.text
            assert retried.json() == first  # reference AND the original access code
            status = client.get(
                f"/api/v1/status/{first['reference']}",
                headers={"X-Access-Code": first["access_code"]},
            )
            assert status.status_code == 200, status.text
    finally:
        after.stop()


def test_codes_of_the_old_key_work_and_new_items_get_codes_of_the_new_key(
    before: Mailroom, tmp_path: Path
):
    old_receipt = before.intake.submit(submission(), [], "k-old")
    before.stop()
    after = started(tmp_path, NEW, old=OLD)
    try:
        assert after.status.lookup(old_receipt.reference, old_receipt.access_code, "c")
        new_receipt = after.intake.submit(submission(), [], "k-new")
        assert after.status.lookup(new_receipt.reference, new_receipt.access_code, "c")
        assert after.intake.codes.keys[0] == NEW.encode()
        assert after.intake.submit(submission(), [], "k-new") == new_receipt.__class__(
            new_receipt.item_id, new_receipt.reference, new_receipt.access_code, created=False
        )
    finally:
        after.stop()


def test_without_the_old_key_old_codes_still_work_but_a_retry_says_why_it_cannot_answer(
    before: Mailroom, tmp_path: Path
):
    old_receipt = before.intake.submit(submission(), [], "k-old")
    before.stop()
    after = started(tmp_path, NEW)
    try:
        assert after.status.lookup(old_receipt.reference, old_receipt.access_code, "c")
        with pytest.raises(AccessCodeUnavailableError, match="MAILROOM_OLD_SECRET_KEYS"):
            after.intake.submit(submission(), [], "k-old")
    finally:
        after.stop()


def test_old_secret_keys_are_secret_in_the_settings():
    settings = Settings(secret_key=NEW, old_secret_keys=f"{OLD}, second-old-key")
    assert OLD not in repr(settings)
    assert settings.old_secrets() == [OLD.encode(), b"second-old-key"]


def test_a_letter_written_after_the_rotation_carries_the_original_code(
    before: Mailroom, tmp_path: Path
):
    from datetime import date
    from uuid import UUID

    from tests.integration.test_outgoing_letters import ERIKA, document, portal_case

    reference = portal_case(before)
    item_id = before.services.casework.find_visible(ERIKA, reference).first_item_id
    item = before.app.get_item(item_id)
    original = AccessCodeKeys(OLD.encode()).issue(item_id)
    before.stop()
    after = started(tmp_path, NEW, old=OLD)
    try:
        after.services.casework.request_information(
            ERIKA, reference, "Kopie Ihres Personalausweises", date(2026, 3, 20)
        )
        after.runner.run_until_idle()
        [row] = [
            r
            for r in after.services.letters.of_case(ERIKA, reference)
            if r.template == "anforderung_unterlagen"
        ]
        assert document(after, UUID(row.id)).data["access_code"] == original
        assert after.status.lookup(item.reference, original, "c")
    finally:
        after.stop()


def _signed_in_session(mailroom: Mailroom) -> str:
    """A clerk signs in; the value of the session cookie the browser then holds."""
    from mailroom.auth.principal import system_principal
    from mailroom.web import SESSION_COOKIE
    from tests.fixtures.web_lists import PASSWORD, signed_in_client

    staff = mailroom.services.staff
    staff.add(
        system_principal("test"), "erika", "Erika Muster", ["clerk"], ["standesamt"], PASSWORD
    )
    with signed_in_client(create_app(mailroom), "erika") as client:
        assert client.get("/arbeitskorb", follow_redirects=False).status_code == 200
        return str(client.cookies[SESSION_COOKIE])


def _basket(mailroom: Mailroom, session: str) -> tuple[int, str | None]:
    """GET /arbeitskorb with that cookie: the status and the cookie the answer sets."""
    from mailroom.web import SESSION_COOKIE

    with TestClient(create_app(mailroom), cookies={SESSION_COOKIE: session}) as client:
        answer = client.get("/arbeitskorb", follow_redirects=False)
        return answer.status_code, answer.cookies.get(SESSION_COOKIE)


def test_a_clerk_stays_signed_in_across_the_rotation_and_gets_a_cookie_of_the_new_key(
    before: Mailroom, tmp_path: Path
):
    session = _signed_in_session(before)
    before.stop()
    after = started(tmp_path, NEW, old=OLD)
    try:
        status, renewed = _basket(after, session)
        assert status == 200  # not sent to the sign-in page
        assert renewed is not None and renewed != session
    finally:
        after.stop()
    only_new = started(tmp_path, NEW)  # the old key dropped from MAILROOM_OLD_SECRET_KEYS
    try:
        assert _basket(only_new, renewed)[0] == 200  # the renewed cookie is the new key's
        assert _basket(only_new, session)[0] == 303  # the old one no longer signs anyone in
    finally:
        only_new.stop()
