"""MQTT ingest: readings published by devices, stored through the same bulk path as the API.

Topics, under ``settings.MQTT_TOPIC_PREFIX`` (default ``targets``):

- ``<prefix>/readings/<sensor code>``: one reading ``{"timestamp", "value"}`` or a list of up to
  10,000, validated like ``POST /api/v1/readings/`` (the topic names the sensor);
- ``<prefix>/errors/<sensor code>``: where a message that cannot be stored is reported, with the
  API's error shape ``{"error": {"code", "message", "details"}}`` and the topic it came on.

The rules the worker keeps, one for one:

1. It subscribes with QoS 1 on a persistent session (MQTT v5, ``clean_start`` off, a session
   expiry, the fixed ``MQTT_CLIENT_ID``), so the broker queues what arrives while it is down.
2. A message is acknowledged only after its readings are committed, or, for a message that
   cannot be stored, after the broker has accepted its error report. A crash before that (even
   ``kill -9``) leaves it unacknowledged and the broker delivers it again; a reading delivered
   twice is stored once (unique per sensor and timestamp, inserted with ``ON CONFLICT DO
   NOTHING``).
3. Messages are taken in batches (``MQTT_BATCH_SIZE`` messages, ``MQTT_BATCH_MS`` after the
   first one, or 4 MiB of payload, whichever comes first). Each message is validated on its own,
   so a bad one is reported and acknowledged without holding back the good ones beside it; the
   good ones are stored in one transaction.
4. Database down: nothing is acknowledged, the batch is retried with a growing pause (0.5 s to
   30 s) until it commits. The broker sends at most ``Receive Maximum`` (twice the batch size)
   unacknowledged messages, so the worker's memory stays bounded meanwhile.
5. Broker down: paho reconnects with a growing pause (1 s to 30 s). Acknowledgements for
   messages of a lost connection are dropped, never sent on the next one: the broker delivers
   those messages again, and their packet ids may by then name other messages. A broker that
   refuses the worker's login or subscription, or whose TLS certificate fails verification (against
   ``MQTT_CA_FILE``, or the system's trust store), is no outage: the worker stops, saying why.
6. Stop (SIGTERM or SIGINT): the batch in hand is finished and acknowledged, then the worker
   disconnects cleanly. Messages received but not yet batched stay unacknowledged, so the broker
   delivers them again on the next start.

Several workers may share the load: with ``MQTT_SHARED_GROUP`` set they subscribe to
``$share/<group>/<prefix>/readings/+`` (MQTT v5 shared subscriptions) and the broker gives each
message to one of them; each worker needs its own ``MQTT_CLIENT_ID``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from django.conf import settings
from django.db import DatabaseError, connection
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from sensors.models import Sensor
from sensors.parsing import ReadingRow, readings_from_json
from sensors.services.ingest import readings_store
from targets_site import errors

logger = logging.getLogger("targets.sensors.mqtt")

BATCH_MAX_BYTES = 4 * 1024 * 1024
DB_RETRY_FIRST_S = 0.5
DB_RETRY_MAX_S = 30.0
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30
KEEPALIVE_S = 30
# How long a stopping worker waits for the broker to accept its last error reports.
STOP_FLUSH_S = 5.0
PAYLOAD_EXCERPT_CHARS = 500


class MqttSetupError(Exception):
    """The broker refused the worker (bad credentials, subscription not allowed): stop, loudly."""


@dataclass(frozen=True)
class MqttIngestConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool
    ca_file: str | None
    client_id: str
    topic_prefix: str
    shared_group: str
    batch_size: int
    batch_seconds: float
    session_expiry: int

    @classmethod
    def from_settings(cls) -> MqttIngestConfig:
        broker = settings.MQTT_BROKER
        return cls(
            host=broker["host"],
            port=broker["port"],
            username=broker["username"],
            password=broker["password"],
            tls=broker["tls"],
            ca_file=settings.MQTT_CA_FILE,
            client_id=settings.MQTT_CLIENT_ID,
            topic_prefix=settings.MQTT_TOPIC_PREFIX,
            shared_group=settings.MQTT_SHARED_GROUP,
            batch_size=settings.MQTT_BATCH_SIZE,
            batch_seconds=settings.MQTT_BATCH_MS / 1000,
            session_expiry=settings.MQTT_SESSION_EXPIRY,
        )

    @property
    def readings_topic(self) -> str:
        return f"{self.topic_prefix}/readings/"

    @property
    def subscription(self) -> str:
        topic = f"{self.readings_topic}+"
        return f"$share/{self.shared_group}/{topic}" if self.shared_group else topic

    def error_topic(self, code: str) -> str:
        return f"{self.topic_prefix}/errors/{code}"


@dataclass(frozen=True)
class Delivery:
    """One message as the broker delivered it, on connection number ``connection``."""

    mid: int
    qos: int
    topic: str
    payload: bytes
    connection: int


@dataclass
class Decoded:
    """A delivery after validation: its rows to store, or the error that keeps it out."""

    delivery: Delivery
    code: str
    data: Any = None
    rows: list[ReadingRow] = field(default_factory=list)
    error: errors.DomainError | None = None


@dataclass
class BatchResult:
    stored: list[Decoded]
    rejected: list[Decoded]
    created: int


@dataclass
class IngestSummary:
    messages: int = 0
    readings: int = 0
    created: int = 0
    rejected: int = 0
    db_retries: int = 0

    @property
    def duplicates(self) -> int:
        return self.readings - self.created


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for every message: json.loads with any option builds a new one per call.
_JSON = json.JSONDecoder(parse_constant=_refuse_constant)


def message_parse(delivery: Delivery, *, readings_topic: str) -> Decoded:
    """The sensor code from the topic and the JSON document from the payload (no database)."""
    code = delivery.topic.removeprefix(readings_topic)
    decoded = Decoded(delivery=delivery, code=code)
    if len(delivery.payload) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        decoded.error = errors.TooLarge(
            f"A message may carry at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes; "
            f"this one has {len(delivery.payload)}."
        )
        return decoded
    try:
        decoded.data = _JSON.decode(delivery.payload.decode())
    except (UnicodeDecodeError, ValueError) as exc:
        decoded.error = errors.InvalidInput(f"JSON parse error - {exc}", code="parse_error")
    return decoded


def message_validate(decoded: Decoded, *, sensor_id: int | None) -> None:
    """Fill ``decoded.rows``, or ``decoded.error`` with every problem of the message.

    The rules are the API's (``sensors.parsing``), with the sensor named by the topic.
    """
    if decoded.error is not None:
        return
    if sensor_id is None:
        decoded.error = errors.NotFound(f"No sensor with code {decoded.code[:60]!r}.")
        return
    try:
        decoded.rows = readings_from_json(
            decoded.data, known={decoded.code: sensor_id}, sensor=decoded.code
        )
    except errors.DomainError as exc:
        decoded.error = exc


def batch_store(deliveries: list[Delivery], *, config: MqttIngestConfig) -> BatchResult:
    """Validate each message, store the readings of the valid ones in one transaction.

    Database errors propagate (nothing is stored, the caller acknowledges nothing).
    """
    parsed = [message_parse(d, readings_topic=config.readings_topic) for d in deliveries]
    codes = {m.code for m in parsed if m.error is None and 0 < len(m.code) <= 50}
    known = dict(Sensor.objects.filter(code__in=codes).values_list("code", "id")) if codes else {}
    for message in parsed:
        message_validate(message, sensor_id=known.get(message.code))
    stored = [m for m in parsed if m.error is None]
    rows = [row for m in stored for row in m.rows]
    created = readings_store(rows=rows) if rows else 0
    return BatchResult(
        stored=stored, rejected=[m for m in parsed if m.error is not None], created=created
    )


def error_report(message: Decoded) -> bytes:
    """The payload published to the error topic: the API's error shape, plus where it came from."""
    assert message.error is not None
    excerpt = message.delivery.payload[: PAYLOAD_EXCERPT_CHARS * 4].decode(errors="replace")
    report = {
        "error": {
            "code": message.error.code,
            "message": message.error.message,
            "details": message.error.details,
        },
        "topic": message.delivery.topic,
        "received_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "payload": excerpt[:PAYLOAD_EXCERPT_CHARS],
    }
    return json.dumps(report, default=str).encode()


_PUBACK = struct.Struct("!BBH")


class _IngestClient(mqtt.Client):
    """paho's client with the per-message costs of a high-rate subscriber taken out.

    Measured on paho 2.1 at tens of thousands of one-reading messages a second, most of the
    worker's CPU went to paho itself, per message:

    - reading each packet with three ``recv`` calls (command byte, length bytes, body) and one
      ``select`` per packet: here one large ``recv`` serves many packets;
    - building an MQTT v5 ``Properties`` object for every PUBLISH, even one without properties
      (about 40% of the total): a QoS 1 PUBLISH with a topic and no properties, the only kind
      devices send, is decoded here in a few slices and handed to ``on_delivery``; any other
      packet goes through paho's own code and ``on_message``;
    - one PUBACK packet, and one wake-up of the network thread, per acknowledgement:
      ``ack_all`` queues a whole batch's PUBACKs as one write.

    These override private methods (``_sock_recv``, ``_handle_publish``, ``_packet_queue``), so
    paho is pinned in requirements.txt; the worker tests run through all of them.
    """

    on_delivery: Callable[[int, int, str, bytes], None]
    on_certificate_refused: Callable[[ssl.SSLCertVerificationError], None]

    _rbuf: bytes = b""
    _rpos: int = 0
    _rsock: object = None

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rsock is not self._sock:  # a new connection: nothing buffered belongs to it
            self._rsock, self._rbuf, self._rpos = self._sock, b"", 0
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(262_144)
            if not data:
                return data
            self._rbuf, self._rpos = data, 0
        end = self._rpos + bufsize
        chunk = self._rbuf[self._rpos : end]
        self._rpos = end
        return chunk

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        while True:
            rc = super().loop_read(max_packets)
            if rc or self._sock is None or self._rsock is not self._sock:
                return rc
            if self._rpos >= len(self._rbuf):
                return rc

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        packet = self._in_packet["packet"]
        if (self._in_packet["command"] & 0x06) >> 1 == 1 and self._manual_ack:
            # topic length (2 bytes), topic, packet id (2 bytes), properties length (varint)
            at = 2 + int.from_bytes(packet[:2], "big")
            if at > 2 and len(packet) > at + 2 and packet[at + 2] == 0:
                self.on_delivery(
                    int.from_bytes(packet[at : at + 2], "big"),
                    1,
                    packet[2:at].decode("utf-8", "replace"),
                    packet[at + 3 :],
                )
                return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
        return super()._handle_publish()

    def reconnect(self) -> mqtt.MQTTErrorCode:
        # paho takes every connection failure for a passing one and retries it for ever; a
        # broker certificate that fails verification needs a person, so it is reported.
        try:
            return super().reconnect()
        except ssl.SSLCertVerificationError as exc:
            self.on_certificate_refused(exc)
            raise

    def ack_all(self, mids: list[int]) -> None:
        """Acknowledge QoS 1 messages (``manual_ack``), all in one write."""
        if mids:
            packets = b"".join(_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids)
            self._packet_queue(mqtt.PUBACK, packets, 0, 0)


class MqttIngestWorker:
    """Runs until ``stop`` is set; see the module docstring for what it guarantees."""

    def __init__(
        self, *, config: MqttIngestConfig, on_batch: Callable[[BatchResult], None] | None = None
    ) -> None:
        self.config = config
        self.summary = IngestSummary()
        self._on_batch = on_batch
        self._inbox: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
        self._published: queue.SimpleQueue[int] = queue.SimpleQueue()
        # Error reports awaiting the broker's PUBACK: report mid -> the message it reports.
        self._reports: dict[int, Delivery] = {}
        # Guards the connection state shared by the network thread and the batch loop.
        self._lock = threading.Lock()
        self._connection = 0
        self._connected = False
        self._fatal: str | None = None
        self.client = self._make_client()

    # --- the paho client and its callbacks (run on paho's network thread) ---------------------

    def _make_client(self) -> _IngestClient:
        client = _IngestClient(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.config.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        client.enable_logger(logging.getLogger("targets.sensors.mqtt.paho"))
        if self.config.username is not None:
            client.username_pw_set(self.config.username, self.config.password)
        if self.config.tls:
            client.tls_set(ca_certs=self.config.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.on_delivery = self._on_delivery
        client.on_certificate_refused = self._on_certificate_refused
        client.on_publish = self._on_publish
        return client

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.config.session_expiry
        # The broker may send this many unacknowledged messages: two batches' worth, so the next
        # batch arrives while one is being stored, and no more while the database is down.
        properties.ReceiveMaximum = min(65_535, 2 * self.config.batch_size)
        return properties

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.error("mqtt: the broker refused the connection: %s", reason_code)
            if reason_code.value in (0x84, 0x85, 0x86, 0x87, 0x8C):  # protocol, id or auth
                self._fatal = f"The MQTT broker refused the connection: {reason_code}."
            return
        with self._lock:
            self._connected = True
        logger.info(
            "mqtt: connected to %s:%s as %s (session %s)",
            self.config.host,
            self.config.port,
            self.config.client_id,
            "resumed" if flags.session_present else "new",
        )
        client.subscribe(self.config.subscription, options=SubscribeOptions(qos=1))

    def _on_certificate_refused(self, exc: ssl.SSLCertVerificationError) -> None:
        # Not logged here: the command stops with this one line.
        trusted = self.config.ca_file or "the system's trust store (set MQTT_CA_FILE)"
        self._fatal = (
            f"The MQTT broker's TLS certificate failed verification against {trusted}: "
            f"{str(exc.verify_message or exc).rstrip('.')}."
        )

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._lock:
            self._connected = False
            self._connection += 1
        if reason_code.is_failure:
            logger.warning(
                "mqtt: connection lost (%s); reconnecting, unacknowledged messages will be "
                "delivered again",
                reason_code,
            )

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        for code in reason_codes:
            if code.is_failure:
                self._fatal = (
                    f"The MQTT broker refused the subscription to {self.config.subscription!r}: "
                    f"{code}."
                )
                logger.error("mqtt: %s", self._fatal)
                return
        logger.info("mqtt: subscribed to %s", self.config.subscription)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        # What _IngestClient does not decode itself (a QoS 0 message, one with properties).
        try:
            topic = message.topic
        except UnicodeDecodeError:  # brokers refuse such topics; never let the thread die
            topic = "?"
        self._on_delivery(message.mid, message.qos, topic, message.payload)

    def _on_delivery(self, mid: int, qos: int, topic: str, payload: bytes) -> None:
        self._inbox.put(Delivery(mid, qos, topic, payload, self._connection))

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        # Called with paho's outgoing-message lock held: only hand the id over.
        self._published.put(mid)

    # --- the batch loop (the caller's thread) --------------------------------------------------

    def run(self, *, stop: threading.Event) -> IngestSummary:
        self.client.connect_async(
            self.config.host,
            self.config.port,
            keepalive=KEEPALIVE_S,
            clean_start=False,
            properties=self._connect_properties(),
        )
        self.client.loop_start()
        try:
            while not stop.is_set():
                if self._fatal:
                    raise MqttSetupError(self._fatal)
                batch = self._collect(stop)
                if batch:
                    self._handle(batch, stop)
                self._ack_reports()
            self._flush_reports()
        finally:
            self.client.disconnect()
            self.client.loop_stop()
        return self.summary

    def _collect(self, stop: threading.Event) -> list[Delivery]:
        try:
            first = self._inbox.get(timeout=0.25)
        except queue.Empty:
            return []
        batch, size = [first], len(first.payload)
        deadline = time.monotonic() + self.config.batch_seconds
        get = self._inbox.get
        while len(batch) < self.config.batch_size and size < BATCH_MAX_BYTES:
            try:
                delivery = get(block=False)
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or stop.is_set():
                    break
                try:
                    delivery = get(timeout=min(remaining, 0.05))
                except queue.Empty:
                    continue
            batch.append(delivery)
            size += len(delivery.payload)
        return batch

    def _handle(self, batch: list[Delivery], stop: threading.Event) -> None:
        delay = DB_RETRY_FIRST_S
        while True:
            try:
                result = batch_store(batch, config=self.config)
                break
            except errors.Conflict:
                # A sensor was deleted while its readings were being stored: try again, its
                # messages now fail as unknown sensors.
                continue
            # psycopg's own errors too: the COPY runs on psycopg's cursor, outside Django's
            # error wrapping, so a connection lost mid-COPY is not a Django DatabaseError.
            except (DatabaseError, psycopg.Error) as exc:
                self.summary.db_retries += 1
                logger.warning(
                    "mqtt: database unavailable (%s); %d messages held unacknowledged, "
                    "retrying in %.1f s",
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                    len(batch),
                    delay,
                )
                with contextlib.suppress(DatabaseError):
                    connection.close()
                if stop.wait(delay):
                    return  # stopping: unacknowledged, so the broker delivers them again
                delay = min(delay * 2, DB_RETRY_MAX_S)
        self._ack([m.delivery for m in result.stored])
        for message in result.rejected:
            self._reject(message)
        self.summary.messages += len(batch)
        self.summary.readings += sum(len(m.rows) for m in result.stored)
        self.summary.created += result.created
        self.summary.rejected += len(result.rejected)
        if self._on_batch is not None:
            self._on_batch(result)

    def _ack(self, deliveries: list[Delivery]) -> None:
        with self._lock:
            if self._connected:
                current = self._connection
                self.client.ack_all(
                    [d.mid for d in deliveries if d.qos == 1 and d.connection == current]
                )

    def _reject(self, message: Decoded) -> None:
        assert message.error is not None
        logger.warning(
            "mqtt: rejected a message on %r: %s: %s %s",
            message.delivery.topic,
            message.error.code,
            message.error.message,
            json.dumps(message.error.details, default=str)[:1000],
        )
        info = self.client.publish(
            self.config.error_topic(message.code), error_report(message), qos=1
        )
        self._reports[info.mid] = message.delivery

    def _ack_reports(self) -> None:
        while True:
            try:
                mid = self._published.get(block=False)
            except queue.Empty:
                return
            delivery = self._reports.pop(mid, None)
            if delivery is not None:
                self._ack([delivery])

    def _flush_reports(self) -> None:
        deadline = time.monotonic() + STOP_FLUSH_S
        while self._reports and time.monotonic() < deadline:
            time.sleep(0.02)
            self._ack_reports()
