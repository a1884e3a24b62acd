from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from django.http import HttpRequest
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from targets_site.permissions import AllowAny
from targets_site.serializers import StrictFieldsMixin


class TokenRequestSerializer(StrictFieldsMixin, AuthTokenSerializer):
    pass


class ObtainTokenView(APIView):
    """Exchange a username and password for the user's API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "login"
    # Asking twice is harmless (the same token), and a stored answer would be a second copy of it.
    idempotency_exempt = True

    @extend_schema(
        request=TokenRequestSerializer,
        responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}),
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


def client_ip(request: HttpRequest | Request) -> str:
    """The caller's address exactly as DRF's throttles see it (``BaseThrottle.get_ident``):
    REMOTE_ADDR, or with ``NUM_PROXIES`` set, the address that many hops back in
    X-Forwarded-For (never a value the client chose). django-axes keys login failures on it."""
    api_request = request if isinstance(request, Request) else Request(request)
    # get_ident answers None when the server gave no REMOTE_ADDR (some WSGI callers don't).
    return BaseThrottle().get_ident(api_request) or ""


class AdminOnlyAxesHandler(AxesDatabaseHandler):
    """django-axes counting the admin login only.

    ``AXES_ONLY_ADMIN_SITE`` makes axes *enforce* lockouts on the admin only, but its signal
    handlers still *record* every failed ``authenticate()`` — five wrong passwords at
    ``/api/v1/auth/token/`` would lock that address out of the admin. The API's token endpoint has
    its own ``login`` throttle, so failures and successes elsewhere are not axes' business.
    """

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None or not self.is_admin_request(request):
            return None
        return super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs):
        if request is None or not self.is_admin_request(request):
            return None
        return super().user_logged_in(sender, request, user, **kwargs)
