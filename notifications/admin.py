from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from notifications import services
from notifications.choices import ChannelKind, DeliveryStatus, Event
from notifications.models import Notification, NotificationChannel
from notifications.serializers import (
    MIN_SECRET_CHARS,
    SENSOR_CODE,
    email_target_errors,
    webhook_target_errors,
)


class NotificationChannelForm(forms.ModelForm):
    # The stored secret is never rendered back: the field starts empty and an empty submission
    # keeps the current one.
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Webhook signing key. Leave empty to keep the current one.",
        max_length=200,
    )
    events = forms.MultipleChoiceField(choices=Event.choices, widget=forms.CheckboxSelectMultiple)
    sensors = forms.CharField(
        required=False,
        help_text="Sensor codes, comma-separated; empty: every sensor.",
        max_length=5000,
    )

    class Meta:
        model = NotificationChannel
        fields = [
            "name",
            "kind",
            "target",
            "secret",
            "sensors",
            "events",
            "repeat_every",
            "is_active",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["sensors"] = ", ".join(self.instance.sensors)
            self.initial["events"] = list(self.instance.events)
            self.initial["secret"] = ""

    def clean_sensors(self) -> list[str]:
        codes = [code.strip() for code in self.cleaned_data["sensors"].split(",") if code.strip()]
        bad = [code for code in codes if not SENSOR_CODE.match(code)]
        if bad:
            raise forms.ValidationError(f"Not sensor codes: {', '.join(bad[:10])}.")
        return list(dict.fromkeys(codes))

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        target = (cleaned.get("target") or "").strip()
        secret = cleaned.get("secret") or ""
        if target:
            errors = (
                webhook_target_errors(target)
                if kind == ChannelKind.WEBHOOK
                else email_target_errors(target)
            )
            for error in errors:
                self.add_error("target", error)
            cleaned["target"] = target
        if kind == ChannelKind.WEBHOOK:
            kept = secret or (self.instance.secret if self.instance.pk else "")
            if len(kept) < MIN_SECRET_CHARS:
                self.add_error(
                    "secret", f"A webhook needs a secret of at least {MIN_SECRET_CHARS} characters."
                )
            cleaned["secret"] = kept
        else:
            if secret:
                self.add_error("secret", "Email channels are not signed; leave it empty.")
            cleaned["secret"] = ""
        return cleaned


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    form = NotificationChannelForm
    list_display = [
        "name",
        "kind",
        "target",
        "event_list",
        "sensor_list",
        "repeat_every",
        "is_active",
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "target"]

    @admin.display(description="events")
    def event_list(self, channel: NotificationChannel) -> str:
        return ", ".join(channel.events)

    @admin.display(description="sensors")
    def sensor_list(self, channel: NotificationChannel) -> str:
        return ", ".join(channel.sensors) or "all"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "channel",
        "event",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    ]
    list_filter = ["status", "event", "channel"]
    list_select_related = ["channel"]
    search_fields = ["subject", "delivery_id", "last_error"]
    ordering = ["-id"]
    readonly_fields = [field.name for field in Notification._meta.fields]
    actions = ["retry_now"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Notifications are written by the services with the change they report.
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    @admin.display(description="last error")
    def short_error(self, notification: Notification) -> str:
        error = notification.last_error
        return error if len(error) <= 80 else error[:79] + "…"

    @admin.action(description="Retry now (dead deliveries)", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        ids = list(queryset.values_list("id", flat=True))
        retried = services.notifications_retry(ids=ids)
        self.message_user(
            request,
            f"{retried} dead deliveries are due again; deliver_notifications sends them.",
            messages.SUCCESS,
        )
        skipped = len(ids) - retried
        if skipped:
            self.message_user(
                request,
                f"{skipped} were not dead ({DeliveryStatus.PENDING} or {DeliveryStatus.SENT}) "
                "and were left as they were.",
                messages.INFO,
            )
