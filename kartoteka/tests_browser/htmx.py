"""Waiting for the deferred htmx script under the strict Content-Security-Policy."""

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
