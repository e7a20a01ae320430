import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kartoteka.accounts import sessions, two_factor
from kartoteka.accounts.models import SignInEvent


class UserLanguageMiddleware:
    """Use the language and time zone the signed-in user chose (language over the
    browser's Accept-Language; zone over the business's default)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user and user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        if user and user.is_authenticated and user.time_zone:
            timezone.activate(user.zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class SignInSecurityMiddleware:
    """Session expiry (idle and absolute), then what must happen before the app may be used:
    a temporary password changed, two-factor enrolment where the role requires it.

    Runs before LoginRequiredMiddleware, so an expired session is sent to the login page.
    The times live in the session itself: no query on an ordinary request.
    """

    # Pages a user held at a gate may still open.
    OPEN_NAMES = {
        "accounts:logout",
        "accounts:password-change",
        "accounts:two-factor",
        "accounts:set-language",
    }

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and hasattr(request, "session"):
            if self._expired(request):
                sessions.UserSession.objects.filter(
                    session_key=request.session.session_key
                ).delete()
                sessions.event_record(
                    kind=SignInEvent.Kind.SESSION_EXPIRED,
                    user=user,  # type: ignore[arg-type]
                    client=sessions.request_client(request),
                )
                request.kartoteka_session_expired = True  # type: ignore[attr-defined]
                logout(request)
            else:
                gate = self._gate(request)
                if gate is not None:
                    return gate
        return self.get_response(request)

    def _expired(self, request: HttpRequest) -> bool:
        now = time.time()
        session = request.session
        auth_at, seen_at = session.get(sessions.AUTH_AT), session.get(sessions.SEEN_AT)
        if auth_at is None or seen_at is None:
            # Signed in before these stamps existed: start counting from now.
            session[sessions.AUTH_AT] = session[sessions.SEEN_AT] = now
            return False
        if now - auth_at > settings.KARTOTEKA_SESSION_MAX_HOURS * 3600:
            return True
        if now - seen_at > settings.KARTOTEKA_SESSION_IDLE_MINUTES * 60:
            return True
        if now - seen_at > sessions.SEEN_RESOLUTION:
            sessions.session_seen(request)
        return False

    def _gate(self, request: HttpRequest) -> HttpResponse | None:
        user = request.user
        if user.must_change_password:  # type: ignore[union-attr]
            target = "accounts:password-change"
            message = _("Choose a new password before you go on.")
        elif two_factor.is_required(user) and not two_factor.is_enabled(user):  # type: ignore[arg-type]
            target = "accounts:two-factor"
            message = _("Your role must use two-factor sign-in: set it up before you go on.")
        else:
            return None
        # The URL is not resolved yet this early in the chain.
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
        if match.view_name in self.OPEN_NAMES or request.path_info.startswith(
            settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"
        ):
            return None
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {"detail": message, "code": "sign_in_incomplete", "errors": []}, status=403
            )
        return redirect(reverse(target))
