from __future__ import annotations

import factory

from notifications.choices import ChannelKind
from notifications.models import NotificationChannel

SECRET = "s3cret-signing-key-0123456789"


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationChannel

    name = factory.Sequence(lambda n: f"channel-{n}")
    kind = ChannelKind.WEBHOOK
    target = "http://127.0.0.1:9/never"
    secret = SECRET
    sensors = factory.LazyFunction(list)
    events = factory.LazyFunction(lambda: ["alert.opened", "alert.closed"])
    repeat_every = 0
    is_active = True
