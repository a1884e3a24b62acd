"""The Redis cache backend (targets_site/cache.py) against a real Redis on 127.0.0.1."""

from __future__ import annotations

import os
import uuid

from targets_site.cache import RedisCache

REDIS = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def test_one_redis_client_serves_every_call_and_values_round_trip():
    cache = RedisCache(REDIS, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    client = cache._cache.get_client(write=True)
    cache.set("history", [1.5, 2.5], 30)
    assert cache.get("history") == [1.5, 2.5]
    assert cache._cache.get_client() is client
    cache.delete("history")
    assert cache.get("history", "gone") == "gone"
