"""Run the production nginx site (deploy/nginx/targets.conf) on loopback for tests.

The site file is used as written, with only what a test machine cannot have changed: the two
upstream ports, the listening address (plain HTTP on a free loopback port instead of 443 with a
certificate), the log paths, and the redirect and default servers (ports 80/443) left out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from tests.faults.servers import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "targets.conf"


def top_level_blocks(text: str) -> list[str]:
    """The top-level ``name ... { ... }`` blocks of an nginx file, comments dropped."""
    text = "\n".join(line.split("#", 1)[0].rstrip() for line in text.splitlines())
    blocks, depth, start = [], 0, None
    for index, char in enumerate(text):
        if char == "{":
            if depth == 0:
                start = text.rfind("\n", 0, index) + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                blocks.append(text[start : index + 1].strip())
    assert depth == 0, "unbalanced braces in the nginx site file"
    return blocks


def render_site(*, listen_port: int, upstream_ports: list[int], prefix: Path) -> str:
    blocks = top_level_blocks(SITE.read_text())
    (upstream,) = [block for block in blocks if block.startswith("upstream ")]
    servers = [block for block in blocks if block.startswith("server")]
    (site,) = [block for block in servers if "proxy_pass" in block]
    # The others only redirect to HTTPS or refuse unknown names on ports 80/443.
    assert all("proxy_pass" not in block for block in servers if block is not site)

    ports = iter(upstream_ports)
    upstream, replaced = re.subn(
        r"server 127\.0\.0\.1:\d+", lambda _m: f"server 127.0.0.1:{next(ports)}", upstream
    )
    assert replaced == len(upstream_ports), "the site file should name two upstream servers"

    kept = []
    for line in site.splitlines():
        stripped = line.strip()
        if stripped.startswith(("listen ", "ssl_")):
            continue  # TLS and the public ports; replaced by one plain loopback listener
        if stripped.startswith("access_log "):
            line = f"    access_log {prefix}/access.log targets_test;"
        elif stripped.startswith("error_log "):
            line = f"    error_log {prefix}/error.log warn;"
        kept.append(line)
    site = "\n".join(kept).replace("{", f"{{\n    listen 127.0.0.1:{listen_port};", 1)
    return f"{upstream}\n\n{site}\n"


class Nginx:
    """Debian's nginx in the foreground with a private prefix (pid, logs, temp files)."""

    def __init__(self, *, upstream_ports: list[int], prefix: Path) -> None:
        self.port = free_port()
        self.prefix = prefix
        self.upstream_ports = upstream_ports
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    def config(self) -> str:
        prefix = self.prefix
        # As root, nginx's workers would switch to an unprivileged user that cannot enter
        # pytest's private temp directories.
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = "\n".join(
            f"    {name}_temp_path {prefix}/{name};"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        site = render_site(listen_port=self.port, upstream_ports=self.upstream_ports, prefix=prefix)
        return (
            f"{user}daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
            f"error_log {prefix}/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"{temp}\n"
            "    log_format targets_test '$remote_addr \"$request\" $status';\n"
            f"{site}"
            "}\n"
        )

    def start(self) -> Nginx:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.prefix.mkdir(parents=True, exist_ok=True)
        conf = self.prefix / "nginx.conf"
        conf.write_text(self.config())
        checked = subprocess.run(
            [binary, "-t", "-p", str(self.prefix), "-c", str(conf), "-e", str(self.prefix / "e")],
            capture_output=True,
            text=True,
        )
        if checked.returncode != 0:
            raise RuntimeError(
                f"nginx -t refused the config:\n{checked.stderr}\n{conf.read_text()}"
            )
        self.process = subprocess.Popen(
            [binary, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.prefix / "e")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def listening() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.prefix / 'error.log').read_text()}")
            try:
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                return False

        try:
            wait_until(listening, timeout=15, what="nginx to listen")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        time.sleep(0)
