from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from targets_site.parsers import JSONObject

if TYPE_CHECKING:
    # The mixin only ever sits in front of a Serializer: let the type checker see its fields.
    _SerializerBase = serializers.Serializer
else:
    _SerializerBase = object


class StrictFieldsMixin(_SerializerBase):
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
            if isinstance(data, JSONObject):
                wrong = {
                    name: [message]
                    for name, value in data.items()
                    if (message := _json_type_error(self.fields[name], value))
                }
                if wrong:
                    raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


# DRF coerces freely ("5" or 5.0 for an integer, 0 or "yes" for a boolean, 12 for a string).
# A JSON API says what type each field is, and a body that sends another type is a 400, so a
# client bug shows at once instead of being guessed at. Decimals take strings or numbers (SPEC).
_JSON_TYPES: list[tuple[type[serializers.Field], tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), "Must be true or false."),
    (serializers.IntegerField, (int,), "Must be a JSON integer."),
    (serializers.FloatField, (int, float), "Must be a JSON number."),
    (serializers.DecimalField, (str, int, float), "Must be a decimal string or a number."),
    (serializers.DateTimeField, (str,), "Must be an ISO 8601 date-time string."),
    (serializers.DateField, (str,), "Must be an ISO 8601 date string."),
    (serializers.UUIDField, (str,), "Must be a UUID string."),
    (serializers.CharField, (str,), "Must be a string."),
]


def _json_type_error(field: serializers.Field, value: Any) -> str | None:
    if value is None:
        return None  # allow_null / required is the field's own business
    for field_class, types, message in _JSON_TYPES:
        if isinstance(field, field_class):
            if isinstance(value, bool) and bool not in types:
                return message
            return None if isinstance(value, types) else message
    return None


class StrictCharField(serializers.CharField):
    """A CharField that takes only JSON strings: ``123`` or ``true`` for a name is a 400."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
