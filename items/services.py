from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from items.models import Item, StockMovement, StockSource
from targets_site.conditional import etag_matches
from targets_site.errors import Conflict, NotFound, PreconditionFailed

# PostgreSQL's integer column: a positive adjustment must not overflow it.
STOCK_MAX = 2_147_483_647


def sku_for(item_id: int) -> str:
    return f"ITEM-{item_id:06d}"


def _placeholder_sku() -> str:
    return f"pending-{uuid.uuid4().hex}"


def _assign_generated_skus(items: list[Item]) -> None:
    """Give each saved item its ``ITEM-<id>`` SKU, in one look-up and one bulk update per 500."""
    wanted = [sku_for(item.pk) for item in items]
    taken: set[str] = set()
    for start in range(0, len(wanted), 500):
        taken.update(
            Item.objects.filter(sku__in=wanted[start : start + 500]).values_list("sku", flat=True)
        )
    for item, sku in zip(items, wanted, strict=True):
        # A client chose this SKU earlier; keep the generated one unique all the same.
        item.sku = f"{sku}-{uuid.uuid4().hex[:6].upper()}" if sku in taken else sku
    Item.objects.bulk_update(items, ["sku"], batch_size=500)


def _user_or_none(user: User | AnonymousUser | None) -> User | None:
    return user if isinstance(user, User) else None  # an AnonymousUser records no one


def _stock_movement(
    item: Item, before: int, *, source: str, user: User | AnonymousUser | None, reason: str = ""
) -> StockMovement | None:
    """The movement for a change from ``before`` to the item's stock now (none when unchanged)."""
    if item.stock_quantity == before:
        return None
    return StockMovement(
        item=item,
        delta=item.stock_quantity - before,
        reason=reason,
        source=source,
        resulting_quantity=item.stock_quantity,
        created_by=_user_or_none(user),
    )


def item_create(
    *,
    data: dict[str, Any],
    user: User | AnonymousUser | None = None,
    source: str = StockSource.CREATE,
) -> Item:
    fields = dict(data)
    sku = fields.pop("sku", None)
    try:
        with transaction.atomic():
            item = Item.objects.create(sku=sku or _placeholder_sku(), **fields)
            if not sku:
                _assign_generated_skus([item])
            movement = _stock_movement(item, 0, source=source, user=user, reason="initial stock")
            if movement is not None:
                movement.save()
    except IntegrityError:
        raise Conflict("An item with this SKU already exists.") from None
    return item


def item_update(
    *,
    item_id: int,
    data: dict[str, Any],
    if_match: Sequence[str] | None,
    user: User | AnonymousUser | None = None,
    source: str = StockSource.API,
) -> Item:
    """Update under a row lock; ``if_match`` (parsed If-Match tags) must hold the item's ETag.

    A changed ``stock_quantity`` is recorded as a movement from ``source``, like adjust-stock.
    """
    try:
        with transaction.atomic():
            item = Item.objects.select_for_update().get(pk=item_id)
            if if_match is not None and not etag_matches(if_match, item.etag):
                raise PreconditionFailed()
            before = item.stock_quantity
            for name, value in data.items():
                setattr(item, name, value)
            item.save()
            movement = _stock_movement(item, before, source=source, user=user, reason="edited")
            if movement is not None:
                movement.save()
    except Item.DoesNotExist:
        raise NotFound() from None
    except IntegrityError:
        raise Conflict("An item with this SKU already exists.") from None
    return item


def item_save(*, item: Item, user: User | AnonymousUser | None, source: str) -> Item:
    """Save an edited instance (the admin's form) and record its stock change, if any."""
    try:
        with transaction.atomic():
            if item.pk is None:
                before = 0
            else:
                stored = Item.objects.select_for_update().filter(pk=item.pk)
                before = stored.values_list("stock_quantity", flat=True).first() or 0
            if not item.sku:
                item.sku = _placeholder_sku()
                item.save()
                _assign_generated_skus([item])
            else:
                item.save()
            movement = _stock_movement(item, before, source=source, user=user, reason="edited")
            if movement is not None:
                movement.save()
    except IntegrityError:
        raise Conflict("An item with this SKU already exists.") from None
    return item


def item_delete(*, item_id: int, if_match: Sequence[str] | None) -> None:
    with transaction.atomic():
        item = Item.objects.select_for_update().filter(pk=item_id).first()
        if item is None:
            raise NotFound()
        if if_match is not None and not etag_matches(if_match, item.etag):
            raise PreconditionFailed()
        item.delete()


def item_adjust_stock(
    *, item_id: int, delta: int, reason: str, user: User | None
) -> tuple[Item, StockMovement]:
    """Move stock by ``delta`` in one conditional UPDATE, so concurrent moves never interleave.

    The WHERE clause carries the bounds: under READ COMMITTED, PostgreSQL re-checks it against the
    latest row version after waiting for a concurrent writer, so the stock can never go below zero
    whatever the interleaving. SQLite serialises writers (IMMEDIATE transactions).
    """
    bounds = (
        {"stock_quantity__gte": -delta} if delta < 0 else {"stock_quantity__lte": STOCK_MAX - delta}
    )
    with transaction.atomic():
        updated = Item.objects.filter(pk=item_id, **bounds).update(
            stock_quantity=F("stock_quantity") + delta, updated_at=timezone.now()
        )
        if not updated:
            current = (
                Item.objects.filter(pk=item_id).values_list("stock_quantity", flat=True).first()
            )
            if current is None:
                raise NotFound()
            if delta < 0:
                raise Conflict(f"Not enough stock: {current} in stock, cannot remove {-delta}.")
            raise Conflict(f"Stock would exceed {STOCK_MAX}.")
        item = Item.objects.get(pk=item_id)
        movement = StockMovement.objects.create(
            item=item,
            delta=delta,
            reason=reason,
            source=StockSource.ADJUST,
            resulting_quantity=item.stock_quantity,
            created_by=_user_or_none(user),
        )
    return item, movement


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int


def items_import(*, rows: Iterable[dict[str, Any]]) -> ImportSummary:
    """Write validated rows in one transaction: a known SKU updates its item, others are created.

    Callers validate every row first; this either writes them all or, on any database error,
    none of them. Every stock change (a new item's stock, an updated one's) is a movement.
    """
    rows = list(rows)
    skus = [row["sku"] for row in rows if row.get("sku")]
    existing: dict[str, Item] = {}
    for start in range(0, len(skus), 500):
        for item in Item.objects.filter(sku__in=skus[start : start + 500]):
            existing[item.sku] = item

    to_create: list[Item] = []
    to_update: list[Item] = []
    generated: list[Item] = []
    update_fields: set[str] = set()
    stock_before: dict[int, int] = {}
    for row in rows:
        sku = row.get("sku")
        if sku and sku in existing:
            item = existing[sku]
            stock_before.setdefault(item.pk, item.stock_quantity)
            for name, value in row.items():
                setattr(item, name, value)
            update_fields.update(name for name in row if name != "sku")
            to_update.append(item)
        else:
            item = Item(**{**row, "sku": sku or _placeholder_sku()})
            to_create.append(item)
            if not sku:
                generated.append(item)

    now = timezone.now()
    try:
        with transaction.atomic():
            Item.objects.bulk_create(to_create, batch_size=500)
            for item in to_update:
                item.updated_at = now
            if to_update:
                Item.objects.bulk_update(
                    to_update, sorted(update_fields | {"updated_at"}), batch_size=500
                )
            if generated:
                _assign_generated_skus(generated)
            movements = [
                _stock_movement(
                    item,
                    stock_before.get(item.pk, 0),
                    source=StockSource.IMPORT,
                    user=None,
                    reason="import_items",
                )
                for item in [*to_create, *to_update]
            ]
            StockMovement.objects.bulk_create(
                [movement for movement in movements if movement is not None], batch_size=500
            )
    except IntegrityError as exc:
        raise Conflict(f"The import conflicts with existing items: {exc}") from None
    return ImportSummary(created=len(to_create), updated=len(to_update))
