from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from redis.exceptions import RedisError
from rest_framework import permissions, throttling
from rest_framework.request import Request

from targets_site.errors import Unavailable

logger = logging.getLogger("targets.throttling")

# The client address comes from DRF's get_ident(), which honours NUM_PROXIES: with the default 0,
# X-Forwarded-For is ignored entirely, so rotating that header cannot dodge a rate limit.


if TYPE_CHECKING:
    from rest_framework.views import APIView

    # The mixin only ever sits in front of one of DRF's throttles.
    _ThrottleBase = throttling.BaseThrottle
else:
    _ThrottleBase = object


class CacheFailureMixin(_ThrottleBase):
    """Decide what happens when the shared throttle cache (Redis) is down.

    Reads fail open: a catalogue or leaderboard read is harmless without a rate count.
    Writes fail closed with a JSON 503: logins, registrations, scores and readings are exactly
    what throttles protect, so they wait for Redis rather than run unmetered.
    """

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except (RedisError, ConnectionError, TimeoutError, OSError):
            logger.warning("throttle cache unavailable", exc_info=True)
            if request.method in permissions.SAFE_METHODS:
                return True
            raise Unavailable("Rate limiting is unavailable; try again shortly.") from None


class AnonRateThrottle(CacheFailureMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(CacheFailureMixin, throttling.UserRateThrottle):
    """Per signed-in user. Anonymous requests are counted once, by AnonRateThrottle at the anon
    rate; DRF would count them here a second time by address, one more cache round trip each."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class ScopedRateThrottle(CacheFailureMixin, throttling.ScopedRateThrottle):
    pass


class KeyRateThrottle(CacheFailureMixin, throttling.SimpleRateThrottle):
    """Per API key (rate ``key``), on top of the per-user count: one leaked or runaway device key
    is held to its own budget without starving its owner's other keys of theirs."""

    scope = "key"

    def get_cache_key(self, request, view):
        prefix = getattr(request.auth, "prefix", None)
        if not prefix:
            return None
        return self.cache_format % {"scope": self.scope, "ident": prefix}
