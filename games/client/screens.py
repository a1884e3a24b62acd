"""Drawing: the start screen, the round (target, shot marks, HUD), the end screen, the password.

Takes the pygame module as an argument so importing this file does not start SDL.
"""

from __future__ import annotations

import argparse
from typing import Any

from games import rules
from games.client.session import Session

FPS = 60

BACKGROUND = (34, 38, 46)
HUD = (235, 235, 235)
DIM = (150, 155, 165)
WARN = (255, 190, 80)
SQUARE = rules.SQUARE_RGB
FLASH = (230, 40, 40)
HIT_MARK = (80, 230, 110)
MISS_MARK = (200, 200, 200)


class Screen:
    """Drawing helpers over one pygame surface."""

    def __init__(self, pygame: Any, surface: Any) -> None:
        self.pg = pygame
        self.surface = surface
        self.big = pygame.font.Font(None, 56)
        self.font = pygame.font.Font(None, 30)
        self.small = pygame.font.Font(None, 24)

    def text(
        self,
        text: str,
        pos: tuple[int, int],
        *,
        font: Any = None,
        colour: tuple[int, int, int] = HUD,
        centre: bool = False,
    ) -> Any:
        """Draw ``text`` at ``pos`` (its top-left, or its centre); returns its pygame Rect."""
        image = (font or self.font).render(text, True, colour)
        rect = image.get_rect()
        if centre:
            rect.center = pos
        else:
            rect.topleft = pos
        self.surface.blit(image, rect)
        return rect

    def target(self, game: rules.Round, at_tick: float) -> None:
        x, y = game.motion.at_pixels(max(at_tick, 0.0))
        draw = self.pg.draw
        if game.mode == "moving":
            colour = FLASH if game.flashing(at_tick) else SQUARE
            half = rules.SQUARE_HALF
            draw.rect(self.surface, colour, (round(x - half), round(y - half), 2 * half, 2 * half))
        else:
            for ring in range(len(rules.RING_POINTS), 0, -1):
                radius = ring * rules.RING_WIDTH
                draw.circle(self.surface, rules.RING_RGB[ring - 1], (round(x), round(y)), radius)
                draw.circle(self.surface, (110, 110, 110), (round(x), round(y)), radius, 1)

    def shot_marks(self, game: rules.Round) -> None:
        for shot in game.result.shots[-12:]:
            colour = HIT_MARK if shot.hit else MISS_MARK
            self.pg.draw.circle(self.surface, colour, (shot.x, shot.y), 4, 2)

    def hud(self, game: rules.Round, *, status: str) -> None:
        result = game.result
        self.text(f"Score {result.points}", (16, 12))
        self.text(f"Time {game.seconds_left:4.1f} s", (16, 42))
        self.text(f"Accuracy {result.accuracy:.0%}", (16, 72))
        if status:
            self.text(
                status,
                (rules.WIDTH - 16 - self.small.size(status)[0], 14),
                font=self.small,
                colour=DIM,
            )


def status_line(session: Session) -> str:
    state = session.state
    if state.auth_error:
        return state.auth_error
    if state.unreachable:
        return "server unreachable - scores will be queued"
    if not state.signed_in:
        return "signing in..."
    return f"signed in as {session.username}"


def draw_password(screen: Screen, username: str, typed: str, error: str | None) -> None:
    """The sign-in prompt (masked), with why the last attempt was refused."""
    centre = rules.WIDTH // 2
    screen.text("Targets", (centre, 150), font=screen.big, centre=True)
    screen.text(f"Password for {username}:", (centre, 260), centre=True)
    screen.text("*" * len(typed) + "_", (centre, 300), centre=True)
    screen.text(
        "Enter to sign in - only a token is kept, never the password",
        (centre, 360),
        font=screen.small,
        colour=DIM,
        centre=True,
    )
    if error:
        for index, line in enumerate(wrap(error, 70)[:4]):
            screen.text(
                line, (centre, 410 + 26 * index), font=screen.small, colour=WARN, centre=True
            )


def draw_message(screen: Screen, title: str, line: str) -> None:
    centre = rules.WIDTH // 2
    screen.text(title, (centre, 250), font=screen.big, centre=True)
    screen.text(line, (centre, 320), font=screen.small, colour=DIM, centre=True)


def wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def draw_start(screen: Screen, args: argparse.Namespace, session: Session) -> None:
    centre = rules.WIDTH // 2
    screen.text("Targets", (centre, 140), font=screen.big, centre=True)
    goal = (
        "Hit the bouncing square: 50 a hit, more for a streak"
        if args.mode == "moving"
        else "Hit the bullseye: 100 at the centre, 20 on the outer ring"
    )
    screen.text(goal, (centre, 230), centre=True)
    screen.text(f"{args.duration:g} s round  -  player {args.user}", (centre, 270), centre=True)
    screen.text(
        "The bot is playing..." if args.autoplay else "Click or press Space to start",
        (centre, 340),
        centre=True,
        colour=WARN,
    )
    screen.text(status_line(session), (centre, 420), font=screen.small, colour=DIM, centre=True)
    queued = session.offline.count()
    if queued:
        screen.text(
            f"{queued} score(s) waiting to be sent",
            (centre, 450),
            font=screen.small,
            colour=DIM,
            centre=True,
        )


def draw_end(screen: Screen, game: rules.Round, session: Session) -> None:
    state = session.state
    result = game.result
    screen.text("Round over", (rules.WIDTH // 2, 50), font=screen.big, centre=True)
    screen.text(
        f"{result.points} points  -  {result.hits} hits, {result.misses} misses  -  "
        f"accuracy {result.accuracy:.0%}",
        (rules.WIDTH // 2, 100),
        centre=True,
    )
    if state.last_score is not None:
        verified = "verified" if state.last_score.get("verified") else "not verified"
        line, colour = f"Score saved on the server ({verified}).", HIT_MARK
    elif state.unreachable:
        line, colour = "Server unreachable: score saved on disk, sent next time.", WARN
    elif state.auth_error:
        line, colour = f"{state.auth_error} Score kept on disk.", WARN
    else:
        line, colour = "Sending score...", DIM
    screen.text(line, (rules.WIDTH // 2, 140), font=screen.small, colour=colour, centre=True)
    if state.unreachable and not state.board_loaded:
        screen.text("Leaderboard unavailable: the server did not answer.", (200, 180), colour=DIM)
    elif state.auth_error and not state.board_loaded:
        screen.text("Leaderboard unavailable: not signed in.", (200, 180), colour=DIM)
    else:
        screen.text("Leaderboard (verified)", (200, 180), colour=DIM)
    if state.board_loaded and state.board is not None:
        rows = state.board.get("results", [])
        for index, row in enumerate(rows[:10]):
            colour = WARN if row["player"] == session.username else HUD
            y = 215 + index * 28
            rank = screen.font.render(f"{row['rank']}.", True, colour)
            screen.surface.blit(rank, rank.get_rect(topright=(245, y)))
            screen.text(row["player"][:24], (255, y), colour=colour)
            points = screen.font.render(str(row["points"]), True, colour)
            screen.surface.blit(points, points.get_rect(topright=(600, y)))
        if not rows:
            screen.text("no verified scores yet", (200, 215), colour=DIM)
        me = state.me
        rank = (
            f"Your rank: {me['rank']} ({me['points']} points)" if me else "You are not ranked yet"
        )
        screen.text(rank, (rules.WIDTH // 2, 520), centre=True, colour=WARN)
    elif not state.unreachable and not state.auth_error:
        screen.text("loading...", (200, 215), colour=DIM)
    screen.text(
        "Click, Space or Esc to leave",
        (rules.WIDTH // 2, 570),
        font=screen.small,
        colour=DIM,
        centre=True,
    )
