"""django-filter pieces that follow the query rules of ``targets_site.query``."""

from __future__ import annotations

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from targets_site.query import parse_bool


class StrictBooleanField(forms.Field):
    """A form field for the boolean rule (``true/false/1/0``), for django-filter."""

    def to_python(self, value: object) -> bool | None:
        if value in (None, ""):
            return None
        try:
            return parse_bool(str(value))
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None

    def validate(self, value: object) -> None:
        # An absent filter is allowed; Field.validate would call False "required but missing".
        if value is None and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.Filter):
    """A django-filter boolean with the one rule: ``true``/``false``/``1``/``0``, else a 400."""

    field_class = StrictBooleanField
