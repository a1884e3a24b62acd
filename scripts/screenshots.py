"""Capture the README's web pictures from a running Targets site with Debian's Chromium.

Called by ``scripts/screenshots`` (which starts a throw-away site with the demo data); it can also
be pointed at any site: ``python scripts/screenshots.py --base-url URL --username U --password P``.
Writes PNGs into ``--out`` (default ``docs/img``), each re-encoded to stay small.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAX_BYTES = 300_000
DEMO_PLAYER = ("demo-player", "targets-demo-2024")  # games/demo.py prints the same


def png_save(data: bytes, path: Path) -> None:
    """Save a PNG, as a 256-colour palette image when the full-colour one is too big."""
    image = Image.open(io.BytesIO(data))
    image.load()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    if buffer.tell() > MAX_BYTES:
        buffer = io.BytesIO()
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
            buffer, format="PNG", optimize=True
        )
    path.write_bytes(buffer.getvalue())
    print(f"{path}: {image.width}x{image.height}, {buffer.tell() // 1024} KB")


def admin_log_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_load_state()
    if "/admin/login/" in page.url:
        raise SystemExit(f"Could not log in to {base_url}/admin/ as {username}.")


def fetched_png(page: Page, url: str) -> bytes:
    response = page.context.request.get(url)
    if response.status != 200 or response.headers.get("content-type") != "image/png":
        raise SystemExit(f"GET {url} answered {response.status}: {response.text()[:300]}")
    return response.body()


def bullseye_score_id(page: Page, base_url: str) -> int:
    """The demo player's best bullseye score, found through the API as the player sees it."""
    request = page.context.request
    token = request.post(
        f"{base_url}/api/v1/auth/token/",
        data={"username": DEMO_PLAYER[0], "password": DEMO_PLAYER[1]},
    )
    if token.status != 200:
        raise SystemExit(f"The demo player cannot get a token: {token.status} {token.text()[:200]}")
    headers = {"Authorization": f"Token {token.json()['token']}"}
    scores = request.get(f"{base_url}/api/v1/scores/?page_size=100", headers=headers).json()
    bullseye = [s for s in scores["results"] if s["mode"] == "bullseye" and s.get("shots")]
    if not bullseye:
        raise SystemExit("The demo player has no bullseye score with shots: run seed_demo.")
    return max(bullseye, key=lambda s: s["points"])["id"]


def capture(base_url: str, username: str, password: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        admin_log_in(page, base_url, username, password)

        page.goto(f"{base_url}/admin/items/item/")
        # Fold the navigation sidebar: the lists get the whole width. The admin remembers the
        # fold (localStorage) for the pages below.
        page.click("#toggle-nav-sidebar")
        page.evaluate("window.scrollTo(0, 0)")
        png_save(page.screenshot(), out / "admin-items.png")

        page.goto(f"{base_url}/admin/sensors/sensor/?q=A")
        page.get_by_role("link", name="A", exact=True).first.click()
        page.wait_for_load_state()
        page.wait_for_function(
            "() => [...document.images].every(img => img.complete && img.naturalWidth > 0)"
        )
        page.set_viewport_size({"width": 1366, "height": 1200})
        png_save(page.screenshot(full_page=True), out / "admin-sensor.png")
        # Every list fits a 1366 px laptop screen (tests/browser/test_admin_layout.py).
        page.set_viewport_size({"width": 1366, "height": 768})
        page.goto(f"{base_url}/admin/sensors/alert/")
        png_save(page.screenshot(), out / "admin-alerts.png")
        png_save(
            fetched_png(
                page, f"{base_url}/api/v1/plots/readings.png?sensors=A,B,C&width=1100&height=480"
            ),
            out / "plot-readings.png",
        )

        score_id = bullseye_score_id(page, base_url)
        png_save(
            fetched_png(page, f"{base_url}/api/v1/scores/{score_id}/target.png"),
            out / "score-target.png",
        )

        page.goto(f"{base_url}/api/docs/")
        page.locator(".opblock").first.wait_for()
        png_save(page.screenshot(), out / "swagger.png")
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--username", required=True, help="a staff account")
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", type=Path, default=Path("docs/img"), help="output directory")
    args = parser.parse_args(argv)
    capture(args.base_url.rstrip("/"), args.username, args.password, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
