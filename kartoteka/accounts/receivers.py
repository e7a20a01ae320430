"""Django's sign-in and sign-out signals, wired in AccountsConfig.ready."""

from typing import Any

from django.http import HttpRequest

from kartoteka.accounts import sessions
from kartoteka.accounts.models import SignInEvent, UserSession
from kartoteka.accounts.signin import event_record


def on_signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        sessions.session_start(request, user)


def on_signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    if request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()
    # An expired session has its own event (SignInSecurityMiddleware).
    if user is not None and not getattr(request, "kartoteka_session_expired", False):
        event_record(
            kind=SignInEvent.Kind.SIGNED_OUT, user=user, client=sessions.request_client(request)
        )
