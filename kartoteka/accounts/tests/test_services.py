import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kartoteka.accounts.models import ApiToken, User
from kartoteka.accounts.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    user_create,
)
from kartoteka.core.models import ObjectChange


def test_token_key_is_shown_once_and_stored_hashed(alice):
    token, key = api_token_create(actor=alice, name="1C sync")

    assert key.startswith("kt_")
    assert ApiToken.objects.get().key_hash == ApiToken.hash_key(key)
    assert key not in ApiToken.objects.values_list("key_hash", flat=True)
    assert api_token_authenticate(key) == alice
    assert api_token_authenticate(key + "x") is None
    assert api_token_authenticate("") is None
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_token_and_inactive_user_are_refused(alice, bob):
    token, key = api_token_create(actor=alice, name="t")
    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=bob, token=token)
    assert api_token_authenticate(key) == alice

    api_token_revoke(actor=alice, token=token)
    assert api_token_authenticate(key) is None

    _other, other_key = api_token_create(actor=bob, name="t")
    User.objects.filter(pk=bob.pk).update(is_active=False)
    assert api_token_authenticate(other_key) is None


def test_only_admins_create_users(alice, ada):
    with pytest.raises(PermissionDenied):
        user_create(actor=alice, username="eve", password="pw-long-enough")
    assert not User.objects.filter(username="eve").exists()

    eve = user_create(actor=ada, username="eve", password="pw-long-enough", role="manager")
    assert eve.check_password("pw-long-enough")
    assert (
        ObjectChange.objects.filter(object_id=eve.pk, content_type__model="user", actor=ada).count()
        == 1
    )


def test_bad_role_is_a_validation_error(ada):
    with pytest.raises(ValidationError) as exc:
        user_create(actor=ada, username="eve", password="x", role="boss")

    assert list(exc.value.message_dict) == ["role"]
    assert not User.objects.filter(username="eve").exists()
