from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from kartoteka.audit.services import request_origin


class AuditOriginMiddleware:
    """Gives audit events recorded while serving a request (from services deep down, which
    never see the request) the request's spoof-safe address and browser."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_origin(request):
            return self.get_response(request)
