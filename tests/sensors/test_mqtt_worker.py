"""``manage.py ingest_mqtt`` as it runs in production: a process, the real Mosquitto, PostgreSQL.

Each test has its own topic prefix and client id, so runs in parallel never see each other's
messages, and clears its persistent session on the broker when it ends. The worker writes to the
test database, which it can only see on PostgreSQL (SQLite's test database is in memory).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from django.conf import settings
from django.db import connection
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from sensors.models import Reading
from tests.faults.servers import CuttableProxy
from tests.sensors.factories import SensorFactory
from tests.sensors.mqtt_servers import (
    IngestWorker,
    MqttClient,
    PrivateMosquitto,
    broker_answers,
    forget_session,
    settle,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def reading(n: int, value: float | None = None) -> dict:
    stamp = (T0 + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
    return {"timestamp": stamp, "value": float(n) if value is None else value}


def database_url(*, port: int | None = None) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host, port = db["HOST"] or "127.0.0.1", port or db["PORT"] or 5432
    return f"postgres://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def broker():
    """The machine's Mosquitto (``MQTT_URL``, default 127.0.0.1:1883); CI starts it."""
    host, port = settings.MQTT_BROKER["host"], settings.MQTT_BROKER["port"]
    if not broker_answers(host, port):
        message = f"needs the Mosquitto broker on {host}:{port} (mosquitto -d)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return host, port


@pytest.fixture
def make_worker(transactional_db, broker, tmp_path):
    host, port = broker
    workers: list[IngestWorker] = []
    clients: list[MqttClient] = []

    def make(*, mqtt_url: str | None = None, db_url: str | None = None, **env: str):
        worker = IngestWorker(
            database_url=db_url or database_url(),
            mqtt_url=mqtt_url or f"mqtt://{host}:{port}",
            log=tmp_path / f"worker-{len(workers)}.log",
            **env,
        )
        workers.append(worker)
        listener = MqttClient(host, port)
        clients.append(listener)
        return worker, listener

    yield make
    for worker in workers:
        worker.stop()
        forget_session(host, port, worker.client_id)
    for client in clients:
        client.close()


def stored(code: str) -> int:
    return Reading.objects.filter(sensor__code=code).count()


def test_readings_published_with_qos_1_are_stored(make_worker):
    SensorFactory(code="boiler")
    worker, device = make_worker()
    worker.start()
    device.publish(worker.readings_topic("boiler"), reading(0, 20.5), [reading(1), reading(2)])
    wait_for(lambda: stored("boiler") == 3, what="3 readings stored")
    values = Reading.objects.filter(sensor__code="boiler").order_by("timestamp")
    assert [(r.timestamp, r.value) for r in values] == [
        (T0, 20.5),
        (T0 + timedelta(seconds=1), 1.0),
        (T0 + timedelta(seconds=2), 2.0),
    ]
    assert worker.terminate() == 0


def test_messages_with_v5_properties_or_at_qos_0_or_2_are_stored_too(make_worker):
    SensorFactory(code="meter")
    worker, device = make_worker()
    worker.start()
    topic = worker.readings_topic("meter")
    properties = Properties(PacketTypes.PUBLISH)
    properties.ContentType = "application/json"
    properties.UserProperty = ("device", "meter-7")
    device.publish(topic, reading(0), properties=properties)
    device.publish(topic, reading(1), qos=0)
    device.publish(topic, reading(2), qos=2)
    wait_for(lambda: stored("meter") == 3, what="3 readings stored")
    assert worker.terminate() == 0


def test_a_worker_killed_mid_stream_and_restarted_stores_exactly_what_was_published(make_worker):
    SensorFactory(code="line")
    # Batches of 300 or 3 s: when it is killed, part of the first 500 is received, uncommitted
    # and unacknowledged.
    worker, device = make_worker(MQTT_BATCH_SIZE="300", MQTT_BATCH_MS="3000")
    worker.start()
    topic = worker.readings_topic("line")
    device.publish(topic, *(reading(n) for n in range(500)))
    wait_for(lambda: stored("line") >= 300, what="the first batch to commit")
    worker.kill()
    assert stored("line") < 500, "the kill came too late to test anything"

    device.publish(topic, *(reading(n) for n in range(500, 1000)))
    worker.start()
    wait_for(lambda: stored("line") == 1000, what="all 1,000 readings")
    settle(2)
    assert stored("line") == 1000
    values = sorted(Reading.objects.filter(sensor__code="line").values_list("value", flat=True))
    assert values == [float(n) for n in range(1000)]
    assert worker.terminate() == 0


def test_a_bad_message_reaches_the_error_topic_once_and_the_worker_keeps_going(make_worker):
    SensorFactory(code="pump")
    worker, device = make_worker()
    device.listen(f"{worker.prefix}/errors/#")
    worker.start()
    topic = worker.readings_topic("pump")
    bad = {"timestamp": "2026-01-01T00:00:09", "value": "hot"}
    device.publish(topic, reading(0), bad, reading(1))
    wait_for(lambda: stored("pump") == 2 and device.messages(), what="2 stored, 1 reported")

    # Acknowledged, so neither this worker nor the next one sees it again.
    assert worker.terminate() == 0
    worker.start()
    device.publish(topic, reading(2))
    wait_for(lambda: stored("pump") == 3, what="the worker to keep going")
    settle()
    [(error_topic, report)] = device.messages()
    assert error_topic == f"{worker.prefix}/errors/pump"
    assert report["error"]["code"] == "validation_error"
    assert "timezone" in report["error"]["details"]["timestamp"][0]
    assert report["error"]["details"]["value"] == ["Value must be a number."]
    assert report["topic"] == topic
    assert "rejected a message" in worker.output() or "rejected a message" in (
        worker.log.read_text()
    )
    assert worker.terminate() == 0


def test_a_message_for_an_unknown_sensor_is_an_error_not_a_crash(make_worker):
    SensorFactory(code="known")
    worker, device = make_worker()
    device.listen(f"{worker.prefix}/errors/#")
    worker.start()
    device.publish(worker.readings_topic("ghost"), reading(0))
    wait_for(lambda: device.messages(), what="the error report")
    [(error_topic, report)] = device.messages()
    assert error_topic == f"{worker.prefix}/errors/ghost"
    assert report["error"]["code"] == "not_found"

    device.publish(worker.readings_topic("known"), reading(0))
    wait_for(lambda: stored("known") == 1, what="the next reading")
    assert worker.process.poll() is None
    assert worker.terminate() == 0


def test_sigterm_mid_batch_stores_and_acknowledges_the_batch_then_exits_0(make_worker):
    SensorFactory(code="fan")
    # A 10 s batch window: the SIGTERM arrives while the batch is still being collected.
    worker, device = make_worker(MQTT_BATCH_MS="10000")
    worker.start()
    device.publish(worker.readings_topic("fan"), *(reading(n) for n in range(200)))
    settle(1.5)
    assert stored("fan") == 0, "the batch window did not hold the batch open"
    assert worker.terminate() == 0
    assert stored("fan") == 200
    assert "Stopped: 200 messages, 200 readings stored" in worker.output()

    # Everything was acknowledged: the next run gets nothing again.
    worker.start()
    settle(2)
    assert worker.terminate() == 0
    assert "Stopped: 0 messages" in worker.output()
    assert stored("fan") == 200


def test_a_sigterm_the_worker_takes_only_seconds_later_still_stops_it_cleanly(make_worker):
    # On a loaded machine a signal may be handled long after it was sent, past the deadline of
    # whatever wait it interrupted: here the worker is frozen while the SIGTERM arrives, mid-batch
    # and then idle, and thawed a second later. A worker whose main thread took the signal in a
    # Python handler waited for ever there (SimpleQueue.get resumed with a negative time left).
    SensorFactory(code="vent")
    worker, device = make_worker(MQTT_BATCH_MS="10000")
    worker.start()
    device.publish(worker.readings_topic("vent"), *(reading(n) for n in range(200)))
    settle(1.5)
    assert stored("vent") == 0, "the batch window did not hold the batch open"
    assert worker.terminate_late() == 0
    assert stored("vent") == 200
    assert "Stopped: 200 messages, 200 readings stored" in worker.output()

    # Idle, twice more: which of the worker's threads takes a signal sent while it is frozen
    # varies, and that handler only hung when it was the main thread.
    for _ in range(2):
        worker.start()
        settle(0.5)
        assert worker.terminate_late() == 0
        assert "Stopped: 0 messages" in worker.output()


def test_with_the_database_down_nothing_is_acknowledged_and_all_is_stored_once_it_is_back(
    make_worker,
):
    SensorFactory(code="tank")
    proxy = CuttableProxy(connection.settings_dict["HOST"] or "127.0.0.1", 5432).start()
    try:
        worker, device = make_worker(db_url=database_url(port=proxy.port))
        worker.start()
        topic = worker.readings_topic("tank")
        device.publish(topic, reading(0))
        wait_for(lambda: stored("tank") == 1, what="the first reading")

        proxy.cut()
        device.publish(topic, *(reading(n) for n in range(1, 101)))
        wait_for(lambda: "database unavailable" in worker.output(), what="the worker to back off")
        assert stored("tank") == 1
        proxy.restore()
        wait_for(lambda: stored("tank") == 101, what="the held readings")
        assert worker.terminate() == 0
    finally:
        proxy.stop()


def test_a_worker_reconnects_when_the_broker_comes_back(make_worker, tmp_path):
    SensorFactory(code="door")
    broker = PrivateMosquitto(tmp_path).start()
    try:
        worker, _ = make_worker(mqtt_url=broker.url)
        worker.start()
        broker.stop()
        wait_for(lambda: "connection lost" in worker.output(), what="the worker to notice")
        broker.start()  # same port, no persistence: the worker subscribes again itself
        wait_for(
            lambda: worker.output().count("mqtt: subscribed to") == 2,
            what="the worker to resubscribe",
        )
        device = MqttClient("127.0.0.1", broker.port)
        try:
            device.publish(worker.readings_topic("door"), reading(0))
            wait_for(lambda: stored("door") == 1, what="a reading after the outage")
        finally:
            device.close()
        assert worker.terminate() == 0
    finally:
        broker.stop()


def test_workers_in_a_shared_group_split_the_messages_and_store_each_once(make_worker):
    SensorFactory(code="hall")
    first, device = make_worker(MQTT_SHARED_GROUP="ingest", MQTT_BATCH_MS="20")
    second, _ = make_worker(MQTT_SHARED_GROUP="ingest", MQTT_BATCH_MS="20")
    second.prefix = first.prefix  # one stream, two workers (each keeps its own client id)
    second.env["MQTT_TOPIC_PREFIX"] = first.prefix
    first.start()
    second.start()
    assert "$share/ingest/" in first.output()
    for n in range(0, 400, 20):
        device.publish(first.readings_topic("hall"), *(reading(n + i) for i in range(20)))
    wait_for(lambda: stored("hall") == 400, what="400 readings")
    assert first.terminate() == 0
    assert second.terminate() == 0
    counts = [int(w.output().split("Stopped: ")[1].split(" messages")[0]) for w in (first, second)]
    assert sum(counts) == 400  # each message went to exactly one of them
    assert all(counts), f"the broker gave one worker everything: {counts}"


def test_a_broker_that_refuses_the_worker_stops_it_with_a_message(make_worker, tmp_path):
    broker = PrivateMosquitto(tmp_path, anonymous=False).start()
    try:
        worker, _ = make_worker(mqtt_url=broker.url)
        result = worker.run_to_exit()
    finally:
        broker.stop()
    assert result.returncode == 1
    assert "refused the connection" in result.stderr
    assert "Traceback" not in result.stderr


def tls_mosquitto(directory: Path, ca: trustme.CA, identity: str) -> PrivateMosquitto:
    """A private Mosquitto listening over TLS, its certificate for ``identity`` signed by ``ca``."""
    certificate = ca.issue_cert(identity)
    chain, key = directory / "server-chain.pem", directory / "server-key.pem"
    chain.write_bytes(b"".join(pem.bytes() for pem in certificate.cert_chain_pems))
    certificate.private_key_pem.write_to_path(str(key))
    return PrivateMosquitto(directory, certificate=chain, key=key).start()


def trusted(ca: trustme.CA, directory: Path) -> Path:
    path = directory / "trusted-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def test_readings_published_over_tls_are_stored(make_worker, tmp_path):
    SensorFactory(code="kiln")
    ca = trustme.CA()
    broker, ca_file = tls_mosquitto(tmp_path, ca, "127.0.0.1"), trusted(ca, tmp_path)
    try:
        worker, _ = make_worker(mqtt_url=broker.url, MQTT_CA_FILE=str(ca_file))
        worker.start()
        assert f"from mqtts://127.0.0.1:{broker.port}" in worker.output()
        device = MqttClient("127.0.0.1", broker.port, ca_file=ca_file)
        try:
            device.publish(worker.readings_topic("kiln"), reading(0), [reading(1), reading(2)])
            wait_for(lambda: stored("kiln") == 3, what="3 readings over TLS")
        finally:
            device.close()
        assert worker.terminate() == 0
    finally:
        broker.stop()


@pytest.mark.parametrize(
    ("signer", "identity", "trust", "says"),
    [
        ("another CA", "127.0.0.1", "our CA", "unable to get local issuer certificate"),
        ("our CA", "127.0.0.1", "the system", "the system's trust store (set MQTT_CA_FILE)"),
        ("our CA", "broker.example", "our CA", "certificate is not valid for '127.0.0.1'"),
    ],
    ids=["signed-by-another-ca", "private-ca-not-configured", "issued-for-another-host"],
)
def test_a_broker_certificate_that_fails_verification_stops_the_worker_with_one_line(
    make_worker, tmp_path, signer, identity, trust, says
):
    ours, other = trustme.CA(), trustme.CA()
    broker = tls_mosquitto(tmp_path, ours if signer == "our CA" else other, identity)
    try:
        env = {"MQTT_CA_FILE": str(trusted(ours, tmp_path))} if trust == "our CA" else {}
        worker, _ = make_worker(mqtt_url=broker.url, **env)
        result = worker.run_to_exit()
    finally:
        broker.stop()
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("failed verification") == 1, result.stderr
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith(
        "CommandError: The MQTT broker's TLS certificate failed verification against "
    )
    assert says in last_line
