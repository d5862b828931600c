"""The ``delivery`` consumer: everything that goes out of the city hall.

* An approved letter is rendered (the PDF is a new blob), then delivered: to the citizen's
  Postfach when they have a Bürgerkonto and agreed to digital delivery, otherwise queued for
  print. Rendering, delivery and the position are one save, so a redelivered event changes
  nothing and a crash in between renders the letter again (the same bytes, the same blob).
* A new case gets its Eingangsbestätigung: a portal submission in the citizen's Postfach
  (without a Postfach the e-mail notification acknowledges it); a scanned letter whose
  sender address was read by post, where the catalog asks for it (per department/service).
  Misdirected mail and advertising never open a case, so they never get one.
* An information request of a clerk becomes an Anforderung von Unterlagen (with the due date
  and how to answer online), delivered the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from aggregates import ids
from aggregates.case import Case
from aggregates.outgoing_document import DocumentState, OutgoingDocument
from aggregates.values import Channel
from mailroom.application import MailroomApp
from mailroom.auth.principal import system_principal
from mailroom.consumers.base import EventRecordingConsumer, Failure
from mailroom.logs import annotate
from mailroom.services import ServiceError
from mailroom.services.letter_data import Author, german_date
from mailroom.services.letters import LetterService

log = logging.getLogger(__name__)

ACKNOWLEDGEMENT = "eingangsbestaetigung"
REQUEST = "anforderung_unterlagen"


class DispatchConsumer(EventRecordingConsumer):
    name = "delivery"
    topics: tuple[str, ...] = tuple(
        get_topic(cls)
        for cls in (OutgoingDocument.Approved, Case.Opened, Case.InformationRequested)
    )

    def __init__(
        self, app: MailroomApp, letters: LetterService, clock: Callable[[], datetime]
    ) -> None:
        super().__init__(app)
        self.letters = letters
        self.clock = clock
        self.principal = system_principal(self.name)

    def process(self, event: Any, tracking: Tracking) -> bool:
        own = self.own_tracking(tracking)
        if own is None:
            return False
        if isinstance(event, OutgoingDocument.Approved):
            document = self.app.find_document(event.originator_id)
            if document is None or document.state is not DocumentState.APPROVED:
                return self.save(own)  # rendered before (a repeated event)
            annotate(reference=document.case_reference)
            self._render_and_deliver(document)
            return self.save(own, document)
        case = self.app.find_case(event.originator_id)
        if case is None:
            return self.save(own)
        annotate(reference=case.reference, item_id=case.first_item_id)
        if isinstance(event, Case.InformationRequested):
            letter = self._information_request(case, event)
        else:
            letter = self._acknowledgement(case)
        if letter is None:
            return self.save(own)
        self._render_and_deliver(letter)
        return self.save(own, letter)

    def record_failure(self, event: Any, tracking: Tracking, failure: Failure) -> bool:
        """A letter that keeps failing to render is recorded as failed (the case page shows
        it; nothing was sent) and the stream moves on."""
        own = self.own_tracking(tracking)
        if own is None:
            return True
        log.error(
            "delivery gave up on %s %s: %s",
            type(event).__qualname__,
            event.originator_id,
            failure.detail,
        )
        document = None
        if isinstance(event, OutgoingDocument.Approved):
            document = self.app.find_document(event.originator_id)
        if document is not None and document.state is DocumentState.APPROVED:
            document.record_rendering_failure(failure.detail, self.clock())
            self.save(own, document)  # the case page says so; nothing was sent
        else:
            self.save(own)
        return True

    def _render_and_deliver(self, document: OutgoingDocument) -> None:
        outcome = self.letters.render_and_deliver(document)
        log.info("letter %s for case %s: %s", document.id, document.case_reference, outcome)

    def _information_request(
        self, case: Case, event: Case.InformationRequested
    ) -> OutgoingDocument | None:
        """The clerk asked the citizen for documents: the Anforderung von Unterlagen goes
        out with the message, the due date and how to answer online."""
        key = f"information-request:{case.id}:{event.request_id}"
        if self.app.find_document(OutgoingDocument.create_id(key)) is not None:
            return None
        fields = {"requested": event.message, "due_date": german_date(event.due_on)}
        clerk = (
            self.app.find_staff_name(event.by)
            or self.letters.catalog.department(case.department_id).name
        )
        return self._approved(case, REQUEST, fields, key, Author(clerk))

    def _approved(
        self, case: Case, template: str, fields: dict[str, Any], key: str, author: Author
    ) -> OutgoingDocument | None:
        try:
            document = self.letters.new_document(
                self.principal, case, template, fields, key=key, author=author
            )
        except ServiceError as exc:
            log.warning("no %s for case %s: %s", template, case.reference, exc)
            return None
        document.approve(self.principal.id, author.name, self.clock())
        return document

    def _acknowledgement(self, case: Case) -> OutgoingDocument | None:
        """The case's Eingangsbestätigung, approved, or None when it gets none."""
        item = self.app.find_item(case.first_item_id) if case.first_item_id else None
        if item is None:
            return None
        key = ids.acknowledgement_key(item.id)
        if self.app.find_document(OutgoingDocument.create_id(key)) is not None:
            return None  # written before
        if item.channel == Channel.PORTAL:
            account = item.citizen_account_id
            found = self.app.find_account(account) if account else None
            if found is None or not found.digital_delivery:
                return None  # the e-mail notification acknowledges it
        elif not case.address or not self.letters.catalog.acknowledges_scans(
            case.department_id, case.service_key
        ):
            return None
        department = self.letters.catalog.department(case.department_id).name
        return self._approved(case, ACKNOWLEDGEMENT, {}, key, Author(department))
