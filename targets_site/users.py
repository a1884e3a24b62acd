"""The signed-in user of a request, as the ``User`` that services take.

Only Django is imported here (DRF's ``Request`` for the type checker alone): the admin modules use
this, and every management command loads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

if TYPE_CHECKING:
    from rest_framework.request import Request


def signed_in_user(request: HttpRequest | Request) -> User:
    """The request's user, for API views and admin actions that already required a signed-in one.

    ``request.user`` may be an ``AnonymousUser``; services take a real ``User``. Should a view's
    permissions ever let an anonymous caller through, this is a 403 (in the API and the admin
    alike), not a crash further down.
    """
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user
