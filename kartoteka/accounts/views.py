"""Sign-in and personal settings: log in and out, API tokens, interface language."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from kartoteka.accounts import services
from kartoteka.accounts.forms import ApiTokenForm, LanguageForm
from kartoteka.accounts.models import ApiToken


@require_http_methods(["GET", "POST"])
def api_token_list(request: HttpRequest) -> HttpResponse:
    """The user's own API tokens; POST issues a new one and shows its key this once."""
    form = ApiTokenForm(request.POST or None)
    new_key = None
    new_token = None
    if request.method == "POST" and form.is_valid():
        new_token, new_key = services.api_token_create(
            actor=request.user, name=form.cleaned_data["name"]
        )
        form = ApiTokenForm()
    context = {
        "form": form,
        "tokens": ApiToken.objects.filter(user=request.user),
        "new_key": new_key,
        "new_token": new_token,
    }
    return render(request, "accounts/api_tokens.html", context, status=201 if new_key else 200)


@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user, revoked_at__isnull=True)
    services.api_token_revoke(actor=request.user, token=token)
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
        services.user_set_language(actor=request.user, language=form.cleaned_data["language"])
    return response
