"""CitizenAccount: what the mailroom knows about a citizen's Bürgerkonto (portal account).

The account itself lives at the city's identity provider; the mailroom keeps only what
delivery needs: whether the citizen agreed to receive documents digitally (in their Postfach
instead of by post) and the e-mail address for notifications.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from aggregates import ids

MAX_ACCOUNT_ID = 200


class CitizenAccountError(ValueError):
    pass


class CitizenAccount(Aggregate):
    """Stored event classes: never rename them; evolve with class_version and upcasters."""

    class Registered(Aggregate.Created):
        account_id: str
        at: datetime

    class DigitalDeliveryChosen(Aggregate.Event):
        agreed: bool
        at: datetime

    class EmailChanged(Aggregate.Event):
        email: str | None
        at: datetime

    @staticmethod
    def create_id(account_id: str) -> UUID:
        return ids.citizen_account_id(account_id)

    @event(Registered)
    def __init__(self, account_id: str, at: datetime) -> None:
        if not account_id or len(account_id) > MAX_ACCOUNT_ID:
            raise CitizenAccountError("an account id has 1 to 200 characters")
        self.account_id = account_id
        self.digital_delivery = False
        self.email: str | None = None

    def choose_digital_delivery(self, agreed: bool, at: datetime) -> None:
        if agreed != self.digital_delivery:
            self._digital_delivery_chosen(agreed=agreed, at=at)

    @event(DigitalDeliveryChosen)
    def _digital_delivery_chosen(self, agreed: bool, at: datetime) -> None:
        self.digital_delivery = agreed

    def change_email(self, email: str | None, at: datetime) -> None:
        if email != self.email:
            self._email_changed(email=email, at=at)

    @event(EmailChanged)
    def _email_changed(self, email: str | None, at: datetime) -> None:
        self.email = email
