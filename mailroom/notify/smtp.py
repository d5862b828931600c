"""Sending e-mail through the city's SMTP relay (smtplib): plain, STARTTLS or implicit TLS.

``send`` opens one connection for a batch of messages. A failure is *temporary* (try again
later: the server is away, a timeout, a 4xx answer) or *permanent* (a 5xx answer to the
recipient or the message: the address does not exist; trying again would not help). After a
failed message the caller opens a new connection (the old one may be in any state).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Literal

TlsMode = Literal["none", "starttls", "tls"]


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    tls: TlsMode
    sender: str  # the From: header, e.g. "Stadt Lindenau <noreply@lindenau.de>"
    user: str = ""
    password: str = ""
    timeout_s: float = 10.0

    @property
    def sender_address(self) -> str:
        return parseaddr(self.sender)[1]


class SendError(Exception):
    def __init__(self, detail: str, *, permanent: bool) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent


class Connection:
    def __init__(self, client: smtplib.SMTP, config: SmtpConfig) -> None:
        self.client = client
        self.config = config

    def send(self, message: EmailMessage) -> None:
        try:
            refused = self.client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SendError(
                _refusal(exc.recipients), permanent=all(c >= 500 for c in codes)
            ) from exc
        except smtplib.SMTPSenderRefused as exc:  # our side (the sender address): not final
            raise SendError(_answer(exc.smtp_code, exc.smtp_error), permanent=False) from exc
        except smtplib.SMTPResponseException as exc:  # 5xx: this message is refused for good
            detail = _answer(exc.smtp_code, exc.smtp_error)
            raise SendError(detail, permanent=exc.smtp_code >= 500) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        if refused:  # some recipients refused (we only ever have one)
            raise SendError(_refusal(refused), permanent=True)


@contextmanager
def connect(config: SmtpConfig) -> Iterator[Connection]:
    """An open, authenticated connection; ``SendError`` (temporary) when there is none."""
    try:
        client = _open(config)
    except smtplib.SMTPResponseException as exc:
        raise SendError(_answer(exc.smtp_code, exc.smtp_error), permanent=False) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"cannot connect: {type(exc).__name__}: {exc}", permanent=False) from exc
    try:
        yield Connection(client, config)
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def _open(config: SmtpConfig) -> smtplib.SMTP:
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if config.tls == "tls":
        client = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout_s, context=context
        )
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
    try:
        client.ehlo()
        if config.tls == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if config.user:
            client.login(config.user, config.password)
    except BaseException:
        client.close()
        raise
    return client


def build_message(
    config: SmtpConfig, recipient: str, subject: str, body: str, message_id: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(body, charset="utf-8", cte="quoted-printable")
    message["Content-Language"] = "de"
    return message


def _answer(code: int, error: bytes | str) -> str:
    text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
    return f"SMTP {code} {' '.join(text.split())}"


def _refusal(recipients: dict[str, tuple[int, bytes]]) -> str:
    # the address itself is personal: only the server's answer goes into the record
    return "; ".join(f"recipient refused: {_answer(c, e)}" for c, e in recipients.values())
