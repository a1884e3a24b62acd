"""deliver_notifications as separate processes on PostgreSQL: side by side, and killed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import Notification
from tests.notifications.factories import ChannelFactory
from tests.platform.subprocesses import BASE_DIR, project_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def pending_rows(channel, count: int) -> None:
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            channel=channel,
            event="export.failed",
            subject=f"export {index} failed",
            payload={"export": {"id": index}},
            next_attempt_at=now,
        )
        for index in range(count)
    )


def start_worker(database_url: str, *options: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "deliver_notifications", *options],
        cwd=BASE_DIR,
        env=project_env(DATABASE_URL=database_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_workers_side_by_side_never_send_one_notification_twice(receiver, database_url):
    # A receiver slow enough (5 ms a request) that both workers are sure to overlap.
    server = receiver(statuses=[204], delay_s=0.005)
    channel = ChannelFactory(target=server.url, events=["export.failed"])
    pending_rows(channel, 400)
    workers = [start_worker(database_url, "--batch", "10") for _ in range(2)]
    sent_by_worker = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        sent_by_worker.append(int(re.search(r"(\d+) sent", out).group(1)))
    assert sum(sent_by_worker) == 400
    assert all(sent > 0 for sent in sent_by_worker), sent_by_worker
    ids = server.delivery_ids()
    assert len(ids) == 400 and len(set(ids)) == 400
    assert Notification.objects.filter(status="sent").count() == 400
    assert set(ids) == {str(n) for n in Notification.objects.values_list("delivery_id", flat=True)}


def test_a_worker_killed_between_send_and_record_is_resent_with_the_same_delivery_id(
    receiver, database_url
):
    worker: subprocess.Popen | None = None

    def kill_the_sender_once(received) -> None:
        # The request has arrived; the worker dies before it can read the answer and record it.
        if server.count == 1:
            assert worker is not None
            os.kill(worker.pid, signal.SIGKILL)

    server = receiver(statuses=[204], on_request=kill_the_sender_once)
    channel = ChannelFactory(target=server.url, events=["export.failed"])
    pending_rows(channel, 1)
    worker = start_worker(database_url, "--batch", "1", "--timeout", "5")
    worker.communicate(timeout=60)
    assert worker.returncode == -signal.SIGKILL

    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert notification.next_attempt_at > timezone.now()  # still leased to the dead worker
    # Another worker meanwhile finds nothing due: the lease keeps it from a parallel send.
    assert services.notifications_deliver_due().claimed == 0

    # The lease runs out.
    Notification.objects.update(next_attempt_at=timezone.now())
    again = start_worker(database_url)
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert "1 sent" in out
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 2)
    # At least once: the receiver saw it twice, under one delivery id to de-duplicate on.
    assert server.delivery_ids() == [str(notification.delivery_id)] * 2
