"""Sign-in pages and personal settings: log in and out, API tokens, interface language."""

from django.conf import settings
from django.test import Client as DjangoClient
from django.urls import reverse

from kartoteka.accounts.models import ApiToken, SignInEvent
from kartoteka.accounts.services import api_token_authenticate, api_token_create


def test_login_page_is_public(client):
    response = client.get(reverse("accounts:login"))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="username"' in content
    assert 'name="password"' in content


def test_pages_require_login(client):
    response = client.get(reverse("accounts:api-tokens"))

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/tokens/"


def test_login_with_right_password_goes_to_next(client, alice):
    response = client.post(
        reverse("accounts:login"),
        {"username": "alice", "password": "pass-alice", "next": "/clients/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/clients/"
    assert client.get("/clients/").status_code == 200


def test_login_with_wrong_password_says_so(client, alice):
    response = client.post(reverse("accounts:login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert client.get("/clients/").status_code == 302


def test_signed_in_user_skips_the_login_page(alice, web_client_for):
    response = web_client_for(alice).get(reverse("accounts:login"))

    assert response.status_code == 302
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)


def test_logout_needs_post_and_ends_the_session(alice, web_client_for):
    web = web_client_for(alice)

    assert web.get(reverse("accounts:logout")).status_code == 405
    response = web.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert web.get("/clients/").status_code == 302
    assert SignInEvent.objects.filter(user=alice, kind="signed_out").count() == 1


def test_every_page_offers_log_out_and_tokens(alice, web_client_for):
    content = web_client_for(alice).get("/clients/").content.decode()

    assert f'action="{reverse("accounts:logout")}"' in content
    assert reverse("accounts:api-tokens") in content


def test_token_is_created_and_its_key_shown_once(alice, web_client_for):
    web = web_client_for(alice)

    response = web.post(reverse("accounts:api-tokens"), {"name": "accounting export"})

    assert response.status_code == 201
    token = ApiToken.objects.get(user=alice)
    key = response.context["new_key"]
    assert token.name == "accounting export"
    assert key in response.content.decode()
    assert api_token_authenticate(key) == alice
    listing = web.get(reverse("accounts:api-tokens")).content.decode()
    assert "accounting export" in listing
    assert key not in listing


def test_token_needs_a_name(alice, web_client_for):
    response = web_client_for(alice).post(reverse("accounts:api-tokens"), {"name": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["This field is required."]
    assert ApiToken.objects.count() == 0


def test_token_list_shows_only_own_tokens(alice, bob, web_client_for):
    api_token_create(actor=alice, name="alice laptop")
    api_token_create(actor=bob, name="bob phone")

    content = web_client_for(alice).get(reverse("accounts:api-tokens")).content.decode()

    assert "alice laptop" in content
    assert "bob phone" not in content


def test_token_revoke(alice, web_client_for):
    token, key = api_token_create(actor=alice, name="old script")

    response = web_client_for(alice).post(reverse("accounts:api-token-revoke", args=[token.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:api-tokens")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_token_authenticate(key) is None


def test_cannot_revoke_someone_elses_token(alice, bob, web_client_for):
    token, key = api_token_create(actor=bob, name="bob phone")

    response = web_client_for(alice).post(reverse("accounts:api-token-revoke", args=[token.pk]))

    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert api_token_authenticate(key) == bob


def test_language_switch_is_saved_on_the_user(alice, web_client_for):
    web = web_client_for(alice)

    response = web.post(reverse("accounts:set-language"), {"language": "uk", "next": "/clients/"})

    assert response.status_code == 302
    assert response["Location"] == "/clients/"
    alice.refresh_from_db()
    assert alice.language == "uk"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "uk"
    # Another device, without the cookie, speaks the same language.
    other = DjangoClient()
    other.force_login(alice)
    assert '<html lang="uk">' in other.get("/clients/").content.decode()


def test_language_switch_ignores_unknown_languages(alice, web_client_for):
    web_client_for(alice).post(reverse("accounts:set-language"), {"language": "xx"})

    alice.refresh_from_db()
    assert alice.language == ""


def test_language_switch_works_before_login(client):
    response = client.post(reverse("accounts:set-language"), {"language": "zh-hans"})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert '<html lang="zh-hans">' in client.get(reverse("accounts:login")).content.decode()


def test_token_form_sets_scope_and_expiry(alice, web_client_for):
    web = web_client_for(alice)

    page = web.get(reverse("accounts:api-tokens")).content.decode()
    response = web.post(
        reverse("accounts:api-tokens"), {"name": "reports", "scope": "read", "expires": "30"}
    )

    assert 'name="scope"' in page
    assert 'name="expires"' in page
    token = ApiToken.objects.get(user=alice)
    assert token.scope == "read"
    assert token.expires_at is not None
    assert 29 <= (token.expires_at - token.created_at).days <= 30
    listing = response.content.decode()
    assert "Read only" in listing
