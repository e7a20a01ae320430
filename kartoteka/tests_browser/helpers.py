"""Steps the browser tests share: signing in, waiting for htmx under the strict CSP."""

import time

TIMEOUT_SECONDS = 10.0


def wait_for_htmx(page, *, timeout: float = TIMEOUT_SECONDS) -> None:
    """Return once htmx has loaded on `page`.

    Not `page.wait_for_function`: when its first check is false it re-evaluates the predicate
    with `eval`, which the page's CSP (no 'unsafe-eval') refuses (microsoft/playwright#7395).
    `page.evaluate` runs through the DevTools protocol, which the CSP does not govern.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate("typeof htmx === 'object'"):
        if time.monotonic() > deadline:
            raise AssertionError(f"htmx did not load on {page.url} within {timeout} s")
        page.wait_for_timeout(50)


def log_in(page, live_server, username: str, password: str) -> None:
    """Sign in through the login form and wait for the client list and its htmx."""
    from playwright.sync_api import expect

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    wait_for_htmx(page)
