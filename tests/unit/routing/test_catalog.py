"""The city catalog: the sample city's file, the corpus format, refusals that name the problem."""

from pathlib import Path

import pytest

from routing import MISDIRECTED, Catalog, CatalogError
from routing.catalog import UnknownDepartmentError, UnknownServiceError
from tests.unit.routing.builders import CATALOG_TOML, catalog

SAMPLE_CITY = (
    Path(__file__).resolve().parents[3] / "mailroom" / "cities" / "lindenau" / "catalog.toml"
)


def test_the_sample_city_ships_a_catalog_with_router_knowledge():
    sample = Catalog.load(SAMPLE_CITY)
    assert len(sample.departments) == 10
    assert all(d.keywords and d.aliases for d in sample.departments)
    assert sample.service("sperrmuell-termin").department_id == "abfall"
    assert sample.department("strassenverkehr").reference_formats == (
        "36.2-FE-NNNN/YY",
        "BWP-YYYY-NNNN",
    )
    assert {g.addressee for g in sample.misdirection} >= {"Finanzamt", "Jobcenter", "Familienkasse"}


def test_knowledge_fields_are_read_from_toml(tmp_path):
    c = catalog(tmp_path)
    abfall = c.department("abfall")
    assert "Sperrmüll" in abfall.keywords and "Müllabfuhr" in abfall.aliases
    assert c.reference_formats()[0] == ("SP-YY-NNNNN", "abfall")
    assert ("TST-XXXX-XXXX", None) in c.reference_formats()
    assert c.department_ids() == ["abfall", "standesamt", "tiefbau", "steueramt"]


def test_the_corpus_departments_json_still_loads(tmp_path):
    path = tmp_path / "departments.json"
    path.write_text(
        '[{"id": "abfall", "name": "Abfall", "description": "Müll", '
        '"services": ["Sperrmüll-Termin"]}]',
        encoding="utf-8",
    )
    c = Catalog.load(path)
    assert c.service("sperrmuell-termin").department_id == "abfall"
    assert c.threshold_for("abfall") == 0.6


def test_unknown_keys_raise_their_own_errors(tmp_path):
    c = catalog(tmp_path)
    with pytest.raises(UnknownServiceError):
        c.service("nope")
    with pytest.raises(UnknownDepartmentError):
        c.department("nope")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '\n[[rules]]\nname = "x"\ntarget = "bauamt"\nany = ["Bau"]\n',
            "unknown department 'bauamt'",
        ),
        ('\n[[rules]]\nname = "x"\ntarget = "abfall"\nany = []\n', "needs at least one phrase"),
    ],
)
def test_inconsistent_rules_are_refused(tmp_path, extra, message):
    with pytest.raises(CatalogError, match=message):
        catalog(tmp_path, extra)


def test_a_bad_reference_format_or_threshold_is_refused(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text(CATALOG_TOML.replace('"SP-YY-NNNNN"', '"SP-YYY-NN"'), encoding="utf-8")
    with pytest.raises(CatalogError, match="year must be YY or YYYY"):
        Catalog.load(path)
    path.write_text(CATALOG_TOML.replace("threshold = 0.55", "threshold = 1.5"), encoding="utf-8")
    with pytest.raises(CatalogError, match="thresholds"):
        Catalog.load(path)


def test_misdirected_is_a_reserved_department_id(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text(
        CATALOG_TOML.replace('id = "tiefbau"', f'id = "{MISDIRECTED}"'), encoding="utf-8"
    )
    with pytest.raises(CatalogError, match="reserved"):
        Catalog.load(path)


def test_a_missing_or_broken_file_names_the_problem(tmp_path):
    with pytest.raises(CatalogError, match="cannot read catalog"):
        Catalog.load(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[city\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="malformed"):
        Catalog.load(broken)


def test_contacts_fall_back_to_the_town_hall_and_acknowledgements_default_on():
    sample = Catalog.load(SAMPLE_CITY)
    tiefbau = sample.contact("tiefbau")
    assert tiefbau.street == "Bahnhofstraße 12" and tiefbau.phone.endswith("6600")
    assert tiefbau.web == sample.city.contact.web  # not set for the department: the city's
    assert all(sample.acknowledges_scans(d.id, None) for d in sample.departments)


def test_acknowledgements_can_be_turned_off_per_department_and_service(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        '[city]\nname = "S"\nreference_prefix = "LIN"\n'
        'contact = { street = "Markt 1", phone = "0" }\n'
        '[[departments]]\nid = "a"\nname = "A"\nacknowledge_scans = false\n'
        '[[departments.services]]\nkey = "s1"\nname = "S1"\nacknowledge_scans = true\n'
        '[[departments.services]]\nkey = "s2"\nname = "S2"\n'
    )
    c = Catalog.load(path)
    assert not c.acknowledges_scans("a", None) and not c.acknowledges_scans("a", "s2")
    assert c.acknowledges_scans("a", "s1")
    assert c.contact("a").street == "Markt 1"
    path.write_text(
        path.read_text().replace("acknowledge_scans = false", 'acknowledge_scans = "no"')
    )
    with pytest.raises(CatalogError, match="acknowledge_scans must be true or false"):
        Catalog.load(path)
    path.write_text(
        '[city]\nname = "S"\nreference_prefix = "LIN"\ncontact = { fax = "1" }\n'
        '[[departments]]\nid = "a"\nname = "A"\n'
    )
    with pytest.raises(CatalogError, match="unknown contact fields: fax"):
        Catalog.load(path)
