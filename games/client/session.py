"""The client's conversation with the server: sign-in, rounds, offline queue, score, leaderboard.

Everything that touches the network runs as a task on the ``NetworkWorker`` (one pooled thread);
the game loop calls ``update()`` once a frame to collect what has finished, and reads ``state``
to draw it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from games.client.network import Api, BadAnswer, NetworkWorker, ServerError, Unreachable
from games.client.storage import OfflineQueue, TokenStore


@dataclass
class SyncState:
    signed_in: bool = False
    signing_in: bool = False
    auth_error: str | None = None
    # The server refused the password (a field message to show), so the player is asked again.
    sign_in_refused: bool = False
    unreachable: bool = False
    unreachable_reason: str = ""
    sent: int = 0  # scores the server accepted this run (new or re-sent)
    rejected: int = 0
    last_score: dict[str, Any] | None = None  # the server's copy of this run's score
    board: dict[str, Any] | None = None
    me: dict[str, Any] | None = None
    board_loaded: bool = False
    # The server-issued round for the next play (None: not asked, no answer, or offline).
    round: dict[str, Any] | None = None
    round_answered: bool = False
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
        self._closing = threading.Event()

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
        self.state.signing_in = True
        self.state.sign_in_refused = False

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

    def request_round(self, *, mode: str, duration_s: float) -> None:
        """Ask the server for a round (its seed); without an answer the round plays offline."""
        self.state.round, self.state.round_answered = None, False

        def task() -> dict[str, Any] | None:
            if self.token is None:
                return None
            return self.api.new_round(self.token, mode, duration_s)

        self.worker.run("round", task)

    def flush(self) -> None:
        """Send every queued score of this user to this server, oldest first.

        A score leaves the queue only when the answer is its stored copy; the first answer that
        is not (no server, a captive portal, a 503) stops the flush with the rest still queued.
        """

        def task() -> list[tuple[str, str, Any]]:
            token = self.token
            if token is None:
                return []
            done: list[tuple[str, str, Any]] = []
            for entry in self.offline.pending(server=self.server, username=self.username):
                if self._closing.is_set():
                    break
                payload = entry["payload"]
                submission_id = payload["submission_id"]
                try:
                    body = self.api.submit(token, payload)
                except ServerError as exc:
                    if exc.status == 401:
                        raise
                    done.append(("rejected", submission_id, exc))
                    self.offline.reject(
                        submission_id,
                        {"status": exc.status, "code": exc.code, "message": exc.message},
                    )
                    continue
                except Unreachable as exc:
                    done.append(("unreachable", submission_id, exc))
                    break
                self.offline.remove(submission_id)
                done.append(("sent", submission_id, body))
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
        if self.token is None and self._password is not None and not self.state.sign_in_refused:
            # The server was unreachable at sign-in; it may be back now.
            self.sign_in(self._password, register=self._register)
        self.flush()

        def board() -> tuple[dict[str, Any], dict[str, Any] | None]:
            top = self.api.leaderboard(mode)
            me = self.api.me(self.token, mode) if self.token else None
            return top, me

        self.worker.run("board", board)

    def close(self) -> None:
        """Leaving: no new request starts; one in flight ends within its timeout."""
        self._closing.set()
        self.worker.stop()

    # --- results (collected on the game loop's thread) ------------------------------------

    def _unreachable(self, error: BaseException) -> None:
        state = self.state
        reason = str(error) if isinstance(error, BadAnswer) else f"no answer from {self.server}"
        if state.unreachable and reason != state.unreachable_reason:
            state.messages.append(f"Server unreachable ({reason}).")
        state.unreachable, state.unreachable_reason = True, reason

    def update(self) -> None:
        state = self.state
        for outcome in self.worker.poll():
            error = outcome.error
            if outcome.name == "round":
                state.round_answered = True
            if outcome.name == "sign_in":
                state.signing_in = False
            if isinstance(error, Unreachable):
                self._unreachable(error)
                continue
            if error is None and outcome.name in ("sign_in", "board", "round"):
                state.unreachable = False  # it answered: the server is back
            if isinstance(error, ServerError) and error.status == 401 and outcome.name != "sign_in":
                self.tokens.forget(self.server, self.username)
                self.token = None
                state.signed_in = False
                state.auth_error = "The server refused the saved token; run again to sign in."
                continue
            if outcome.name == "sign_in":
                self._signed_in(error)
            elif outcome.name == "flush" and error is None:
                self._flushed(outcome.value)
            elif outcome.name == "round":
                if error is None:
                    state.round = outcome.value
                else:
                    state.messages.append(f"No round from the server ({error}); playing offline.")
            elif outcome.name == "board":
                if error is None:
                    state.board, state.me = outcome.value
                    state.board_loaded = True
            elif error is not None:
                state.messages.append(f"{outcome.name} failed: {error}")
        for store in (self.tokens, self.offline):
            state.messages.extend(store.notes)
            store.notes.clear()

    def _signed_in(self, error: BaseException | None) -> None:
        state = self.state
        if error is None:
            state.signed_in = True
            state.auth_error = None
        elif isinstance(error, ServerError):
            state.auth_error = f"Sign-in refused: {error.explain()}"
            state.sign_in_refused = True
            self._password = None
        else:
            state.auth_error = f"Sign-in failed: {error}"

    def _flushed(self, results: list[tuple[str, str, Any]]) -> None:
        state = self.state
        for result, submission_id, body in results:
            if result == "sent":
                state.sent += 1
                if submission_id == self.submission_id:
                    state.last_score = body
            elif result == "rejected":
                state.rejected += 1
                state.messages.append(f"Score refused by the server: {body.message}")
            else:
                self._unreachable(body)

    def drain_messages(self) -> list[str]:
        """Messages not shown yet (the loop prints them as they come)."""
        messages, self.state.messages = self.state.messages, []
        return messages

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
