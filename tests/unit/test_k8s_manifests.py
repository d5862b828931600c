"""The Kubernetes manifests run the same processes, settings and secrets as the compose stack."""

import copy
import re
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml

INFRA = Path(__file__).parents[2] / "infra"
BASE = INFRA / "k8s" / "base"
EXAMPLE = INFRA / "k8s" / "example"
SECRET_EXAMPLE = INFRA / "k8s" / "secret.example.env"
INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
SECRET_VARIABLE = re.compile(r"PASSWORD|SECRET|_KEY$|MINIO_ROOT_USER")


@cache  # parsed once: the tests only read them
def _documents(folder: Path) -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    documents = []
    for resource in kustomization["resources"]:
        if (folder / resource).is_file():
            loaded = yaml.safe_load_all((folder / resource).read_text())
            documents += [doc for doc in loaded if doc]
    return documents


def _deployments() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _documents(BASE) if d["kind"] == "Deployment"}


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    result: dict[str, Any] = container
    return result


def _config_map() -> dict[str, str]:
    (config,) = [d for d in _documents(BASE) if d["kind"] == "ConfigMap"]
    data: dict[str, str] = config["data"]
    return data


@cache
def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((INFRA / "compose.yaml").read_text())
    return loaded


def _compose_environment(service: str) -> dict[str, str]:
    compose = _compose()
    spec = compose["services"][service]
    return {**compose["x-mailroom"]["environment"], **(spec.get("environment") or {})}


def _compose_mailroom_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return {n: s for n, s in services.items() if s.get("command", [None])[0] == "mailroom"}


def test_every_yaml_file_of_the_base_is_a_resource_of_its_kustomization():
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    files = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


def _validated(document: dict[str, Any]) -> None:
    """Checked against the Kubernetes API schema of the newest version the validator knows;
    strict: a field Kubernetes does not know (a misspelt probe, say) is an error."""
    kubernetes_validate.validate(document, kubernetes_validate.utils.latest_version(), strict=True)


@pytest.mark.parametrize("folder", [BASE, EXAMPLE], ids=["base", "example"])
def test_every_manifest_is_valid_for_the_kubernetes_api(folder):
    documents = _documents(folder)
    assert documents
    for document in documents:
        _validated(document)


def test_the_schema_check_finds_a_misspelt_field():
    """The validation is real: a Deployment with a misspelt probe is refused."""
    deployment = copy.deepcopy(_deployments()["relay"])
    container = _container(deployment)
    container["livenesProbe"] = container.pop("livenessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="livenesProbe"):
        _validated(deployment)


def test_every_worker_has_a_deployment_running_it(mailroom):
    commands = [_container(d)["command"] for d in _deployments().values()]
    workers = {c[2] for c in commands if c[:2] == ["mailroom", "worker"]}
    assert workers == {consumer.name for consumer in mailroom.consumers}
    for command in commands:
        assert command[:2] != ["mailroom", "worker"] or len(command) == 3, command


def test_kubernetes_runs_the_processes_of_compose_with_the_same_replicas():
    deployments = _deployments()
    compose = _compose_mailroom_services()
    assert set(deployments) == set(compose)
    for name, service in compose.items():
        assert _container(deployments[name])["command"] == service["command"], name
        replicas = service.get("deploy", {}).get("replicas", 1)
        assert deployments[name]["spec"]["replicas"] == replicas, name


def test_the_api_is_ready_on_readyz_and_alive_on_healthz():
    api = _container(_deployments()["api"])
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["port"] == api["ports"][0]["name"]
    assert api["ports"][0]["containerPort"] == 8000
    (service,) = [d for d in _documents(BASE) if d["kind"] == "Service"]
    assert service["spec"]["selector"] == _deployments()["api"]["spec"]["selector"]["matchLabels"]


def test_the_relay_and_every_worker_are_restarted_when_a_loop_hangs():
    """Their /healthz (mailroom/liveness.py) is on the metrics port, in both stacks."""
    for name, service in _compose_mailroom_services().items():
        if service["command"][1] not in ("relay", "worker"):
            continue
        container = _container(_deployments()[name])
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        (port,) = [p for p in container["ports"] if p["name"] == "metrics"]
        assert env["MAILROOM_METRICS_PORT"] == str(port["containerPort"]), name
        for probe in ("livenessProbe", "startupProbe"):
            assert container[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}, name
        assert _compose_environment(name)["MAILROOM_METRICS_PORT"] == "9100", name
        assert service["healthcheck"]["test"][-1] == "http://127.0.0.1:9100/healthz", name


def test_exactly_one_relay_runs_even_during_a_rollout():
    relay = _deployments()["relay"]["spec"]
    assert relay["replicas"] == 1
    assert relay["strategy"] == {"type": "Recreate"}


def test_every_secret_compose_passes_comes_from_the_secret_not_a_literal():
    for name in _compose_mailroom_services():
        env = {e["name"]: e for e in _container(_deployments()[name]).get("env", [])}
        for key, value in _compose_environment(name).items():
            if not any(SECRET_VARIABLE.search(m) for m in INTERPOLATION.findall(str(value))):
                continue
            assert key not in _config_map(), f"{key} is a secret, not a setting"
            ref = env[key]["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) == ("mailroom-secrets", key), f"{name}: {key}"
            assert "value" not in env[key]


def test_every_setting_compose_gives_a_process_is_set_on_kubernetes():
    for name in _compose_mailroom_services():
        container = _container(_deployments()[name])
        assert container["envFrom"] == [{"configMapRef": {"name": "mailroom-settings"}}]
        names = {e["name"] for e in container.get("env", [])} | set(_config_map())
        assert set(_compose_environment(name)) - names == set(), name


def test_the_settings_hold_no_secret():
    for key in _config_map():
        assert not re.search(r"PASSWORD|SECRET|_KEY$|EVENT_STORE", key), key


def test_the_secret_example_lists_every_key_the_deployments_read():
    example = {
        line.partition("=")[0]
        for line in SECRET_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    used = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for d in _deployments().values()
        for e in _container(d).get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert example == used


def test_images_are_the_version_compose_builds():
    for name, deployment in _deployments().items():
        assert _container(deployment)["image"] == _compose()["x-mailroom"]["image"], name


@pytest.mark.parametrize("name", sorted(_deployments()))
def test_every_process_runs_as_non_root_on_a_read_only_file_system(name):
    deployment = _deployments()[name]
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert mounts == {"/tmp", "/var/lib/mailroom"}  # the image's MAILROOM_DATA_DIR
    assert container["resources"]["requests"].keys() == {"cpu", "memory"}
    assert "memory" in container["resources"]["limits"]


def test_the_example_overlay_terminates_tls_at_an_ingress_to_the_api_service():
    (ingress,) = [d for d in _documents(EXAMPLE) if d["kind"] == "Ingress"]
    (tls,) = ingress["spec"]["tls"]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] in tls["hosts"]
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "api", "port": {"name": "http"}}
    kustomization = yaml.safe_load((EXAMPLE / "kustomization.yaml").read_text())
    assert "../base" in kustomization["resources"]


def test_the_example_overlay_lets_only_the_ingress_and_prometheus_reach_the_pods():
    policies = {
        d["metadata"]["name"]: d["spec"]
        for d in _documents(EXAMPLE)
        if d["kind"] == "NetworkPolicy"
    }
    deny = [p for p in policies.values() if p["podSelector"] == {} and "ingress" not in p]
    assert deny and deny[0]["policyTypes"] == ["Ingress"], "no default deny for ingress"
    allowed: dict[str, set[tuple[str, str]]] = {}  # component -> {(namespace, port name)}
    for name, deployment in _deployments().items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        ports = {p["name"] for p in _container(deployment)["ports"]}
        for policy in policies.values():
            wanted = policy["podSelector"].get("matchLabels", {})
            if not wanted or any(labels.get(k) != v for k, v in wanted.items()):
                continue
            for rule in policy.get("ingress", []):
                for source in rule["from"]:
                    namespace = source["namespaceSelector"]["matchLabels"]
                    for port in rule["ports"]:
                        if port["port"] in ports:
                            allowed.setdefault(name, set()).add(
                                (namespace["kubernetes.io/metadata.name"], port["port"])
                            )
    assert allowed.pop("api") == {("ingress-nginx", "http"), ("monitoring", "http")}
    processes = {n for n, d in _deployments().items() if n != "api"}
    assert allowed == {name: {("monitoring", "metrics")} for name in processes}
    kustomization = yaml.safe_load((EXAMPLE / "kustomization.yaml").read_text())
    assert "network-policy.yaml" in kustomization["resources"]
