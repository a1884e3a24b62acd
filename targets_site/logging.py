from __future__ import annotations

import logging.handlers
from io import TextIOWrapper
from pathlib import Path


class MakedirsRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler that creates its directory on first use.

    Settings stay free of side effects: ``var/log/`` appears only when a line is first written.
    """

    def _open(self) -> TextIOWrapper:
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()
