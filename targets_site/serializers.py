from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


class StrictFieldsMixin:
    """Refuse fields a client may not write (unknown or read-only) with a 400 naming each one.

    No silent mass assignment: ``{"id": 5}`` or ``{"is_staff": true}`` in a body is an error,
    not something quietly dropped.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in data if key not in writable)
            if unknown:
                raise serializers.ValidationError(
                    {key: ["Unknown or read-only field."] for key in unknown}
                )
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A CharField that takes only JSON strings: ``123`` or ``true`` for a name is a 400."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
