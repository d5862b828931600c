"""From OpenID Connect claims to a principal (mailroom/auth/oidc.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from mailroom.auth.oidc import OidcConfig, OidcError, principal_from_claims
from mailroom.auth.principal import Role

CONFIG = OidcConfig("https://id.lindenau.example", "mailroom", "secret", "https://m/cb")


def principal(claims: dict[str, Any], config: OidcConfig = CONFIG) -> Any:
    return principal_from_claims({"sub": "4711", **claims}, config)


def test_the_principal_is_named_by_the_subject_and_shows_login_and_name() -> None:
    found = principal({"preferred_username": "emu", "name": "Erika Mustermann", "roles": ["clerk"]})

    assert (found.id, found.login, found.name) == ("oidc:4711", "emu", "Erika Mustermann")


def test_without_login_and_name_claims_the_subject_stands_in() -> None:
    found = principal({"roles": ["clerk"]})

    assert (found.login, found.name) == ("4711", "4711")


def test_roles_come_as_a_list_or_a_space_separated_string_and_unknown_ones_are_ignored() -> None:
    assert principal({"roles": ["clerk", "Domain Admins", "lead"]}).roles == {
        Role.CLERK,
        Role.LEAD,
    }
    assert principal({"roles": "mailroom admin offline_access"}).roles == {
        Role.MAILROOM,
        Role.ADMIN,
    }


def test_keycloak_realm_roles_are_reached_by_a_dotted_claim_path() -> None:
    config = replace(CONFIG, roles_claim="realm_access.roles")

    found = principal({"realm_access": {"roles": ["default-roles-lindenau", "mailroom"]}}, config)

    assert found.roles == {Role.MAILROOM}


def test_departments_come_from_their_claim() -> None:
    found = principal({"roles": ["clerk"], "departments": ["standesamt", "ordnungsamt"]})

    assert found.departments == {"standesamt", "ordnungsamt"}
    assert principal({"roles": ["admin"]}).departments == frozenset()


@pytest.mark.parametrize("roles", [None, [], ["Domain Admins"], "CLERK", 42, {"clerk": True}])
def test_without_a_known_role_there_is_no_principal(roles: object) -> None:
    with pytest.raises(OidcError) as caught:
        principal({"roles": roles})

    assert caught.value.code == "no_role"


def test_claims_without_a_subject_are_refused() -> None:
    with pytest.raises(OidcError) as caught:
        principal_from_claims({"roles": ["clerk"]}, CONFIG)

    assert caught.value.code == "invalid_token"
