from __future__ import annotations

from django.contrib import admin

from items import services
from items.models import Item, StockMovement, StockSource
from targets_site.errors import DomainError


class StockMovementInline(admin.TabularInline):
    model = StockMovement
    extra = 0
    can_delete = False
    readonly_fields = (
        "created_at",
        "delta",
        "resulting_quantity",
        "source",
        "reason",
        "created_by",
    )
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

    def save_model(self, request, obj, form, change) -> None:
        # Through the service, so a stock edited in the form is recorded as a movement too.
        try:
            services.item_save(item=obj, user=request.user, source=StockSource.ADMIN)
        except DomainError as err:
            self.message_user(request, str(err), level="error")
