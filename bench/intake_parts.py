"""CPU time of each part of a portal intake, each measured alone in this process, beside
what the bare ceiling (bench/ceiling.py) does in its place:

    python bench/intake_parts.py [--file PDF] [--calls 2000] [--ceiling-cpu MS]

Parts: the content check of the attachment (``inspect_file``, a copy with its own PDF
document id per call, as bench/intake.py sends), the aggregates intake records (a MailItem
and its ReferenceIndex), their event-store save through the mailroom's PostgreSQL recorder,
and the ceiling's plain INSERT + COMMIT. PostgreSQL is the one the test harness starts or
finds. CPU is this process's (user + system: the client side of the database calls too).

``--ceiling-cpu MS``: the CPU a ceiling request costs on all processes of the machine (the
sum of bench/intake.py --ceiling --cpu-profile's line for the ceiling). When the machine's
CPU is what bounds both, the mailroom reaches 0.9× of the ceiling only if everything it
adds costs at most MS / 9; the line printed last compares the parts with that allowance.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intake import DEFAULT_FILE, metadata, unique_copy  # bench/intake.py

ROUNDS = 3


def cpu_ms_per_call(
    calls: int, prepare: Callable[[], object], part: Callable[[object], object]
) -> float:
    """The median over ROUNDS of the CPU per call of ``part`` (its inputs made beforehand)."""
    per_call = []
    for _ in range(ROUNDS):
        inputs = [prepare() for _ in range(calls)]
        started = time.process_time()
        for value in inputs:
            part(value)
        per_call.append((time.process_time() - started) * 1000 / calls)
    return statistics.median(per_call)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--ceiling-cpu", type=float, help="CPU ms per ceiling request")
    args = parser.parse_args()
    payload = args.file.read_bytes()

    from psycopg_pool import ConnectionPool

    from tests.harness.postgres import postgres_server

    with postgres_server() as postgres, tempfile.TemporaryDirectory() as data_dir:
        os.environ.update(
            MAILROOM_EVENT_STORE=postgres,
            MAILROOM_DATA_DIR=data_dir,
            MAILROOM_SECRET_KEY="bench-" + "z" * 40,
        )
        from ceiling import create_table, plain_insert, portal_item

        from mailroom.bootstrap import build_app
        from mailroom.config import Settings
        from mailroom.intake.inspection import inspect_file

        app = build_app(Settings())
        pool = ConnectionPool(postgres.split("?")[0], min_size=1, max_size=1)
        create_table(pool)
        text = metadata()

        def new_item() -> object:
            return portal_item(uuid.uuid4(), text, f"sha256/{uuid.uuid4().hex}", payload)

        parts = {
            "content check (inspect_file)": cpu_ms_per_call(
                args.calls,
                lambda: unique_copy(payload),
                lambda data: inspect_file(data, filename="antrag.pdf"),  # type: ignore[arg-type]
            ),
            "aggregates (MailItem + ReferenceIndex)": cpu_ms_per_call(
                args.calls, lambda: None, lambda _: new_item()
            ),
            "event-store save (both, one transaction)": cpu_ms_per_call(
                args.calls,
                new_item,
                lambda pair: app.save(*pair),  # type: ignore[misc]
            ),
        }
        ceiling_insert = cpu_ms_per_call(
            args.calls,
            uuid.uuid4,
            lambda item_id: plain_insert(pool, item_id, text, "k"),  # type: ignore[arg-type]
        )
        pool.close()

    print(f"attachment: {args.file.name}, {len(payload)} bytes; {args.calls} calls per part")
    print(f"{'part':44} {'CPU ms':>7}")
    for name, ms in parts.items():
        print(f"{name:44} {ms:7.3f}")
    print(f"{'the ceiling in their place: INSERT + COMMIT':44} {ceiling_insert:7.3f}")
    added = sum(parts.values()) - ceiling_insert
    print(f"{'added by these parts alone':44} {added:7.3f}")
    if args.ceiling_cpu:
        allowance = args.ceiling_cpu / 9
        print(
            f"0.9x of a ceiling at {args.ceiling_cpu:.2f} ms CPU per request allows "
            f"{allowance:.3f} ms for all the mailroom adds; these parts take "
            f"{added / allowance:.0%} of it"
        )


if __name__ == "__main__":
    main()
