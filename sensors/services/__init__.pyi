"""Writes of the sensors app: ingest, alert evaluation and acknowledgement, import, generation."""

from .alerts import alert_acknowledge, alerts_evaluate
from .generation import readings_generate
from .importing import readings_import
from .ingest import readings_ingest, readings_store
from .sensors import sensor_delete

__all__ = [
    "alert_acknowledge",
    "alerts_evaluate",
    "readings_generate",
    "readings_import",
    "readings_ingest",
    "readings_store",
    "sensor_delete",
]
