"""Safe retries: the ``Idempotency-Key`` request header on every non-idempotent API POST.

Implements the IETF draft "The Idempotency-Key HTTP Header Field" for ``POST /api/v1/…``:

1. The first request with a key claims it (a row, unique per owner and key) and runs.
2. Its response is stored with the key, unless it says the request never ran (5xx, 401, 403,
   429: the client should retry and the retry should run).
3. The same key from the same owner with the same method, path and body within
   ``IDEMPOTENCY_KEY_TTL`` answers the stored response (same status, body, ``ETag`` and
   ``Location``, plus ``Idempotent-Replayed: true``); the view does not run again.
4. The same key with another path or body is a 422; a second request while the first still runs
   is a 409 (its lock lapses after ``IDEMPOTENCY_LOCK_TIMEOUT``, so a crashed request's key is
   not stuck).

A view whose answer must not be stored (a secret shown once) sets ``idempotency_exempt = True``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from targets_site.auth import client_ip
from targets_site.exceptions import error_body
from targets_site.models import IdempotencyKey

logger = logging.getLogger("targets.idempotency")

IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
# Longer than gunicorn's worker timeout: a request still running is never taken over.
IDEMPOTENCY_LOCK_TIMEOUT = timedelta(seconds=120)
# Printable ASCII, as the draft's sf-string allows.
_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")
_NOT_STORED = {401, 403, 429}
_REPLAYED_HEADERS = ("Content-Type", "ETag", "Location")


class KeyInFlight(Exception):
    """A request with this key is still running."""


class KeyReused(Exception):
    """This key was used for a different request."""


@dataclass(frozen=True)
class Claim:
    """The outcome of presenting a key: run the request (``record_id``) or replay ``stored``."""

    record_id: int | None
    stored: IdempotencyKey | None = None


def parse_key(value: str) -> str | None:
    """The key as sent (a structured-field string arrives in quotes), or None if malformed."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value if _KEY.match(value) else None


def request_digest(*, method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256(f"{method} {path}?{query}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def idempotency_claim(
    *, owner: str, user_id: int | None, key: str, digest: str, path: str
) -> Claim:
    """Claim ``key`` for a new request, or find the stored answer to replay.

    Raises ``KeyReused`` for another request under the same key, ``KeyInFlight`` while the
    first request holds its lock.
    """
    now = timezone.now()
    fresh = {
        "request_digest": digest,
        "request_path": path[:255],
        "status": IdempotencyKey.Status.IN_PROGRESS,
        "locked_until": now + IDEMPOTENCY_LOCK_TIMEOUT,
        "response_status": None,
        "response_headers": {},
        "response_body": b"",
        "expires_at": now + IDEMPOTENCY_KEY_TTL,
    }
    for _attempt in range(3):
        try:
            with transaction.atomic():
                created = IdempotencyKey.objects.create(
                    owner=owner, user_id=user_id, key=key, **fresh
                )
            return Claim(record_id=created.pk)
        except IntegrityError:
            pass
        record = IdempotencyKey.objects.filter(owner=owner, key=key).first()
        if record is None:  # purged between the insert and the read: insert again
            continue
        if record.expires_at <= now:
            # An expired key is a new key; the conditional update lets one racer win.
            if IdempotencyKey.objects.filter(pk=record.pk, expires_at__lte=now).update(**fresh):
                return Claim(record_id=record.pk)
            continue
        if record.request_digest != digest:
            raise KeyReused()
        if record.status == IdempotencyKey.Status.COMPLETED:
            return Claim(record_id=None, stored=record)
        if record.locked_until is not None and record.locked_until > now:
            raise KeyInFlight()
        taken = IdempotencyKey.objects.filter(
            pk=record.pk,
            status=IdempotencyKey.Status.IN_PROGRESS,
            locked_until=record.locked_until,
        ).update(locked_until=now + IDEMPOTENCY_LOCK_TIMEOUT)
        if taken:
            logger.warning("idempotency key %s of %s taken over after its lock lapsed", key, owner)
            return Claim(record_id=record.pk)
        raise KeyInFlight()
    raise KeyInFlight()


def idempotency_complete(*, record_id: int, response: HttpResponse) -> None:
    """Store the response for replays, or free the key when the request did not really run."""
    if response.streaming or response.status_code >= 500 or response.status_code in _NOT_STORED:
        idempotency_release(record_id=record_id)
        return
    headers = {name: response[name] for name in _REPLAYED_HEADERS if response.has_header(name)}
    IdempotencyKey.objects.filter(pk=record_id).update(
        status=IdempotencyKey.Status.COMPLETED,
        locked_until=None,
        response_status=response.status_code,
        response_headers=headers,
        response_body=response.content,
    )


def idempotency_release(*, record_id: int) -> None:
    IdempotencyKey.objects.filter(pk=record_id, status=IdempotencyKey.Status.IN_PROGRESS).delete()


def replay_response(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(stored.response_body), status=stored.response_status)
    for name, value in stored.response_headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


class IdempotencyMiddleware:
    """Applies ``Idempotency-Key`` to every POST under ``/api/v1/`` (see the module docstring).

    It sits after the authentication middleware and authenticates the request with the view's
    own DRF authenticators (token, session, …) to know whose key it is; a request that fails
    authentication passes through untouched, and the view refuses it as usual.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        record_id = getattr(request, "_idempotency_record_id", None)
        if record_id is not None:
            try:
                idempotency_complete(record_id=record_id, response=response)
            except DatabaseError:
                # The request ran; only its replay copy is lost. A retry after the lock lapses
                # runs again, which is the documented limit (docs/RELIABILITY.md).
                logger.exception("could not store the response for an idempotency key")
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        if request.method != "POST" or not request.path.startswith("/api/v1/"):
            return None
        supplied = request.headers.get("Idempotency-Key")
        if supplied is None:
            return None
        view_class = getattr(view_func, "cls", None)
        if view_class is None or getattr(view_class, "idempotency_exempt", False):
            return None
        key = parse_key(supplied)
        if key is None:
            return _error(
                400,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 printable ASCII characters.",
            )
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return None  # the parser answers 413; nothing runs, so nothing to remember
        owner, user_id = self._owner(request, view_class, getattr(view_func, "initkwargs", {}))
        if owner is None:
            return None
        digest = request_digest(
            method=request.method,
            path=request.path,
            query=request.META.get("QUERY_STRING", ""),
            body=request.body,
        )
        try:
            claim = idempotency_claim(
                owner=owner, user_id=user_id, key=key, digest=digest, path=request.path
            )
        except KeyReused:
            return _error(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request.",
            )
        except KeyInFlight:
            response = _error(
                409,
                "idempotency_key_in_use",
                "A request with this Idempotency-Key is still being processed; retry later.",
            )
            response["Retry-After"] = "1"
            return response
        except DatabaseError:
            logger.warning("idempotency keys unavailable", exc_info=True)
            return _error(
                503, "service_unavailable", "The database is unavailable; try again shortly."
            )
        if claim.stored is not None:
            return replay_response(claim.stored)
        # Per-request state for process_response (read back with getattr); HttpRequest has no
        # declared slot for it.
        request._idempotency_record_id = claim.record_id  # type: ignore[attr-defined]
        return None

    @staticmethod
    def _owner(request: HttpRequest, view_class, initkwargs) -> tuple[str | None, int | None]:
        """Whose key this is: the user the view would authenticate, else the client address."""
        try:
            view = view_class(**initkwargs)
            user = Request(request, authenticators=view.get_authenticators()).user
        except APIException:
            return None, None
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}", user.pk
        return f"anon:{client_ip(request)}", None
