"""API key material: generation, the stored hash, and the prefix that names a key in lists.

Pure functions, no database. A key is ``tgt_`` + 43 URL-safe characters (32 random bytes). Only
``HMAC-SHA256(pepper, key)`` is stored. A slow password hash (PBKDF2, bcrypt) exists to make a
guessed *password* expensive to confirm; a key has 256 bits of entropy, so there is nothing to
guess, and a slow hash would cost every API request tens of milliseconds for no protection. The
pepper (from settings, never in the database) means a stolen database alone cannot even confirm a
candidate key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "tgt_"
# The part of a key shown in lists and logs: the fixed prefix and 8 random characters. Unique in
# the table, so it finds the one row whose hash is then compared.
PREFIX_LENGTH = len(KEY_PREFIX) + 8
RANDOM_BYTES = 32


def key_generate() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(RANDOM_BYTES)


def key_prefix(key: str) -> str:
    return key[:PREFIX_LENGTH]


def key_hash(key: str, *, pepper: bytes) -> str:
    return hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()


def key_matches(key: str, stored_hash: str, *, pepper: bytes) -> bool:
    """Constant-time comparison of a presented key with a stored hash."""
    return hmac.compare_digest(key_hash(key, pepper=pepper), stored_hash)


def key_looks_valid(key: str) -> bool:
    """Cheap shape check before any database look-up (a bearer token of ours, not garbage)."""
    return (
        key.startswith(KEY_PREFIX)
        and len(key) == len(KEY_PREFIX) + 43
        and all(ch.isalnum() or ch in "-_" for ch in key[len(KEY_PREFIX) :])
    )
