"""A small but real OpenID provider for tests, built from authlib's server classes.

It serves discovery, JWKS, ``/authorize`` and ``/token`` over HTTP on a loopback port
(uvicorn in a thread). ``/authorize`` signs in the user named by ``login_hint`` (or
``provider.login``) without any page and redirects back with a code; ``/token`` checks
the client's secret and the PKCE verifier (S256 only, required) before it issues an
RS256-signed id_token.

Tests make it misbehave with ``provider.misbehave = ...`` (see ``MISBEHAVIOURS``) and
rotate its signing key with ``provider.rotate_key()``::

    with running_oidc_provider({"erika": {"name": "Erika", "roles": ["clerk"]}}) as op:
        config = OidcConfig(op.issuer, op.client_id, op.client_secret, op.redirect_uri)

The ``oidc_provider`` fixture (tests/harness/pytest_plugin.py) starts one per test with
``TEST_USERS``.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
import socket
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import uvicorn
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeGrant,
    AuthorizationServer,
    ClientMixin,
    InvalidRequestError,
    OAuth2Error,
    OAuth2Request,
    scope_to_list,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, OpenIDCode
from joserfc.errors import SecurityWarning
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.harness.ports import LOOPBACK, ServerStartError, cleanup_at_exit

MISBEHAVIOURS = {
    "expired": "id_token expired an hour ago",
    "forged": "signed by an unpublished key under the published key's kid",
    "unknown_key": "signed by an unpublished key with its own kid",
    "wrong_audience": "aud names another client",
    "wrong_issuer": "iss names another provider",
    "wrong_nonce": "nonce is not the one of the authorization request",
    "unsigned": 'alg "none", no signature',
}

TEST_USERS: dict[str, dict[str, Any]] = {
    "erika": {
        "name": "Erika Mustermann",
        "email": "erika@lindenau.example",
        "roles": ["clerk", "lead"],
        "departments": ["standesamt", "ordnungsamt"],
    },
    "paul": {"name": "Paul Post", "roles": "mailroom", "departments": []},
    "gast": {"name": "Gast", "roles": ["visitor"]},  # no mailroom role
}
SCOPES = ["openid", "profile", "email"]
ID_TOKEN_LIFETIME_S = 300


@dataclass
class _Client(ClientMixin):  # type: ignore[misc]
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    auth_methods: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(s for s in scope_to_list(scope or "") or [] if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in self.auth_methods

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _User:
    login: str
    claims: dict[str, Any]


@dataclass
class _Code(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: _User
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


class _Request(OAuth2Request):  # type: ignore[misc]
    def __init__(self, request: Request, form: Mapping[str, str]) -> None:
        super().__init__(request.method, str(request.url), headers=request.headers)
        self._args = dict(request.query_params)
        self._form = dict(form)
        self.payload = BasicOAuth2Payload({**self._args, **self._form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _RequiredS256(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, S256 only (authlib requires it only for public clients)."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with S256 is required", redirect_uri=redirect_uri)
        super().validate_code_challenge(grant, redirect_uri)


class OidcProvider:
    def __init__(self, users: Mapping[str, Mapping[str, Any]]) -> None:
        self.users = {login: dict(claims) for login, claims in users.items()}
        self.login = next(iter(self.users), "")  # signed in when there is no login_hint
        self.misbehave: str | None = None
        self.client_id = "mailroom"
        self.client_secret = secrets.token_urlsafe(24)
        self.redirect_uri = "http://127.0.0.1/anmelden/oidc"
        self.auth_methods = ["client_secret_basic", "client_secret_post"]
        self.issuer = ""  # set once the port is known
        self.jwks_requests = 0
        self.token_requests = 0
        self.client_auth_used: list[str] = []  # per issued token: client_secret_basic|_post
        self._key = _new_key()
        self._rogue = _new_key()
        self._codes: dict[str, _Code] = {}
        self._nonces: set[str] = set()
        self._lock = threading.Lock()
        self.server = self._authorization_server()

    @property
    def client(self) -> _Client:
        return _Client(self.client_id, self.client_secret, [self.redirect_uri], self.auth_methods)

    @property
    def kid(self) -> str:
        return str(self._key.kid)

    def rotate_key(self) -> str:
        """Sign with a new key from now on; JWKS publishes only the new one."""
        with self._lock:
            self._key = _new_key()
        return self.kid

    # --- authlib server ---------------------------------------------------------------

    def _authorization_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):  # type: ignore[misc]
            def query_client(self, client_id: str) -> _Client | None:
                return provider.client if client_id == provider.client_id else None

            def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
                provider.client_auth_used.append(request.auth_method)

            def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
                return request

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                pass

            def handle_response(self, status: int, body: Any, headers: Any) -> Response:
                headers = dict(headers)
                if isinstance(body, dict):
                    return JSONResponse(body, status_code=status, headers=headers)
                return Response(body, status_code=status, headers=headers)

        class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
            def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
                data = request.payload.data
                provider._codes[code] = _Code(
                    code=code,
                    client_id=request.client.get_client_id(),
                    redirect_uri=request.payload.redirect_uri or "",
                    scope=request.scope or "",
                    user=request.user,
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )
                if nonce := data.get("nonce"):
                    provider._nonces.add(nonce)

            def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
                found = provider._codes.get(code)
                return found if found and found.client_id == client.get_client_id() else None

            def delete_authorization_code(self, authorization_code: _Code) -> None:
                provider._codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: _Code) -> _User:
                return authorization_code.user

        class OpenId(OpenIDCode):  # type: ignore[misc]
            def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
                return nonce in provider._nonces

            def resolve_client_private_key(self, client: _Client) -> RSAKey:
                return provider._rogue if provider.misbehave in _ROGUE else provider._key

            def encode_id_token(self, token: dict[str, Any], request: OAuth2Request) -> str:
                with warnings.catch_warnings():  # joserfc warns about signing with "none"
                    warnings.simplefilter("ignore", SecurityWarning)
                    return str(super().encode_id_token(token, request))

            def get_client_algorithm(self, client: _Client) -> str:
                return "none" if provider.misbehave == "unsigned" else "RS256"

            def get_encode_header(self, client: _Client) -> dict[str, str]:
                kid = provider._rogue.kid if provider.misbehave == "unknown_key" else provider.kid
                return {"alg": self.get_client_algorithm(client), "kid": str(kid)}

            def get_client_claims(self, client: _Client) -> dict[str, Any]:
                now = int(time.time())
                claims = {
                    "iss": provider.issuer,
                    "aud": [client.get_client_id()],
                    "iat": now,
                    "exp": now + ID_TOKEN_LIFETIME_S,
                }
                if provider.misbehave == "expired":
                    claims |= {"iat": now - 7200, "exp": now - 3600}
                elif provider.misbehave == "wrong_audience":
                    claims["aud"] = ["another-client"]
                elif provider.misbehave == "wrong_issuer":
                    claims["iss"] = "http://127.0.0.1:1/elsewhere"
                return claims

            def get_authorization_code_claims(self, authorization_code: _Code) -> dict[str, Any]:
                claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
                if provider.misbehave == "wrong_nonce":
                    claims["nonce"] = secrets.token_urlsafe(16)
                return claims

            def generate_user_info(self, user: _User, scope: str) -> dict[str, Any]:
                return {"sub": user.login, "preferred_username": user.login, **user.claims}

        server = Server(scopes_supported=SCOPES)
        server.register_token_generator(
            "default", BearerTokenGenerator(lambda **_: secrets.token_urlsafe(32))
        )
        server.register_grant(CodeGrant, [_RequiredS256(), OpenId(require_nonce=True)])
        return server

    # --- HTTP -------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
            ]
        )

    async def _discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": SCOPES,
                "token_endpoint_auth_methods_supported": self.auth_methods,
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        self.jwks_requests += 1
        return JSONResponse({"keys": [self._key.as_dict(private=False, use="sig", alg="RS256")]})

    async def _authorize(self, request: Request) -> Response:
        oauth_request = _Request(request, {})
        login = request.query_params.get("login_hint") or self.login
        user = _User(login, self.users[login]) if login in self.users else None
        try:
            grant = self.server.get_consent_grant(oauth_request, end_user=user)
        except OAuth2Error as error:
            return self.server.handle_error_response(oauth_request, error)  # type: ignore[no-any-return]
        return self.server.create_authorization_response(oauth_request, user, grant)  # type: ignore[no-any-return]

    async def _token(self, request: Request) -> Response:
        self.token_requests += 1
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        return self.server.create_token_response(_Request(request, form))  # type: ignore[no-any-return]


_ROGUE = {"forged", "unknown_key"}


def _new_key() -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    key.ensure_kid()
    return key


@contextlib.contextmanager
def running_oidc_provider(
    users: Mapping[str, Mapping[str, Any]] = TEST_USERS, timeout: float = 10.0
) -> Iterator[OidcProvider]:
    """An ``OidcProvider`` listening on a loopback port until the block exits."""
    provider = OidcProvider(users)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))  # bound before uvicorn starts: no race for the port
    provider.issuer = f"http://{LOOPBACK}:{sock.getsockname()[1]}"
    config = uvicorn.Config(provider.app(), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout)
        sock.close()

    with cleanup_at_exit(stop):
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise ServerStartError(f"the OIDC provider did not start at {provider.issuer}")
            time.sleep(0.01)
        yield provider
