"""The real client (``python -m games.client``, SDL dummy video) against a live test server."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from games.models import Score
from tests.games import client_runner

pytestmark = [pytest.mark.display, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def run_client(config: Path, *args: str, password: str | None = PASSWORD, timeout: float = 60):
    return client_runner.run_client(config, *args, password=password, timeout=timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proxy:
    """A TCP forwarder on a fixed port: the "server" is down until it starts."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port, self.target = port, target
        self.listener = socket.create_server(("127.0.0.1", port))
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


def queue_files(config: Path) -> list[Path]:
    return sorted((config / "targets-client" / "queue").glob("*.json"))


def test_a_registered_bots_round_lands_on_the_verified_leaderboard(live_server, tmp_path):
    done = run_client(
        tmp_path,
        "--server",
        live_server.url,
        "--user",
        "robot",
        "--register",
        "--seed",
        "4",
        "--mode",
        "bullseye",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Score sent" in done.stdout and "verified" in done.stdout
    score = Score.objects.get(player__username="robot")
    assert score.verified and score.mode == "bullseye"
    board = requests.get(
        f"{live_server.url}/api/v1/leaderboards/bullseye/", params={"verified": "true"}, timeout=10
    ).json()
    assert [row["player"] for row in board["results"]] == ["robot"]
    # Only the token is kept on disk, never the password.
    tokens = (tmp_path / "targets-client" / "tokens.json").read_text()
    assert PASSWORD not in tokens
    assert json.loads(tokens)[live_server.url.rstrip("/")]["robot"]
    assert queue_files(tmp_path) == []


def test_a_round_played_while_the_server_is_down_is_queued_and_sent_exactly_once_later(
    live_server, tmp_path, make_user
):
    make_user("offline")
    port = free_port()
    server = f"http://127.0.0.1:{port}"

    down = run_client(tmp_path, "--server", server, "--user", "offline", "--seed", "11")
    assert down.returncode == 0, down.stdout + down.stderr
    assert "queued" in down.stdout
    [queued] = queue_files(tmp_path)
    queued_id = json.loads(queued.read_text())["payload"]["submission_id"]
    kept_copy = tmp_path / "copy.json"
    shutil.copy(queued, kept_copy)
    assert not Score.objects.exists()

    live = live_server.url.removeprefix("http://").split(":")
    proxy = Proxy(port, (live[0], int(live[1])))
    try:
        up = run_client(tmp_path, "--server", server, "--user", "offline", "--seed", "12")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "Also sent 1 score(s) queued earlier" in up.stdout
        assert queue_files(tmp_path) == []
        assert Score.objects.filter(submission_id=queued_id).count() == 1
        assert Score.objects.count() == 2

        # The answer to a send got lost: the same queued score goes again. Still one row.
        shutil.copy(kept_copy, queued)
        again = run_client(
            tmp_path, "--server", server, "--user", "offline", "--seed", "13", password=None
        )
        assert again.returncode == 0, again.stdout + again.stderr
        assert queue_files(tmp_path) == []
        assert Score.objects.filter(submission_id=queued_id).count() == 1
        assert Score.objects.count() == 3
    finally:
        proxy.close()


def test_a_wrong_password_keeps_the_score_queued_and_exits_non_zero(
    live_server, tmp_path, make_user
):
    make_user("carol")
    done = run_client(
        tmp_path, "--server", live_server.url, "--user", "carol", password="not my password"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Sign-in refused" in done.stdout
    assert len(queue_files(tmp_path)) == 1
    assert not Score.objects.exists()


def test_a_server_that_comes_back_during_the_round_gets_the_score(live_server, tmp_path, make_user):
    make_user("patient")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE_URL"))}
    env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", XDG_CONFIG_HOME=str(tmp_path))
    client = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "games.client",
            "--autoplay",
            "--headless",
            "--duration",
            "4",
            "--server",
            f"http://127.0.0.1:{port}",
            "--user",
            "patient",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    client.stdin.write(PASSWORD + "\n")
    client.stdin.flush()
    time.sleep(2.5)  # the sign-in at start meets a closed port
    live = live_server.url.removeprefix("http://").split(":")
    proxy = Proxy(port, (live[0], int(live[1])))
    try:
        out, err = client.communicate(timeout=60)
    finally:
        proxy.close()
    assert client.returncode == 0, out + err
    assert "Score sent" in out
    assert Score.objects.filter(player__username="patient").count() == 1
    assert queue_files(tmp_path) == []
