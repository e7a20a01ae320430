"""Content-Security-Policy and the other browser security headers, on every response.

The policy is strict: scripts only from this server's own files (no inline script, no
eval, no `on*=` or `hx-on` attributes), styles only from its own style sheets, nothing
embedded from elsewhere and no framing. Django's SecurityMiddleware already sends
X-Content-Type-Options, Referrer-Policy and Cross-Origin-Opener-Policy, and
XFrameOptionsMiddleware X-Frame-Options; this adds the rest.

A page that must place computed geometry (the calendar's timed items) writes it into a
`<style nonce="{{ request.csp_nonce }}">` block: the nonce is made only when a template
asks for it, and then allowed for that one response. Routes whose third-party page needs
more would get their own policy from ROUTE_POLICIES, nothing broader.
"""

import secrets
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

Policy = dict[str, list[str]]

POLICY: Policy = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# Replacements for single directives, by the resolved route's namespace (or "namespace:name"),
# for a third-party page that cannot live with the policy. None needs one today: Django's
# admin and ninja's API docs (Swagger UI) load only their own files and pass the browser test
# (tests_browser/test_csp.py) under the strict policy.
ROUTE_POLICIES: dict[str, Policy] = {}

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
)


class Nonce:
    """A per-response nonce, made the first time a template prints it."""

    def __init__(self) -> None:
        self.value = ""

    def __str__(self) -> str:
        if not self.value:
            self.value = secrets.token_urlsafe(18)
        return self.value

    def __bool__(self) -> bool:
        return True


def policy_for(request: HttpRequest) -> Policy:
    policy = {directive: list(sources) for directive, sources in POLICY.items()}
    match = getattr(request, "resolver_match", None)
    if match is not None:
        for key in (match.namespace, match.view_name):
            policy.update({d: list(s) for d, s in ROUTE_POLICIES.get(key, {}).items()})
    nonce: Nonce | None = getattr(request, "csp_nonce", None)
    if nonce is not None and nonce.value:
        policy["style-src"].append(f"'nonce-{nonce.value}'")
    return policy


def header_value(policy: Policy) -> str:
    return "; ".join(f"{directive} {' '.join(sources)}" for directive, sources in policy.items())


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy, Permissions-Policy and Cross-Origin-Resource-Policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = Nonce()  # type: ignore[attr-defined]
        response = self.get_response(request)
        # A view may set its own (stricter) policy; it is left alone.
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = header_value(policy_for(request))
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
