"""Shared pieces of the Playwright page tests: the Chromium launch, a session cookie for a user, a
watcher that collects console errors and failed requests, and small screenshots for docs/."""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
# Set OSTEOSCREEN_SCREENSHOTS=1 to write the coordinator pages' screenshots into docs/screenshots/.
SCREENSHOT_DIR = ROOT / "docs" / "screenshots"


def sync_api_or_skip():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("no system Chromium (make test installs it when run as root)")
    return sync_api


def launch(playwright):
    return playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
    )


def session_cookie(client, user, live_server) -> dict:
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}


class PageWatch:
    """Every console error, failed request and HTTP error answer a page produced."""

    def __init__(self, page) -> None:
        self.problems: list[str] = []
        page.on(
            "console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text} ({page.url})")
        )
        page.on("pageerror", lambda e: self.problems.append(f"script error: {e} ({page.url})"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed request: {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))


def screenshot(page, name: str) -> None:
    """A small PNG (a 64-colour palette) of the page, when screenshots are asked for."""
    if os.environ.get("OSTEOSCREEN_SCREENSHOTS") != "1":
        return
    from PIL import Image

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=64).save(path, optimize=True)
