"""What web routes raise; mailroom.web.errors turns each into a German page."""

from __future__ import annotations


class WebError(Exception):
    """Answer a web request with a German error page (``title`` and ``message`` are shown).

    Without ``title``/``message`` the standard wording for ``status`` is used
    (404 "Nicht gefunden", 409 "Inzwischen geändert", …; see ``mailroom.web.errors``).
    """

    def __init__(self, status: int, title: str | None = None, message: str | None = None) -> None:
        super().__init__(f"{status}: {title or ''}")
        self.status = status
        self.title = title
        self.message = message


class SignInRequiredError(Exception):
    """Nobody is signed in: pages redirect to ``/anmelden?weiter=<next_path>``."""

    def __init__(self, next_path: str | None) -> None:
        super().__init__(next_path or "")
        self.next_path = next_path


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token: 403, nothing changed."""
