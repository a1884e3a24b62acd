"""``python -m games.client``: options, the fixed-step game loop, the score hand-off.

The rules (target motion, hits, points, timer, bot) come from ``games.rules``; this module only
reads input, runs ticks and hands scores to the ``Session`` (network thread + offline queue);
drawing is in ``games.client.screens``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import os
import secrets
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from games import rules
from games.client import VERSION
from games.client.screens import (
    BACKGROUND,
    FPS,
    Screen,
    draw_end,
    draw_start,
    prompt_password_in_window,
    status_line,
)
from games.client.session import Session
from games.client.storage import OfflineQueue, TokenStore, config_dir

MAX_FRAME_S = 0.25  # after a stall, catch up at most this much game time (no spiral of death)
AUTOSTART_S = 1.0  # autoplay leaves the start screen by itself
END_WAIT_S = 30.0  # autoplay/headless: the longest wait for the server before leaving
MAX_DETAIL_SHOTS = 1000  # the API's cap on the per-shot list; the replay still has them all


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m games.client",
        description="Targets: shoot the moving square or the bullseye; scores go to the server.",
    )
    parser.add_argument("--server", default="http://127.0.0.1:8000", help="the Targets site URL")
    parser.add_argument("--user", required=True, help="your player name")
    parser.add_argument(
        "--register", action="store_true", help="create the account first (asks a password)"
    )
    parser.add_argument("--mode", choices=rules.MODES, default="moving")
    parser.add_argument(
        "--duration",
        type=int,
        default=30,
        metavar="S",
        help=f"round length in seconds ({rules.MIN_DURATION_S}-{rules.MAX_DURATION_S})",
    )
    parser.add_argument("--autoplay", action="store_true", help="a seeded bot plays the round")
    parser.add_argument("--seed", type=int, default=None, help="the round's seed (default random)")
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


def score_payload(game: rules.Round, *, mode: str, duration_s: int) -> dict[str, Any]:
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
    if len(result.shots) <= MAX_DETAIL_SHOTS:
        payload["shots"] = [shot.as_detail() for shot in result.shots]
    return payload


def read_password(*, headless: bool, pygame: Any, screen: Screen, username: str, clock: Any):
    if not sys.stdin.isatty():
        # One line on stdin (scripts, tests): the password, without its line ending.
        return sys.stdin.readline().rstrip("\r\n") or None
    if headless:
        return getpass.getpass(f"Password for {username}: ") or None
    return prompt_password_in_window(pygame, screen, username, clock)


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


def run(args: argparse.Namespace) -> int:
    if args.headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame  # after SDL_VIDEODRIVER is set: SDL reads it when the display starts

    directory = config_dir()
    session = Session(
        server=args.server,
        username=args.user,
        tokens=TokenStore(directory),
        offline=OfflineQueue(directory),
    )
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)

    pygame.display.init()
    pygame.font.init()
    surface = pygame.display.set_mode((rules.WIDTH, rules.HEIGHT))
    pygame.display.set_caption(f"Targets - {args.mode}")
    screen = Screen(pygame, surface)
    clock = pygame.time.Clock()

    if session.needs_password or args.register:
        password = read_password(
            headless=args.headless, pygame=pygame, screen=screen, username=args.user, clock=clock
        )
        if password is None:
            print("No password given; nothing to do.")
            return 0
        session.sign_in(password, register=args.register)
    session.flush()  # scores queued by earlier runs go first

    ticks = rules.ticks_for(args.duration)
    game = rules.Round(args.mode, seed, rules.TICK_RATE, ticks)
    plan = rules.Bot(seed).plan(args.mode, seed, rules.TICK_RATE, ticks) if args.autoplay else []
    pending_clicks: list[tuple[int, int]] = []
    stats = FrameStats()
    step = 1.0 / rules.TICK_RATE
    phase = "start"
    phase_started = time.perf_counter()
    accumulator = 0.0
    exit_code = 0

    while True:
        frame_started = time.perf_counter()
        quit_requested = False
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (
                event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE
            ):
                quit_requested = True
            elif phase == "start" and (
                event.type == pygame.MOUSEBUTTONDOWN
                or (event.type == pygame.KEYDOWN and event.key in (pygame.K_SPACE, pygame.K_RETURN))
            ):
                phase, phase_started, accumulator = "play", time.perf_counter(), 0.0
            elif phase == "play" and event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                if not args.autoplay:
                    pending_clicks.append(event.pos)
            elif phase == "end" and (
                event.type == pygame.MOUSEBUTTONDOWN
                or (event.type == pygame.KEYDOWN and event.key in (pygame.K_SPACE, pygame.K_RETURN))
            ):
                quit_requested = True
        session.update()
        if quit_requested and phase != "end":
            print("Round abandoned; no score sent.")
            break
        if quit_requested:
            break

        now = time.perf_counter()
        if phase == "start" and args.autoplay and now - phase_started >= AUTOSTART_S:
            phase, phase_started, accumulator = "play", now, 0.0

        surface.fill(BACKGROUND)
        if phase == "start":
            draw_start(screen, args, session)
        elif phase == "play":
            accumulator += min(clock.get_time() / 1000.0, MAX_FRAME_S)
            while accumulator >= step and not game.finished:
                # Shots fire on the tick they are processed: one per tick, in order.
                if pending_clicks:
                    x, y = pending_clicks.pop(0)
                    game.shoot(x, y)
                while plan and plan[0].tick == game.tick:
                    shot = plan.pop(0)
                    game.shoot(shot.x, shot.y)
                game.advance()
                accumulator -= step
            # Draw between the last two ticks: smooth motion whatever the frame rate.
            drawn_tick = min(game.tick - 1 + accumulator / step, game.ticks)
            screen.target(game, drawn_tick)
            screen.shot_marks(game)
            screen.hud(game, status=status_line(session))
            if game.finished:
                phase, phase_started = "end", now
                result = game.result
                payload = score_payload(game, mode=args.mode, duration_s=args.duration)
                session.submit(payload, mode=args.mode)
                print(
                    f"Round over: {result.points} points, {result.hits} hits, "
                    f"{result.misses} misses ({args.mode}, seed {seed}, {args.duration} s)."
                )
        else:
            draw_end(screen, game, session)
            settled = not session.busy
            lingered = now - phase_started >= args.linger
            if args.autoplay and lingered and (settled or now - phase_started > END_WAIT_S):
                session.update()
                break
        pygame.display.flip()
        stats.frame(frame_started, time.perf_counter())
        clock.tick(FPS)

    if phase == "end":
        session.ensure_saved()
        session.update()
        exit_code = report(session)
    if args.frame_stats:
        args.frame_stats.write_text(
            json.dumps({"work_ms": stats.work_ms, "interval_ms": stats.interval_ms})
        )
    pygame.quit()
    return exit_code


def report(session: Session) -> int:
    """One line per outcome on stdout; the exit code (0 when sent or safely queued)."""
    state = session.state
    for message in state.messages:
        print(message)
    if state.last_score is not None:
        verified = "verified" if state.last_score.get("verified") else "not verified"
        print(f"Score sent (id {state.last_score.get('id')}, {verified}).")
        if state.sent > 1:
            print(f"Also sent {state.sent - 1} score(s) queued earlier.")
        if state.me:
            print(f"Leaderboard rank: {state.me['rank']}.")
        return 0
    if session.pending_here:
        if state.auth_error:
            print(f"{state.auth_error} The score is queued in {session.offline.directory}.")
            return 1
        print(
            "Server unreachable: the score is queued in "
            f"{session.offline.directory} and will be sent on the next run."
        )
        return 0
    return 1 if state.rejected else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
