"""Preferences: every user sets their own language and time zone; the pages follow them."""

import pytest
from django.urls import reverse
from django.utils import timezone

from kartoteka.core.models import ObjectChange

pytestmark = pytest.mark.django_db
URL = reverse("accounts:preferences")


@pytest.mark.parametrize("name", ["ada", "alice", "charlie", "mallory", "rita"])
def test_every_role_sets_its_own_zone_and_language(users, web_client_for, name):
    user = users[name]
    web = web_client_for(user)

    response = web.post(URL, {"language": "zh-hans", "time_zone": "Asia/Shanghai"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.language, user.time_zone) == ("zh-hans", "Asia/Shanghai")
    change = ObjectChange.objects.filter(object_id=user.pk, action="update").latest("pk")
    assert change.after == {"language": "zh-hans", "time_zone": "Asia/Shanghai"}
    page = web.get(URL).content.decode()
    assert 'value="Asia/Shanghai" selected' in page
    assert '<html lang="zh-hans"' in page  # the page is in Chinese now


def test_unknown_zone_is_refused_on_its_field_and_nothing_changes(alice, web_client_for):
    response = web_client_for(alice).post(URL, {"language": "", "time_zone": "Mars/Olympus"})

    assert response.status_code == 422
    assert "Mars/Olympus" in response.content.decode()
    alice.refresh_from_db()
    assert alice.time_zone == ""
    assert not ObjectChange.objects.filter(object_id=alice.pk, action="update").exists()


def test_the_chosen_zone_is_active_for_the_users_requests(alice, web_client_for):
    web = web_client_for(alice)
    web.post(URL, {"language": "en", "time_zone": "Asia/Shanghai"})

    seen = {}

    def probe(request):
        seen["zone"] = timezone.get_current_timezone_name()
        from django.http import HttpResponse

        return HttpResponse("ok")

    from kartoteka.accounts.middleware import UserLanguageMiddleware

    alice.refresh_from_db()
    request = web.get(URL).wsgi_request
    request.user = alice
    UserLanguageMiddleware(probe)(request)
    assert seen["zone"] == "Asia/Shanghai"


def test_blank_zone_means_the_business_zone(alice, settings):
    alice.time_zone = ""
    assert str(alice.zone) == settings.TIME_ZONE
