"""The receiver example in docs/notifications.md, run against real deliveries."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from django.conf import settings

from notifications import services
from notifications.models import Notification
from tests.notifications.factories import SECRET, ChannelFactory

pytestmark = pytest.mark.django_db


def docs_receiver() -> dict:
    text = (Path(settings.BASE_DIR) / "docs" / "notifications.md").read_text()
    code = re.search(r"```python\n(import hashlib.*?)```", text, re.S).group(1)
    *receiver, serve = code.strip().splitlines()
    assert serve.startswith("HTTPServer(")
    assert len(receiver) == 10
    namespace: dict = {}
    exec("\n".join(receiver), namespace)  # the documented code, unchanged
    return namespace


def test_the_documented_receiver_accepts_signed_deliveries_and_refuses_forged_ones():
    namespace = docs_receiver()
    namespace["SECRET"] = SECRET.encode()
    server = namespace["HTTPServer"](("127.0.0.1", 0), namespace["Receiver"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        good = ChannelFactory(target=url, secret=SECRET, events=["export.failed"])
        forged = ChannelFactory(target=url, secret="not-the-secret-0123", events=["export.failed"])
        from django.db import transaction

        with transaction.atomic():
            services.notifications_enqueue(event="export.failed", subject="x", payload={})
        services.notifications_deliver_due()
        status = dict(Notification.objects.values_list("channel", "status"))
        assert status == {good.pk: "sent", forged.pk: "pending"}
        errors = dict(Notification.objects.values_list("channel", "last_error"))
        assert errors[forged.pk].startswith("HTTP 401")
        sent = Notification.objects.get(channel=good)
        assert namespace["seen"] == {str(sent.delivery_id)}
    finally:
        server.shutdown()
        server.server_close()
