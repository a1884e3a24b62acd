"""Creating, revoking and rotating API keys; recording their use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import keys
from accounts.models import ApiKey, ApiScope
from targets_site.errors import Conflict, InvalidInput, NotFound

# last_used_at is written at most this often per key: a device posting every second costs one
# UPDATE a minute, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_GRACE = timedelta(days=30)


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    key: str  # shown once, never stored


def _pepper() -> bytes:
    return settings.API_KEY_PEPPER.encode()


def _owner_filter(user: Any) -> Q:
    return Q() if user.is_staff else Q(owner=user)


def apikey_create(
    *,
    owner: Any,
    name: str,
    scopes: Sequence[str],
    sensors: Sequence[str] = (),
    expires_at: datetime | None = None,
) -> IssuedKey:
    unknown = sorted(set(scopes) - set(ApiScope.values))
    if unknown:
        raise InvalidInput(details={"scopes": [f"Unknown scope: {scope}." for scope in unknown]})
    if not scopes:
        raise InvalidInput(details={"scopes": ["Give at least one scope."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput(details={"expires_at": ["The expiry must be in the future."]})
    if sensors:
        # Imported here: accounts must not make the sensors app a start-up dependency of auth.
        from sensors.models import Sensor

        known = set(Sensor.objects.filter(code__in=sensors).values_list("code", flat=True))
        missing = sorted(set(sensors) - known)
        if missing:
            raise InvalidInput(
                details={"sensors": [f"Unknown sensor: {code}." for code in missing]}
            )
    for _ in range(5):
        key = keys.key_generate()
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    owner=owner,
                    name=name,
                    prefix=keys.key_prefix(key),
                    hash=keys.key_hash(key, pepper=_pepper()),
                    scopes=sorted(set(scopes)),
                    sensors=sorted(set(sensors)),
                    expires_at=expires_at,
                )
        except IntegrityError:
            continue  # a prefix collision (48 random bits): draw again
        return IssuedKey(api_key=api_key, key=key)
    raise Conflict("Could not issue a unique key; try again.")


def apikey_authenticate(*, key: str) -> ApiKey | None:
    """The live or dead key row for ``key`` (None when it is not ours); callers check liveness."""
    if not keys.key_looks_valid(key):
        return None
    api_key = ApiKey.objects.select_related("owner").filter(prefix=keys.key_prefix(key)).first()
    if api_key is None or not keys.key_matches(key, api_key.hash, pepper=_pepper()):
        return None
    return api_key


def apikey_touch(*, api_key: ApiKey, now: datetime | None = None) -> None:
    """Record a use, at most once per minute per key (a conditional UPDATE, race-free)."""
    now = now or timezone.now()
    cutoff = now - LAST_USED_RESOLUTION
    if api_key.last_used_at is not None and api_key.last_used_at > cutoff:
        return
    ApiKey.objects.filter(pk=api_key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=cutoff)
    ).update(last_used_at=now)
    api_key.last_used_at = now


def apikey_revoke(*, key_id: int, user: Any) -> ApiKey:
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().filter(_owner_filter(user), pk=key_id).first()
        if api_key is None:
            raise NotFound("No such API key.")
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
    return api_key


def apikey_rotate(*, key_id: int, user: Any, grace: timedelta) -> IssuedKey:
    """A new key with the same owner, name, scopes and sensors; the old one lives ``grace`` more."""
    if grace < timedelta(0) or grace > MAX_GRACE:
        raise InvalidInput(
            details={"grace_seconds": [f"Between 0 and {int(MAX_GRACE.total_seconds())} seconds."]}
        )
    with transaction.atomic():
        old = ApiKey.objects.select_for_update().filter(_owner_filter(user), pk=key_id).first()
        if old is None:
            raise NotFound("No such API key.")
        now = timezone.now()
        if not old.is_live(now):
            raise Conflict("This key is revoked or expired; create a new one instead.")
        issued = apikey_create(
            owner=old.owner,
            name=old.name,
            scopes=old.scopes,
            sensors=old.sensors,
            expires_at=old.expires_at,
        )
        ends = now + grace
        old.expires_at = min(ends, old.expires_at) if old.expires_at else ends
        old.rotated_to = issued.api_key
        old.save(update_fields=["expires_at", "rotated_to"])
    return issued
