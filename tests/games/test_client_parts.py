"""Client pieces that need neither a display nor a server: storage, network thread, options."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from games import rules
from games.client.app import Phase, parse_args, score_payload
from games.client.session import Session, SyncState
from games.client.storage import OfflineQueue, TokenStore, atomic_write_json, config_dir

ROOT = Path(__file__).resolve().parents[2]


def test_the_client_imports_no_django():
    code = (
        "import sys, games.client.app, games.client.session, games.client.network; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'rest_framework'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


def test_requirements_client_pins_only_pygame_and_requests():
    lines = [
        line.split("==")[0]
        for line in (ROOT / "requirements-client.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert sorted(lines) == ["pygame", "requests"]


def test_the_config_directory_follows_xdg_config_home():
    assert config_dir({"XDG_CONFIG_HOME": "/x"}) == Path("/x/targets-client")
    assert config_dir({}) == Path.home() / ".config" / "targets-client"


def test_atomic_writes_leave_no_temporary_files_and_owner_only_permissions(tmp_path):
    path = tmp_path / "d" / "file.json"
    atomic_write_json(path, {"a": 1})
    atomic_write_json(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert [p.name for p in path.parent.iterdir()] == ["file.json"]
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "file.json"
    atomic_write_json(path, {"a": 1})
    with pytest.raises(TypeError):
        atomic_write_json(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["file.json"]


def test_tokens_are_kept_per_server_and_user_and_can_be_forgotten(tmp_path):
    store = TokenStore(tmp_path)
    store.set("http://a", "bob", "t1")
    store.set("http://b", "bob", "t2")
    assert store.get("http://a", "bob") == "t1"
    assert store.get("http://a", "alice") is None
    store.forget("http://a", "bob")
    assert store.get("http://a", "bob") is None
    assert store.get("http://b", "bob") == "t2"


@pytest.mark.parametrize("content", ["{broken", "[1, 2]", '{"http://a": "bob"}', '{"a": {"b": 1}}'])
def test_a_damaged_or_misshapen_token_file_is_set_aside_not_fatal(tmp_path, content):
    (tmp_path / "tokens.json").write_text(content)
    store = TokenStore(tmp_path)
    assert store.get("http://a", "bob") is None
    assert (tmp_path / "tokens.json.damaged").read_text() == content
    assert store.notes and "Sign in again." in store.notes[0]
    store.set("http://a", "bob", "t1")
    assert store.get("http://a", "bob") == "t1"


def test_queue_files_of_the_wrong_shape_are_moved_aside_and_the_rest_read(tmp_path):
    queue = OfflineQueue(tmp_path)
    queue.put(server="http://a", username="bob", payload={"submission_id": "good"})
    for name, content in [
        ("list", "[1, 2]"),
        ("nopayload", '{"server": "http://a", "username": "bob"}'),
        ("otherid", '{"server": "http://a", "username": "bob", "payload": {"submission_id": "x"}}'),
        ("broken", "{"),
    ]:
        (queue.directory / f"{name}.json").write_text(content)
    entries = queue.pending(server="http://a", username="bob")
    assert [entry["payload"]["submission_id"] for entry in entries] == ["good"]
    assert sorted(path.name for path in queue.damaged.iterdir()) == [
        "broken.json",
        "list.json",
        "nopayload.json",
        "otherid.json",
    ]
    assert len(queue.notes) == 4 and queue.count() == 1


def test_the_queue_holds_one_file_per_submission_for_its_server_and_user(tmp_path):
    queue = OfflineQueue(tmp_path)
    queue.put(server="http://a", username="bob", payload={"submission_id": "1"})
    queue.put(server="http://a", username="bob", payload={"submission_id": "1"})
    queue.put(server="http://a", username="eve", payload={"submission_id": "2"})
    assert [
        e["payload"]["submission_id"] for e in queue.pending(server="http://a", username="bob")
    ] == ["1"]
    assert queue.count() == 2
    queue.reject("2", {"status": 400})
    assert queue.count() == 1
    assert json.loads((tmp_path / "rejected" / "2.json").read_text())["rejected"] == {"status": 400}
    queue.remove("1")
    assert queue.count() == 0


def test_a_score_payload_carries_the_replay_that_reproduces_it():
    game = rules.bot_round("moving", 3, 5)
    payload = score_payload(game, mode="moving", duration_s=5)
    replay = payload["replay"]
    shots = rules.replay_validate(replay, duration_s=5)
    again = rules.simulate("moving", replay["seed"], replay["tick_rate"], replay["ticks"], shots)
    assert (again.points, again.hits, again.misses) == (
        payload["points"],
        payload["hits"],
        payload["misses"],
    )
    # The server stores its own re-run of the replay's shots: the client sends none.
    assert "shots" not in payload


@pytest.mark.parametrize(
    "argv",
    [
        ["--mode", "sniper", "--user", "x"],
        ["--duration", "0", "--user", "x"],
        ["--duration", "3601", "--user", "x"],
        ["--seed", "-1", "--user", "x"],
        ["--headless", "--user", "x"],
        ["--server", "ftp://example.org", "--user", "x"],
        ["--server", "localhost:eighty", "--user", "x"],
        ["--server", "http://", "--user", "x"],
        [],
    ],
)
def test_bad_options_stop_with_a_usage_error(argv):
    with pytest.raises(SystemExit) as stopped:
        parse_args(argv)
    assert stopped.value.code == 2


def test_a_server_that_never_answers_does_not_block_the_game_loop(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    port = listener.getsockname()[1]
    tokens = TokenStore(tmp_path)
    tokens.set(f"http://127.0.0.1:{port}", "bob", "token")
    session = Session(
        server=f"http://127.0.0.1:{port}",
        username="bob",
        tokens=tokens,
        offline=OfflineQueue(tmp_path),
    )
    session.offline.put(
        server=session.server, username="bob", payload={"submission_id": "old", "mode": "moving"}
    )
    session.flush()  # stuck on the silent server from here on
    session.submit({"submission_id": "s1", "mode": "moving"}, mode="moving")
    started = time.perf_counter()
    for _ in range(30):  # half a second of frames
        session.update()
    assert time.perf_counter() - started < 0.5
    assert session.busy
    # Leaving now: the score reaches the disk even though the worker is still waiting.
    session.ensure_saved(timeout=0.1)
    assert session.pending_here
    listener.close()


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("localhost:8000", "http://localhost:8000"),
        ("127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("https://targets.example.org", "https://targets.example.org"),
        (" http://[::1]:8000 ", "http://[::1]:8000"),
    ],
)
def test_a_server_without_a_scheme_means_http(given, url):
    assert parse_args(["--server", given, "--user", "x"]).server == url


def test_a_bad_server_option_says_what_is_wrong(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--server", "ftp://example.org", "--user", "x"])
    assert "over http:// or https://" in capsys.readouterr().err


def test_a_fractional_duration_is_a_round_of_that_many_ticks():
    args = parse_args(["--duration", "29.5", "--user", "x"])
    assert rules.ticks_for(args.duration) == 3540


def test_without_a_display_and_without_headless_the_client_says_so(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")
        and not key.startswith(("DJANGO", "DATABASE_URL"))
    }
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "games.client", "--user", "x", "--autoplay"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "No display to open the game window on" in done.stdout
    assert "--autoplay --headless" in done.stdout


def test_the_game_loop_has_one_handler_per_phase():
    from games.client.app import Client

    handlers = [name for name in vars(Client) if name.startswith("on_")]
    assert {f"on_{phase.value}" for phase in Phase if phase is not Phase.QUIT} == set(handlers)


def test_network_tasks_run_in_order_on_one_pooled_thread():
    from concurrent.futures import ThreadPoolExecutor

    from games.client.network import NetworkWorker

    worker = NetworkWorker()
    assert isinstance(worker._executor, ThreadPoolExecutor)
    order: list[int] = []
    threads: set[str] = set()

    def task(n: int):
        def run() -> int:
            threads.add(threading.current_thread().name)
            time.sleep(0.01 if n % 2 else 0)
            order.append(n)
            if n == 3:
                raise ValueError("three")
            return n

        return run

    for n in range(6):
        worker.run(f"t{n}", task(n))
    deadline = time.monotonic() + 10
    while worker.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    outcomes = worker.poll()
    assert order == list(range(6)) and len(threads) == 1
    assert [(o.name, o.value) for o in outcomes if o.error is None] == [
        (f"t{n}", n) for n in range(6) if n != 3
    ]
    [failed] = [o for o in outcomes if o.error is not None]
    assert failed.name == "t3" and str(failed.error) == "three"
    worker.stop()


class TextRecorder:
    def __init__(self):
        self.lines: list[str] = []

    def __call__(self, text, *args, **kwargs):
        self.lines.append(text)


def end_screen_lines(monkeypatch, **state) -> list[str]:
    """Every text the end screen draws for a session in ``state`` (SDL dummy video)."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    import pygame

    from games.client import screens

    pygame.display.init()
    pygame.font.init()
    try:
        screen = screens.Screen(pygame, pygame.Surface((rules.WIDTH, rules.HEIGHT)))
        recorder = TextRecorder()
        monkeypatch.setattr(screen, "text", recorder)
        session = SimpleNamespace(state=SyncState(**state), username="bob")
        screens.draw_end(screen, rules.bot_round("moving", 1, 2), session)
        return recorder.lines
    finally:
        pygame.quit()


def test_the_offline_end_screen_says_the_leaderboard_is_unavailable(monkeypatch):
    lines = end_screen_lines(monkeypatch, unreachable=True)
    assert "Leaderboard unavailable: the server did not answer." in lines
    assert "Leaderboard (verified)" not in lines
    assert "Server unreachable: score saved on disk, sent next time." in lines


def test_the_online_end_screen_shows_the_verified_leaderboard(monkeypatch):
    board = {"results": [{"rank": 1, "player": "ann", "points": 300}]}
    lines = end_screen_lines(
        monkeypatch, board_loaded=True, board=board, me={"rank": 1, "points": 300}
    )
    assert "Leaderboard (verified)" in lines and "ann" in lines
