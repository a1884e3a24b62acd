from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from sensors.mqtt import BatchResult, MqttIngestConfig, MqttIngestWorker, MqttSetupError


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
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())

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
        try:
            summary = worker.run(stop=stop)
        except MqttSetupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Stopped: {summary.messages} messages, {summary.created} readings stored "
                f"({summary.duplicates} already stored), {summary.rejected} messages rejected."
            )
        )
