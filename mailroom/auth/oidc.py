"""Staff sign-in with OpenID Connect: authorization code flow with PKCE (S256).

The web layer calls ``OidcClient.begin()``, keeps ``state``, ``nonce`` and ``code_verifier``
in the session and redirects the browser to ``url``; on the way back it calls
``complete(code, state, pending)`` and builds the principal with ``principal_from_claims``.
Every failure is an ``OidcError`` whose ``code`` names the problem (for logs and the UI).

authlib supplies PKCE and URL building; the id_token is checked with joserfc (what authlib 1.x
itself uses; ``authlib.jose`` is deprecated). The token request goes through a plain httpx
client so that callers can hand in their own (timeouts, proxies, test transports).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from base64 import b64encode
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import quote

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, JoseError
from joserfc.jwk import Key, KeySet
from joserfc.jwt import JWTClaimsRegistry

from mailroom.auth.principal import Principal, Role

ALGORITHMS = ["RS256"]
ClientAuth = Literal["auto", "client_secret_basic", "client_secret_post"]


class OidcError(Exception):
    """Sign-in refused. ``code``: state_mismatch, token_exchange_failed, invalid_signature,
    wrong_issuer, wrong_audience, expired, nonce_mismatch, invalid_token,
    provider_unreachable, invalid_provider, provider_error, no_role."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: str = "openid profile email"
    roles_claim: str = "roles"  # a dotted path reaches nested claims: "realm_access.roles"
    departments_claim: str = "departments"
    name_claim: str = "name"
    login_claim: str = "preferred_username"
    leeway_s: int = 60
    client_auth: ClientAuth = "auto"  # auto: basic unless the provider only offers post
    timeout_s: float = 10.0


class PendingSignIn(Protocol):
    """What the session kept between ``begin`` and ``complete``."""

    @property
    def state(self) -> str: ...
    @property
    def nonce(self) -> str: ...
    @property
    def code_verifier(self) -> str: ...


@dataclass(frozen=True)
class OidcStart:
    url: str  # where to send the browser
    state: str
    nonce: str
    code_verifier: str

    def pending(self) -> dict[str, str]:
        """The values to keep in the session (``complete`` accepts this dict back)."""
        return {"state": self.state, "nonce": self.nonce, "code_verifier": self.code_verifier}


class OidcClient:
    """One relying party at one provider; thread-safe, share one per process."""

    def __init__(self, config: OidcConfig, http: httpx.Client | None = None) -> None:
        self.config = config
        self._own_http = http is None
        self._http = http or httpx.Client(timeout=config.timeout_s)
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> OidcClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the two steps ------------------------------------------------------------------

    def begin(self, *, login_hint: str | None = None) -> OidcStart:
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-], RFC 7636
        params = [
            ("response_type", "code"),
            ("client_id", self.config.client_id),
            ("redirect_uri", self.config.redirect_uri),
            ("scope", self.config.scopes),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", create_s256_code_challenge(verifier)),
            ("code_challenge_method", "S256"),
        ]
        if login_hint:
            params.append(("login_hint", login_hint))
        url = add_params_to_uri(self.metadata()["authorization_endpoint"], params)
        return OidcStart(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def complete_callback(
        self, params: Mapping[str, str], expected: PendingSignIn | Mapping[str, str]
    ) -> dict[str, Any]:
        """``complete`` from the query parameters of the redirect (also handles ``error``)."""
        pending = _pending(expected)
        if not _same(params.get("state", ""), pending["state"]):
            raise OidcError("state_mismatch", "the answer belongs to another sign-in")
        if error := params.get("error"):
            raise OidcError("provider_error", f"{error}: {params.get('error_description', '')}")
        return self.complete(params.get("code", ""), params.get("state", ""), pending)

    def complete(
        self, code: str, state: str, expected: PendingSignIn | Mapping[str, str]
    ) -> dict[str, Any]:
        """Exchange ``code`` and return the checked claims of the id_token."""
        pending = _pending(expected)
        if not _same(state, pending["state"]):
            raise OidcError("state_mismatch", "the answer belongs to another sign-in")
        if not code:
            raise OidcError("token_exchange_failed", "no authorization code")
        id_token = self._exchange(code, pending["code_verifier"])
        claims = self._verified_claims(id_token)
        self._check_claims(claims, pending["nonce"])
        return claims

    # --- provider metadata and keys -----------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once, then cached)."""
        with self._lock:
            if self._metadata is None:
                issuer = self.config.issuer.rstrip("/")
                doc = self._get_json(f"{issuer}/.well-known/openid-configuration")
                if doc.get("issuer") != self.config.issuer:
                    raise OidcError("wrong_issuer", f"discovery names {doc.get('issuer')!r}")
                for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(doc.get(field), str):
                        raise OidcError("invalid_provider", f"discovery lacks {field}")
                self._metadata = doc
            return self._metadata

    def _key_set(self, *, refresh: bool = False) -> KeySet:
        jwks_uri = self.metadata()["jwks_uri"]
        with self._lock:
            if self._keys is None or refresh:
                try:
                    self._keys = KeySet.import_key_set(self._get_json(jwks_uri))  # type: ignore[arg-type]
                except (JoseError, KeyError, TypeError, ValueError) as exc:
                    raise OidcError("invalid_provider", f"unusable JWKS: {exc}") from exc
            return self._keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            doc = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OidcError("provider_unreachable", f"GET {url}: {exc}") from exc
        if not isinstance(doc, dict):
            raise OidcError("provider_unreachable", f"GET {url}: not a JSON object")
        return doc

    # --- token exchange and id_token checks ---------------------------------------------

    def _exchange(self, code: str, code_verifier: str) -> str:
        meta = self.metadata()
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri,
            "code_verifier": code_verifier,
        }
        headers = {"Accept": "application/json"}
        if self._client_auth(meta) == "client_secret_post":
            data |= {"client_id": self.config.client_id, "client_secret": self.config.client_secret}
        else:  # RFC 6749 2.3.1: form-encode id and secret before Basic
            user = quote(self.config.client_id, safe="")
            password = quote(self.config.client_secret, safe="")
            headers["Authorization"] = "Basic " + b64encode(f"{user}:{password}".encode()).decode()
        try:
            response = self._http.post(meta["token_endpoint"], data=data, headers=headers)
        except httpx.HTTPError as exc:
            raise OidcError("provider_unreachable", f"token endpoint: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error", "") if isinstance(body, dict) else ""
            why = body.get("error_description", "") if isinstance(body, dict) else ""
            raise OidcError("token_exchange_failed", f"HTTP {response.status_code} {error} {why}")
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("token_exchange_failed", "the answer has no id_token")
        return id_token

    def _client_auth(self, meta: Mapping[str, Any]) -> str:
        if self.config.client_auth != "auto":
            return self.config.client_auth
        offered = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        return "client_secret_basic" if "client_secret_basic" in offered else "client_secret_post"

    def _verified_claims(self, id_token: str) -> dict[str, Any]:
        try:
            header = jws.extract_compact(id_token.encode()).headers()
        except (JoseError, ValueError) as exc:
            raise OidcError("invalid_token", f"not a JWS: {exc}") from exc
        if header.get("alg") not in ALGORITHMS:
            raise OidcError("invalid_signature", f"algorithm {header.get('alg')!r} refused")
        kid = header.get("kid")
        key = _find_key(self._key_set(), kid)
        if key is None:  # the provider may have rotated its keys since we fetched them
            key = _find_key(self._key_set(refresh=True), kid)
        if key is None:
            raise OidcError("invalid_signature", f"no published key {kid!r}")
        try:
            return dict(jwt.decode(id_token, key, algorithms=ALGORITHMS).claims)
        except BadSignatureError as exc:
            raise OidcError("invalid_signature", "signature does not verify") from exc
        except JoseError as exc:
            raise OidcError("invalid_token", str(exc)) from exc

    def _check_claims(self, claims: Mapping[str, Any], nonce: str) -> None:
        config = self.config
        if claims.get("iss") != config.issuer:
            raise OidcError("wrong_issuer", f"issued by {claims.get('iss')!r}")
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if config.client_id not in audiences:
            raise OidcError("wrong_audience", f"issued for {aud!r}")
        azp = claims.get("azp")
        if (azp is not None or len(audiences) > 1) and azp != config.client_id:
            raise OidcError("wrong_audience", f"authorized party {azp!r}")
        registry = JWTClaimsRegistry(
            now=int(time.time()),
            leeway=config.leeway_s,
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(dict(claims))
        except ExpiredTokenError as exc:
            raise OidcError("expired", "the id_token has expired") from exc
        except JoseError as exc:
            raise OidcError("invalid_token", str(exc)) from exc
        if not _same(claims.get("nonce"), nonce):
            raise OidcError("nonce_mismatch", "the id_token belongs to another sign-in")


def principal_from_claims(claims: Mapping[str, Any], config: OidcConfig) -> Principal:
    """The principal ``oidc:SUB`` with the roles and departments the provider grants."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise OidcError("invalid_token", "no subject")
    login = _claim(claims, config.login_claim)
    login = login if isinstance(login, str) and login else sub
    name = _claim(claims, config.name_claim)
    name = name if isinstance(name, str) and name else login
    known = {role.value for role in Role}
    roles = frozenset(Role(v) for v in _strings(_claim(claims, config.roles_claim)) if v in known)
    if not roles:
        raise OidcError("no_role", f"{login} has no mailroom role in {config.roles_claim!r}")
    departments = frozenset(_strings(_claim(claims, config.departments_claim)))
    return Principal(f"oidc:{sub}", login, name, roles, departments)


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """The claim ``path``; a dotted path walks nested objects (Keycloak's ``realm_access``)."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _strings(value: Any) -> list[str]:
    """A list of strings, or one string of values separated by spaces or commas."""
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    if isinstance(value, list | tuple):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    return []


def _find_key(keys: KeySet, kid: str | None) -> Key | None:
    """The signing key ``kid``; without a kid only an unambiguous key set will do."""
    usable = [k for k in keys if k.key_type == "RSA" and k.get("use") in (None, "sig")]
    if kid is None:
        return usable[0] if len(usable) == 1 else None
    return next((k for k in usable if k.kid == kid), None)


def _pending(expected: PendingSignIn | Mapping[str, str]) -> dict[str, str]:
    names = ("state", "nonce", "code_verifier")
    if isinstance(expected, Mapping):
        values = {name: expected.get(name) for name in names}
    else:
        values = {name: getattr(expected, name, None) for name in names}
    if not all(isinstance(v, str) and v for v in values.values()):
        raise OidcError("state_mismatch", "no sign-in was started in this session")
    return {name: str(value) for name, value in values.items()}


def _same(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())
