"""``python -m games.client``: options, the fixed-step game loop phase by phase, the score hand-off.

The rules (target motion, hits, points, timer, bot) come from ``games.rules``; this module reads
input, runs ticks and hands scores to the ``Session`` (network worker + offline queue); drawing
is in ``games.client.screens``. The loop runs one handler per frame, chosen by the ``Phase``:

    PASSWORD -> SIGN_IN -> START -> ROUND -> PLAY -> END -> QUIT
       ^           |
       +-----------+  (the server refused the password: say why, ask again)

A player with a saved token starts at START. ROUND asks the server for a round (its seed) and
waits at most ``ROUND_WAIT_S``; with no answer the round plays on a local seed (stored unverified).
"""

from __future__ import annotations

import argparse
import datetime as dt
import enum
import getpass
import json
import os
import secrets
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from games import rules
from games.client import VERSION
from games.client.screens import (
    BACKGROUND,
    FPS,
    Screen,
    draw_end,
    draw_message,
    draw_password,
    draw_start,
    status_line,
)
from games.client.session import Session
from games.client.storage import OfflineQueue, TokenStore, config_dir

MAX_FRAME_S = 0.25  # after a stall, catch up at most this much game time (no spiral of death)
AUTOSTART_S = 1.0  # autoplay leaves the start screen by itself
ROUND_WAIT_S = 3.0  # the longest wait for a server-issued round before playing offline
END_WAIT_S = 30.0  # autoplay/headless: the longest wait for the server before leaving
NO_DISPLAY = (
    "No display to open the game window on (no DISPLAY or WAYLAND_DISPLAY; SDL chose its {driver!r}"
    " driver). Run it from a desktop session, or let the bot play without a window: "
    "--autoplay --headless."
)


class Phase(enum.Enum):
    PASSWORD = "password"  # asking for the password (in the window, or one line on stdin)
    SIGN_IN = "sign_in"  # the server is taking the password
    START = "start"  # the start screen
    ROUND = "round"  # asking the server for a round
    PLAY = "play"
    END = "end"  # the end screen: score sent or queued, the leaderboard
    QUIT = "quit"


def server_url(value: str) -> str:
    """``--server``: ``localhost:8000`` means ``http://localhost:8000``; anything else is said."""
    text = value.strip()
    if "://" not in text:
        text = f"http://{text}"
    parts = urllib.parse.urlsplit(text)
    example = "e.g. http://127.0.0.1:8000 or localhost:8000"
    if parts.scheme not in ("http", "https"):
        raise argparse.ArgumentTypeError(
            f"{value!r}: the server is reached over http:// or https:// ({example})"
        )
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number 0-65535
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r}: the port is not a number ({example})"
        ) from None
    if not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} names no host ({example})")
    return text.rstrip("/")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m games.client",
        description="Targets: shoot the moving square or the bullseye; scores go to the server.",
    )
    parser.add_argument(
        "--server",
        type=server_url,
        default="http://127.0.0.1:8000",
        help="the Targets site, e.g. http://127.0.0.1:8000 or localhost:8000",
    )
    parser.add_argument("--user", required=True, help="your player name")
    parser.add_argument(
        "--register", action="store_true", help="create the account first (asks a password)"
    )
    parser.add_argument("--mode", choices=rules.MODES, default="moving")
    parser.add_argument(
        "--duration",
        type=float,
        default=30,
        metavar="S",
        help=f"round length in seconds ({rules.MIN_DURATION_S}-{rules.MAX_DURATION_S})",
    )
    parser.add_argument("--autoplay", action="store_true", help="a seeded bot plays the round")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="practise on this seed (played offline, stored unverified); default: the server's",
    )
    parser.add_argument("--headless", action="store_true", help="no window (SDL dummy video)")
    parser.add_argument(
        "--linger",
        type=float,
        default=0.0,
        metavar="S",
        help="with --autoplay: keep the end screen at least S seconds (screenshots, demos)",
    )
    parser.add_argument(
        "--frame-stats",
        type=Path,
        default=None,
        metavar="FILE",
        help="write per-frame timings (ms) as JSON to FILE (for bench/)",
    )
    args = parser.parse_args(argv)
    if not rules.MIN_DURATION_S <= args.duration <= rules.MAX_DURATION_S:
        parser.error(f"--duration must be {rules.MIN_DURATION_S}..{rules.MAX_DURATION_S} seconds")
    if args.seed is not None and not 0 <= args.seed <= rules.MAX_SEED:
        parser.error(f"--seed must be 0..{rules.MAX_SEED}")
    if args.headless and not args.autoplay:
        parser.error("--headless has no window to play in: add --autoplay")
    return args


def score_payload(
    game: rules.Round, *, mode: str, duration_s: float, round_id: str | None = None
) -> dict[str, Any]:
    result = game.result
    payload: dict[str, Any] = {
        "mode": mode,
        "points": result.points,
        "hits": result.hits,
        "misses": result.misses,
        "duration_s": duration_s,
        "replay": game.replay(),
        "client_version": VERSION,
        "played_at": dt.datetime.now(dt.UTC).isoformat(),
        "submission_id": str(uuid.uuid4()),
    }
    if round_id is not None:
        payload["round_id"] = round_id
    # No per-shot "shots" list: with a replay the server stores its own re-run of the shots,
    # so sending them would only cost bytes and parsing.
    return payload


class FrameStats:
    def __init__(self) -> None:
        self.work_ms: list[float] = []
        self.interval_ms: list[float] = []
        self._last: float | None = None

    def frame(self, started: float, finished: float) -> None:
        self.work_ms.append((finished - started) * 1000)
        if self._last is not None:
            self.interval_ms.append((started - self._last) * 1000)
        self._last = started


def say(line: str) -> None:
    """One line on stdout, at once (scripts and tests wait for some of them)."""
    print(line, flush=True)


class Client:
    """The game loop: one handler per phase, called once a frame with that frame's events."""

    def __init__(self, args: argparse.Namespace, pygame: Any, session: Session) -> None:
        self.args = args
        self.pg = pygame
        self.session = session
        self.surface = pygame.display.set_mode((rules.WIDTH, rules.HEIGHT))
        pygame.display.set_caption(f"Targets - {args.mode}")
        self.screen = Screen(pygame, self.surface)
        self.clock = pygame.time.Clock()
        self.stats = FrameStats()
        self.handlers: dict[Phase, Callable[[list[Any], float], None]] = {
            Phase.PASSWORD: self.on_password,
            Phase.SIGN_IN: self.on_sign_in,
            Phase.START: self.on_start,
            Phase.ROUND: self.on_round,
            Phase.PLAY: self.on_play,
            Phase.END: self.on_end,
        }
        self.phase = Phase.START
        self.phase_started = time.perf_counter()
        self.typed = ""  # the password as typed in the window
        self.game: rules.Round | None = None
        self.round_id: str | None = None
        self.plan: list[rules.Shot] = []
        self.clicks: list[tuple[int, int]] = []
        self.accumulator = 0.0
        self.exit_code = 0
        self.told_unreachable = False

    # --- the loop -------------------------------------------------------------------------

    def enter(self, phase: Phase) -> None:
        if phase is Phase.PASSWORD and self.reads_in_window:
            self.pg.key.start_text_input()
        elif self.phase is Phase.PASSWORD and self.reads_in_window:
            self.pg.key.stop_text_input()
        self.phase, self.phase_started = phase, time.perf_counter()

    def run(self) -> int:
        if self.session.needs_password or self.args.register:
            self.enter(Phase.PASSWORD)
        else:
            self.session.flush()  # scores queued by earlier runs go first
        while self.phase is not Phase.QUIT:
            started = time.perf_counter()
            events = self.pg.event.get()
            self.session.update()
            self.tell_news()
            self.surface.fill(BACKGROUND)
            self.handlers[self.phase](events, started)
            self.pg.display.flip()
            self.stats.frame(started, time.perf_counter())
            self.clock.tick(FPS)
        if self.game is not None and self.game.finished:
            self.session.ensure_saved()
            self.session.update()
            self.tell_news()
            self.exit_code = report(self.session)
        self.session.close()
        return self.exit_code

    def tell_news(self) -> None:
        for message in self.session.drain_messages():
            say(message)
        state = self.session.state
        if state.unreachable and not self.told_unreachable:
            self.told_unreachable = True
            say(
                f"Server unreachable ({state.unreachable_reason}): playing offline; "
                "the score will be queued."
            )

    def quit_requested(self, events: list[Any]) -> bool:
        pg = self.pg
        return any(
            event.type == pg.QUIT or (event.type == pg.KEYDOWN and event.key == pg.K_ESCAPE)
            for event in events
        )

    def go_on_requested(self, events: list[Any]) -> bool:
        pg = self.pg
        return any(
            event.type == pg.MOUSEBUTTONDOWN
            or (event.type == pg.KEYDOWN and event.key in (pg.K_SPACE, pg.K_RETURN))
            for event in events
        )

    # --- signing in -----------------------------------------------------------------------

    @property
    def reads_in_window(self) -> bool:
        return sys.stdin.isatty() and not self.args.headless

    def on_password(self, events: list[Any], now: float) -> None:
        if self.reads_in_window:
            password = self.password_from_window(events)
        elif sys.stdin.isatty():
            password = getpass.getpass(f"Password for {self.args.user}: ")
        else:
            # One line on stdin (scripts, tests): the password, without its line ending.
            password = sys.stdin.readline().rstrip("\r\n") or None
        if password is None:
            if self.session.state.sign_in_refused:
                say(f"No password given after: {self.session.state.auth_error}")
                self.exit_code = 1
            else:
                say("No password given; nothing to do.")
            self.enter(Phase.QUIT)
        elif password:
            self.session.sign_in(password, register=self.args.register)
            self.enter(Phase.SIGN_IN)

    def password_from_window(self, events: list[Any]) -> str | None:
        """The password once Enter is pressed, "" while typing, None when the player leaves."""
        pg = self.pg
        for event in events:
            if event.type == pg.QUIT or (event.type == pg.KEYDOWN and event.key == pg.K_ESCAPE):
                return None
            if event.type == pg.KEYDOWN:
                if event.key in (pg.K_RETURN, pg.K_KP_ENTER) and self.typed:
                    password, self.typed = self.typed, ""
                    return password
                if event.key == pg.K_BACKSPACE:
                    self.typed = self.typed[:-1]
            elif event.type == pg.TEXTINPUT:
                self.typed += event.text
        draw_password(self.screen, self.args.user, self.typed, self.session.state.auth_error)
        return ""

    def on_sign_in(self, events: list[Any], now: float) -> None:
        state = self.session.state
        if self.quit_requested(events):
            self.enter(Phase.QUIT)
            return
        draw_message(self.screen, "Signing in...", self.session.server)
        if state.signing_in:
            return
        if state.sign_in_refused:
            say(f"{state.auth_error} Try again.")
            self.enter(Phase.PASSWORD)
            return
        self.session.flush()  # signed in, or playing offline: queued scores go first
        self.enter(Phase.START)

    # --- a round --------------------------------------------------------------------------

    def on_start(self, events: list[Any], now: float) -> None:
        if self.quit_requested(events):
            self.abandon()
            return
        draw_start(self.screen, self.args, self.session)
        autostart = self.args.autoplay and now - self.phase_started >= AUTOSTART_S
        if not (autostart or (self.go_on_requested(events) and not self.args.autoplay)):
            return
        if self.args.seed is None and self.session.token is not None:
            self.session.request_round(mode=self.args.mode, duration_s=self.args.duration)
            self.enter(Phase.ROUND)
        else:
            self.begin_play(None)

    def on_round(self, events: list[Any], now: float) -> None:
        if self.quit_requested(events):
            self.abandon()
            return
        state = self.session.state
        draw_message(self.screen, "Getting a round...", "from the server; offline if it is slow")
        if state.round_answered or now - self.phase_started >= ROUND_WAIT_S:
            self.begin_play(state.round)

    def begin_play(self, issued: dict[str, Any] | None) -> None:
        args = self.args
        if issued is not None:
            seed, self.round_id = issued["seed"], str(issued["round_id"])
        else:
            seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
        ticks = rules.ticks_for(args.duration)
        self.game = rules.Round(args.mode, seed, rules.TICK_RATE, ticks)
        if args.autoplay:
            self.plan = rules.Bot(seed).plan(args.mode, seed, rules.TICK_RATE, ticks)
        self.accumulator = 0.0
        self.enter(Phase.PLAY)

    def on_play(self, events: list[Any], now: float) -> None:
        game = self.game
        assert game is not None
        if self.quit_requested(events):
            self.abandon()
            return
        if not self.args.autoplay:
            self.clicks.extend(
                event.pos
                for event in events
                if event.type == self.pg.MOUSEBUTTONDOWN and event.button == 1
            )
        step = 1.0 / rules.TICK_RATE
        self.accumulator += min(self.clock.get_time() / 1000.0, MAX_FRAME_S)
        while self.accumulator >= step and not game.finished:
            # Shots fire on the tick they are processed: one per tick, in order.
            if self.clicks:
                x, y = self.clicks.pop(0)
                game.shoot(x, y)
            while self.plan and self.plan[0].tick == game.tick:
                shot = self.plan.pop(0)
                game.shoot(shot.x, shot.y)
            game.advance()
            self.accumulator -= step
        # Draw between the last two ticks: smooth motion whatever the frame rate.
        drawn_tick = min(game.tick - 1 + self.accumulator / step, game.ticks)
        self.screen.target(game, drawn_tick)
        self.screen.shot_marks(game)
        self.screen.hud(game, status=status_line(self.session))
        if game.finished:
            self.finish(game)

    def finish(self, game: rules.Round) -> None:
        args, result = self.args, game.result
        payload = score_payload(
            game, mode=args.mode, duration_s=args.duration, round_id=self.round_id
        )
        self.session.submit(payload, mode=args.mode)
        where = f"server round {self.round_id}" if self.round_id else "offline, unverified"
        say(
            f"Round over: {result.points} points, {result.hits} hits, {result.misses} misses "
            f"({args.mode}, seed {game.seed}, {args.duration:g} s, {where})."
        )
        self.enter(Phase.END)

    def on_end(self, events: list[Any], now: float) -> None:
        assert self.game is not None
        draw_end(self.screen, self.game, self.session)
        if self.quit_requested(events) or self.go_on_requested(events):
            self.enter(Phase.QUIT)
            return
        waited = now - self.phase_started
        settled = not self.session.busy
        if self.args.autoplay and waited >= self.args.linger and (settled or waited > END_WAIT_S):
            self.enter(Phase.QUIT)

    def abandon(self) -> None:
        say("Round abandoned; no score sent.")
        self.enter(Phase.QUIT)


def report(session: Session) -> int:
    """One line per outcome on stdout; the exit code (0 when sent or safely queued)."""
    state = session.state
    for message in session.drain_messages():
        say(message)
    if state.last_score is not None:
        score = state.last_score
        if score.get("verified"):
            verified = "verified"
        else:
            verified = f"not verified: {score.get('unverified_reason') or 'unknown'}"
        say(f"Score sent (id {score.get('id')}, {verified}).")
        if state.sent > 1:
            say(f"Also sent {state.sent - 1} score(s) queued earlier.")
        if state.me:
            say(f"Leaderboard rank: {state.me['rank']}.")
        return 0
    if session.pending_here:
        if state.auth_error:
            say(f"{state.auth_error} The score is queued in {session.offline.directory}.")
            return 1
        reason = f" ({state.unreachable_reason})" if state.unreachable_reason else ""
        say(
            f"Server unreachable{reason}: the score is queued in "
            f"{session.offline.directory} and will be sent on the next run."
        )
        return 0
    return 1 if state.rejected else 0


def run(args: argparse.Namespace) -> int:
    if args.headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame  # after SDL_VIDEODRIVER is set: SDL reads it when the display starts

    try:
        pygame.display.init()
    except pygame.error as exc:
        say(NO_DISPLAY.format(driver=str(exc)))
        return 2
    if not args.headless and pygame.display.get_driver() in ("dummy", "offscreen"):
        # SDL falls back to an invisible window: a game nobody can see is not a game.
        say(NO_DISPLAY.format(driver=pygame.display.get_driver()))
        pygame.quit()
        return 2
    pygame.font.init()
    directory = config_dir()
    session = Session(
        server=args.server,
        username=args.user,
        tokens=TokenStore(directory),
        offline=OfflineQueue(directory),
    )
    client = Client(args, pygame, session)
    try:
        exit_code = client.run()
    finally:
        if args.frame_stats:
            stats = client.stats
            args.frame_stats.write_text(
                json.dumps({"work_ms": stats.work_ms, "interval_ms": stats.interval_ms})
            )
        pygame.quit()
    return exit_code


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
