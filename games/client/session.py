"""The client's conversation with the server: sign-in, offline queue, score, leaderboard.

Everything that touches the network runs as a task on the ``NetworkWorker`` thread; the game loop
calls ``update()`` once a frame to collect what has finished, and reads ``status`` to draw it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from games.client.network import Api, NetworkWorker, ServerError, Unreachable
from games.client.storage import OfflineQueue, TokenStore


@dataclass
class SyncState:
    signed_in: bool = False
    auth_error: str | None = None
    unreachable: bool = False
    sent: int = 0  # scores the server accepted this run (new or re-sent)
    rejected: int = 0
    last_score: dict[str, Any] | None = None  # the server's copy of this run's score
    board: dict[str, Any] | None = None
    me: dict[str, Any] | None = None
    board_loaded: bool = False
    messages: list[str] = field(default_factory=list)


class Session:
    def __init__(
        self, *, server: str, username: str, tokens: TokenStore, offline: OfflineQueue
    ) -> None:
        self.server = server.rstrip("/")
        self.username = username
        self.tokens = tokens
        self.offline = offline
        self.api = Api(self.server)
        self.worker = NetworkWorker()
        self.state = SyncState()
        self.token = tokens.get(self.server, username)
        self.state.signed_in = self.token is not None
        self.submission_id: str | None = None
        self._payload: dict[str, Any] | None = None
        self._password: str | None = None
        self._register = False
        self._saved = threading.Event()

    @property
    def needs_password(self) -> bool:
        return self.token is None

    @property
    def busy(self) -> bool:
        return self.worker.busy

    # --- tasks (run on the worker thread) -------------------------------------------------

    def sign_in(self, password: str, *, register: bool = False) -> None:
        """Exchange the password for a token (registering first with ``register``).

        The password stays in memory only until a sign-in succeeds, so a server that was down at
        the start can still be signed in to when the round ends; it is never written to disk.
        """
        self._password, self._register = password, register

        def exchange() -> str:
            if register:
                try:
                    return self.api.register(self.username, password)
                except ServerError as exc:
                    if exc.status != 400:
                        raise
                    # Already registered (say, a second run with --register): sign in instead.
                    try:
                        return self.api.token(self.username, password)
                    except ServerError:
                        raise exc from None
            return self.api.token(self.username, password)

        def task() -> str:
            token = exchange()
            # Set here, on the worker, so the tasks queued behind this one already have it.
            self.token = token
            self.tokens.set(self.server, self.username, token)
            self._password = None
            return token

        self.worker.run("sign_in", task)

    def flush(self) -> None:
        """Send every queued score of this user to this server, oldest first."""

        def task() -> list[tuple[str, str, Any]]:
            token = self.token
            if token is None:
                return []
            done: list[tuple[str, str, Any]] = []
            for entry in self.offline.pending(server=self.server, username=self.username):
                payload = entry["payload"]
                try:
                    _, body = self.api.submit(token, payload)
                except ServerError as exc:
                    if exc.status == 401:
                        raise
                    done.append(("rejected", payload["submission_id"], exc))
                    self.offline.reject(
                        payload["submission_id"],
                        {"status": exc.status, "code": exc.code, "message": exc.message},
                    )
                    continue
                self.offline.remove(payload["submission_id"])
                done.append(("sent", payload["submission_id"], body))
            return done

        self.worker.run("flush", task)

    def submit(self, payload: dict[str, Any], *, mode: str) -> None:
        """Queue the round's score on disk first, then try to send it and load the board.

        The disk write (with its fsync) runs on the worker too, so the frame that ends the round
        does not stall; ``ensure_saved`` makes sure it happened before the process exits.
        """
        self.submission_id = payload["submission_id"]
        self._payload = payload

        def save() -> None:
            self.offline.put(server=self.server, username=self.username, payload=payload)
            self._saved.set()

        self.worker.run("save", save)
        if self.token is None and self._password is not None and self.state.auth_error is None:
            # The server was unreachable at sign-in; it may be back now.
            self.sign_in(self._password, register=self._register)
        self.flush()

        def board() -> tuple[dict[str, Any], dict[str, Any] | None]:
            top = self.api.leaderboard(mode)
            me = self.api.me(self.token, mode) if self.token else None
            return top, me

        self.worker.run("board", board)

    # --- results (collected on the game loop's thread) ------------------------------------

    def update(self) -> None:
        state = self.state
        for outcome in self.worker.poll():
            error = outcome.error
            if isinstance(error, Unreachable):
                state.unreachable = True
                continue
            if error is None and outcome.name in ("sign_in", "board"):
                state.unreachable = False  # it answered: the server is back
            if isinstance(error, ServerError) and error.status == 401:
                self.tokens.forget(self.server, self.username)
                self.token = None
                state.signed_in = False
                state.auth_error = "The server refused the saved token; run again to sign in."
                continue
            if outcome.name == "sign_in":
                if error is None:
                    state.signed_in = True
                    state.auth_error = None
                elif isinstance(error, ServerError):
                    state.auth_error = f"Sign-in refused: {error.message}"
                else:
                    state.auth_error = f"Sign-in failed: {error}"
            elif outcome.name == "flush" and error is None:
                for result, submission_id, body in outcome.value:
                    if result == "sent":
                        state.sent += 1
                        if submission_id == self.submission_id:
                            state.last_score = body
                    else:
                        state.rejected += 1
                        state.messages.append(f"Score refused by the server: {body.message}")
            elif outcome.name == "board":
                if error is None:
                    state.board, state.me = outcome.value
                    state.board_loaded = True
            elif error is not None:
                state.messages.append(f"{outcome.name} failed: {error}")

    def ensure_saved(self, timeout: float = 2.0) -> None:
        """Before exit: the round's score is on disk, even if the worker is stuck on the network."""
        if self._payload is None or self._saved.wait(timeout):
            return
        # Still queued behind a slow request: write it here (same file, same content; the
        # worker's flush has not reached it, so it cannot have been sent and removed yet).
        self.offline.put(server=self.server, username=self.username, payload=self._payload)
        self._saved.set()

    @property
    def pending_here(self) -> bool:
        """True while this run's score is still in the offline queue."""
        if self.submission_id is None:
            return False
        return (self.offline.directory / f"{self.submission_id}.json").exists()
