"""What the client keeps on disk: API tokens (never passwords) and the offline score queue.

Everything lives under ``$XDG_CONFIG_HOME/targets-client/`` (else ``~/.config/targets-client/``).
Every file is written atomically (temporary file in the same directory, fsync, rename), so a crash
or a full disk leaves the previous version, never half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "targets-client"


def atomic_write_json(path: Path, data: Any, *, mode: int = 0o600) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError):
        # A damaged file is set aside rather than crashing the game or being overwritten.
        path.replace(path.with_suffix(path.suffix + ".damaged"))
        return default


class TokenStore:
    """``tokens.json``: ``{server_url: {username: token}}``, readable by the owner only."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "tokens.json"

    def get(self, server: str, username: str) -> str | None:
        return _read_json(self.path, {}).get(server, {}).get(username)

    def set(self, server: str, username: str, token: str) -> None:
        tokens = _read_json(self.path, {})
        tokens.setdefault(server, {})[username] = token
        atomic_write_json(self.path, tokens)

    def forget(self, server: str, username: str) -> None:
        tokens = _read_json(self.path, {})
        if tokens.get(server, {}).pop(username, None) is not None:
            atomic_write_json(self.path, tokens)


class OfflineQueue:
    """One file per unsent score, named by its submission_id.

    A score is written here before the first attempt to send it and removed only once the server
    has answered 200/201, so a crash, a timeout or a lost answer never loses or doubles a score:
    re-sending the same submission_id is idempotent on the server.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "queue"
        self.rejected = directory / "rejected"

    def put(self, *, server: str, username: str, payload: dict[str, Any]) -> Path:
        path = self.directory / f"{payload['submission_id']}.json"
        atomic_write_json(path, {"server": server, "username": username, "payload": payload})
        return path

    def pending(self, *, server: str, username: str) -> list[dict[str, Any]]:
        if not self.directory.is_dir():
            return []
        entries = []
        for path in sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime):
            entry = _read_json(path, None)
            if entry and entry.get("server") == server and entry.get("username") == username:
                entries.append(entry)
        return entries

    def count(self) -> int:
        return len(list(self.directory.glob("*.json"))) if self.directory.is_dir() else 0

    def remove(self, submission_id: str) -> None:
        (self.directory / f"{submission_id}.json").unlink(missing_ok=True)

    def reject(self, submission_id: str, reason: dict[str, Any]) -> None:
        """Keep a score the server refused (for a human to look at), out of the send queue."""
        source = self.directory / f"{submission_id}.json"
        entry = _read_json(source, None)
        if entry is not None:
            atomic_write_json(self.rejected / source.name, {**entry, "rejected": reason})
        source.unlink(missing_ok=True)
