"""Writes of the sensors app: ingest, alert evaluation and acknowledgement, import, generation."""

from __future__ import annotations

from sensors.services.alerts import alert_acknowledge, alerts_evaluate
from sensors.services.generation import readings_generate
from sensors.services.importing import readings_import
from sensors.services.ingest import readings_ingest, readings_store
from sensors.services.sensors import sensor_delete

__all__ = [
    "alert_acknowledge",
    "alerts_evaluate",
    "readings_generate",
    "readings_import",
    "readings_ingest",
    "readings_store",
    "sensor_delete",
]
