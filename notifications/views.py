from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from notifications import services
from notifications.choices import DELIVERY_EVENTS, DeliveryStatus
from notifications.models import Notification, NotificationChannel
from notifications.serializers import NotificationChannelSerializer, NotificationSerializer
from targets_site.errors import UpstreamFailed
from targets_site.permissions import IsStaff


class NotificationChannelViewSet(viewsets.ModelViewSet):
    """Where alerts and export results are sent (staff only). The secret is never shown."""

    permission_classes = [IsStaff]
    queryset = NotificationChannel.objects.order_by("name")
    serializer_class = NotificationChannelSerializer
    filter_backends: list = []

    @extend_schema(
        request=None,
        responses={
            200: NotificationSerializer,
            502: OpenApiResponse(description="The test message was not delivered."),
        },
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Send a test message now (event ``test``); 502 with the reason when it fails."""
        channel = self.get_object()
        notification = services.notification_send_test(channel=channel)
        if notification.status != DeliveryStatus.SENT:
            raise UpstreamFailed(
                f"The test message to {channel.name} was not delivered: {notification.last_error}",
                code="delivery_failed",
                details={"notification": [str(notification.pk)]},
            )
        return Response(NotificationSerializer(notification).data)


class NotificationFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event = filters.ChoiceFilter(choices=DELIVERY_EVENTS)
    channel = filters.NumberFilter(field_name="channel_id")

    class Meta:
        model = Notification
        fields = ["status", "event", "channel"]


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Deliveries, newest first (staff only): status, attempts, last error."""

    permission_classes = [IsStaff]
    queryset = Notification.objects.select_related("channel").order_by("-id")
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    search_fields: list[str] = []
    ordering_fields = ["id", "created_at", "next_attempt_at", "sent_at"]
