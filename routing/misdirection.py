"""Mail that is not for the city: recognised by its own check, before the classifier.

Three kinds of evidence, each explainable on its own:

1. **the address block**: the recipient lines (the DIN 5008 window: the last address block above
   the subject) name another authority ("Finanzamt Lindenau", "Agentur für Arbeit",
   "Deutsche Rentenversicherung", "AOK", "Amtsgericht", "Polizeipräsidium", "Landratsamt") and
   no block names the city -> misdirected, the addressee is that line;
2. **advertising**: cues of advertising and offer-invoices (an opt-out "keine Werbung mehr",
   "30 % Rabatt", "statt 899 € nur 539 €", a voucher code, "Sehr geehrte Kundin", "Dies ist ein
   Angebot") -> misdirected, addressee "Werbung";
3. **the topic**: a letter addressed to the city whose matter belongs to another authority: the
   vocabulary of one ``[[misdirected]]`` group (terms no department shares) in its subject or
   three times over, outweighing every department's catalog evidence ("Einspruch gegen den
   Einkommensteuerbescheid", "Weiterbewilligungsantrag Bürgergeld ... Eingliederungsvereinbarung").

A letter that merely *mentions* another authority ("das Jobcenter zahlt meine Miete", "die
Polizei hat den Unfall aufgenommen") is none of these: the address block names the city, no
advertising cue, one term that does not outweigh the department's. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from routing.analysis import LetterAnalysis
from routing.catalog import MISDIRECTED, Catalog
from routing.lexicon import Lexicon
from routing.text import fold

ADVERTISING = "Werbung"
"""The addressee shown for advertising and offer-invoices."""

# Other authorities as named in an address block: (addressee, pattern on the folded line).
# Order matters: "Bundesagentur für Arbeit - Familienkasse" is the Familienkasse.
OTHER_AUTHORITIES: tuple[tuple[str, str], ...] = (
    ("Familienkasse", r"\bfamilienkasse"),
    ("Finanzamt", r"\bfinanzamt|\bbundeszentralamt fuer steuern|\bhauptzollamt"),
    ("Jobcenter", r"\bjobcenter|\bagentur fuer arbeit|\barbeitsagentur"),
    ("Deutsche Rentenversicherung", r"\brentenversicherung|\bdrv\b"),
    (
        "Krankenkasse",
        r"\bkrankenkasse|\bkrankenversicherung|\bpflegekasse|\b(?:aok|tk|barmer|dak|ikk|bkk|kkh|hek)\b"
        r"|\btechniker\b",
    ),
    (
        "Amtsgericht",
        r"\bamtsgericht|\blandgericht|\bsozialgericht|\bverwaltungsgericht|\barbeitsgericht"
        r"|\bnachlassgericht|\bgrundbuchamt|\bstaatsanwaltschaft",
    ),
    ("Polizei", r"\bpolizei|\bkriminalpolizei|\bkripo\b"),
    (
        "Kreisverwaltung / Landratsamt",
        r"\bkreisverwaltung|\blandratsamt|\bkreishaus\b|\blandrat\b|\blandraetin\b"
        r"|\bkreis [a-z]|\w-kreis\b",
    ),
    ("Rundfunkbeitrag (Beitragsservice)", r"\bbeitragsservice"),
)
_CITY_WORDS = r"\bstadtverwaltung|\brathaus|\b(?:ober)?buergermeister"

_POSTCODE = re.compile(r"(?:^|\s|D-)\d{5}\s+\S")
_POSTCODE_LINE = re.compile(r"^(?:D-)?\d{5}\s+\S")
_STOP_HEAD = re.compile(
    r"^\s*(?:betreff|betr\.|subject|konu|sehr geehrte|liebe[rs]?\b|hallo|guten tag|dear|sayın)",
    re.IGNORECASE,
)
_HEAD_LINES = 30
_WINDOW_LINES = 6  # an address window holds at most this many lines

# Advertising cues: (name, strong?, pattern on the folded text).
_ADVERTISING_CUES: tuple[tuple[str, bool, str], ...] = (
    (
        "opt-out",
        True,
        r"keine werbung|werbung mehr|abbestellen|abmelden@|newsletter abmelden|unsubscribe"
        r"|werbewiderspruch|opt-out",
    ),
    (
        "discount",
        True,
        r"\d+\s?%\s*(?:rabatt|nachlass|ersparnis|guenstiger|reduziert|off\b|indirim)"
        r"|(?:rabatt|bis zu|sparen sie|indirim)\s*(?:von\s*)?\d+\s?%",
    ),
    ("price cut", True, r"statt\s+[\d.,]+\s*(?:€|eur\w*)?\s*(?:nur|jetzt)|\bjetzt nur\b"),
    (
        "voucher code",
        True,
        r"gutscheincode|rabattcode|aktionscode|promo-?code|coupon code|kupon kodu",
    ),
    (
        "customer salutation",
        True,
        r"(?:sehr geehrte|liebe) kundin|(?:sehr geehrter|lieber) kunde|liebe kunden"
        r"|dear customer|degerli musterimiz",
    ),
    (
        "offer-invoice",
        True,
        r"dies ist ein angebot|vertrag kommt erst durch ihre zahlung|kein(?:e)? rechnung im sinne"
        r"|nicht der registrar",
    ),
    (
        "offer",
        False,
        r"\bsonderangebot|\bangebot\b|\baktion\b|\bkostenlos|\bgratis\b|\bunverbindlich"
        r"|special offer|\bdiscount|free trial|\bkampanya|\bfirsat|\bucretsiz",
    ),
    (
        "urgency",
        False,
        r"\bnur heute\b|\bnur bis\b|\bnur noch\b|solange der vorrat|limited time|sadece bugun",
    ),
    ("advertising", False, r"\bwerbung\b|\badvertis"),
    ("net prices", False, r"€\s*netto|\bnetto\b|zzgl\.?\s*(?:\d+\s?%\s*)?mwst"),
    ("voucher", False, r"\bgutschein"),
)
_STRONG_POINTS = 2
_ADVERTISING_POINTS = 4  # strong cues count two, weak ones one; at least one strong cue

_TOPIC_TERMS = 3  # distinct group terms that make a letter's matter another authority's
_TOPIC_TERMS_WITH_SUBJECT = 2  # ... when one of them stands in the subject line
_SUBJECT_STRENGTH = 1.0  # hits stronger than a plain page-1 word stand in the subject line
_PAGE_ONE_STRENGTH = 0.5


@dataclass(frozen=True)
class Misdirection:
    kind: str  # "addressee", "advertising" or "topic"
    addressee: str
    evidence: tuple[str, ...]  # the lines, cues or terms that showed it

    @property
    def detail(self) -> str:
        shown = "; ".join(self.evidence)
        if self.kind == "addressee":
            return f"address block names another authority: {shown}"
        if self.kind == "advertising":
            return f"advertising cues: {shown}"
        return f"a matter for the {self.addressee}: {shown}"


class MisdirectionCheck:
    def __init__(self, catalog: Catalog, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        authorities = [(a, re.compile(p)) for a, p in OTHER_AUTHORITIES]
        for group in catalog.misdirection:
            for name in group.recipients:
                pattern = r"\b" + r"\s+".join(re.escape(w) for w in fold(name).split()) + r"\b"
                authorities.insert(0, (group.addressee, re.compile(pattern)))
        self.authorities = authorities
        city = [re.escape(w) for w in fold(catalog.city.name).split()]
        own_names = {fold(d.name) for d in catalog.departments} | {
            fold(a) for d in catalog.departments for a in d.aliases
        }
        names = [re.escape(n) for n in sorted(own_names) if len(n) > 3]
        self.city = re.compile(
            "|".join(
                [_CITY_WORDS, r"\b" + r"\s+".join(city) + r"\b", *[rf"\b{n}\b" for n in names]]
            )
        )
        self.advertising_terms = {
            term
            for group in catalog.misdirection
            if group.advertising
            for term, addressees in lexicon.addressees().items()
            if group.addressee in addressees
        }

    def check(self, text: str, analysis: LetterAnalysis) -> Misdirection | None:
        return (
            self._by_address_block(text) or self._by_advertising(text) or self._by_topic(analysis)
        )

    def _by_address_block(self, text: str) -> Misdirection | None:
        blocks = address_blocks(text)
        if len(blocks) < 2 and not (blocks and fold(blocks[0][0]).startswith("an ")):
            return None
        if any(self.city.search(fold(line)) for block in blocks for line in block):
            return None
        # The most specific unit stands last ("Bundesagentur für Arbeit / Familienkasse").
        for line in reversed(blocks[-1]):
            folded = fold(line)
            for addressee, pattern in self.authorities:
                if pattern.search(folded):
                    return Misdirection("addressee", addressee, (line,))
        return None

    def _by_advertising(self, text: str) -> Misdirection | None:
        folded = fold(unicodedata.normalize("NFC", text))
        found: list[str] = []
        points = strong = 0
        for name, is_strong, pattern in _ADVERTISING_CUES:
            match = re.search(pattern, folded)
            if match is None:
                continue
            found.append(f"{name} ({match.group().strip()!r})")
            points += _STRONG_POINTS if is_strong else 1
            strong += is_strong
        if strong and points >= _ADVERTISING_POINTS:
            return Misdirection("advertising", ADVERTISING, tuple(found))
        return None

    def _by_topic(self, analysis: LetterAnalysis) -> Misdirection | None:
        addressees = self.lexicon.addressees()
        terms: dict[str, dict[str, str]] = defaultdict(dict)
        in_subject: dict[str, bool] = defaultdict(bool)
        for hit in analysis.hits:
            owners = self.lexicon.weights.get(hit.term, {})
            if set(owners) != {MISDIRECTED} or hit.weight < _PAGE_ONE_STRENGTH:
                continue  # a term some department shares says nothing about misdirection
            if hit.term in self.advertising_terms:
                continue
            for addressee in addressees.get(hit.term, []):
                terms[addressee].setdefault(hit.term, hit.written)
                in_subject[addressee] |= hit.weight > _SUBJECT_STRENGTH
        if not terms:
            return None
        best = min(terms, key=lambda a: (-len(terms[a]), a))
        count = len(terms[best])
        needed = _TOPIC_TERMS_WITH_SUBJECT if in_subject[best] else _TOPIC_TERMS
        if count < needed:
            return None
        scores = self.lexicon.evidence(analysis.hits).scores
        departments = max((s for d, s in scores.items() if d != MISDIRECTED), default=0.0)
        if scores[MISDIRECTED] <= departments:
            return None
        return Misdirection("topic", best, tuple(sorted(set(terms[best].values()))))


def address_blocks(text: str) -> list[list[str]]:
    """The address blocks at the head of page 1, each ending in its postcode line (the sender's
    first, the recipient's last); a one-line return address ("Firma · Weg 1 · 12345 Ort") is a
    block of its own."""
    page = unicodedata.normalize("NFC", text).split("\f")[0]
    blocks: list[list[str]] = []
    current: list[str] = []
    for raw in page.splitlines()[:_HEAD_LINES]:
        line = raw.strip()
        if _STOP_HEAD.match(line):
            break
        if not line:
            continue
        current.append(line)
        if _POSTCODE_LINE.match(line) or ("·" in line and _POSTCODE.search(line)):
            blocks.append(current[-_WINDOW_LINES:])
            current = []
    return blocks
