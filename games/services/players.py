"""Player accounts."""

from __future__ import annotations

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError


def player_register(*, username: str, password: str) -> tuple[AbstractBaseUser, str]:
    """Create a player and return it with its API token; Django's password validators apply."""
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": ["This username is taken."]})
    candidate = user_model(username=username)
    try:
        password_validation.validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from None
    try:
        with transaction.atomic():
            user = user_model.objects.create_user(username=username, password=password)
            token = Token.objects.create(user=user)
    except IntegrityError:
        raise ValidationError({"username": ["This username is taken."]}) from None
    return user, token.key
