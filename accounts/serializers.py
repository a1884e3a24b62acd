from __future__ import annotations

from rest_framework import serializers

from accounts.models import ApiKey, ApiScope
from targets_site.serializers import StrictCharField, StrictFieldsMixin


class ApiKeySerializer(serializers.ModelSerializer):
    """A key as lists show it: never the secret, never its hash."""

    owner = serializers.CharField(source="owner.username", read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "owner",
            "scopes",
            "sensors",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "created_at",
        ]
        read_only_fields = fields


class ApiKeyCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    name = StrictCharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=ApiScope.choices), allow_empty=False, max_length=10
    )
    sensors = serializers.ListField(
        child=StrictCharField(max_length=50), required=False, default=list, max_length=1000
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ApiKeyIssuedSerializer(ApiKeySerializer):
    """The one answer that carries the key: the creating (or rotating) response."""

    key = serializers.CharField(read_only=True)

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiKeyRotateSerializer(StrictFieldsMixin, serializers.Serializer):
    grace_seconds = serializers.IntegerField(min_value=0, max_value=30 * 24 * 3600, default=3600)
