"""The compose stack runs every consumer the composition root knows, and nothing else."""

from pathlib import Path

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
