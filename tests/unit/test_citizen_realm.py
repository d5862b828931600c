"""The compose Keycloak's citizen realm fits the mailroom's Bürgerkonto settings."""

import json
from pathlib import Path

import yaml

from mailroom.bootstrap import CITIZEN_OIDC_CALLBACK_PATH
from mailroom.config import Settings

INFRA = Path(__file__).parents[2] / "infra"


def test_the_citizen_realm_has_the_mailrooms_client_with_pkce():
    realm = json.loads((INFRA / "keycloak" / "lindenau-buerger-realm.json").read_text())
    (client,) = realm["clients"]
    assert client["clientId"] == Settings(secret_key="x" * 40).citizen_oidc_client_id
    assert not client["publicClient"] and not client["directAccessGrantsEnabled"]
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert all(uri.endswith(CITIZEN_OIDC_CALLBACK_PATH) for uri in client["redirectUris"])
    staff = json.loads((INFRA / "keycloak" / "lindenau-staff-realm.json").read_text())
    assert realm["realm"] != staff["realm"]  # citizens never sign in at the staff realm


def test_compose_points_the_mailroom_at_the_citizen_realm():
    compose = yaml.safe_load((INFRA / "compose.yaml").read_text())
    env = compose["x-mailroom"]["environment"]
    assert env["MAILROOM_CITIZEN_OIDC_ISSUER"].endswith("/realms/lindenau-buerger}")
    assert env["MAILROOM_CITIZEN_OIDC_CLIENT_ID"] == "mailroom-buergerkonto"
