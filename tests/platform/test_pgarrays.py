"""Numeric columns packed by PostgreSQL equal the same rows fetched as tuples."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from targets_site.pgarrays import float_columns

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SERIES = (
    "SELECT i::float8 / 7, sin(i)::float8, (i * 1e300)::float8 "
    "FROM generate_series(%s, %s) AS i ORDER BY i"
)


def fetched(sql: str, params: list) -> np.ndarray:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return np.array(cursor.fetchall(), dtype=np.float64).reshape(-1, 3)


def test_the_columns_equal_the_fetched_rows():
    columns = float_columns(SERIES, [-5, 20_000], columns=3)
    assert columns.shape == (20_006, 3)
    assert np.array_equal(columns, fetched(SERIES, [-5, 20_000]))


def test_rows_come_in_order_of_the_first_column_whatever_the_query_order():
    shuffled = SERIES.replace("ORDER BY i", "ORDER BY md5(i::text)")
    assert np.array_equal(float_columns(shuffled, [0, 999], columns=3), fetched(SERIES, [0, 999]))


def test_a_query_without_rows_gives_an_empty_array():
    assert float_columns(SERIES, [1, 0], columns=3).shape == (0, 3)
