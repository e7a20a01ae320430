"""The business's settings page (/settings/): administrators change the company name and
the base currency; everyone else is refused."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client as DjangoClient
from django.urls import include, path, reverse

from kartoteka import urls as root_urls
from kartoteka.core import services
from kartoteka.core.models import ObjectChange, SiteSettings

# The page's routes live in core/urls.py; until the site includes them, these tests do.
_included = any(getattr(p, "namespace", None) == "core" for p in root_urls.urlpatterns)
urlpatterns = (
    root_urls.urlpatterns
    if _included
    else [path("", include("kartoteka.core.urls")), *root_urls.urlpatterns]
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def test_settings_page_url():
    assert reverse("core:settings") == "/settings/"


def test_administrator_changes_company_name_and_base_currency(ada, web_client_for):
    web = web_client_for(ada)

    page = web.get(reverse("core:settings"))
    saved = web.post(
        reverse("core:settings"),
        {"company_name": "Салон «Ромашка»", "base_currency": "EUR", "jurisdiction": "eu"},
    )

    assert page.status_code == 200
    assert 'name="base_currency"' in page.content.decode()
    assert saved.status_code == 302
    assert saved["Location"] == reverse("core:settings")
    current = SiteSettings.current()
    assert (current.company_name, current.base_currency) == ("Салон «Ромашка»", "EUR")
    change = ObjectChange.objects.get(action="update")
    assert change.after == {
        "company_name": "Салон «Ромашка»",
        "base_currency": "EUR",
        "jurisdiction": "eu",
    }
    assert change.actor == ada


def test_unknown_currency_is_refused_in_place(ada, web_client_for):
    response = web_client_for(ada).post(
        reverse("core:settings"),
        {"company_name": "X", "base_currency": "GBP", "jurisdiction": "ru"},
    )

    assert response.status_code == 422
    assert "Select a valid choice." in response.content.decode()
    assert SiteSettings.current().base_currency == "RUB"


@pytest.mark.parametrize("role", ["mallory", "alice", "charlie", "rita"])
def test_others_may_not_open_or_change_settings(users, role, web_client_for):
    web = web_client_for(users[role])

    opened = web.get(reverse("core:settings"))
    posted = web.post(
        reverse("core:settings"),
        {"company_name": "X", "base_currency": "EUR", "jurisdiction": "ru"},
    )

    assert (opened.status_code, posted.status_code) == (403, 403)
    assert SiteSettings.current().base_currency == "RUB"
    assert ObjectChange.objects.filter(action="update").count() == 0


def test_anonymous_goes_to_login(db):
    response = DjangoClient().get(reverse("core:settings"))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_service_refuses_non_administrators(mallory):
    with pytest.raises(PermissionDenied):
        services.site_settings_update(actor=mallory, data={"base_currency": "EUR"})

    assert SiteSettings.current().base_currency == "RUB"
