"""Fixtures for the real-browser tests: Debian's Chromium driven by Playwright, one per package.

Playwright's sync API keeps an asyncio loop running in the test thread, and Django refuses ORM
calls from a thread with a running loop. The ORM calls here are plain synchronous test set-up, so
``DJANGO_ALLOW_ASYNC_UNSAFE`` is set while (and only while) the browser is up.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STAFF_PASSWORD = "correct horse battery"


@pytest.fixture(scope="package")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


class RecordedPage:
    """A Playwright page plus every URL it requested, in order."""

    def __init__(self, page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.requested: list[str] = []
        page.on("request", lambda request: self.requested.append(request.url))

    def goto(self, path: str):
        return self.page.goto(self.base_url + path)


@pytest.fixture
def page(browser, live_server) -> Iterator[RecordedPage]:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    recorded = RecordedPage(context.new_page(), live_server.url)
    yield recorded
    context.close()


@pytest.fixture
def staff_member(browser, django_user_model):
    # A superuser: the journey touches every app's admin, not one model's permissions.
    return django_user_model.objects.create_superuser(
        username="ada", email="ada@example.com", password=STAFF_PASSWORD
    )


def admin_log_in(recorded: RecordedPage, username: str, password: str) -> None:
    page = recorded.page
    recorded.goto("/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def admin_page(page, staff_member) -> RecordedPage:
    """A page logged in to the admin through its login form."""
    admin_log_in(page, staff_member.username, STAFF_PASSWORD)
    return page
