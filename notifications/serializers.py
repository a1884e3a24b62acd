from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator
from rest_framework import serializers

from notifications.choices import ChannelKind, Event
from notifications.models import Notification, NotificationChannel
from targets_site.serializers import StrictCharField, StrictFieldsMixin

# The sensors app's code rule, restated: notifications does not import sensors.
SENSOR_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
MAX_REPEAT_EVERY_S = 30 * 24 * 3600
MIN_SECRET_CHARS = 16
_url = URLValidator(schemes=["http", "https"])
_email = EmailValidator()


def webhook_target_errors(target: str) -> list[str]:
    if not target.lower().startswith(("http://", "https://")):
        return ["A webhook target must be an http:// or https:// URL."]
    try:
        _url(target)
    except DjangoValidationError:
        return ["Enter a valid http:// or https:// URL."]
    return []


def email_target_errors(target: str) -> list[str]:
    addresses = [part.strip() for part in target.split(",")]
    if any(not address for address in addresses):
        return ["Give comma-separated email addresses, with none empty."]
    errors = []
    for address in addresses:
        try:
            _email(address)
        except DjangoValidationError:
            errors.append(f"{address[:100]!r} is not a valid email address.")
    return errors


class NotificationChannelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    name = StrictCharField(max_length=100)
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    target = StrictCharField(
        max_length=2000,
        allow_blank=True,
        help_text="An http(s) URL (webhook) or comma-separated email addresses (email).",
    )
    secret = StrictCharField(
        max_length=200,
        write_only=True,
        required=False,
        allow_blank=True,
        help_text=f"Webhook signing key (at least {MIN_SECRET_CHARS} characters); never shown.",
    )
    has_secret = serializers.SerializerMethodField()
    sensors = serializers.ListField(
        child=StrictCharField(max_length=50),
        required=False,
        max_length=1000,
        help_text="Sensor codes whose alerts this channel hears; empty: every sensor.",
    )
    events = serializers.ListField(
        child=StrictCharField(max_length=20),
        min_length=1,
        max_length=len(Event.values),
        help_text=f"Any of {', '.join(Event.values)}.",
    )
    repeat_every = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_REPEAT_EVERY_S,
        help_text="Seconds between reminders while an alert stays open and unacknowledged "
        "(0: never).",
    )

    class Meta:
        model = NotificationChannel
        fields = [
            "id",
            "name",
            "kind",
            "target",
            "secret",
            "has_secret",
            "sensors",
            "events",
            "repeat_every",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "has_secret", "created_at", "updated_at"]

    def get_has_secret(self, channel: NotificationChannel) -> bool:
        return bool(channel.secret)

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        clash = NotificationChannel.objects.filter(name=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("A channel with this name already exists.")
        return value

    def validate_events(self, value: list[str]) -> list[str]:
        unknown = [event for event in value if event not in Event.values]
        if unknown:
            names = ", ".join(repr(event[:40]) for event in unknown)
            raise serializers.ValidationError(
                f"Unknown events {names}; choose from {', '.join(Event.values)}."
            )
        return list(dict.fromkeys(value))

    def validate_sensors(self, value: list[str]) -> list[str]:
        bad = [code for code in value if not SENSOR_CODE.match(code)]
        if bad:
            raise serializers.ValidationError(
                f"Not sensor codes: {', '.join(repr(code) for code in bad[:10])}."
            )
        return list(dict.fromkeys(value))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        def current(name: str, default: Any = None) -> Any:
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name) if self.instance is not None else default

        kind = current("kind")
        target = (current("target") or "").strip()
        secret = current("secret", "")
        errors: dict[str, list[str]] = {}
        if not target:
            errors["target"] = ["Give a URL (webhook) or email addresses (email)."]
        elif kind == ChannelKind.WEBHOOK:
            errors["target"] = webhook_target_errors(target)
        else:
            errors["target"] = email_target_errors(target)
        if kind == ChannelKind.WEBHOOK and len(secret or "") < MIN_SECRET_CHARS:
            errors["secret"] = [
                f"A webhook needs a signing secret of at least {MIN_SECRET_CHARS} characters."
            ]
        if kind == ChannelKind.EMAIL and attrs.get("secret"):
            errors["secret"] = ["Email channels are not signed; leave the secret empty."]
        errors = {name: messages for name, messages in errors.items() if messages}
        if errors:
            raise serializers.ValidationError(errors)
        if "target" in attrs:
            attrs["target"] = target
        if kind == ChannelKind.EMAIL:
            attrs["secret"] = ""  # a webhook turned into an email channel keeps no key
        return attrs


class NotificationSerializer(serializers.ModelSerializer):
    channel = serializers.PrimaryKeyRelatedField[NotificationChannel](read_only=True)
    channel_name = serializers.CharField(source="channel.name", read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "channel",
            "channel_name",
            "event",
            "subject",
            "payload",
            "delivery_id",
            "status",
            "attempts",
            "next_attempt_at",
            "last_error",
            "sent_at",
            "created_at",
        ]
        read_only_fields = fields
