"""Talking to the Targets server from a background thread, so the game loop never waits."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from games.client import VERSION

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0


class ServerError(Exception):
    """The server answered with an error (the API's JSON error shape)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Unreachable(Exception):
    """No answer: connection refused, DNS failure or timeout."""


class Api:
    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self.base = f"{self.server}/api/v1/"
        self.session = requests.Session()
        self.session.headers["User-Agent"] = VERSION

    def _call(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        try:
            response = self.session.request(
                method,
                self.base + path,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                **kwargs,
            )
        except requests.RequestException as exc:
            raise Unreachable(str(exc)) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 500 and not isinstance(body, dict):
            raise Unreachable(f"server error {response.status_code}")
        if response.status_code >= 400:
            error = (body or {}).get("error", {}) if isinstance(body, dict) else {}
            if response.status_code in (429, 503) or response.status_code >= 500:
                raise Unreachable(error.get("message") or f"HTTP {response.status_code}")
            raise ServerError(
                response.status_code,
                error.get("code", "error"),
                error.get("message", response.reason or ""),
            )
        return response.status_code, body

    def token(self, username: str, password: str) -> str:
        _, body = self._call(
            "POST", "auth/token/", json={"username": username, "password": password}
        )
        return body["token"]

    def register(self, username: str, password: str) -> str:
        _, body = self._call("POST", "players/", json={"username": username, "password": password})
        return body["token"]

    def submit(self, token: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self._call("POST", "scores/", token=token, json=payload)

    def leaderboard(self, mode: str, *, limit: int = 10) -> dict[str, Any]:
        _, body = self._call(
            "GET", f"leaderboards/{mode}/", params={"limit": limit, "verified": "true"}
        )
        return body

    def me(self, token: str, mode: str) -> dict[str, Any] | None:
        try:
            _, body = self._call(
                "GET", f"leaderboards/{mode}/me/", token=token, params={"verified": "true"}
            )
        except ServerError as exc:
            if exc.code == "not_ranked":
                return None
            raise
        return body


@dataclass
class Outcome:
    name: str
    value: Any = None
    error: BaseException | None = None


class NetworkWorker:
    """Runs network tasks one after another on a daemon thread; results come back by ``poll``.

    Tasks run in the order they were given (sign in, then flush the queue, then the new score,
    then the leaderboard), and the game loop only ever does a non-blocking ``poll``.
    """

    def __init__(self) -> None:
        self._tasks: queue.Queue[tuple[str, Callable[[], Any]] | None] = queue.Queue()
        self._results: queue.Queue[Outcome] = queue.Queue()
        self._pending = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="targets-network", daemon=True)
        self._thread.start()

    def run(self, name: str, task: Callable[[], Any]) -> None:
        with self._lock:
            self._pending += 1
        self._tasks.put((name, task))

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._pending > 0

    def poll(self) -> list[Outcome]:
        outcomes = []
        while True:
            try:
                outcomes.append(self._results.get_nowait())
            except queue.Empty:
                return outcomes

    def _run(self) -> None:
        while True:
            item = self._tasks.get()
            if item is None:
                return
            name, task = item
            try:
                outcome = Outcome(name, value=task())
            except BaseException as exc:  # reported to the game loop, which decides
                outcome = Outcome(name, error=exc)
            self._results.put(outcome)
            with self._lock:
                self._pending -= 1

    def stop(self) -> None:
        self._tasks.put(None)
