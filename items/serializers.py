from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.validators import UniqueValidator

from items.models import Item, StockMovement
from items.services import STOCK_MAX
from targets_site.serializers import StrictCharField, StrictFieldsMixin

sku_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
    "Use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.",
)


CENT = Decimal("0.01")


def _money(value: Decimal | str | float) -> str:
    """DRF's DecimalField output for 2 places: ``Decimal("7")`` -> ``"7.00"``, never exponents."""
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    return f"{amount.quantize(CENT):f}"


def _timestamp(value: datetime) -> str:
    """DRF's DateTimeField output in UTC (the API's time zone): ISO 8601 with ``Z``."""
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class ItemSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    sku = StrictCharField(
        required=False,
        max_length=64,
        validators=[sku_validator, UniqueValidator(queryset=Item.objects.all())],
    )
    name = StrictCharField(max_length=200)
    description = StrictCharField(required=False, allow_blank=True, max_length=10_000)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    stock_quantity = serializers.IntegerField(required=False, min_value=0, max_value=STOCK_MAX)
    is_active = serializers.BooleanField(required=False)

    class Meta:
        model = Item
        fields = [
            "id",
            "sku",
            "name",
            "description",
            "price",
            "stock_quantity",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def to_representation(self, instance: Item | Mapping[str, Any]) -> dict[str, Any]:
        # The hot path of the list (up to 500 rows a request): DRF's generic field-by-field
        # output costs several times this. The list passes ``.values()`` rows (no model
        # instances to build); other actions pass the item. tests/items/
        # test_item_representation.py keeps both identical to DRF's generic output.
        row = (
            instance
            if isinstance(instance, Mapping)
            else {name: getattr(instance, name) for name in self.Meta.fields}
        )
        return {
            "id": row["id"],
            "sku": row["sku"],
            "name": row["name"],
            "description": row["description"],
            "price": _money(row["price"]),
            "stock_quantity": row["stock_quantity"],
            "is_active": row["is_active"],
            "created_at": _timestamp(row["created_at"]),
            "updated_at": _timestamp(row["updated_at"]),
        }


class StockAdjustmentSerializer(StrictFieldsMixin, serializers.Serializer):
    delta = serializers.IntegerField(min_value=-STOCK_MAX, max_value=STOCK_MAX)
    reason = StrictCharField(required=False, allow_blank=True, max_length=200, default="")

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("A stock adjustment cannot be zero.")
        return value


class StockMovementSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockMovement
        fields = ["id", "delta", "reason", "resulting_quantity", "created_at"]
        read_only_fields = fields


class StockAdjustmentResultSerializer(serializers.Serializer):
    item = ItemSerializer()
    movement = StockMovementSerializer()


class ItemImportSerializer(ItemSerializer):
    """An import row: a known SKU updates its item, so SKU uniqueness is not an error here."""

    sku = StrictCharField(required=False, max_length=64, validators=[sku_validator])
