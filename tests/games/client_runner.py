"""Run the real desktop client (``python -m games.client``) headless in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_client(config: Path, *args: str, password: str | None, timeout: float = 60):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO", "DATABASE_URL"))
    }
    env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", XDG_CONFIG_HOME=str(config))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "games.client",
            "--autoplay",
            "--headless",
            "--duration",
            "1",
            *args,
        ],
        input="" if password is None else password + "\n",
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        check=False,
    )
