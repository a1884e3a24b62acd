from __future__ import annotations

import logging
import logging.handlers
import re
import threading
import time
from io import TextIOWrapper
from pathlib import Path

# Control characters (C0, DEL, C1), the Unicode line and paragraph separators, and the backslash
# itself (so an escape in the log is never ambiguous with a literal one sent by the client).
_UNSAFE_IN_LOG = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]")


def log_escape(value: str) -> str:
    """``value`` safe for one log line: a ``%0a`` in a path cannot start a forged line."""
    return _UNSAFE_IN_LOG.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)


class MakedirsRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler that creates its directory on first use.

    Settings stay free of side effects: ``var/log/`` appears only when a line is first written.
    """

    def _open(self) -> TextIOWrapper:
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


class BadHostFilter(logging.Filter):
    """Turns Django's ``DisallowedHost`` ERROR-with-traceback into one rate-limited WARNING line.

    A request with an unknown ``Host`` is a client's mistake (or a scanner), not a server fault;
    it is refused before any throttle runs, so unbounded log lines would be a cheap way to fill the
    disk. At most ``burst`` lines pass per ``interval`` seconds (per process); the next line that
    passes says how many were left out.
    """

    def __init__(self, interval: float = 60.0, burst: int = 5) -> None:
        super().__init__()
        self.interval = interval
        self.burst = burst
        self._window_started = -float("inf")
        self._passed = 0
        self._suppressed = 0
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._window_started >= self.interval:
                self._window_started, self._passed = now, 0
            if self._passed >= self.burst:
                self._suppressed += 1
                return False
            self._passed += 1
            suppressed, self._suppressed = self._suppressed, 0
        request = getattr(record, "request", None)
        host = log_escape(str(request and _host_of(request)))
        record.msg = "refused a request for an unknown Host %s%s"
        record.args = (host, f" ({suppressed} more not logged)" if suppressed else "")
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        record.stack_info = None
        return True


def _host_of(request: object) -> str:
    # request.get_host() is what raised; the raw header is what the client sent.
    meta = getattr(request, "META", {})
    return repr(meta.get("HTTP_X_FORWARDED_HOST") or meta.get("HTTP_HOST") or "")
