"""Test data for the routing library: a small city catalog, letters and cases, all made here."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from aggregates.reference import Reference
from routing import CaseRecord, Catalog, Example, InMemoryCaseDirectory

CATALOG_TOML = """
[city]
name = "Stadt Testhausen"
reference_prefix = "TST"
reference_formats = ["TST-XXXX-XXXX"]

[routing]
default_threshold = 0.6
misdirected_threshold = 0.5

[[departments]]
id = "abfall"
name = "Abfallwirtschaft"
description = "Holt Restmüll und Bioabfall ab, vergibt Sperrmüll-Termine."
aliases = ["Abfallwirtschaftsbetrieb", "Müllabfuhr"]
keywords = ["Mülltonne", "Tonne", "Sperrmüll", "Restmüll", "Biotonne", "nicht geleert", "Abholung",
            "Sofa", "Schrank", "bulky waste", "bin"]
reference_formats = ["SP-YY-NNNNN"]
threshold = 0.55
[[departments.services]]
key = "sperrmuell"
name = "Sperrmüll-Termin"

[[departments]]
id = "standesamt"
name = "Standesamt"
description = "Beurkundet Geburten und Sterbefälle und führt Trauungen durch."
aliases = ["Standesamt"]
keywords = ["Geburtsurkunde", "Sterbeurkunde", "Heiratsurkunde", "Urkunde", "Trauung", "heiraten",
            "Hochzeit", "Eheschließung", "verstorben"]
reference_formats = ["STA-YYYY-NNNNN"]
[[departments.services]]
key = "geburtsurkunde"
name = "Geburtsurkunde"

[[departments]]
id = "tiefbau"
name = "Tiefbau"
description = "Unterhält Straßen, Gehwege und die Straßenbeleuchtung."
aliases = ["Tiefbauamt"]
keywords = ["Schlagloch", "Gehweg", "Laterne", "Straßenbeleuchtung", "dunkel", "Gehwegplatte",
            "Stolperfalle", "Gully"]
[[departments.services]]
key = "maengelmelder"
name = "Mängelmelder"

[[departments]]
id = "steueramt"
name = "Steueramt"
description = "Erhebt Hundesteuer und Grundsteuer."
aliases = ["Stadtkasse"]
keywords = ["Hundesteuer", "Grundsteuer", "Kassenzeichen", "Mahnung", "Lastschrift", "Hund"]
reference_formats = ["22.NNNN.NNNN.N"]
[[departments.services]]
key = "hundesteuer"
name = "Hundesteuer"

[[misdirected]]
addressee = "Finanzamt"
keywords = ["Finanzamt", "Einkommensteuer", "Einkommensteuerbescheid", "Steuererklärung",
            "Lohnsteuer"]
[[misdirected]]
addressee = "advertiser"
keywords = ["Rabatt", "Angebot", "Gutscheincode", "kostenlos", "netto"]
"""


def write_catalog(folder: Path, extra: str = "") -> Path:
    path = folder / "catalog.toml"
    path.write_text(CATALOG_TOML + extra, encoding="utf-8")
    return path


def catalog(tmp_path: Path, extra: str = "") -> Catalog:
    return Catalog.load(write_catalog(tmp_path, extra))


def letter(sender: str, street: str, subject: str, body: str) -> str:
    """A plain letter: return address, recipient, date, subject, body, signature."""
    return (
        f"{sender}\n{street}\n12345 Testhausen\n"
        "Stadt Testhausen\nRathausplatz 1\n12345 Testhausen\n"
        "03.03.2026\n"
        f"{subject}\n"
        "Sehr geehrte Damen und Herren,\n"
        f"{body}\n"
        "Mit freundlichen Grüßen\n"
        f"{sender}\n"
    )


EXAMPLES = [
    Example(
        "ex-1",
        "abfall",
        letter(
            "Anna Berg",
            "Lindenweg 3",
            "Sperrmüll",
            "bitte holen Sie unser altes Sofa und einen Schrank ab.",
        ),
    ),
    Example(
        "ex-2",
        "abfall",
        letter(
            "Ben Kurz", "Eichenweg 9", "Tonne", "unsere Mülltonne wurde schon wieder nicht geleert."
        ),
    ),
    Example(
        "ex-3",
        "standesamt",
        letter(
            "Carla Dorn",
            "Birkenweg 1",
            "Urkunde",
            "ich brauche eine Geburtsurkunde für meinen Sohn.",
        ),
    ),
    Example(
        "ex-4",
        "standesamt",
        letter(
            "Dirk Ebert",
            "Ahornweg 5",
            "Hochzeit",
            "wir möchten im Mai heiraten, welche Unterlagen?",
        ),
    ),
    Example(
        "ex-5",
        "tiefbau",
        letter(
            "Eva Fink",
            "Ulmenweg 7",
            "Gehweg",
            "vor meinem Haus ist ein tiefes Schlagloch im Gehweg.",
        ),
    ),
    Example(
        "ex-6",
        "tiefbau",
        letter(
            "Fritz Gast",
            "Buchenweg 2",
            "Laterne",
            "die Laterne vor Nummer 4 ist seit Wochen dunkel.",
        ),
    ),
    Example(
        "ex-7",
        "steueramt",
        letter("Gabi Hahn", "Tannenweg 8", "Hund", "ich melde meinen Hund zur Hundesteuer an."),
    ),
    Example(
        "ex-8",
        "misdirected",
        letter(
            "Hans Igel",
            "Fichtenweg 4",
            "Einspruch",
            "gegen den Einkommensteuerbescheid lege ich Einspruch ein.",
        ),
    ),
]


def fixed_bytes(seed: int) -> Callable[[int], bytes]:
    rng = random.Random(seed)
    return lambda n: bytes(rng.randrange(256) for _ in range(n))


def own_reference(seed: int = 1) -> str:
    return str(Reference.generate("TST", 2026, fixed_bytes(seed)))


def case(
    case_id: str, department: str, party: str, address: str, subject: str, status: str = "open"
) -> CaseRecord:
    return CaseRecord(case_id, department, party, address, subject, status)


def directory(*cases: CaseRecord) -> InMemoryCaseDirectory:
    return InMemoryCaseDirectory(cases)
