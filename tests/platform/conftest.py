from __future__ import annotations

import pytest
from rest_framework.throttling import SimpleRateThrottle


@pytest.fixture
def rates(monkeypatch):
    """``rates(anon="3/min")`` sets throttle rates for one test.

    DRF copies DEFAULT_THROTTLE_RATES onto SimpleRateThrottle when it is imported, so
    override_settings cannot reach them; the class attribute is what every throttle reads on each
    request, and monkeypatch puts it back afterwards.
    """

    def set_rates(**overrides: str) -> None:
        monkeypatch.setattr(
            SimpleRateThrottle,
            "THROTTLE_RATES",
            {**SimpleRateThrottle.THROTTLE_RATES, **overrides},
        )

    return set_rates
