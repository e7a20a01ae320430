from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from kartoteka.core.context import change_context


class RequestContextMiddleware:
    """Tags changes made while serving a request with its door (web or API) and a request id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        channel = "api" if request.path.startswith("/api/") else "web"
        with change_context(channel=channel) as request_id:
            request.request_id = request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response
