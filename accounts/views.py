from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import services
from accounts.models import ApiKey
from accounts.serializers import (
    ApiKeyCreateSerializer,
    ApiKeyIssuedSerializer,
    ApiKeyRotateSerializer,
    ApiKeySerializer,
)
from targets_site.permissions import IsAuthenticated


def _issued(issued: services.IssuedKey) -> dict[str, Any]:
    return {**ApiKeySerializer(issued.api_key).data, "key": issued.key}


class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's API keys (staff: everyone's). The key itself is shown once, when issued."""

    serializer_class = ApiKeySerializer
    permission_classes = [IsAuthenticated]
    # A stored replay of a create or rotate answer would be a copy of the key in the database.
    idempotency_exempt = True

    queryset = ApiKey.objects.none()  # the schema's model; get_queryset scopes it per caller
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[ApiKey]:
        keys = ApiKey.objects.select_related("owner").order_by("-created_at", "-id")
        user = self.request.user
        if getattr(self, "swagger_fake_view", False) or not user.is_authenticated:
            return keys.none()
        return keys if user.is_staff else keys.filter(owner=user)

    @extend_schema(request=ApiKeyCreateSerializer, responses={201: ApiKeyIssuedSerializer})
    def create(self, request: Request) -> Response:
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.apikey_create(owner=request.user, **serializer.validated_data)
        return Response(_issued(issued), status=status.HTTP_201_CREATED)

    @extend_schema(description="Revoke the key: it answers 401 from now on.")
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.apikey_revoke(key_id=self.get_object().pk, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ApiKeyRotateSerializer, responses={201: ApiKeyIssuedSerializer})
    @action(detail=True, methods=["post"])
    def rotate(self, request: Request, pk: str | None = None) -> Response:
        """Issue a new key like this one; the old one keeps working for ``grace_seconds``."""
        serializer = ApiKeyRotateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.apikey_rotate(
            key_id=self.get_object().pk,
            user=request.user,
            grace=timedelta(seconds=serializer.validated_data["grace_seconds"]),
        )
        return Response(_issued(issued), status=status.HTTP_201_CREATED)
