"""``mailroom relay`` and ``mailroom worker NAME``: the processes of the production mode."""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Annotated

import typer

from mailroom.cli.main import app

if TYPE_CHECKING:
    from mailroom.bootstrap import Mailroom
    from mailroom.consumers.base import Consumer

log = logging.getLogger("mailroom")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _set_up_process() -> None:
    """Logging (JSON in production, see mailroom.logs), with MAILROOM_METRICS_PORT this
    process's Prometheus counters and liveness on that port, and its watchdog."""
    from mailroom.config import Settings
    from mailroom.liveness import watch_this_process
    from mailroom.logs import configure_logging
    from mailroom.metrics import serve_process_metrics

    settings = Settings()
    configure_logging(settings)
    serve_process_metrics(settings.metrics_port)
    watch_this_process(settings.exit_when_hung)


@app.command()
def relay() -> None:
    """Publish every domain event from the event store to Kafka (run exactly one)."""
    from mailroom.adapters.cloudevents import event_contract
    from mailroom.adapters.kafka_bus import ensure_topics, make_producer
    from mailroom.bootstrap import build_app
    from mailroom.config import Settings
    from mailroom.relay import OutboxRelay
    from mailroom.relay_lock import relay_lock

    _set_up_process()
    settings = Settings()
    stop = _stop_on_signals()
    mailroom_app = build_app(settings)
    try:
        # One relay per event store: a second one waits here (mailroom.relay_lock); the
        # relay is built only once the lock is ours, so it starts at the current position.
        with relay_lock(settings.event_store_url, stop) as lost:
            if lost is None:
                return
            OutboxRelay(
                mailroom_app,
                lambda: make_producer(settings),
                settings.kafka_topic_prefix,
                event_contract(settings),
                ensure_topic=lambda topic: ensure_topics(settings, [topic]),
            ).run(stop)
        if lost.is_set():
            raise typer.Exit(1)
    finally:
        mailroom_app.close()


@app.command()
def worker(
    names: Annotated[
        list[str] | None, typer.Argument(help="Which consumers to run (one or more)")
    ] = None,
    all_consumers: Annotated[
        bool, typer.Option("--all", help="Run every consumer in this one process")
    ] = False,
    list_names: Annotated[bool, typer.Option("--list", help="Print the consumer names")] = False,
) -> None:
    """Run consumers, each a member of its Kafka consumer group (start several to scale out).

    One consumer per process is the production layout (scaled and restarted one by one);
    several in one process suit small installations and test stacks."""
    from mailroom.bootstrap import build
    from mailroom.config import Settings

    settings = Settings()
    mailroom = build(settings)
    if list_names or not (names or all_consumers):
        for consumer in mailroom.consumers:
            typer.echo(consumer.name)
        mailroom.stop()
        if not list_names:
            raise typer.Exit(2)
        return
    chosen = (
        list(mailroom.consumers) if all_consumers else [mailroom.consumer(n) for n in names or []]
    )
    _set_up_process()
    stop = _stop_on_signals()
    threads = [
        threading.Thread(
            target=_run_consumer, args=(mailroom, consumer, stop), name=f"worker-{consumer.name}"
        )
        for consumer in dict.fromkeys(chosen)
    ]
    for thread in threads:
        thread.start()
    try:
        while all(t.is_alive() for t in threads) and not stop.wait(0.5):
            pass
    finally:
        failed = not stop.is_set()  # a consumer ended by an error: end the process, it restarts
        stop.set()
        for thread in threads:
            thread.join()
        mailroom.stop()
    if failed:
        raise typer.Exit(1)


def _run_consumer(mailroom: Mailroom, consumer: Consumer, stop: threading.Event) -> None:
    from mailroom.adapters.cloudevents import kafka_topic_for
    from mailroom.adapters.kafka_bus import ensure_topics, make_consumer
    from mailroom.consumers.base import is_slow
    from mailroom.consumers.delivery import Delivery
    from mailroom.kafka_runner import KafkaWorker

    settings = mailroom.settings
    try:
        topics = sorted({kafka_topic_for(t, settings.kafka_topic_prefix) for t in consumer.topics})
        ensure_topics(settings, topics)
        kafka = make_consumer(
            settings,
            group_id=f"{settings.kafka_group_prefix}.{consumer.name}",
            slow=is_slow(consumer),
        )
        log.info("worker %s consuming %s", consumer.name, ", ".join(topics))
        delivery = Delivery(consumer, mailroom.retry_policy, mailroom.health)
        duties = [d for d in mailroom.duties if d.owner == consumer.name]
        for duty in duties:
            duty.start()
        KafkaWorker(consumer, mailroom.app, kafka, topics, delivery).run(stop)
    except Exception as exc:
        from mailroom.cli.failures import unreachable_line

        line = unreachable_line(exc)  # an unreachable broker or store: one line, no traceback
        if line:
            log.error("worker %s stopped: %s", consumer.name, line.removeprefix("error: "))
        else:
            log.exception("worker %s stopped by an error", consumer.name)
        # The thread ends here (no second traceback from threading's hook); the process sees
        # it and exits non-zero, so it gets restarted.
