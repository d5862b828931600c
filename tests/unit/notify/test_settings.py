"""The notification settings: off without an SMTP host, refused when they cannot work."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from mailroom.config import Settings

SECRET = "s" * 40


def test_without_an_smtp_host_nothing_else_is_needed(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert settings.smtp_host == "" and settings.smtp_tls == "starttls"
    assert settings.notify_status_base_url == "http://127.0.0.1:8000"


def test_the_status_link_uses_the_notification_url_then_the_public_url(tmp_path):
    both = Settings(
        data_dir=tmp_path,
        public_url="https://intern.example",
        notify_public_url="https://b.example",
    )
    assert both.notify_status_base_url == "https://b.example"
    assert Settings(public_url="https://intern.example").notify_status_base_url == (
        "https://intern.example"
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"notify_sender": ""}, "MAILROOM_NOTIFY_SENDER"),
        ({"notify_sender": "Stadt Lindenau"}, "MAILROOM_NOTIFY_SENDER"),
        ({"smtp_password": "geheim"}, "MAILROOM_SMTP_USER"),
        ({"smtp_tls": "ssl"}, "smtp_tls"),
        ({"smtp_port": 0}, "smtp_port"),
    ],
)
def test_settings_that_cannot_send_are_refused(values, message):
    base = {"smtp_host": "mail.lindenau.de", "notify_sender": "noreply@lindenau.de"}
    with pytest.raises(ValidationError, match=message):
        Settings(**{**base, **values})


def test_production_needs_a_status_link_and_never_sends_a_password_in_clear():
    production = {
        "environment": "production",
        "secret_key": SECRET,
        "smtp_host": "mail.lindenau.de",
        "notify_sender": "Stadt Lindenau <noreply@lindenau.de>",
    }
    with pytest.raises(ValidationError, match="MAILROOM_NOTIFY_PUBLIC_URL"):
        Settings(**production)
    production["public_url"] = "https://www.lindenau.de"
    with pytest.raises(ValidationError, match="unencrypted"):
        Settings(**production, smtp_tls="none", smtp_user="mailroom", smtp_password="geheim")
    settings = Settings(**production, smtp_user="mailroom", smtp_password="geheim")
    assert settings.smtp_password.get_secret_value() == "geheim"
    assert "geheim" not in repr(settings)
