from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from django.core.management.base import BaseCommand, CommandError

from sensors.mqtt import BatchResult, MqttIngestConfig, MqttIngestWorker, MqttSetupError

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Set ``stop`` when SIGTERM or SIGINT arrives, taken by a thread of its own.

    The signals are blocked in the calling thread before the worker starts its own threads (which
    inherit the mask), so they interrupt no thread's system call; the ``signals`` thread takes
    them with ``sigtimedwait``. Why not ``signal.signal``: a Python handler interrupts the main
    thread's ``SimpleQueue.get(timeout=...)``, and CPython 3.11 resumes that wait with the time
    left as computed after the handler has run. When the handler ran after the deadline (the
    worker not scheduled for a while on a loaded machine) the time left is negative, which the
    lock takes as "no limit": the worker waited for a message that never came and never exited.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    done = threading.Event()

    def take_signals() -> None:
        while not done.is_set():
            if signal.sigtimedwait(STOP_SIGNALS, 0.25) is not None:
                stop.set()

    thread = threading.Thread(target=take_signals, name="signals", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class Command(BaseCommand):
    requires_system_checks: list[str] = []
    help = (
        "Long-running worker: store readings that devices publish over MQTT "
        "(<MQTT_TOPIC_PREFIX>/readings/<sensor code>, QoS 1, one reading or a list). Each message "
        "is acknowledged only once its readings are committed, so a crash loses nothing; a bad "
        "message is reported on <MQTT_TOPIC_PREFIX>/errors/<sensor code>. SIGTERM finishes the "
        "batch in hand and exits 0. Configured by MQTT_URL, MQTT_CLIENT_ID and friends."
    )

    def handle(self, *args, **options) -> None:
        config = MqttIngestConfig.from_settings()

        def report(result: BatchResult) -> None:
            self.stdout.write(
                f"Stored {result.created} new readings from {len(result.stored)} messages, "
                f"rejected {len(result.rejected)}."
            )

        worker = MqttIngestWorker(
            config=config, on_batch=report if options["verbosity"] >= 2 else None
        )
        scheme = "mqtts" if config.tls else "mqtt"
        self.stdout.write(
            f"Ingesting {config.subscription} from {scheme}://{config.host}:{config.port} "
            f"as {config.client_id}."
        )
        self.stdout.flush()
        stop = threading.Event()
        try:
            with stop_on_signals(stop):
                summary = worker.run(stop=stop)
        except MqttSetupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Stopped: {summary.messages} messages, {summary.created} readings stored "
                f"({summary.duplicates} already stored), {summary.rejected} messages rejected."
            )
        )
