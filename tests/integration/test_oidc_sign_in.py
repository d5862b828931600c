"""Staff sign-in with OpenID Connect against a real provider (tests/harness/oidc_provider.py).

httpx plays the browser: it opens the authorization URL and stops at the redirect back to
the mailroom, whose query carries ``code`` and ``state``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mailroom.auth.oidc import OidcClient, OidcConfig, OidcError, OidcStart, principal_from_claims
from mailroom.auth.principal import Role
from tests.harness.oidc_provider import OidcProvider
from tests.harness.ports import LOOPBACK, free_port


@pytest.fixture
def config(oidc_provider: OidcProvider) -> OidcConfig:
    op = oidc_provider
    return OidcConfig(op.issuer, op.client_id, op.client_secret, op.redirect_uri)


@pytest.fixture
def client(config: OidcConfig) -> Iterator[OidcClient]:
    oidc = OidcClient(config)
    yield oidc
    oidc.close()


def browse(start: OidcStart) -> dict[str, str]:
    """Follow the authorization URL like a browser up to the redirect back to the mailroom."""
    response = httpx.get(start.url, follow_redirects=False)
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return {name: values[0] for name, values in query.items()}


def sign_in(client: OidcClient, login: str | None = None) -> dict[str, object]:
    start = client.begin(login_hint=login)
    answer = browse(start)
    return client.complete(answer["code"], answer["state"], start)


def refused(client: OidcClient, login: str | None = None) -> OidcError:
    with pytest.raises(OidcError) as caught:
        sign_in(client, login)
    return caught.value


# --- signing in ---------------------------------------------------------------------------


def test_a_clerk_signs_in_and_becomes_a_principal_with_roles_and_departments(
    client: OidcClient, config: OidcConfig
) -> None:
    """GIVEN erika at the provider with roles clerk+lead in two departments
    WHEN she goes through the code flow
    THEN the checked claims make the principal oidc:erika with those roles and departments."""
    claims = sign_in(client, "erika")

    principal = principal_from_claims(claims, config)

    assert principal.id == "oidc:erika"
    assert principal.login == "erika"
    assert principal.name == "Erika Mustermann"
    assert principal.roles == {Role.CLERK, Role.LEAD}
    assert principal.departments == {"standesamt", "ordnungsamt"}


def test_the_client_authenticates_with_basic_by_default(
    oidc_provider: OidcProvider, client: OidcClient
) -> None:
    sign_in(client)

    assert oidc_provider.client_auth_used == ["client_secret_basic"]


def test_the_session_can_keep_the_pending_sign_in_as_a_plain_dict(client: OidcClient) -> None:
    start = client.begin(login_hint="paul")
    session = start.pending()  # what the web layer stores in the signed cookie
    answer = browse(start)

    claims = client.complete(answer["code"], answer["state"], session)

    assert claims["sub"] == "paul"


def test_the_client_authenticates_with_post_when_the_provider_offers_only_that(
    oidc_provider: OidcProvider, config: OidcConfig
) -> None:
    oidc_provider.auth_methods = ["client_secret_post"]

    with OidcClient(config) as client:
        assert sign_in(client, "paul")["sub"] == "paul"
    assert oidc_provider.client_auth_used == ["client_secret_post"]


def test_a_provider_that_refuses_the_client_secret_ends_in_token_exchange_failed(
    config: OidcConfig,
) -> None:
    with OidcClient(replace(config, client_secret="not-the-secret")) as client:
        assert refused(client).code == "token_exchange_failed"


def test_a_user_without_a_mailroom_role_gets_no_principal(
    client: OidcClient, config: OidcConfig
) -> None:
    claims = sign_in(client, "gast")

    with pytest.raises(OidcError) as caught:
        principal_from_claims(claims, config)

    assert caught.value.code == "no_role"


def test_a_refusal_by_the_provider_comes_back_as_provider_error(client: OidcClient) -> None:
    """GIVEN a login the provider does not know WHEN it redirects back with error=access_denied
    THEN complete_callback reports provider_error."""
    start = client.begin(login_hint="nobody")
    answer = browse(start)
    assert answer["error"] == "access_denied"

    with pytest.raises(OidcError) as caught:
        client.complete_callback(answer, start)

    assert caught.value.code == "provider_error"


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("misbehaviour", "code"),
    [
        ("expired", "expired"),
        ("forged", "invalid_signature"),
        ("unknown_key", "invalid_signature"),
        ("wrong_audience", "wrong_audience"),
        ("wrong_issuer", "wrong_issuer"),
        ("wrong_nonce", "nonce_mismatch"),
        ("unsigned", "invalid_signature"),
    ],
)
def test_a_bad_id_token_is_refused(
    oidc_provider: OidcProvider, client: OidcClient, misbehaviour: str, code: str
) -> None:
    oidc_provider.misbehave = misbehaviour

    assert refused(client).code == code


def test_a_token_from_an_unpublished_key_refetches_the_keys_only_once(
    oidc_provider: OidcProvider, client: OidcClient
) -> None:
    oidc_provider.misbehave = "unknown_key"

    refused(client)

    assert oidc_provider.jwks_requests == 2  # the cached set, then one refetch


def test_an_answer_for_another_sign_in_is_refused_before_the_code_is_redeemed(
    oidc_provider: OidcProvider, client: OidcClient
) -> None:
    """GIVEN two sign-ins started WHEN the answer of the first arrives with the second's
    session THEN state_mismatch, and the code never reaches the token endpoint."""
    first, second = client.begin(), client.begin()
    answer = browse(first)

    with pytest.raises(OidcError) as caught:
        client.complete(answer["code"], answer["state"], second)

    assert caught.value.code == "state_mismatch"
    assert oidc_provider.token_requests == 0


def test_a_session_without_a_pending_sign_in_is_a_state_mismatch(client: OidcClient) -> None:
    answer = browse(client.begin())

    with pytest.raises(OidcError) as caught:
        client.complete(answer["code"], answer["state"], {})

    assert caught.value.code == "state_mismatch"


def test_the_provider_refuses_a_wrong_pkce_verifier(client: OidcClient) -> None:
    """GIVEN an intercepted code WHEN it is redeemed with another code_verifier
    THEN the provider refuses it: token_exchange_failed."""
    start = client.begin()
    answer = browse(start)
    other = replace(start, code_verifier=client.begin().code_verifier)

    with pytest.raises(OidcError) as caught:
        client.complete(answer["code"], answer["state"], other)

    assert caught.value.code == "token_exchange_failed"
    assert "invalid_grant" in caught.value.detail


def test_a_code_is_redeemed_only_once(client: OidcClient) -> None:
    start = client.begin()
    answer = browse(start)
    client.complete(answer["code"], answer["state"], start)

    with pytest.raises(OidcError) as caught:
        client.complete(answer["code"], answer["state"], start)

    assert caught.value.code == "token_exchange_failed"


# --- provider metadata and keys -----------------------------------------------------------


def test_after_a_key_rotation_the_client_refetches_the_keys_once_and_signs_in(
    oidc_provider: OidcProvider, client: OidcClient
) -> None:
    """GIVEN a client that has the provider's keys cached WHEN the provider rotates its key
    THEN the next sign-in fetches the JWKS again, once, and succeeds."""
    sign_in(client)
    assert oidc_provider.jwks_requests == 1

    oidc_provider.rotate_key()
    claims = sign_in(client)
    sign_in(client)

    assert claims["sub"] == "erika"
    assert oidc_provider.jwks_requests == 2


def test_discovery_that_names_another_issuer_is_refused(config: OidcConfig) -> None:
    with (
        OidcClient(replace(config, issuer=config.issuer + "/")) as client,
        pytest.raises(OidcError) as caught,
    ):
        client.begin()

    assert caught.value.code == "wrong_issuer"


def test_an_unreachable_provider_is_reported_as_such() -> None:
    issuer = f"http://{LOOPBACK}:{free_port()}"  # nothing listens there
    config = OidcConfig(issuer, "mailroom", "secret", "http://127.0.0.1/cb")

    with OidcClient(config) as client, pytest.raises(OidcError) as caught:
        client.begin()

    assert caught.value.code == "provider_unreachable"
