"""What a letter template is filled with: the parts every letter has (sender, recipient,
information block, subject, salutation) from the case and the catalog, and the parts a
template adds (what the clerk typed, or what the mailroom knows, such as an access code).

The data is plain JSON (strings and lists of strings): it is stored in the document's
events, so the letter can be rendered again exactly as it was approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from aggregates.case import Case
from routing import Catalog

COMMON_PREFIXES = ("sender.", "recipient.", "info.")
COMMON_FIELDS = {"subject", "salutation"}


@dataclass(frozen=True)
class Author:
    """Who signs: the clerk (or, for automatic letters, the department)."""

    name: str
    phone: str = ""
    email: str = ""


def german_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def recipient_lines(address: str) -> list[str]:
    """The address lines below the name ("Hauptstr. 1, 59999 Lindenau" -> two lines)."""
    parts = [p.strip() for p in address.replace("\n", ",").split(",")]
    return [p for p in parts if p]


def salutation(name: str) -> str:
    """Plain and correct without guessing a gender from a name."""
    return f"Guten Tag {name}," if name.strip() else "Sehr geehrte Damen und Herren,"


def common_data(
    catalog: Catalog,
    case: Case,
    author: Author,
    today: date,
    received_on: date | None,
    subject: str,
    recipient_name: str,
    recipient_address: list[str],
) -> dict[str, Any]:
    department = catalog.department(case.department_id)
    contact = catalog.contact(case.department_id)
    city = catalog.city
    return {
        "sender": {
            "authority": city.name,
            "department": department.name,
            "street": contact.street,
            "postcode_city": contact.postcode_city,
            "phone": contact.phone,
            "email": contact.email,
            "web": contact.web,
            "opening_hours": contact.opening_hours,
            "return_line": " · ".join(
                p for p in (city.name, contact.street, contact.postcode_city) if p
            ),
        },
        "recipient": {"name": recipient_name, "lines": list(recipient_address)},
        "info": {
            "our_reference": case.reference,
            "your_reference": (
                f"Ihre Nachricht vom {german_date(received_on)}" if received_on else ""
            ),
            "case_reference": case.reference,
            "clerk": author.name,
            "phone": author.phone or contact.phone,
            "email": author.email or contact.email,
            "date": german_date(today),
        },
        "subject": subject,
        "salutation": salutation(recipient_name),
    }


def is_common(field: str) -> bool:
    return field in COMMON_FIELDS or field.startswith(COMMON_PREFIXES)


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """``set_path(d, "info.clerk", "Eva")`` sets ``d["info"]["clerk"]``."""
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def get_path(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
