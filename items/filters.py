from __future__ import annotations

import django_filters

from items.models import Item

# A typo such as ``in_stock=yes`` is a 400, not a filter silently dropped.
_BOOLEAN_CHOICES = [("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")]


def _as_bool(value: str) -> bool:
    return value in ("true", "1")


class ItemFilter(django_filters.FilterSet):
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte", max_digits=20)
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte", max_digits=20)
    in_stock = django_filters.TypedChoiceFilter(
        choices=_BOOLEAN_CHOICES, coerce=_as_bool, method="filter_in_stock"
    )
    is_active = django_filters.TypedChoiceFilter(choices=_BOOLEAN_CHOICES, coerce=_as_bool)

    class Meta:
        model = Item
        fields = ["min_price", "max_price", "in_stock", "is_active"]

    def filter_in_stock(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(stock_quantity__gt=0) if value else queryset.filter(stock_quantity=0)
