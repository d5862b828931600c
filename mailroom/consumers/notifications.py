"""The notification consumer: queues an e-mail to the citizen on the changes they care about.

* ``MailItem.Received`` of a portal submission: the Eingangsbestätigung by e-mail (reference,
  status link; the access code was shown when submitting and is never mailed);
* ``Case.Opened`` / ``Case.Reassigned``: the department that handles it;
* ``Case.InformationRequested``: information is needed (by when; not what);
* ``Case.Closed``: decided (not how);
* ``Case.Reopened``: the closed case is worked on again (not why: the reason is internal).

Who gets it is decided by a recipient resolver (the Bürgerkonto's e-mail when the item
belongs to an account that has one, else the e-mail the applicant gave in the portal); a
case's recipient is that of its first item. Letters without either get nothing.

The e-mail is rendered and written to the outbox (``mailroom.notify.outbox``) in the same
transaction as this consumer's position, one row per event and kind: a redelivered event
queues nothing twice. Sending is the sender loop's job (``mailroom.notify.sender``), a
thread the runners start beside this consumer (``background_loops``), so a failing mail
server never holds up this consumer, a case or any other consumer.

Without an SMTP host notifications are off: the consumer only records its position (so that
turning them on later does not mail the past), and says so once when its runner starts it.
Events older than ``notify_max_event_age_h`` are not mailed either (a new install catching
up with years of history must not write to every citizen).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from sqlalchemy import Engine

from aggregates.case import Case
from aggregates.mail_item import MailItem
from mailroom.application import MailroomApp
from mailroom.config import Settings
from mailroom.consumers.base import Failure, tracking_name
from mailroom.consumers.delivery import RetryPolicy
from mailroom.notify.messages import Composer, Kind, Sender, german_date
from mailroom.notify.outbox import Outbox, OutgoingMail
from mailroom.notify.sender import NotificationSender
from mailroom.notify.smtp import SmtpConfig
from mailroom.services.intake import ANSWER_KEY_PREFIX
from routing.catalog import Catalog, Contact, UnknownDepartmentError

log = logging.getLogger(__name__)

BERLIN = ZoneInfo("Europe/Berlin")
RecipientResolver = Callable[[MailItem], str | None]
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+\.[^@\s<>()\[\],;:\"\\.]+")

_KINDS: dict[type[Any], Kind] = {
    MailItem.Received: Kind.RECEIVED,
    Case.Opened: Kind.DEPARTMENT_ASSIGNED,
    Case.Reassigned: Kind.DEPARTMENT_ASSIGNED,
    Case.InformationRequested: Kind.INFORMATION_REQUESTED,
    Case.Closed: Kind.DECIDED,
    Case.Reopened: Kind.REOPENED,
}


def usable_address(address: str | None) -> bool:
    return address is not None and len(address) <= 254 and _ADDRESS.fullmatch(address) is not None


def account_or_applicant_email(app: MailroomApp) -> RecipientResolver:
    """The default resolver: the item's Bürgerkonto e-mail, else the portal applicant's."""

    def resolve(item: MailItem) -> str | None:
        account_id = item.citizen_account_id
        if account_id:
            account = app.find_account(account_id)
            if account is not None and account.email:
                return account.email
        submission = item.submission
        return submission.applicant.email if submission is not None else None

    return resolve


class NotificationConsumer:
    name = "notifications"
    topics: tuple[str, ...] = tuple(get_topic(cls) for cls in _KINDS)

    def __init__(
        self,
        app: MailroomApp,
        outbox: Outbox,
        composer: Composer,
        catalog: Catalog,
        sender: NotificationSender | None,
        *,
        recipient: RecipientResolver | None = None,
        max_event_age: timedelta = timedelta(hours=72),
        wall_clock: Callable[[], datetime],
    ) -> None:
        self.app = app
        self.outbox = outbox
        self.composer = composer
        self.catalog = catalog
        self.sender = sender  # None: notifications are off
        self.recipient = recipient or account_or_applicant_email(app)
        self.max_event_age = max_event_age
        self.wall_clock = wall_clock

    @property
    def enabled(self) -> bool:
        return self.sender is not None

    # -- what the runners call -------------------------------------------------------------

    def position(self, source: str) -> int:
        return self.outbox.position(tracking_name(self.name, source))

    def process(self, event: Any, tracking: Tracking) -> bool:
        name = tracking_name(self.name, tracking.application_name)
        if tracking.notification_id <= self.outbox.position(name):
            return False  # seen before: do not even read the event store
        mails = self.mails_for(event) if self.enabled else []
        queued = self.outbox.enqueue(name, tracking.notification_id, mails)
        if queued and mails and self.sender is not None:
            self.sender.wake()
        return queued

    def record_failure(self, event: Any, tracking: Tracking, failure: Failure) -> bool:
        """The e-mail could not even be composed: record a failed row operators see, and go
        on (a missing e-mail must not hold up the ones after it)."""
        kind = _KINDS.get(type(event))
        reference = str(getattr(event, "reference", "") or "")
        mail = OutgoingMail(
            key=_key(kind or "unknown", event),
            kind=str(kind or "unknown"),
            reference=reference,
            recipient="",
            subject="",
            body="",
        )
        name = tracking_name(self.name, tracking.application_name)
        detail = f"not composed: {failure.detail}"
        self.outbox.enqueue(name, tracking.notification_id, [mail], failed=detail)
        return True

    def persist_attempts(self, event: Any) -> bool:
        return False

    def background_loops(self) -> list[Callable[[threading.Event], None]]:
        """What runs beside this consumer (both runners start it): the sender loop."""
        if self.sender is None:
            log.info("notifications are disabled: no MAILROOM_SMTP_HOST configured")
            return []
        return [self.sender.run]

    # -- what is mailed --------------------------------------------------------------------

    def mails_for(self, event: Any) -> list[OutgoingMail]:
        kind = _KINDS.get(type(event))
        if kind is None or event.timestamp < self.wall_clock() - self.max_event_age:
            return []
        if isinstance(event, MailItem.Received):
            if event.submission is None:
                return []  # a scanned letter: nobody to write to by e-mail
            if event.intake_key.startswith(ANSWER_KEY_PREFIX):
                return []  # the citizen's answer on the status page: they saw it arrive
            item = self.app.get_item(event.originator_id)
            return self._mail(
                kind, event, item, event.reference, None, received_on=_local_date(event.received_at)
            )
        case = self.app.find_case(event.originator_id)
        if case is None or case.first_item_id is None:
            return []
        first = self.app.find_item(case.first_item_id)
        if first is None:
            return []
        if isinstance(event, Case.Opened | Case.Reassigned):
            department = event.department_id
            return self._mail(
                kind,
                event,
                first,
                case.reference,
                department,
                department=self._department_name(department),
                reassigned=isinstance(event, Case.Reassigned),
            )
        if isinstance(event, Case.InformationRequested):
            due_date = german_date(event.due_on)
            return self._mail(
                kind, event, first, case.reference, case.department_id, due_date=due_date
            )
        if isinstance(event, Case.Reopened):
            return self._mail(kind, event, first, case.reference, case.department_id)
        return self._mail(
            kind, event, first, case.reference, case.department_id, outcome=event.outcome
        )

    def _mail(
        self,
        kind: Kind,
        event: Any,
        item: MailItem,
        reference: str,
        department_id: str | None,
        **values: Any,
    ) -> list[OutgoingMail]:
        recipient = self.recipient(item)
        if not usable_address(recipient):
            if recipient:
                log.info("notifications: no usable e-mail address for %s", reference)
            return []
        assert recipient is not None
        rendered = self.composer.render(kind, reference, self._sender(department_id), **values)
        return [
            OutgoingMail(
                key=_key(kind, event),
                kind=kind.value,
                reference=reference,
                recipient=recipient,
                subject=rendered.subject,
                body=rendered.body,
            )
        ]

    def _sender(self, department_id: str | None) -> Sender:
        city = self.catalog.city
        contact: Contact = city.contact
        if department_id is not None:
            with contextlib.suppress(UnknownDepartmentError):
                contact = self.catalog.department(department_id).contact.merged_over(contact)
        return Sender(
            authority=city.name,
            phone=contact.phone,
            email=contact.email,
            web=contact.web,
            opening_hours=contact.opening_hours,
        )

    def _department_name(self, department_id: str) -> str:
        try:
            return self.catalog.department(department_id).name
        except UnknownDepartmentError:
            return department_id


def _key(kind: str, event: Any) -> str:
    return f"{kind}:{event.originator_id}:{event.originator_version}"


def _local_date(moment: datetime) -> str:
    return german_date(moment.astimezone(BERLIN).date())


def build_notification_consumer(
    settings: Settings,
    app: MailroomApp,
    views: Engine,
    catalog: Catalog,
    wall_clock: Callable[[], datetime],
) -> NotificationConsumer:
    """The consumer for these settings (always one, so every deployment has the worker);
    with an SMTP host it has a sender loop, without one notifications are off."""
    outbox = Outbox(views, wall_clock)
    sender = None
    if settings.smtp_host:
        config = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            sender=settings.notify_sender,
            user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value(),
            timeout_s=settings.smtp_timeout_s,
        )
        policy = RetryPolicy(
            max_attempts=settings.notify_max_attempts,
            base_delay_s=settings.notify_retry_base_s,
            max_delay_s=settings.notify_retry_max_s,
        )
        sender = NotificationSender(outbox, config, policy, wall_clock)
    return NotificationConsumer(
        app,
        outbox,
        Composer(settings.notify_status_base_url),
        catalog,
        sender,
        max_event_age=timedelta(hours=settings.notify_max_event_age_h),
        wall_clock=wall_clock,
    )
