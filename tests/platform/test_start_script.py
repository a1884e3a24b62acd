"""scripts/start checks its port before it installs, migrates or seeds anything."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_start(*args: str, env_port: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(ROOT)}
    if env_port is not None:
        env["PORT"] = env_port
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "start"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def taken_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_taken_port_stops_the_start_script_before_it_installs_anything(taken_port):
    result = run_start("--port", str(taken_port))
    assert result.returncode == 2
    assert f"127.0.0.1:{taken_port} is already in use" in result.stderr
    assert f"--port {taken_port + 1}" in result.stderr
    assert "Installing" not in result.stdout  # nothing was started


def test_the_port_can_come_from_the_environment(taken_port):
    result = run_start(env_port=str(taken_port))
    assert result.returncode == 2
    assert f"127.0.0.1:{taken_port} is already in use" in result.stderr


@pytest.mark.parametrize("bad", ["abc", "0", "70000", "80 80", ""])
def test_a_port_that_is_not_a_number_is_refused_with_a_message(bad):
    result = run_start("--port", bad)
    assert result.returncode == 2
    assert "the port must be a number from 1 to 65535" in result.stderr


def test_an_unknown_option_is_named():
    result = run_start("--prot", "8001")
    assert result.returncode == 2
    assert "unknown option '--prot'" in result.stderr
