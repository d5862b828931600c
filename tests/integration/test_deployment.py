"""The compose stack runs every consumer the composition root knows, and nothing else."""

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).parents[2] / "infra" / "compose.yaml"


def test_the_compose_stack_runs_one_worker_service_per_consumer(mailroom):
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    workers = {
        spec["command"][2]
        for spec in services.values()
        if spec.get("command", [])[:2] == ["mailroom", "worker"]
    }
    assert workers == {consumer.name for consumer in mailroom.consumers}


# --- pinned images, required secrets, .env.example -------------------------------------

ENV_EXAMPLE = COMPOSE.parent / ".env.example"
PYPROJECT = COMPOSE.parents[1] / "pyproject.toml"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?])?(?P<rest>[^}]*)\}")
SECRET_LIKE = re.compile(r"PASSWORD|SECRET|_KEY$|MINIO_ROOT_USER")
# Optional feature, no default either: must be present in the env file, may be empty.
MAY_BE_EMPTY = {"MAILROOM_SMTP_PASSWORD", "MAILROOM_OLD_SECRET_KEYS"}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _interpolations() -> list[re.Match[str]]:
    return [m for text in _strings(_compose()) for m in INTERPOLATION.finditer(text)]


def _env_example() -> dict[str, str]:
    entries = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"not NAME=value: {line!r}"
            entries[name.strip()] = value.strip().strip('"')
    return entries


def _images() -> dict[str, str]:
    compose = _compose()
    images = {name: spec["image"] for name, spec in compose["services"].items() if "image" in spec}
    images["x-mailroom"] = compose["x-mailroom"]["image"]
    return images


def test_every_image_is_pinned_to_a_version():
    for service, image in _images().items():
        _name, sep, tag = image.rpartition(":")
        assert sep and "/" not in tag, f"{service}: {image} has no tag"
        assert tag.lower() not in {"latest", "stable", "edge", "nightly"}, f"{service}: {image}"
        assert re.search(r"\d+\.\d+", tag) or re.fullmatch(r"RELEASE\.\d{4}-.+", tag), image
    assert re.fullmatch(r"minio/minio:RELEASE\.\d{4}-\d\d-\d\dT[\dZ-]+", _images()["minio"])


def test_the_mailroom_image_carries_the_package_version():
    version = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert _images()["x-mailroom"] == f"mailroom:{version}"


def test_no_secret_has_a_default_in_compose():
    secrets = [m for m in _interpolations() if SECRET_LIKE.search(m["name"])]
    assert {m["name"] for m in secrets} >= {
        "POSTGRES_PASSWORD",
        "MINIO_ROOT_USER",
        "MINIO_ROOT_PASSWORD",
        "MAILROOM_SECRET_KEY",
        "MAILROOM_OIDC_CLIENT_SECRET",
        "MAILROOM_CITIZEN_OIDC_CLIENT_SECRET",
        "KEYCLOAK_ADMIN_PASSWORD",
        "MAILROOM_SMTP_PASSWORD",
    }
    for m in secrets:
        required = "?" if m["name"] in MAY_BE_EMPTY else ":?"
        assert m["op"] == required, f"{m[0]} must be ${{{m['name']}{required}message}}"


def test_no_secret_is_written_into_compose():
    for spec in [_compose()["x-mailroom"], *_compose()["services"].values()]:
        for key, value in (spec.get("environment") or {}).items():
            if SECRET_LIKE.search(key) and key != "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":
                assert INTERPOLATION.fullmatch(str(value)), f"{key}: {value!r}"


def test_every_variable_of_compose_is_in_the_env_example():
    example = _env_example()
    used = {m["name"] for m in _interpolations()}
    assert used - example.keys() == set(), "missing in infra/.env.example"
    assert example.keys() - used == set(), "infra/.env.example names variables compose ignores"
    for name, value in example.items():
        if SECRET_LIKE.search(name) and name not in MAY_BE_EMPTY:
            assert value.startswith("change-me"), f"{name} needs an obviously unusable placeholder"


def test_keycloak_imports_the_client_secrets_compose_passes_it():
    keycloak_env = _compose()["services"]["keycloak"]["environment"]
    for realm_file, variable in [
        ("lindenau-staff-realm.json", "MAILROOM_OIDC_CLIENT_SECRET"),
        ("lindenau-buerger-realm.json", "MAILROOM_CITIZEN_OIDC_CLIENT_SECRET"),
    ]:
        realm = json.loads((COMPOSE.parent / "keycloak" / realm_file).read_text())
        (client,) = realm["clients"]
        assert client["secret"] == f"${{{variable}}}"
        assert keycloak_env[variable] == _compose()["x-mailroom"]["environment"][variable]
        for uri in client["redirectUris"]:
            assert uri.startswith("${MAILROOM_PUBLIC_URL}/")
    assert "MAILROOM_PUBLIC_URL" in keycloak_env


# --- Keycloak in production mode -------------------------------------------------------


def test_keycloak_runs_in_production_mode_behind_the_tls_proxy():
    keycloak = _compose()["services"]["keycloak"]
    command = keycloak["command"]
    assert command[0] == "start" and "start-dev" not in command
    options = dict(option.removeprefix("--").partition("=")[::2] for option in command[1:])
    assert options["hostname"].startswith("${KEYCLOAK_PUBLIC_URL:?")
    assert options["http-enabled"] == "true"  # TLS ends at the proxy
    assert options["proxy-headers"] == "xforwarded"
    assert "import-realm" in options


def test_keycloak_keeps_its_data_in_a_postgresql_of_its_own():
    services = _compose()["services"]
    env = services["keycloak"]["environment"]
    assert env["KC_DB"] == "postgres"
    host = re.fullmatch(r"jdbc:postgresql://([\w-]+):5432/keycloak", env["KC_DB_URL"])
    assert host and host[1] == "keycloak-db" and host[1] in services["keycloak"]["depends_on"]
    database = services["keycloak-db"]
    assert database["environment"]["POSTGRES_PASSWORD"] == env["KC_DB_PASSWORD"]
    assert database["image"] == services["postgres"]["image"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in database["volumes"])


def test_the_mailroom_expects_the_issuer_of_keycloaks_public_url():
    example = _env_example()
    for variable, realm in [
        ("MAILROOM_OIDC_ISSUER", "lindenau-staff"),
        ("MAILROOM_CITIZEN_OIDC_ISSUER", "lindenau-buerger"),
    ]:
        assert example[variable] == f"{example['KEYCLOAK_PUBLIC_URL']}/realms/{realm}"
        assert example[variable].startswith("https://")
