"""Finding references with no format in the catalog, and naming cases by sloppy citations."""

import pytest

from routing import Catalog
from routing.reference_lookup import case_lookup_keys, citation_of, groups
from routing.references import ReferenceFinder
from tests.unit.routing.builders import case, directory

PLAIN_CATALOG = Catalog.from_departments_json(
    [
        {"id": "abfall", "name": "Abfallwirtschaft", "description": "Müll", "services": []},
        {"id": "bauaufsicht", "name": "Bauaufsicht", "description": "Bauen", "services": []},
    ]
)


def keys_of(written: str) -> set[str]:
    citation = citation_of(written)
    assert citation is not None
    return set(citation.keys)


@pytest.mark.parametrize(
    ("written", "reference"),
    [
        ("kd 4711 0815", "KD-4711/0815"),
        ("KD.4711.815", "KD-4711/0815"),
        ("4711-0815", "KD-4711/0815"),  # customer number without its prefix
        ("47110815", "KD-4711/0815"),  # without any separator
        ("0234/2026", "63-BA-2026-0234"),  # year and number swapped, office code dropped
        ("63 ba 2026 234", "63-BA-2026-0234"),  # lower case, spaces, leading zero dropped
        ("63-BA-2O26-O234", "63-BA-2026-0234"),  # OCR: O for 0
        ("32.3-OWI-2026-4512", "32.3-OWi-2026-004512"),
        ("1000 4471 9", "22.1000.4471.9"),
    ],
)
def test_a_sloppy_citation_shares_a_lookup_key_with_its_reference(written, reference):
    assert keys_of(written) & set(case_lookup_keys(reference))


@pytest.mark.parametrize(
    ("written", "reference"),
    [
        ("0243/2026", "63-BA-2026-0234"),  # transposed digits
        ("2026", "63-BA-2026-0234"),  # the year alone
        ("0234", "63-BA-2026-0234"),  # the number alone is too short to be distinctive
        ("4512", "32.3-OWi-2026-004512"),
        ("4711-0816", "KD-4711/0815"),
    ],
)
def test_a_different_or_too_short_number_shares_no_key(written, reference):
    assert not keys_of(written) & set(case_lookup_keys(reference))


def test_ocr_look_alikes_are_read_as_digits_only_inside_numbers():
    assert [g.key for g in groups("2O26-O815 OWi SP-26")] == ["2026", "815", "OWI", "SP", "26"]


def test_a_catalog_without_formats_still_finds_cited_references():
    text = (
        "Ihr Zeichen: 63-BA-2025-1187\n"
        "Steuernummer: 22.2-48811\n"
        "Vorgang LIN-Q2M8-4TTA – Keller unter Wasser\n"
        "Kundennr. 4711 0815 bitte beachten\n"
        "Aktenzeichen 0234/2026 vom 3. März\n"
        "(Az. 62-HN-2025-077).\n"
    )
    found = ReferenceFinder(PLAIN_CATALOG).find(text)
    assert [(f.text, f.department_id, f.usable) for f in found] == [
        ("63-BA-2025-1187", None, True),
        ("22.2-48811", None, True),
        ("LIN-Q2M8-4TTA", None, True),
        ("4711 0815", None, True),
        ("0234/2026", None, True),
        ("62-HN-2025-077", None, True),
    ]


def test_dates_phone_numbers_amounts_and_ranges_are_not_references():
    text = (
        "am 22.01.2026 um 10.30 Uhr, Tel. 0203/123-4567, 1.250.000 EUR,\n"
        "Hundesteuer I/2026, Hausnummern 12-16, www.lindenau.de/bau-2026-11, 2026-01-16,\n"
        "die 1.100-l-Restmülltonne, Müller-2026-Straße 4\n"
        "Unser Zeichen: AB-2026-1234"
    )
    assert ReferenceFinder(PLAIN_CATALOG).find(text) == []


def test_a_lookup_key_of_several_cases_names_them_all():
    cases = directory(
        case("63-BA-2026-0234", "bauaufsicht", "Jonas Albers", "Hafenstraße 3, 1", "Umbau"),
        case("51.2-EB-2026-0234", "jugendamt", "Mila Brandt", "Heideweg 1, 1", "Beitrag"),
    )
    found = cases.by_lookup_keys(sorted(keys_of("0234/2026")))
    assert sorted(c.case_id for _, c in found) == ["51.2-EB-2026-0234", "63-BA-2026-0234"]
