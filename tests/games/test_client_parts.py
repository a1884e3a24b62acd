"""Client pieces that need neither a display nor a server: storage, network thread, options."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from games import rules
from games.client.app import parse_args, score_payload
from games.client.session import Session
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


def test_a_damaged_token_file_is_set_aside_not_fatal(tmp_path):
    (tmp_path / "tokens.json").write_text("{broken")
    assert TokenStore(tmp_path).get("http://a", "bob") is None
    assert (tmp_path / "tokens.json.damaged").exists()


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
    assert len(payload["shots"]) == payload["hits"] + payload["misses"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--mode", "sniper", "--user", "x"],
        ["--duration", "0", "--user", "x"],
        ["--duration", "3601", "--user", "x"],
        ["--seed", "-1", "--user", "x"],
        ["--headless", "--user", "x"],
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
