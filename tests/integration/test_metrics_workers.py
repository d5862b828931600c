"""``mailroom serve --workers 2`` with PROMETHEUS_MULTIPROC_DIR: every scrape, whichever
process answers it, counts the submissions of both processes."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from prometheus_client.mmap_dict import MmapedDict

from mailroom.auth.principal import system_principal
from mailroom.bootstrap import build
from tests.fixtures.builders import metadata_json
from tests.harness.mailroom_server import serving
from tests.integration.stack import production_settings, settings_env

SUBMISSIONS = 40


def accepted_by_process(multiproc_dir: Path) -> dict[str, float]:
    """The portal intake counter as each API process wrote it (``counter_<pid>.db``)."""
    counted: dict[str, float] = {}
    for path in multiproc_dir.glob("counter_*.db"):
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            _metric, sample, labels, _help = json.loads(key)
            if sample == "mailroom_intake_total" and labels.get("outcome") == "accepted":
                counted[path.stem] = counted.get(path.stem, 0.0) + value
    return counted


def scraped_accepted(url: str) -> float:
    # A new connection per scrape: either process may take it.
    text = httpx.get(f"{url}/metrics", timeout=10, headers={"Connection": "close"}).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("mailroom_intake_total{")
        and 'channel="portal"' in line
        and 'outcome="accepted"' in line
    )


def test_two_api_processes_sum_their_counters_in_every_scrape(
    tmp_path, postgres_url, postgres_schema, kafka_bootstrap, s3_endpoint
):
    settings = production_settings(
        tmp_path, postgres_url, postgres_schema, kafka_bootstrap, s3_endpoint
    )
    mailroom = build(settings)  # creates the schema; registers the portal's key
    try:
        _, key = mailroom.services.portal_clients.register(system_principal("test"), "Portal")
    finally:
        mailroom.stop()
    multiproc_dir = tmp_path / "prometheus"
    multiproc_dir.mkdir()
    env = settings_env(settings) | {"PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir)}
    with serving(tmp_path, args=("--workers", "2"), extra_env=env) as server:
        headers = {"Authorization": f"Bearer {key}", "Connection": "close"}
        for i in range(SUBMISSIONS):
            answer = httpx.post(
                f"{server.url}/api/v1/submissions",
                data={"metadata": metadata_json(form_fields={"n": str(i)})},
                headers={**headers, "Idempotency-Key": f"metrics-{i}"},
                timeout=30,
            )
            assert answer.status_code == 202, answer.text
        by_process = accepted_by_process(multiproc_dir)
        # The fault this guards against needs two processes that each took submissions.
        assert len([n for n in by_process.values() if n > 0]) == 2, by_process
        assert sum(by_process.values()) == SUBMISSIONS
        scrapes = [scraped_accepted(server.url) for _ in range(10)]
        assert scrapes == [SUBMISSIONS] * 10
