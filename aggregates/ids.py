"""Deterministic ids for natural keys, so a retried intake is the same item, not a second one."""

from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c2a5e-6d1e-4c3b-9a55-2b1f0c7d9e41")


def mail_item_id(channel: str, idempotency_key: str) -> UUID:
    return uuid5(NAMESPACE, f"mail-item:{channel}:{idempotency_key}")


def case_id_for_first_item(item_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"case:{item_id}")


def imported_case_id(reference: str) -> UUID:
    return uuid5(NAMESPACE, f"imported-case:{reference}")


def routing_example_id(source: str) -> UUID:
    return uuid5(NAMESPACE, f"routing-example:{source}")


def reference_index_id(reference: str) -> UUID:
    return uuid5(NAMESPACE, f"reference:{reference}")


def station_id(token_hash: str) -> UUID:
    return uuid5(NAMESPACE, f"station:{token_hash}")


def portal_client_id(token_hash: str) -> UUID:
    return uuid5(NAMESPACE, f"portal-client:{token_hash}")


def staff_id(login: str) -> UUID:
    return uuid5(NAMESPACE, f"staff:{login.casefold()}")


def citizen_account_id(account_id: str) -> UUID:
    return uuid5(NAMESPACE, f"citizen-account:{account_id}")


def acknowledgement_key(item_id: UUID) -> str:
    """The Eingangsbestätigung of an item: one per item, however often the event arrives."""
    return f"acknowledgement:{item_id}"
