"""Talking to the Targets server from a background thread, so the game loop never waits."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from games.client import VERSION

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0


class ServerError(Exception):
    """The server answered with an error (the API's JSON error shape)."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}

    def explain(self) -> str:
        """The server's own words: each field's messages (name taken, password too short...)."""
        parts = []
        for field, messages in self.details.items():
            texts = messages if isinstance(messages, list) else [messages]
            text = " ".join(str(m) for m in texts)
            parts.append(text if field in ("non_field_errors", "detail") else f"{field}: {text}")
        return " ".join(parts) or self.message


class Unreachable(Exception):
    """No answer: connection refused, DNS failure or timeout."""


class BadAnswer(Unreachable):
    """An answer that is not the Targets API's (a captive portal's page, a proxy's error)."""


class Api:
    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self.base = f"{self.server}/api/v1/"
        self.session = requests.Session()
        self.session.headers["User-Agent"] = VERSION

    def _call(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> tuple[int, dict[str, Any]]:
        """The JSON object the API answered; anything else raises, so nothing is taken for a
        success that is not one (a 200 HTML login page of a hotel's Wi-Fi included)."""
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
        status = response.status_code
        if not isinstance(body, dict):
            kind = response.headers.get("Content-Type", "no content type")
            raise BadAnswer(
                f"{self.server} did not answer like a Targets server (HTTP {status}, {kind})"
            )
        if status >= 400:
            error = body.get("error")
            error = error if isinstance(error, dict) else {}
            message = str(error.get("message") or response.reason or f"HTTP {status}")
            if status in (429, 503) or status >= 500:
                raise Unreachable(message)
            details = error.get("details")
            raise ServerError(
                status,
                str(error.get("code", "error")),
                message,
                details if isinstance(details, dict) else {},
            )
        if not 200 <= status < 300:
            raise BadAnswer(f"{self.server} answered HTTP {status}")
        return status, body

    @staticmethod
    def _field(body: dict[str, Any], name: str, server: str) -> Any:
        if name not in body:
            raise BadAnswer(f"{server} answered without {name!r}: not a Targets server?")
        return body[name]

    def token(self, username: str, password: str) -> str:
        _, body = self._call(
            "POST", "auth/token/", json={"username": username, "password": password}
        )
        return str(self._field(body, "token", self.server))

    def register(self, username: str, password: str) -> str:
        _, body = self._call("POST", "players/", json={"username": username, "password": password})
        return str(self._field(body, "token", self.server))

    def new_round(self, token: str, mode: str, duration_s: float) -> dict[str, Any]:
        """A server-issued round: ``{"round_id", "seed", "tick_rate", ...}``."""
        _, body = self._call(
            "POST", "rounds/", token=token, json={"mode": mode, "duration_s": duration_s}
        )
        seed = self._field(body, "seed", self.server)
        if not isinstance(seed, int) or isinstance(seed, bool) or "round_id" not in body:
            raise BadAnswer(f"{self.server} answered a round without a usable seed")
        return body

    def submit(self, token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The stored score; raises ``BadAnswer`` unless the answer *is* that submission's score."""
        _, body = self._call("POST", "scores/", token=token, json=payload)
        if body.get("submission_id") != payload["submission_id"] or "id" not in body:
            raise BadAnswer(f"{self.server} answered, but not with the stored score for this round")
        return body

    def leaderboard(self, mode: str, *, limit: int = 10) -> dict[str, Any]:
        _, body = self._call(
            "GET", f"leaderboards/{mode}/", params={"limit": limit, "verified": "true"}
        )
        rows = self._field(body, "results", self.server)
        if not isinstance(rows, list) or not all(_is_board_row(row) for row in rows):
            raise BadAnswer(f"{self.server} answered a leaderboard of another shape")
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
        if not isinstance(body.get("rank"), int) or not isinstance(body.get("points"), int):
            raise BadAnswer(f"{self.server} answered a rank of another shape")
        return body


def _is_board_row(row: Any) -> bool:
    return (
        isinstance(row, dict)
        and isinstance(row.get("rank"), int)
        and isinstance(row.get("player"), str)
        and isinstance(row.get("points"), int)
    )


@dataclass
class Outcome:
    name: str
    value: Any = None
    error: BaseException | None = None


class NetworkWorker:
    """Runs network tasks one after another on one pooled thread; results come back by ``poll``.

    A ``ThreadPoolExecutor(1)``: tasks run in the order they were given (sign in, then flush the
    queue, then the new score, then the leaderboard); each future's done-callback puts its
    outcome on a queue, and the game loop only ever does a non-blocking ``poll``.
    """

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="targets-network")
        self._results: queue.SimpleQueue[Outcome] = queue.SimpleQueue()
        self._pending = 0
        self._lock = threading.Lock()

    def run(self, name: str, task: Callable[[], Any]) -> None:
        with self._lock:
            self._pending += 1
        future = self._executor.submit(task)
        future.add_done_callback(lambda done: self._finished(name, done))

    def _finished(self, name: str, future: Future[Any]) -> None:
        if future.cancelled():
            outcome = Outcome(name, error=Unreachable("cancelled at exit"))
        elif (error := future.exception()) is not None:
            outcome = Outcome(name, error=error)  # reported to the game loop, which decides
        else:
            outcome = Outcome(name, value=future.result())
        self._results.put(outcome)
        with self._lock:
            self._pending -= 1

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

    def stop(self) -> None:
        """Drop what has not started; a request in flight ends within its timeout."""
        self._executor.shutdown(wait=False, cancel_futures=True)
