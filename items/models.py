from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Item(models.Model):
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    price = models.DecimalField(max_digits=12, decimal_places=2)
    stock_quantity = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="item_price_not_negative"),
            models.CheckConstraint(
                condition=Q(stock_quantity__gte=0), name="item_stock_not_negative"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="item_name_not_empty"),
        ]
        # The list's sort keys: each ordering the API offers is an index scan, not a sort.
        indexes = [
            models.Index(fields=["price", "id"], name="item_price_idx"),
            models.Index(fields=["name", "id"], name="item_name_idx"),
            models.Index(fields=["created_at", "id"], name="item_created_idx"),
            models.Index(fields=["stock_quantity", "id"], name="item_stock_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.updated_at.timestamp():.6f}"'


class StockSource(models.TextChoices):
    """Where a stock change came from: every path that changes ``stock_quantity`` names itself."""

    ADJUST = "adjust", "adjust-stock"
    CREATE = "create", "item created"
    API = "api", "API edit"
    ADMIN = "admin", "admin edit"
    IMPORT = "import", "import_items"


class StockMovement(models.Model):
    """One stock change, kept for the record: who moved how much, why, from where, the result."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="stock_movements")
    delta = models.IntegerField()
    reason = models.CharField(max_length=200, blank=True, default="")
    source = models.CharField(
        max_length=10, choices=StockSource.choices, default=StockSource.ADJUST
    )
    resulting_quantity = models.IntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["item", "-created_at"], name="movement_item_idx")]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="movement_delta_not_zero"),
            models.CheckConstraint(
                condition=Q(resulting_quantity__gte=0), name="movement_result_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item.sku} {self.delta:+d} ({self.get_source_display()})"
