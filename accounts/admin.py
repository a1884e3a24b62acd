from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from accounts import services
from accounts.models import ApiKey, ApiScope
from targets_site.admin_format import short_datetime
from targets_site.errors import DomainError


class ApiKeyAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple
    )
    sensors = forms.CharField(
        required=False, help_text="Sensor codes, comma-separated; empty for every sensor."
    )

    class Meta:
        model = ApiKey
        fields = ["owner", "name", "scopes", "sensors", "expires_at"]

    def clean_sensors(self) -> list[str]:
        raw = self.cleaned_data.get("sensors") or ""
        return [code.strip() for code in raw.split(",") if code.strip()]


class RotateActionForm(ActionForm):
    grace_hours = forms.IntegerField(
        min_value=0,
        max_value=720,
        initial=1,
        required=False,
        label="Rotation grace (hours)",
        help_text="How long a rotated key keeps working.",
    )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    # Compact dates: with Django's long ones the list overflowed a 1366 px window.
    list_display = ["prefix", "name", "owner", "scopes", "last_used", "expires", "revoked"]
    list_display_links = ["prefix", "name"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["prefix", "name", "owner__username"]
    list_select_related = ["owner"]
    readonly_fields = [
        "owner",
        "prefix",
        "scopes",
        "sensors",
        "expires_at",
        "revoked_at",
        "last_used_at",
        "created_at",
        "rotated_to",
    ]
    fields = ["name", *readonly_fields]
    actions = ["revoke_selected", "rotate_selected"]
    action_form = RotateActionForm

    @admin.display(description="last used", ordering="last_used_at")
    def last_used(self, key: ApiKey) -> str:
        return short_datetime(key.last_used_at)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, key: ApiKey) -> str:
        return short_datetime(key.expires_at)

    @admin.display(description="revoked", ordering="revoked_at")
    def revoked(self, key: ApiKey) -> str:
        return short_datetime(key.revoked_at)

    def get_form(
        self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return ["owner", "name", "scopes", "sensors", "expires_at"]
        return self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        return () if obj is None else self.readonly_fields

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        # Keys are issued by the service, which shows the secret on one page and stores its hash.
        if request.method == "POST":
            form = ApiKeyAddForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    issued = services.apikey_create(
                        owner=data["owner"],
                        name=data["name"],
                        scopes=data["scopes"],
                        sensors=data["sensors"],
                        expires_at=data["expires_at"],
                    )
                except DomainError as err:
                    self.message_user(request, f"{err} {err.details}", messages.ERROR)
                else:
                    return self._issued_page(request, issued)
        return super().add_view(request, form_url, extra_context)

    def _issued_page(self, request: HttpRequest, issued: services.IssuedKey) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "API key issued",
            "api_key": issued.api_key,
            "key": issued.key,
            "opts": self.model._meta,
        }
        response = TemplateResponse(request, "admin/accounts/apikey/issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected keys")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            services.apikey_revoke(key_id=api_key.pk, user=request.user)
        self.message_user(request, f"Revoked {queryset.count()} keys.", messages.SUCCESS)

    @admin.action(description="Rotate the selected key (shows the new key once)")
    def rotate_selected(
        self, request: HttpRequest, queryset: QuerySet[ApiKey]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Rotate one key at a time.", messages.WARNING)
            return None
        try:
            hours = int(request.POST.get("grace_hours") or 1)
            issued = services.apikey_rotate(
                key_id=queryset.get().pk, user=request.user, grace=timedelta(hours=hours)
            )
        except (ValueError, DomainError) as err:
            self.message_user(request, f"Could not rotate: {err}", messages.ERROR)
            return None
        return self._issued_page(request, issued)
