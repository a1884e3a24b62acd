from __future__ import annotations

import io

import pytest

from exports.demo import demo_seed
from exports.models import Export
from tests.exports.factories import make_items

pytestmark = pytest.mark.django_db


def test_the_demo_export_runs_once_however_often_it_is_seeded(local_exports):
    make_items(2)
    out = io.StringIO()
    demo_seed(stdout=out)
    demo_seed(stdout=out)
    export = Export.objects.get()
    assert export.status == "succeeded" and export.rows == 2
    assert (local_exports / export.key).exists()
    assert "already there" in out.getvalue()
