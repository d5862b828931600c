"""The sender loop: sends the outbox's due e-mails, with bounded retries and back-off.

It runs as a thread beside the notification consumer, in the embedded server process or in
the ``notifications`` worker (``background_loops`` of the consumer, started by both runners).
Each pass claims a few due rows (so parallel workers never send the same one), sends them over
one SMTP connection and marks each ``sent``; a temporary failure puts the row back with
exponential back-off until ``max_attempts`` are used, a permanent one (the address is refused)
or the last attempt marks it ``failed`` with the reason and logs an error. Nothing here blocks
a case or another consumer: the outbox is the only thing the loop touches.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime, timedelta
from email.message import EmailMessage

from mailroom.consumers.delivery import RetryPolicy
from mailroom.liveness import HEARTBEATS, Heartbeats
from mailroom.notify.outbox import Outbox, OutboxRow
from mailroom.notify.smtp import Connection, SendError, SmtpConfig, build_message, connect

log = logging.getLogger(__name__)

BATCH = 20
LEASE = timedelta(minutes=5)  # a claimed row is sent again after this if its sender vanished
POLL_S = 5.0  # how often the outbox is looked at when nobody wakes the loop
_SLICE_S = 0.1  # how quickly the loop notices that it should stop
SENDER_LOOP = "notification sender"  # its name in the process's liveness report


class NotificationSender:
    def __init__(
        self,
        outbox: Outbox,
        config: SmtpConfig,
        policy: RetryPolicy,
        clock: Callable[[], datetime],
        *,
        batch: int = BATCH,
        lease: timedelta = LEASE,
        heartbeats: Heartbeats = HEARTBEATS,
    ) -> None:
        self.outbox = outbox
        self.heartbeats = heartbeats
        self.config = config
        self.policy = policy
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self._wake = threading.Event()

    def wake(self) -> None:
        """New rows were queued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        log.info(
            "notifications: sending through %s:%s (%s)",
            self.config.host,
            self.config.port,
            self.config.tls,
        )
        failures = 0
        try:
            while not stop.is_set():
                # A pass longer than the lease has lost its rows to another sender anyway.
                self.heartbeats.expect_within(SENDER_LOOP, self.lease.total_seconds())
                try:
                    handled = self.send_due()
                    failures = 0
                except Exception as exc:  # the views database is away: try again later
                    failures += 1
                    log.warning("notifications: cannot read the outbox (%s); retrying", exc)
                    self._pause_for(stop, self.policy.delay(failures))
                    continue
                if not handled:
                    self._pause_for(stop, self._pause())
        finally:
            self.heartbeats.forget(SENDER_LOOP)

    def _pause_for(self, stop: threading.Event, seconds: float) -> None:
        self.heartbeats.expect_within(SENDER_LOOP, seconds)
        self._sleep(stop, seconds)

    def send_due(self) -> int:
        """Send what is due now, one batch; returns how many rows were tried."""
        rows = self.outbox.claim(self.batch, self.lease)
        with ExitStack() as stack:
            connection: Connection | None = None
            for index, row in enumerate(rows):
                if connection is None:
                    try:
                        connection = stack.enter_context(connect(self.config))
                    except SendError as exc:  # nobody answers: every row of the batch waits
                        for waiting in rows[index:]:
                            self._failed(waiting, exc)
                        break
                try:
                    connection.send(self._message(row))
                except SendError as exc:
                    self._failed(row, exc)
                    stack.close()  # the connection may be in any state now: open a new one
                    connection = None
                    continue
                self.outbox.mark_sent(row.id)
                log.info("notifications: sent %s for %s (row %s)", row.kind, row.reference, row.id)
        return len(rows)

    def _message(self, row: OutboxRow) -> EmailMessage:
        digest = hashlib.sha256(row.key.encode()).hexdigest()[:32]
        domain = self.config.sender_address.rpartition("@")[2] or "mailroom.invalid"
        return build_message(
            self.config, row.recipient, row.subject, row.body, f"<{digest}@{domain}>"
        )

    def _failed(self, row: OutboxRow, exc: SendError) -> None:
        if exc.permanent or row.attempts >= self.policy.max_attempts:
            self.outbox.mark_failed(row.id, exc.detail)
            log.error(
                "notifications: %s for %s (row %s) failed after %s attempt(s): %s",
                row.kind,
                row.reference,
                row.id,
                row.attempts,
                exc.detail,
            )
            return
        delay = self.policy.delay(row.attempts)
        self.outbox.retry_later(row.id, delay, exc.detail)
        log.warning(
            "notifications: %s for %s (row %s), attempt %s of %s: %s; retrying in %.1f s",
            row.kind,
            row.reference,
            row.id,
            row.attempts,
            self.policy.max_attempts,
            exc.detail,
            delay,
        )

    def _pause(self) -> float:
        due = self.outbox.next_due()
        if due is None:
            return POLL_S
        return min(POLL_S, max(_SLICE_S / 2, (due - self.clock()).total_seconds()))

    def _sleep(self, stop: threading.Event, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self._wake.wait(min(left, _SLICE_S)):
                self._wake.clear()
                return
