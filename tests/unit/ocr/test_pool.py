"""The page pool: fair dispatch by priority, and its answers to hung and crashed workers.

The tasks (``tests.fixtures.ocr_documents``) run in real spawned workers but do no OCR: they
log the order they run in, and page 0 waits for a "go" file so that the queue fills first.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from ocr import OcrEngine, OcrOptions
from ocr.page_pipeline import PageJob, PageOutcome
from ocr.pool import PageHungError, PagePool, PoolClosedError
from tests.fixtures import ocr_documents, scans
from tests.fixtures.ocr_documents import CRASH, DISK_FULL, HANG, logged_order, page_job

LETTER = 99


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "log"


@pytest.fixture
def one_worker() -> Iterator[PagePool]:
    pool = PagePool(1, task=ocr_documents.recording_task, hang_grace_s=0.0)
    yield pool
    pool.close()


def go(log: Path) -> None:
    log.with_name("go").touch()


def test_a_letter_waits_only_for_the_page_in_flight_not_for_a_queued_bulk_item(
    one_worker: PagePool, log: Path
) -> None:
    """GIVEN one worker busy with page 0 of a bulk item and its 7 other pages queued at
    priority 1 WHEN a letter's page is submitted at priority 0 THEN it runs next, and the
    bulk pages keep their order."""
    bulk = [one_worker.submit(page_job(log, index), priority=1) for index in range(8)]
    letter = one_worker.submit(page_job(log, LETTER), priority=0)
    go(log)

    for future in [*bulk, letter]:
        future.result(timeout=60)

    order = logged_order(log)
    assert order.index(LETTER) <= 1
    assert [index for index in order if index != LETTER] == list(range(8))


def test_a_hung_page_fails_and_the_pages_queued_behind_it_are_still_read(
    one_worker: PagePool, log: Path
) -> None:
    go(log)
    hung = one_worker.submit(page_job(log, HANG, timeout_s=2.0))
    behind = one_worker.submit(page_job(log, 5))

    with pytest.raises(PageHungError):
        hung.result(timeout=60)
    assert behind.result(timeout=60).result.number == 6


def test_a_crashed_worker_fails_its_page_and_new_workers_read_the_next(
    one_worker: PagePool, log: Path
) -> None:
    go(log)
    crashed = one_worker.submit(page_job(log, CRASH))
    behind = one_worker.submit(page_job(log, 5))

    with pytest.raises(BrokenProcessPool):
        crashed.result(timeout=60)
    assert behind.result(timeout=60).result.number == 6


def test_a_full_disk_in_a_worker_reaches_the_caller_unchanged(
    one_worker: PagePool, log: Path
) -> None:
    go(log)
    with pytest.raises(OSError) as caught:
        one_worker.submit(page_job(log, DISK_FULL)).result(timeout=60)
    assert caught.value.errno == errno.ENOSPC


def test_closing_does_not_wait_for_a_hanging_page(one_worker: PagePool, log: Path) -> None:
    go(log)
    running = one_worker.submit(page_job(log, HANG))
    queued = one_worker.submit(page_job(log, 5))
    deadline = time.monotonic() + 30
    while not running.running() and time.monotonic() < deadline:
        time.sleep(0.01)

    started = time.monotonic()
    one_worker.close()

    assert time.monotonic() - started < 10
    for future in (running, queued):
        with pytest.raises(PoolClosedError):
            future.result(timeout=5)
    with pytest.raises(PoolClosedError):
        one_worker.submit(page_job(log, 6))


def test_read_passes_its_priority_to_every_page(
    shared_engine: OcrEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = shared_engine._pool
    submit = pool.submit
    priorities: list[int] = []

    def spy(job: PageJob, *, priority: int = 0) -> Future[PageOutcome]:
        priorities.append(priority)
        return submit(job, priority=priority)

    monkeypatch.setattr(pool, "submit", spy)
    shared_engine.read(scans.tiff_bytes([scans.blank_page()] * 2), priority=1)

    assert priorities == [1, 1]


def test_a_letter_read_by_another_thread_finishes_before_a_bulk_item_queued_ahead_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN one worker and a bulk lane reading a six-page scan at priority 1 WHEN the
    letter lane reads a one-page scan at priority 0 once the bulk pages are queued THEN the
    letter is done first."""
    with OcrEngine(OcrOptions(jobs=1, page_timeout_s=60)) as engine:
        submit = engine._pool.submit
        bulk_queued = threading.Event()
        done: list[str] = []

        def spy(job: PageJob, *, priority: int = 0) -> Future[PageOutcome]:
            future = submit(job, priority=priority)
            if priority == 1 and job.index == 5:
                bulk_queued.set()
            return future

        def read(name: str, data: bytes, priority: int) -> None:
            engine.read(data, priority=priority)
            done.append(name)

        monkeypatch.setattr(engine._pool, "submit", spy)
        bulk = threading.Thread(
            target=read, args=("bulk", scans.tiff_bytes([scans.blank_page()] * 6), 1)
        )
        bulk.start()
        assert bulk_queued.wait(timeout=60)
        read("letter", scans.tiff_bytes([scans.blank_page()]), 0)
        bulk.join(timeout=120)

    assert done == ["letter", "bulk"]


ORPHAN_SCRIPT = """
import sys, time
from pathlib import Path
from ocr.pool import PagePool
from tests.fixtures import ocr_documents
from tests.fixtures.ocr_documents import page_job

pool = PagePool(1, task=ocr_documents.recording_task, hang_grace_s=0.0)
pool.submit(page_job(Path(sys.argv[1]), 0))  # waits for a "go" file that never comes
print("busy", flush=True)
time.sleep(600)
"""


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_workers_of_a_killed_process_end_with_it(log: Path) -> None:
    """GIVEN a process whose page pool holds a busy worker WHEN that process is killed with
    SIGKILL (an OCR worker killed by an operator or the kernel) THEN its pool workers end
    too instead of living on as orphans."""
    import os
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    owner = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_SCRIPT, str(log)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None and owner.stdout.readline().strip() == "busy"
        deadline = time.monotonic() + 30
        while len(workers := _children(owner.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # the resource tracker and the worker
        assert len(workers) >= 2, "the pool started no worker"
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_alive(pid) for pid in workers), "pool workers outlived their process"
    finally:
        if owner.poll() is None:
            owner.kill()
