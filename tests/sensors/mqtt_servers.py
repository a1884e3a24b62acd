"""The real pieces of the MQTT tests: ``manage.py ingest_mqtt`` as a process, a private
Mosquitto that tests may kill, and a plain paho client to publish and listen with."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.faults.servers import ROOT, free_port, production_env, wait_until


def broker_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class MqttClient:
    """A test's own publisher and listener (QoS 1, clean session, background network loop)."""

    def __init__(self, host: str, port: int, *, ca_file: Path | None = None) -> None:
        self.received: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"test-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_message = self._on_message
        if ca_file is not None:
            self.client.tls_set(ca_certs=str(ca_file))
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        wait_until(self.client.is_connected, timeout=10, what="the test client to connect")

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.received.append((message.topic, json.loads(message.payload)))

    def listen(self, topic: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *args: done.set()
        self.client.subscribe(topic, qos=1)
        assert done.wait(10), f"no SUBACK for {topic}"

    def messages(self) -> list[tuple[str, dict]]:
        with self._lock:
            return list(self.received)

    def publish(
        self, topic: str, *payloads: object, qos: int = 1, properties: Properties | None = None
    ) -> None:
        infos = [
            self.client.publish(
                topic,
                p if isinstance(p, bytes) else json.dumps(p).encode(),
                qos=qos,
                properties=properties,
            )
            for p in payloads
        ]
        for info in infos:
            info.wait_for_publish(timeout=30)
            assert info.is_published(), f"the broker did not accept a publish on {topic}"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def forget_session(host: str, port: int, client_id: str) -> None:
    """End a persistent session on the broker (clean start, expiry 0), so tests leave none."""
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 0
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    with contextlib.suppress(OSError):
        client.connect(host, port, clean_start=True, properties=properties)
        client.loop_start()
        with contextlib.suppress(TimeoutError):
            wait_until(client.is_connected, timeout=5, what="the session to be cleared")
        client.disconnect()
        client.loop_stop()


class IngestWorker:
    """``manage.py ingest_mqtt`` in its own process, with its own topics and client id."""

    def __init__(self, *, database_url: str, mqtt_url: str, log: Path, **extra: str) -> None:
        suffix = uuid.uuid4().hex[:10]
        self.prefix = f"test-{suffix}/targets"
        self.client_id = f"test-ingest-{suffix}"
        self.env = production_env(
            DATABASE_URL=database_url,
            MQTT_URL=mqtt_url,
            MQTT_CLIENT_ID=self.client_id,
            MQTT_TOPIC_PREFIX=self.prefix,
            DJANGO_LOG_LEVEL="info",
            **extra,
        )
        self.log = log
        self.process: subprocess.Popen | None = None
        self.runs = 0

    def readings_topic(self, code: str) -> str:
        return f"{self.prefix}/readings/{code}"

    def run_to_exit(self, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run the worker in the foreground until it exits by itself (a refused start)."""
        return subprocess.run(
            [sys.executable, "manage.py", "ingest_mqtt"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self) -> IngestWorker:
        self.runs += 1
        self._log_file = self.log.open("a")
        self._log_file.write(f"=== run {self.runs}\n")
        self._log_file.flush()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "ingest_mqtt", "-v", "2"],
            cwd=ROOT,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        wait_until(
            lambda: self._this_run().count("mqtt: subscribed to") >= 1 or self._exited(),
            timeout=60,
            what="the worker to subscribe",
        )
        return self

    def _this_run(self) -> str:
        return self.log.read_text().split(f"=== run {self.runs}\n")[-1]

    def _exited(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"ingest_mqtt exited:\n{self._this_run()[-3000:]}")
        return False

    def output(self) -> str:
        return self._this_run()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log_file.close()

    def terminate(self, timeout: float = 30) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self._wait(timeout)

    def terminate_late(self, *, frozen_for: float = 1.0, timeout: float = 30) -> int:
        """SIGTERM the worker while it is frozen (SIGSTOP), thawing it ``frozen_for`` seconds
        later: a worker that runs again only long after the signal, as on an overloaded machine.
        """
        self.process.send_signal(signal.SIGSTOP)
        wait_until(self._is_frozen, timeout=10, interval=0.01, what="the worker to freeze")
        self.process.send_signal(signal.SIGTERM)
        time.sleep(frozen_for)
        self.process.send_signal(signal.SIGCONT)
        return self._wait(timeout)

    def _is_frozen(self) -> bool:
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] == "T"

    def _wait(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        self._log_file.close()
        return code

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
            self._log_file.close()


class PrivateMosquitto:
    """A throwaway ``mosquitto`` on a free port (no persistence) that a test may kill; a TLS
    listener (``mqtts://``) when given a certificate (PEM chain) and its key."""

    def __init__(
        self,
        directory: Path,
        *,
        anonymous: bool = True,
        certificate: Path | None = None,
        key: Path | None = None,
    ) -> None:
        self.port = free_port()
        self.scheme = "mqtts" if certificate else "mqtt"
        lines = [f"listener {self.port} 127.0.0.1"]
        if certificate:
            # Started as root, mosquitto reads its certificate after changing to its own user,
            # which cannot read the test's directory: it stays the test's user instead.
            user = pwd.getpwuid(os.getuid()).pw_name
            lines += [f"certfile {certificate}", f"keyfile {key}", f"user {user}"]
        lines += ["persistence false", f"allow_anonymous {'true' if anonymous else 'false'}"]
        self.config = directory / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> PrivateMosquitto:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.process = subprocess.Popen(
            [binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(
            lambda: broker_answers("127.0.0.1", self.port),
            timeout=10,
            what="mosquitto to listen",
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def wait_for(predicate, *, timeout: float = 60, what: str) -> None:
    wait_until(predicate, timeout=timeout, interval=0.1, what=what)


def settle(seconds: float = 1.0) -> None:
    """Give a worker time to do something it must not do (store twice, report twice)."""
    time.sleep(seconds)
