"""What the exports commands share: a quick start and one line per failure.

Cron runs these commands and mails whatever they print: a failure is one line on stderr (the
reason); its traceback goes to the log file only (``targets.exports`` logs to the file).
"""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from exports.services.lifecycle import one_line
from targets_site.errors import DomainError

logger = logging.getLogger("targets.exports")


class ExportsCommand(BaseCommand):
    # The system checks import every URLconf and view (pandas, matplotlib...): seconds of
    # start-up on each cron run for nothing; `manage.py check --deploy` is where they belong.
    requires_system_checks: list[str] = []

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except (CommandError, KeyboardInterrupt):
            raise
        except DomainError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:
            logger.warning("%s: database error", self.__module__, exc_info=True)
            raise CommandError(f"Database error: {' '.join(str(exc).split())}") from None
        except Exception as exc:
            logger.error("%s failed", self.__module__, exc_info=True)
            raise CommandError(one_line(exc)) from None
