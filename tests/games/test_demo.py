from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model

from games.demo import DEMO_PASSWORD, DEMO_USERNAME, demo_seed
from games.models import Score

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_verified_rounds_once_and_says_how_to_log_in(api_client):
    out = StringIO()
    demo_seed(stdout=out)
    count = Score.objects.count()
    assert count == 2 * (4 + 3 * 2)
    assert not Score.objects.filter(verified=False).exists()
    assert DEMO_PASSWORD in out.getvalue() and DEMO_USERNAME in out.getvalue()
    assert get_user_model().objects.get(username=DEMO_USERNAME).check_password(DEMO_PASSWORD)

    demo_seed(stdout=StringIO())
    assert Score.objects.count() == count
    board = api_client.get("/api/v1/leaderboards/moving/", {"verified": "true"}).json()
    assert len(board["results"]) == 4
