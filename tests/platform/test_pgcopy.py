"""Numeric columns read by a binary COPY equal the same rows fetched as tuples."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from targets_site.pgcopy import float_columns

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SERIES = (
    "SELECT i::float8 / 7, sin(i)::float8, (i * 1e300)::float8 "
    "FROM generate_series(%s, %s) AS i ORDER BY i"
)


def fetched(sql: str, params: list) -> np.ndarray:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return np.array(cursor.fetchall(), dtype=np.float64).reshape(-1, 3)


@pytest.mark.parametrize("chunk_rows", [1, 7, 1_000, 100_000])
def test_the_columns_equal_the_fetched_rows_whatever_the_chunk_size(chunk_rows):
    chunks = list(float_columns(SERIES, [-5, 20_000], columns=3, chunk_rows=chunk_rows))
    assert all(len(chunk) <= chunk_rows for chunk in chunks)
    assert np.array_equal(np.concatenate(chunks), fetched(SERIES, [-5, 20_000]))


def test_a_query_without_rows_yields_nothing():
    assert list(float_columns(SERIES, [1, 0], columns=3)) == []


def test_a_null_value_is_refused_not_misread():
    with pytest.raises(ValueError, match="non-NULL float8"):
        list(float_columns("SELECT 1.0::float8, NULL::float8", [], columns=2))


def test_the_connection_is_usable_after_reading():
    list(float_columns(SERIES, [1, 3], columns=3))
    with connection.cursor() as cursor:
        cursor.execute("SELECT 42")
        assert cursor.fetchone() == (42,)
