"""A real SMTP server for tests (aiosmtpd, in a thread, on a free loopback port).

It keeps every message it accepted (``server.messages``, parsed) and can misbehave:

* ``server.refuse(n)`` answers the next ``n`` messages with ``451`` (try again later), and
  counts the refusals (``server.refused``);
* ``server.unknown_mailboxes.add(address)`` answers ``550`` to that recipient (refused for
  good);
* ``server.down()`` stops listening (connections are refused) until ``server.up()``, which
  listens on the same port again.

``running_smtp_server(tls=..., users=...)`` makes one that requires STARTTLS and a login
(``self_signed_certificate`` makes a certificate for 127.0.0.1; point ``SSL_CERT_FILE`` at it
so the client trusts it).

The ``smtp_server`` fixture (tests/harness/pytest_plugin.py) starts one per test::

    def test_x(smtp_server):
        settings = Settings(..., **smtp_server.settings())
        ...
        message = smtp_server.wait_for(1)[0]
"""

from __future__ import annotations

import contextlib
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.harness.ports import LOOPBACK, free_port

SENDER = "Stadt Lindenau <noreply@lindenau.example>"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content()).replace("\r\n", "\n")


@dataclass
class _Handler:
    server: SmtpServer

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.server.unknown_mailboxes:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self.server._accept(envelope)


@dataclass
class SmtpServer:
    host: str = LOOPBACK
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    refused: int = 0  # how many messages were answered 451
    unknown_mailboxes: set[str] = field(default_factory=set)
    tls: ssl.SSLContext | None = None  # set: STARTTLS is required
    users: dict[str, str] | None = None  # set: a login is required
    logins: list[str] = field(default_factory=list)
    _refuse_next: int = 0
    _controller: Controller | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)

    # -- what tests call -------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """Settings keywords that send notifications here."""
        return {
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_tls": "none",
            "notify_sender": SENDER,
            "notify_public_url": "https://buerger.lindenau.example",
        }

    def refuse(self, count: int) -> None:
        with self._lock:
            self._refuse_next = count

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Received]:
        """Wait until at least ``count`` messages were accepted; return them all."""
        deadline = time.monotonic() + timeout_s
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(self.messages)} of {count} e-mails arrived in {timeout_s} s"
                        f" ({self.refused} refused)"
                    )
                self._arrived.wait(left)
            return list(self.messages)

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if address in m.rcpt_tos]

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def up(self) -> None:
        if self._controller is None:
            options: dict[str, Any] = {}
            if self.tls is not None:
                options.update(tls_context=self.tls, require_starttls=True)
            if self.users is not None:
                options.update(authenticator=self._authenticate, auth_required=True)
            self._controller = Controller(
                _Handler(self), hostname=self.host, port=self.port, **options
            )
            self._controller.start()

    # -- the server's side -----------------------------------------------------------------

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self.users is None:
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if self.users.get(login) != password:
            return AuthResult(success=False, handled=False)
        self.logins.append(login)
        return AuthResult(success=True)

    def _accept(self, envelope: Any) -> str:
        with self._arrived:
            if self._refuse_next > 0:
                self._refuse_next -= 1
                self.refused += 1
                return "451 4.3.0 Please try again later"
            parsed = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), parsed))
            self._arrived.notify_all()
        return "250 OK"


@contextlib.contextmanager
def running_smtp_server(
    attempts: int = 3, *, tls: ssl.SSLContext | None = None, users: dict[str, str] | None = None
) -> Iterator[SmtpServer]:
    for attempt in range(1, attempts + 1):
        server = SmtpServer(port=free_port(), tls=tls, users=users)
        try:
            server.up()
        except OSError:  # somebody took the port meanwhile
            if attempt == attempts:
                raise
            continue
        try:
            yield server
        finally:
            server.down()
        return


def self_signed_certificate(directory: Path) -> tuple[Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 (its file, to trust) and a server context that uses it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.lindenau.example")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return cert_path, context


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A fresh SMTP server per test (see the module's docstring)."""
    with running_smtp_server() as server:
        yield server
