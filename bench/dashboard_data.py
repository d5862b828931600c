"""Cases for the dashboard benchmark, made through the real aggregates: a portal submission
(MailItem received, some with a document's text), routed by its service key, its case opened
with the catalog's processing days, and then — depending on its age — assigned, noted,
waiting for the citizen, answered and closed. Deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aggregates.access_code import derive_access_code, hash_access_code
from aggregates.case import Case, Outcome
from aggregates.mail_item import MailItem
from aggregates.reference import ALPHABET, RANDOM_LENGTH, Reference, check_character
from aggregates.reference_index import ReferenceIndex
from aggregates.values import Applicant, Document, PageText, Submission
from routing.catalog import Catalog, Service


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Anna Ben Clara David Emma Felix Greta Hannah Jonas Karl Lena Lukas Marie Mia Noah Paul "
    "Sophie Tim Ursula Wolfgang Jürgen Sabine Monika Thomas Petra Stefan Ayşe Mehmet Fatma "
    "Katarzyna Jörg Björn Gülay Renate Uwe Heike Dieter Ingrid Helga Lea Finn Ida Emil"
)
LAST_NAMES = _words(
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer "
    "Koch Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann "
    "Hartmann Lange Schmitt Werner Krause Meier Lehmann Yılmaz Kaya Nowak Kowalski Öztürk "
    "Große Weiß Jäger Vogel Friedrich Günther Böhm Kühn Pohl Engel Horn Busch Voigt Sauer"
)
STREETS = _words(
    "Hauptstraße Bahnhofstraße Gartenweg Lindenallee Schulstraße Kirchplatz Mühlenweg "
    "Goethestraße Schillerstraße Birkenweg Rosenstraße Ahornweg Feldstraße Industriestraße "
    "Ringstraße Bergstraße Waldweg Friedhofstraße Weidenweg Marktplatz"
)
SUBJECTS = (
    "Antrag auf {service}",
    "{service}",
    "{service} – Antrag vom {day}",
    "Frage zu {service}",
    "{service}: Unterlagen nachgereicht",
    "Bitte um Rückruf wegen {service}",
    "Antrag {service} für {first} {last}",
)
SENTENCES = (
    "Sehr geehrte Damen und Herren,",
    "hiermit beantrage ich {service}.",
    "Die erforderlichen Unterlagen liegen diesem Schreiben bei.",
    "Ich bitte um eine kurze Eingangsbestätigung.",
    "Für Rückfragen bin ich werktags ab 16 Uhr erreichbar.",
    "Meine Anschrift hat sich zum {day} geändert.",
    "Bitte teilen Sie mir mit, welche Gebühren anfallen.",
    "Das Schreiben vom {day} habe ich erhalten.",
    "Mit freundlichen Grüßen",
)
NOTES = (
    "Unterlagen vollständig, Prüfung beginnt.",
    "Telefonisch Rückfrage gestellt.",
    "Stellungnahme des Fachbereichs angefordert.",
    "Gebührenbescheid vorbereitet.",
)
RARE_WORD = "Wetterhahn"  # in one item text of RARE_EVERY: the search for a rare word
RARE_EVERY = 2_500
COMMON_WORD = "Antrag"
YEAR_SPAN_DAYS = 730
CLERKS_PER_DEPARTMENT = 6
_SPREAD = 0x9E3779B1  # odd: multiplying by it modulo 32^7 is a bijection (unique references)


@dataclass(frozen=True)
class Sample:
    reference: str
    access_code: str
    department_id: str


@dataclass
class Samples:
    """What the benchmark asks for later: kept for every ``every``-th case."""

    every: int
    cases: list[Sample] = field(default_factory=list)


class CaseFactory:
    def __init__(self, catalog: Catalog, secret: bytes, now: datetime, seed: int = 7) -> None:
        self.catalog = catalog
        self.secret = secret
        self.now = now
        self.random = random.Random(seed)
        self.prefix = catalog.city.reference_prefix
        services = catalog.services()
        weights = [self.random.paretovariate(1.2) for _ in services]
        self.services: list[Service] = services
        self.weights = weights
        self.clerks = {
            d: [
                (
                    f"staff:{d}-{n}",
                    f"{self.random.choice(FIRST_NAMES)} {self.random.choice(LAST_NAMES)}",
                )
                for n in range(CLERKS_PER_DEPARTMENT)
            ]
            for d in catalog.department_ids()
        }

    def staff(self) -> list[tuple[str, str, str]]:
        """(login, name, department) of every clerk the cases name."""
        return [
            (principal.removeprefix("staff:"), name, department)
            for department, clerks in self.clerks.items()
            for principal, name in clerks
        ]

    def reference(self, number: int, year: int) -> str:
        value = (number * _SPREAD + 12345) % 32**RANDOM_LENGTH
        chars = []
        for _ in range(RANDOM_LENGTH):
            value, digit = divmod(value, 32)
            chars.append(ALPHABET[digit])
        body = "".join(chars)
        return str(Reference(self.prefix, year, body + check_character(f"{year:04d}{body}")))

    def make(self, number: int, samples: Samples | None = None) -> list[Any]:
        """One case with its item and reference index (the aggregates to save)."""
        r = self.random
        service = r.choices(self.services, self.weights)[0]
        department = service.department_id
        age = timedelta(days=r.uniform(0, YEAR_SPAN_DAYS), seconds=r.randrange(86_400))
        received = self.now - age
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        day = (received - timedelta(days=r.randrange(30))).strftime("%d.%m.%Y")
        words = {"service": service.name, "first": first, "last": last, "day": day}
        address = f"{r.choice(STREETS)} {r.randrange(1, 120)}, {r.randrange(10, 99)}123 Lindenau"
        submission = Submission(
            service_key=service.key,
            applicant=Applicant(
                name=f"{first} {last}", email=f"{first.lower()}@example.org", address=address
            ),
            subject=r.choice(SUBJECTS).format(**words),
            form_fields={"anliegen": service.name},
        )
        key = f"dashboard-{number}"
        reference = self.reference(number, received.year)
        item_id = MailItem.create_id("portal", key)
        code = derive_access_code(self.secret, item_id)
        text = self._text(r, words, number) if r.random() < 0.35 else None
        documents = []
        if text is not None:
            digest = hashlib.sha256(key.encode()).hexdigest()
            documents.append(
                Document(f"sha256/{digest}", digest, "application/pdf", 48_000, 1, "antrag.pdf")
            )
        item = MailItem(
            channel="portal",
            intake_key=key,
            reference=reference,
            received_at=received,
            documents=documents,
            access_code_hash=hash_access_code(reference, code),
            request_fingerprint=key,
            submission=submission,
        )
        if text is not None:
            item.record_text(documents[0].blob_key, "text-layer", [PageText(1, text, 99.0, "pdf")])
        item.route(department, "service-key", 1.0, f"service-key: {service.key}")
        case = Case.open(
            reference=reference,
            department_id=department,
            subject=submission.subject,
            party=submission.applicant.name,
            address=address,
            opened_at=received + timedelta(seconds=2),
            opened_by="system:router",
            first_item_id=item.id,
            service_key=service.key,
            processing_days=self.catalog.processing_days(department, service.key),
        )
        item.attach_to_case(case.id, case.reference)
        self._work(r, case, received, age)
        if case.department_id != department:  # re-routed: its item moves with it
            item.reroute(case.department_id, "system:bench", "Zuständigkeit geändert")
        if samples is not None and number % samples.every == 0:
            samples.cases.append(Sample(reference, code, case.department_id))
        return [item, ReferenceIndex(reference=reference, item_id=item.id), case]

    def _text(self, r: random.Random, words: dict[str, str], number: int) -> str:
        lines = [SENTENCES[0], SENTENCES[1].format(**words)]
        lines += [s.format(**words) for s in r.sample(SENTENCES[2:-1], 3)]
        if number % RARE_EVERY == RARE_EVERY // 2:
            lines.append(f"Der {RARE_WORD} auf dem Dach ist lose.")
        lines += [SENTENCES[-1], f"{words['first']} {words['last']}"]
        return "\n".join(lines)

    def _work(self, r: random.Random, case: Case, received: datetime, age: timedelta) -> None:
        """What clerks did with it so far: the older, the more likely it is done."""
        at = received + timedelta(hours=r.uniform(2, 60))
        if at >= self.now:
            return
        done = 0.97 if age.days > 90 else 0.6 if age.days > 30 else 0.15
        if r.random() < 0.8 or age.days > 30:
            clerk_id, clerk_name = r.choice(self.clerks[case.department_id])
            lead = self.clerks[case.department_id][0][0]
            by = clerk_id if r.random() < 0.7 else lead
            case.assign(clerk_id, clerk_name, by=by, at=at)
            at = self._later(r, at, 8)
            if r.random() < 0.3:
                case.add_note(r.choice(NOTES), clerk_id, clerk_name, at)
                at = self._later(r, at, 24)
            if r.random() < 0.1:
                due = (at + timedelta(days=14)).date()
                case.request_information(
                    "req-1", "Bitte reichen Sie den Nachweis nach.", due, clerk_id, at
                )
                at = self._later(r, at, 240)
                if r.random() < 0.5 and at < self.now:
                    case.receive_information(None, clerk_id, at)
                    at = self._later(r, at, 24)
        if r.random() < 0.03 and case.assignee_id and at < self.now:
            reason = r.choice(["complex", "third_party", "workload"])
            case.extend_deadline(r.randrange(5, 20), reason, "", case.assignee_id, at)
        if r.random() < 0.02:
            other = r.choice([d for d in self.clerks if d != case.department_id])
            case.reassign(other, "system:bench", "Zuständigkeit geändert")
        if r.random() < done and at < self.now:
            outcome = r.choice([Outcome.GRANTED, Outcome.DONE, Outcome.DONE, Outcome.REJECTED])
            case.close(min(at, self.now), outcome, case.assignee_id or "system:bench")
            if r.random() < 0.01:
                case.reopen("Widerspruch eingegangen", "system:bench", self._later(r, at, 48))

    def _later(self, r: random.Random, at: datetime, hours: float) -> datetime:
        return min(at + timedelta(hours=r.uniform(0.5, hours)), self.now - timedelta(seconds=1))


def generate(
    factory: CaseFactory,
    save: Callable[..., Any],
    cases: int,
    per_save: int,
    samples: Samples,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Make and save ``cases`` cases, ``per_save`` cases per ``save(*aggregates)`` call;
    returns the number of events saved."""
    events = 0
    for start in range(0, cases, per_save):
        aggregates = []
        for number in range(start, min(cases, start + per_save)):
            aggregates += factory.make(number, samples)
        events += sum(len(a.pending_events) for a in aggregates)
        save(*aggregates)
        if progress is not None:
            progress(min(cases, start + per_save), events)
    return events


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
