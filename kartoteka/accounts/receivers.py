"""Django's sign-in and sign-out signals, wired in AccountsConfig.ready."""

from typing import Any

from django.http import HttpRequest

from kartoteka.accounts import sessions
from kartoteka.accounts.models import UserSession


def on_signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        sessions.session_start(request, user)


def on_signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session") and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()
