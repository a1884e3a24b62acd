"""Player accounts."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from targets_site.errors import InvalidInput


def player_register(*, username: str, password: str) -> tuple[AbstractBaseUser, str]:
    """Create a player and return it with its API token; Django's password validators apply."""
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise InvalidInput(details={"username": ["This username is taken."]})
    candidate = user_model(username=username)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        raise InvalidInput(details={"password": list(exc.messages)}) from None
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(username=username, password=password)
            token = _token_model().objects.create(user=user)
    except IntegrityError:
        raise InvalidInput(details={"username": ["This username is taken."]}) from None
    return user, token.key


def _token_model() -> type[Any]:
    # The API token is a row of the authtoken app, looked up like any other installed model
    # (as get_user_model does), so this service stays free of the HTTP framework's code.
    return apps.get_model("authtoken", "Token")
