from __future__ import annotations

import django_filters

from items.models import Item


class ItemFilter(django_filters.FilterSet):
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte", max_digits=20)
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte", max_digits=20)
    in_stock = django_filters.BooleanFilter(method="filter_in_stock")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Item
        fields = ["min_price", "max_price", "in_stock", "is_active"]

    def filter_in_stock(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(stock_quantity__gt=0) if value else queryset.filter(stock_quantity=0)
