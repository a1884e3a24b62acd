"""Datasets: the registry (``registry``), filter checking (``filters``), COPY SQL (``sql``)."""

from __future__ import annotations

from exports.datasets.filters import filter_datetime, filters_clean
from exports.datasets.registry import (
    CHUNK_SIZE,
    Column,
    Dataset,
    dataset_for_model,
    dataset_get,
    datasets_available,
)

__all__ = [
    "CHUNK_SIZE",
    "Column",
    "Dataset",
    "dataset_for_model",
    "dataset_get",
    "datasets_available",
    "filter_datetime",
    "filters_clean",
]
