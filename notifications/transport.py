"""Sending one message over the network: webhook POSTs and email. No database access.

Raises ``SendFailed`` with a one-line reason for anything that is not a delivery; the delivery
service records it and schedules the retry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import urllib3
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend

from notifications.rules import is_delivered, webhook_headers

ERROR_MAX_CHARS = 500


class SendFailed(Exception):
    """The message was not delivered; ``str()`` says why, in one line."""


def _one_line(text: str) -> str:
    return " ".join(text.split())[:ERROR_MAX_CHARS]


class Transport:
    """Connections kept open across a batch: one HTTP pool (keep-alive), one mail connection."""

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout
        # No urllib3 retries and no redirects: a retry is the outbox's decision (with backoff
        # and a stable delivery id), and a 3xx is not a 2xx.
        self._http = urllib3.PoolManager(
            num_pools=16,
            maxsize=2,
            retries=False,
            timeout=urllib3.Timeout(total=timeout),
        )
        self._mail: BaseEmailBackend | None = None

    def close(self) -> None:
        self._http.clear()
        if self._mail is not None:
            # A broken connection on close changes nothing already sent.
            with contextlib.suppress(Exception):
                self._mail.close()
            self._mail = None

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def post_webhook(
        self, *, url: str, event: str, delivery_id: str, secret: str, body: bytes
    ) -> int:
        headers = webhook_headers(event=event, delivery_id=delivery_id, secret=secret, body=body)
        try:
            response = self._http.request(
                "POST", url, body=body, headers=headers, redirect=False, preload_content=False
            )
        except urllib3.exceptions.HTTPError as exc:
            raise SendFailed(_one_line(f"{type(exc).__name__}: {exc}")) from None
        try:
            # Read (a bounded amount) so the connection goes back to the pool for the next row.
            snippet = response.read(ERROR_MAX_CHARS, decode_content=False)
            response.drain_conn()
        except urllib3.exceptions.HTTPError as exc:
            raise SendFailed(_one_line(f"{type(exc).__name__} reading the answer: {exc}")) from None
        finally:
            response.release_conn()
        if not is_delivered(response.status):
            text = snippet.decode("utf-8", "replace")
            raise SendFailed(_one_line(f"HTTP {response.status}: {text}".rstrip(": ")))
        return response.status

    def send_email(
        self, *, to: Sequence[str], subject: str, body: str, headers: dict[str, str]
    ) -> None:
        try:
            if self._mail is None:
                self._mail = get_connection(fail_silently=False, timeout=self.timeout)
                self._mail.open()
            message = EmailMessage(
                subject=subject,
                body=body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=list(to),
                headers=headers,
                connection=self._mail,
            )
            sent = message.send(fail_silently=False)
        except Exception as exc:  # smtplib, socket and backend errors alike
            # A connection that failed once is not trusted for the next message.
            self._mail = None
            raise SendFailed(_one_line(f"{type(exc).__name__}: {exc}")) from None
        if not sent:
            raise SendFailed("The email backend accepted no message.")
