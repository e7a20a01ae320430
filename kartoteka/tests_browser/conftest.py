"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's
live server. Run with `pytest -m browser`; `make test` runs them whenever Chromium exists."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# inside one unless told the calls are safe (they are: nothing here is actually async).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("KARTOTEKA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# `make screenshots` refreshes the README's pictures in docs/screenshots/; an ordinary test
# run writes to test-results/ so it leaves the work tree clean.
_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(
    os.environ.get("KARTOTEKA_SCREENSHOTS_DIR") or _ROOT / "test-results" / "screenshots"
)


@pytest.fixture(scope="session")
def browser() -> Iterator["object"]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db) -> Iterator["object"]:
    """A fresh laptop-sized page speaking English, failing fast instead of hanging."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 860}, locale="en-US", device_scale_factor=1
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def screenshot():
    """Save a screenshot under `name` (see SCREENSHOTS)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, *, full_page: bool = False) -> Path:
        path = SCREENSHOTS / name
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
