"""``mailroom staff add``: local accounts for the embedded default's sign-in."""

from __future__ import annotations

from typer.testing import CliRunner

from mailroom.auth.principal import Role
from mailroom.bootstrap import Mailroom
from mailroom.cli import app


def run(mailroom: Mailroom, monkeypatch, *args: str, stdin: str | None = None):
    monkeypatch.setenv("MAILROOM_DATA_DIR", str(mailroom.settings.data_dir))
    monkeypatch.setenv("MAILROOM_SECRET_KEY", mailroom.settings.secret_key.get_secret_value())
    return CliRunner().invoke(app, list(args), input=stdin)


def test_a_generated_password_is_printed_once_and_signs_the_clerk_in(mailroom, monkeypatch):
    added = run(
        mailroom,
        monkeypatch,
        "staff",
        "add",
        "Erika.Muster",
        "--role",
        "clerk",
        "--department",
        "standesamt",
        "--name",
        "Erika Muster",
    )
    assert added.exit_code == 0, added.output
    password = added.output.strip().splitlines()[-1]
    assert len(password) >= 20
    principal = mailroom.services.staff.authenticate("erika.muster", password)
    assert principal is not None and principal.name == "Erika Muster"
    assert principal.roles == {Role.CLERK} and principal.departments == {"standesamt"}
    assert mailroom.services.staff.authenticate("erika.muster", password + "x") is None


def test_a_password_from_stdin_is_not_printed(mailroom, monkeypatch):
    added = run(
        mailroom,
        monkeypatch,
        "staff",
        "add",
        "paul",
        "--role",
        "mailroom",
        "--password-stdin",
        stdin="ein-langes-passwort\n",
    )
    assert added.exit_code == 0 and "ein-langes-passwort" not in added.output
    assert mailroom.services.staff.authenticate("paul", "ein-langes-passwort") is not None


def test_bad_accounts_are_refused_with_a_message_and_nothing_is_stored(mailroom, monkeypatch):
    cases = [
        (["x", "--role", "clerk", "--department", "standesamt"], "login"),
        (["eva", "--role", "clerk"], "needs at least one department"),
        (["eva", "--role", "clerk", "--department", "mars"], "unknown department"),
        (["eva", "--role", "chef"], "chef"),
    ]
    for args, message in cases:
        refused = run(mailroom, monkeypatch, "staff", "add", *args)
        assert refused.exit_code != 0 and message in refused.output, refused.output
    assert mailroom.services.staff.find("eva") is None
    run(mailroom, monkeypatch, "staff", "add", "eva", "--role", "admin")
    again = run(mailroom, monkeypatch, "staff", "add", "eva", "--role", "admin")
    assert again.exit_code == 2 and "exists already" in again.output
