"""What the client keeps on disk: API tokens (never passwords) and the offline score queue.

Everything lives under ``$XDG_CONFIG_HOME/targets-client/`` (else ``~/.config/targets-client/``).
Every file is written atomically (temporary file in the same directory, fsync, rename), so a crash
or a full disk leaves the previous version, never half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeGuard


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
        set_aside(path)
        return default


def set_aside(path: Path) -> Path:
    """Move a file the client cannot use out of the way (``<name>.damaged``), keeping it."""
    target = path.with_name(path.name + ".damaged")
    with contextlib.suppress(FileNotFoundError):
        path.replace(target)
    return target


def _is_token_map(data: Any) -> TypeGuard[dict[str, dict[str, str]]]:
    return isinstance(data, dict) and all(
        isinstance(server, str)
        and isinstance(users, dict)
        and all(isinstance(u, str) and isinstance(t, str) for u, t in users.items())
        for server, users in data.items()
    )


def _is_queue_entry(data: Any, submission_id: str) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("server"), str)
        and isinstance(data.get("username"), str)
        and isinstance(data.get("payload"), dict)
        and data["payload"].get("submission_id") == submission_id
    )


class TokenStore:
    """``tokens.json``: ``{server_url: {username: token}}``, readable by the owner only.

    A file of another shape (hand-edited, truncated by another program) is set aside and read as
    empty: the player is asked to sign in again, and ``notes`` says why.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / "tokens.json"
        self.notes: list[str] = []

    def _load(self) -> dict[str, dict[str, str]]:
        existed = self.path.exists()
        data = _read_json(self.path, {})
        if existed and not self.path.exists():
            self.notes.append(f"{self.path} was unreadable; set aside. Sign in again.")
            return {}
        if not _is_token_map(data):
            moved = set_aside(self.path)
            self.notes.append(f"{self.path} was not a token file; moved to {moved}. Sign in again.")
            return {}
        return data

    def get(self, server: str, username: str) -> str | None:
        return self._load().get(server, {}).get(username)

    def set(self, server: str, username: str, token: str) -> None:
        tokens = self._load()
        tokens.setdefault(server, {})[username] = token
        atomic_write_json(self.path, tokens)

    def forget(self, server: str, username: str) -> None:
        tokens = self._load()
        if tokens.get(server, {}).pop(username, None) is not None:
            atomic_write_json(self.path, tokens)


class OfflineQueue:
    """One file per unsent score, named by its submission_id.

    A score is written here before the first attempt to send it and removed only once the server
    has answered with the stored score for that submission_id, so a crash, a timeout, a lost
    answer or a captive portal's "200 OK" page never loses or doubles a score: re-sending the
    same submission_id is idempotent on the server. A file that is not a queue entry (damaged,
    or valid JSON of another shape) is moved to ``damaged/`` with a note, and the rest of the
    queue still goes out.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "queue"
        self.rejected = directory / "rejected"
        self.damaged = directory / "damaged"
        self.notes: list[str] = []

    def put(self, *, server: str, username: str, payload: dict[str, Any]) -> Path:
        path = self.directory / f"{payload['submission_id']}.json"
        atomic_write_json(path, {"server": server, "username": username, "payload": payload})
        return path

    def _set_aside(self, path: Path) -> None:
        self.damaged.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self.damaged / path.name
        try:
            path.replace(target)
        except FileNotFoundError:
            return
        self.notes.append(f"Queued score file {path.name} is damaged; moved to {target}.")

    def pending(self, *, server: str, username: str) -> list[dict[str, Any]]:
        if not self.directory.is_dir():
            return []
        entries = []
        paths = []
        for path in self.directory.glob("*.json"):
            try:
                paths.append((path.stat().st_mtime, path.name, path))
            except FileNotFoundError:
                continue
        for _, _, path in sorted(paths):
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                continue
            except (OSError, ValueError):
                entry = None
            if not _is_queue_entry(entry, path.stem):
                self._set_aside(path)
                continue
            if entry["server"] == server and entry["username"] == username:
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
