from __future__ import annotations

from decimal import Decimal
from typing import Any

from items.models import Item

CATALOGUE = [
    ("DEMO-LAPTOP", "Laptop", "14-inch laptop, 16 GB RAM, 512 GB SSD.", "1200.00", 12),
    ("DEMO-MOUSE", "Wireless Mouse", "Two-button optical mouse with USB receiver.", "25.50", 140),
    ("DEMO-HUB", "USB-C Hub", "Seven ports: HDMI, 3x USB-A, SD, microSD, USB-C PD.", "49.99", 60),
    ("DEMO-KEYBOARD", "Keyboard", "Mechanical keyboard, brown switches.", "75.00", 35),
    ("DEMO-MONITOR", "Monitor", "27-inch 1440p IPS monitor.", "299.99", 8),
    ("DEMO-HEADSET", "Headset", "Wired headset with boom microphone.", "59.00", 0),
    ("DEMO-WEBCAM", "Webcam", "1080p webcam with privacy shutter.", "39.90", 22),
    ("DEMO-DOCK", "Docking Station", "Thunderbolt dock, dual 4K output.", "229.00", 4),
]


def demo_seed(*, stdout: Any) -> None:
    """The demo catalogue, keyed by SKU so running it again changes nothing."""
    created = 0
    for sku, name, description, price, stock in CATALOGUE:
        _, was_created = Item.objects.get_or_create(
            sku=sku,
            defaults={
                "name": name,
                "description": description,
                "price": Decimal(price),
                "stock_quantity": stock,
            },
        )
        created += was_created
    stdout.write(f"items: {len(CATALOGUE)} demo items ({created} new)")
