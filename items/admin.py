from __future__ import annotations

from django.contrib import admin

from exports.admin import export_selected
from items.models import Item, StockMovement


class StockMovementInline(admin.TabularInline):
    model = StockMovement
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "delta", "resulting_quantity", "reason", "created_by")
    fields = readonly_fields
    ordering = ["-created_at", "-id"]
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        # Movements are written only by the stock service, never typed in by hand.
        return False


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "price", "stock_quantity", "is_active", "updated_at"]
    list_filter = ["is_active", "created_at"]
    search_fields = ["sku", "name", "description"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["id"]
    list_per_page = 50
    inlines = [StockMovementInline]
    actions = [export_selected]
