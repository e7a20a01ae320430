"""Sign-in and personal settings: the two sign-in steps, password, two-factor, sessions,
API tokens, interface language; and the administrators' sign-in security page."""

import datetime
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from kartoteka.accounts import services, sessions, signin, two_factor
from kartoteka.accounts.forms import (
    ApiTokenForm,
    CodeForm,
    LanguageForm,
    LoginForm,
    PasswordChangeForm,
    PreferencesForm,
    SignOutEverywhereForm,
    TemporaryPasswordForm,
    TwoFactorDisableForm,
)
from kartoteka.accounts.models import ApiToken, SignInEvent, SignInThrottle, User, UserSession

PENDING = "kt_pending_sign_in"
# The code must follow the password within this time, or the password is asked again.
PENDING_SECONDS = 300
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _add_errors(form: Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _safe_next(request: HttpRequest, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _complete_sign_in(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    login(request, user, backend=BACKEND)
    client = sessions.request_client(request)
    signin.success_register(username=user.username)
    signin.event_record(kind=SignInEvent.Kind.SIGNED_IN, user=user, client=client)
    # The middleware holds the user at the password or enrolment page if one is due.
    return redirect(next_url)


@login_not_required
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Step one: name and password, behind the lockout. With two-factor on, step two follows."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    next_url = request.POST.get("next") or request.GET.get("next", "")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        client = sessions.request_client(request)
        result = signin.password_check(
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            client=client,
        )
        if result.locked:
            form.add_error(None, signin.locked_message())
        elif result.user is None:
            form.add_error(
                None,
                _(
                    "Please enter a correct username and password. Note that both fields "
                    "may be case-sensitive."
                ),
            )
        elif two_factor.is_enabled(result.user):
            request.session[PENDING] = {
                "user": result.user.pk,
                "at": time.time(),
                "next": _safe_next(request, next_url),
            }
            return redirect("accounts:login-verify")
        else:
            return _complete_sign_in(request, result.user, _safe_next(request, next_url))
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@login_not_required
@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    """Step two: the authenticator code (or a recovery code), behind the same lockout."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        messages.info(request, _("Enter your password again."))
        return redirect("accounts:login")
    user = User.objects.get(pk=pending["user"])
    client = sessions.request_client(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if signin.locked_until(username=user.username, ip=client.ip):
            form.add_error(None, signin.locked_message())
        elif two_factor.code_verify(user=user, code=form.cleaned_data["code"], client=client):
            del request.session[PENDING]
            return _complete_sign_in(request, user, pending["next"])
        else:
            if signin.failure_register(username=user.username, ip=client.ip):
                signin.event_record(kind=SignInEvent.Kind.LOCKED_OUT, user=user, client=client)
                request.session.pop(PENDING, None)
                form.add_error(None, signin.locked_message())
            else:
                form.add_error("code", _("The code is not right. Try the newest one."))
    return render(request, "accounts/login_verify.html", {"form": form})


@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change your own password (forced after an administrator set a temporary one)."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                actor=request.user,  # type: ignore[arg-type]
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                client=sessions.request_client(request),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            # Keep this session signed in under the new password; the others end.
            login(request, request.user, backend=BACKEND)  # type: ignore[arg-type]
            messages.success(request, _("Your password is changed."))
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/password_change.html", {"form": form})


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Your own language and time zone."""
    user: User = request.user  # type: ignore[assignment]
    initial = {"language": user.language, "time_zone": user.time_zone}
    form = PreferencesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_preferences(
                actor=user,
                language=form.cleaned_data["language"],
                time_zone=form.cleaned_data["time_zone"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if user.language:
                translation.activate(user.language)
            messages.success(request, _("Your preferences are saved."))
            return redirect("accounts:preferences")
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "accounts/preferences.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Two-factor sign-in: enrol (QR code and key, confirm with a code), new recovery codes,
    turn off."""
    user: User = request.user  # type: ignore[assignment]
    client = sessions.request_client(request)
    enabled = two_factor.is_enabled(user)
    action = request.POST.get("action", "")
    code_form = CodeForm(request.POST if action in ("confirm", "regenerate") else None)
    disable_form = TwoFactorDisableForm(request.POST if action == "disable" else None)
    recovery_codes: list[str] = []
    if request.method == "POST":
        try:
            if action == "confirm" and code_form.is_valid():
                recovery_codes = two_factor.enrolment_confirm(
                    actor=user, code=code_form.cleaned_data["code"], client=client
                )
                enabled = True
                code_form = CodeForm()
            elif action == "regenerate" and code_form.is_valid():
                recovery_codes = two_factor.recovery_codes_regenerate(
                    actor=user, code=code_form.cleaned_data["code"], client=client
                )
                code_form = CodeForm()
            elif action == "disable" and disable_form.is_valid():
                two_factor.disable(actor=user, client=client, **disable_form.cleaned_data)
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("accounts:two-factor")
        except ValidationError as exc:
            _add_errors(disable_form if action == "disable" else code_form, exc)
    context = {
        "enabled": enabled,
        "required": two_factor.is_required(user),
        "recovery_codes": recovery_codes,
        "code_form": code_form,
        "disable_form": disable_form,
    }
    if enabled:
        context["codes_left"] = two_factor.recovery_codes_left(user)
    else:
        device = two_factor.enrolment_start(actor=user)
        secret = two_factor.secret(device)
        context["secret"] = secret
        context["secret_groups"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        context["qr_svg"] = two_factor.qr_svg(device)
    return render(request, "accounts/two_factor.html", context)


@require_http_methods(["GET", "POST"])
def session_list(request: HttpRequest) -> HttpResponse:
    """Your signed-in sessions; sign out everywhere."""
    user: User = request.user  # type: ignore[assignment]
    form = SignOutEverywhereForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sessions.sign_out_everywhere(
            actor=user,
            revoke_tokens=form.cleaned_data["revoke_tokens"],
            client=sessions.request_client(request),
        )
        request.session.flush()
        return redirect("accounts:login")
    context = {
        "sessions": sessions.session_list(user=user),
        "current_key": request.session.session_key,
        "form": form,
    }
    return render(request, "accounts/sessions.html", context)


@require_POST
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(UserSession, pk=pk, user=request.user)
    is_current = session.session_key == request.session.session_key
    sessions.session_end(
        actor=request.user,  # type: ignore[arg-type]
        session=session,
        client=sessions.request_client(request),
    )
    if is_current:
        request.session.flush()
        return redirect("accounts:login")
    messages.success(request, _("That session is signed out."))
    return redirect("accounts:sessions")


def _ensure_admin(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.is_admin_role:
        raise PermissionDenied(_("Only administrators can manage sign-in security."))
    return user


@require_http_methods(["GET"])
def security_admin(request: HttpRequest) -> HttpResponse:
    """For administrators: lockouts in force, each user's two-factor state, recent events."""
    _ensure_admin(request)
    users = User.objects.select_related("two_factor").order_by("username")
    context = {
        "locks": SignInThrottle.objects.filter(locked_until__gt=timezone.now()).order_by(
            "-locked_until"
        ),
        "users": users,
        "events": SignInEvent.objects.select_related("user", "actor")[:50],
        "password_form": TemporaryPasswordForm(),
    }
    return render(request, "accounts/security_admin.html", context)


@require_POST
def security_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _ensure_admin(request)
    throttle = get_object_or_404(SignInThrottle, pk=pk)
    signin.throttle_unlock(actor=actor, throttle=throttle)
    messages.success(request, _("Sign-in for “%(value)s” is unlocked.") % {"value": throttle.value})
    return redirect("accounts:security")


@require_POST
def security_two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _ensure_admin(request)
    user = get_object_or_404(User, pk=pk)
    two_factor.reset(actor=actor, user=user, client=sessions.request_client(request))
    messages.success(request, _("Two-factor sign-in of %(user)s is reset.") % {"user": user})
    return redirect("accounts:security")


@require_POST
def security_temporary_password(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _ensure_admin(request)
    user = get_object_or_404(User, pk=pk)
    form = TemporaryPasswordForm(request.POST)
    if form.is_valid():
        try:
            services.user_set_temporary_password(
                actor=actor,
                user=user,
                password=form.cleaned_data["password"],
                client=sessions.request_client(request),
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("%(user)s has a temporary password and must change it at the next sign-in.")
                % {"user": user},
            )
    return redirect("accounts:security")


@require_http_methods(["GET", "POST"])
def api_token_list(request: HttpRequest) -> HttpResponse:
    """The user's own API tokens; POST issues a new one and shows its key this once."""
    form = ApiTokenForm(request.POST or None)
    new_key = None
    new_token = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires"]
        try:
            new_token, new_key = services.api_token_create(
                actor=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"] or ApiToken.Scope.WRITE,
                expires_at=timezone.now() + datetime.timedelta(days=int(days)) if days else None,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            form = ApiTokenForm()
    context = {
        "form": form,
        "tokens": ApiToken.objects.filter(user=request.user),
        "new_key": new_key,
        "new_token": new_token,
        "now": timezone.now(),
    }
    return render(request, "accounts/api_tokens.html", context, status=201 if new_key else 200)


@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user, revoked_at__isnull=True)
    services.api_token_revoke(actor=request.user, token=token)  # type: ignore[arg-type]
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("accounts:api-tokens")


@login_not_required
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie and redirect), remembered on the user when signed in so
    every device speaks the same language."""
    response = django_set_language(request)
    form = LanguageForm(request.POST)
    if form.is_valid() and request.user.is_authenticated:
        services.user_set_language(actor=request.user, language=form.cleaned_data["language"])  # type: ignore[arg-type]
    return response
