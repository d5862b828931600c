"""Finding references: the mailroom's own (check character) and the catalog's legacy formats."""

from routing.references import ReferenceFinder, reference_key, repair_reference
from tests.unit.routing.builders import catalog, own_reference


def finder(tmp_path):
    return ReferenceFinder(catalog(tmp_path))


def test_a_valid_own_reference_is_found_as_written(tmp_path):
    reference = own_reference()
    found = finder(tmp_path).find(f"Betreff: Ihre Vorgangsnummer {reference.lower()}")
    assert [(f.text, f.reference, f.kind, f.status) for f in found] == [
        (reference.lower(), reference, "mailroom", "valid")
    ]


def damaged_variants(reference: str, confusions: str = "0D 2Z 5S 8B 6G 7T 1T"):
    """Every copy of ``reference`` with one character of its code replaced by a look-alike."""
    head, code = reference[: len("TST-2026-")], reference[len("TST-2026-") :]
    pairs = [p for p in confusions.split()] + [p[::-1] for p in confusions.split()]
    for index, character in enumerate(code):
        for original, replacement in pairs:
            if character == original:
                yield head + code[:index] + replacement + code[index + 1 :]


def body(reference: str) -> str:
    return reference[len("TST-") :].replace("-", "")


def test_an_ocr_confusion_is_repaired_by_the_check_character(tmp_path):
    reference = own_reference(seed=3)
    damaged = next(
        d for d in damaged_variants(reference) if len(repair_reference("TST", body(d))) == 1
    )
    found = finder(tmp_path).find(f"Vorgang {damaged} bitte")
    assert [(f.text, f.reference, f.status) for f in found] == [(damaged, reference, "repaired")]


def test_a_confusion_with_two_possible_repairs_is_rejected(tmp_path):
    damaged = next(
        d
        for seed in range(1, 50)
        for d in damaged_variants(own_reference(seed))
        if len(repair_reference("TST", body(d))) > 1
    )
    found = finder(tmp_path).find(f"Vorgang {damaged}")
    assert [(f.status, f.reference, f.usable) for f in found] == [("invalid", "", False)]


def test_a_reference_damaged_beyond_repair_is_rejected(tmp_path):
    reference = own_reference(seed=5)
    damaged = next(
        reference[:-2] + a + b
        for a in "WXYZ"
        for b in "WXYZ"
        if not repair_reference("TST", body(reference[:-2] + a + b))
    )
    found = finder(tmp_path).find(f"Nr. {damaged}")
    assert [(f.status, f.reference, f.usable) for f in found] == [("invalid", "", False)]


def test_legacy_references_are_found_in_sloppy_writing(tmp_path):
    text = "Ihr Zeichen: sta 2026 412\nKassenzeichen 22.1000.4471.9\nAuftrag SP 26 7731"
    found = finder(tmp_path).find(text)
    assert [(f.reference, f.department_id) for f in found] == [
        ("STA-2026-00412", "standesamt"),
        ("22.1000.4471.9", "steueramt"),
        ("SP-26-07731", "abfall"),
    ]


def test_the_senders_own_file_number_is_not_a_city_reference(tmp_path):
    text = "Unser Zeichen: STA-2026-00412   Ihr Zeichen: STA-2026-00999"
    assert [f.reference for f in finder(tmp_path).find(text)] == ["STA-2026-00999"]


def test_behind_a_citation_label_a_dropped_office_code_is_accepted(tmp_path):
    found = finder(tmp_path).find("Kassenzeichen: 1000.4471.9")
    assert [f.reference for f in found] == ["22.1000.4471.9"]


def test_reference_keys_ignore_case_separators_and_look_alike_letters():
    assert reference_key("sta 2026-00412") == reference_key("STA-2026-00412")
    assert reference_key("LIN-Q2M8-4TTA") != reference_key("LIN-Q2M8-4TAT")
