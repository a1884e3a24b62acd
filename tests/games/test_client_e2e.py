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
        "--mode",
        "bullseye",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Score sent" in done.stdout and ", verified)" in done.stdout
    score = Score.objects.get(player__username="robot")
    assert score.verified and score.mode == "bullseye"
    # Played under the round the server issued when it started, with that round's seed.
    assert score.game_round is not None
    assert score.game_round.player == score.player
    assert score.replay["seed"] == score.game_round.seed
    board = requests.get(f"{live_server.url}/api/v1/leaderboards/bullseye/", timeout=10).json()
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


def test_a_wrong_password_says_why_and_asks_again(live_server, tmp_path, make_user):
    make_user("carol")  # its password is PASSWORD
    done = run_client(
        tmp_path,
        "--server",
        live_server.url,
        "--user",
        "carol",
        password=f"not my password\n{PASSWORD}",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Sign-in refused: Unable to log in with provided credentials. Try again." in done.stdout
    assert "Score sent" in done.stdout
    assert Score.objects.filter(player__username="carol").count() == 1


def test_a_wrong_password_and_no_other_plays_nothing_and_exits_non_zero(
    live_server, tmp_path, make_user
):
    make_user("carol")  # its password is PASSWORD
    done = run_client(
        tmp_path, "--server", live_server.url, "--user", "carol", password="not my password"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "No password given after: Sign-in refused" in done.stdout
    assert queue_files(tmp_path) == []
    assert not Score.objects.exists()


def test_registering_with_a_taken_name_or_short_password_shows_the_servers_reasons(
    live_server, tmp_path, make_user
):
    make_user("taken")  # its password is PASSWORD
    done = run_client(
        tmp_path,
        "--server",
        live_server.url,
        "--user",
        "taken",
        "--register",
        password=f"short\n{PASSWORD}",
    )
    # "short" is refused as a registration (the name is taken) and as a sign-in; the second
    # line is the account's password, so --register just signs in.
    assert "username: This username is taken." in done.stdout, done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    assert Score.objects.filter(player__username="taken").count() == 1

    fresh = run_client(
        tmp_path / "b",
        "--server",
        live_server.url,
        "--user",
        "newcomer",
        "--register",
        password=f"short\n{PASSWORD}",
    )
    assert "password: This password is too short." in fresh.stdout, fresh.stdout
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert Score.objects.filter(player__username="newcomer").count() == 1


def test_a_server_address_without_a_scheme_works(live_server, tmp_path, make_user):
    make_user("plain")
    address = live_server.url.removeprefix("http://")  # e.g. localhost:8000
    done = run_client(tmp_path, "--server", address, "--user", "plain")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Score sent" in done.stdout
    tokens = json.loads((tmp_path / "targets-client" / "tokens.json").read_text())
    assert set(tokens) == {live_server.url}


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
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=env,
    )
    client.stdin.write(PASSWORD + "\n")
    client.stdin.flush()
    client.stdin.close()
    # The sign-in at start meets a closed port: the client says so, then plays offline.
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = client.stdout.readline()
        seen.append(line)
        if not line or "unreachable" in line:
            break
    assert "Server unreachable" in seen[-1], seen
    live = live_server.url.removeprefix("http://").split(":")
    proxy = Proxy(port, (live[0], int(live[1])))
    try:
        out = client.stdout.read()  # to the end: the client has exited
        client.wait(timeout=60)
    finally:
        proxy.close()
    assert client.returncode == 0, "".join(seen) + out
    assert "Score sent" in out
    assert Score.objects.filter(player__username="patient").count() == 1
    assert queue_files(tmp_path) == []


class WrongAnswers:
    """A "server" on a fixed port that answers 2xx, but never with a stored score.

    ``mode`` "html": every request gets a captive portal's 200 HTML page;
    ``mode`` "unexpected": sign-in works, but rounds and scores get ``{"unexpected": true}``.
    """

    def __init__(self, port: int, mode: str) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if mode == "html":
                    self._send(200, b"<html>Please log in to the hotel Wi-Fi</html>", "text/html")
                elif self.path.endswith("/auth/token/"):
                    self._send(200, b'{"token": "portal"}', "application/json")
                else:
                    self._send(201, b'{"unexpected": true}', "application/json")

            do_GET = do_POST

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("mode", ["html", "unexpected"])
def test_a_2xx_that_is_not_the_stored_score_never_loses_the_round(
    live_server, tmp_path, make_user, mode
):
    make_user("traveller")
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    portal = WrongAnswers(port, mode)
    try:
        away = run_client(tmp_path, "--server", server, "--user", "traveller")
    finally:
        portal.close()
    assert away.returncode == 0, away.stdout + away.stderr
    if mode == "html":
        assert "did not answer like a Targets server (HTTP 200, text/html)" in away.stdout
    else:
        assert "answered, but not with the stored score for this round" in away.stdout
    assert "queued" in away.stdout
    [kept] = queue_files(tmp_path)
    kept_id = json.loads(kept.read_text())["payload"]["submission_id"]

    # Back home: the same address now reaches the real server; the round arrives, once.
    live = live_server.url.removeprefix("http://").split(":")
    proxy = Proxy(port, (live[0], int(live[1])))
    try:
        if mode == "unexpected":
            # The portal's token is refused by the real server: forgotten, asked again.
            tokens = tmp_path / "targets-client" / "tokens.json"
            tokens.write_text(json.dumps({server: {"traveller": "portal"}}))
            run_client(tmp_path, "--server", server, "--user", "traveller")
        home = run_client(tmp_path, "--server", server, "--user", "traveller")
    finally:
        proxy.close()
    assert home.returncode == 0, home.stdout + home.stderr
    assert queue_files(tmp_path) == []
    assert Score.objects.filter(submission_id=kept_id).count() == 1


def test_a_malformed_queue_file_is_set_aside_and_the_rest_still_goes_out(
    live_server, tmp_path, make_user
):
    make_user("hoarder")
    port = free_port()
    server = f"http://127.0.0.1:{port}"
    down = run_client(tmp_path, "--server", server, "--user", "hoarder")  # nobody listens
    assert down.returncode == 0, down.stdout + down.stderr
    [queued] = queue_files(tmp_path)
    queued_id = json.loads(queued.read_text())["payload"]["submission_id"]
    queue = tmp_path / "targets-client" / "queue"
    # Valid JSON of the wrong shape, sorted before the real one, and a broken file.
    (queue / "0-wrong-shape.json").write_text("[1, 2]")
    (queue / "1-broken.json").write_text("{not json")
    os.utime(queue / "0-wrong-shape.json", (0, 0))

    live = live_server.url.removeprefix("http://").split(":")
    proxy = Proxy(port, (live[0], int(live[1])))
    try:
        up = run_client(tmp_path, "--server", server, "--user", "hoarder")
    finally:
        proxy.close()
    assert up.returncode == 0, up.stdout + up.stderr
    assert "0-wrong-shape.json is damaged; moved to" in up.stdout
    assert "1-broken.json is damaged; moved to" in up.stdout
    assert "Also sent 1 score(s) queued earlier" in up.stdout
    assert Score.objects.filter(submission_id=queued_id).count() == 1
    assert queue_files(tmp_path) == []
    damaged = tmp_path / "targets-client" / "damaged"
    assert (damaged / "0-wrong-shape.json").read_text() == "[1, 2]"


@pytest.mark.parametrize("content", ['["not", "tokens"]', '{"http://x": "y"}', "{broken"])
def test_a_malformed_token_file_means_signing_in_again(live_server, tmp_path, make_user, content):
    make_user("forgetful")
    tokens = tmp_path / "targets-client" / "tokens.json"
    tokens.parent.mkdir(parents=True)
    tokens.write_text(content)
    done = run_client(tmp_path, "--server", live_server.url, "--user", "forgetful")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Sign in again." in done.stdout
    assert "Traceback" not in done.stderr
    assert "Score sent" in done.stdout
    assert json.loads(tokens.read_text())[live_server.url]["forgetful"]


def test_a_refused_password_is_explained_and_asked_again_in_the_window(
    live_server, tmp_path, make_user, monkeypatch
):
    """The window's prompt (SDL dummy video, keys posted as events) against the live server."""
    make_user("windowed")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    import pygame

    from games.client import app
    from games.client.session import Session
    from games.client.storage import OfflineQueue, TokenStore

    pygame.display.init()
    pygame.font.init()
    try:
        session = Session(
            server=live_server.url,
            username="windowed",
            tokens=TokenStore(tmp_path),
            offline=OfflineQueue(tmp_path),
        )
        client = app.Client(app.parse_args(["--user", "windowed"]), pygame, session)
        monkeypatch.setattr(app.Client, "reads_in_window", property(lambda self: True))
        prompts: list[tuple[str, str | None]] = []
        monkeypatch.setattr(
            app, "draw_password", lambda screen, user, typed, error: prompts.append((typed, error))
        )

        def type_and_enter(text: str) -> None:
            client.on_password([pygame.event.Event(pygame.TEXTINPUT, text=text)], 0.0)
            assert prompts[-1][0] == text  # masked on screen, but typed
            client.on_password([pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN)], 0.0)
            assert client.phase is app.Phase.SIGN_IN
            deadline = time.monotonic() + 30
            while client.phase is app.Phase.SIGN_IN and time.monotonic() < deadline:
                session.update()
                client.on_sign_in([], 0.0)
                time.sleep(0.02)

        client.enter(app.Phase.PASSWORD)
        type_and_enter("not my password")
        assert client.phase is app.Phase.PASSWORD  # asked again...
        client.on_password([], 0.0)
        # ... with the server's reason under the prompt.
        assert prompts[-1] == (
            "",
            "Sign-in refused: Unable to log in with provided credentials.",
        )
        type_and_enter(PASSWORD)
        assert client.phase is app.Phase.START
        assert session.token and TokenStore(tmp_path).get(live_server.url, "windowed")
        session.close()
    finally:
        pygame.quit()
