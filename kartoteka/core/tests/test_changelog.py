import datetime
import decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import RequestFactory

from kartoteka import settings as kartoteka_settings
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.changelog import log_change
from kartoteka.core.context import change_context, current_channel
from kartoteka.core.middleware import RequestContextMiddleware
from kartoteka.core.models import ObjectChange


def test_update_keeps_only_changed_keys(alice):
    client = make_person(alice)

    change = log_change(
        actor=alice,
        obj=client,
        action="update",
        before={"status": "lead", "notes": "same", "amount": decimal.Decimal("1.50")},
        after={"status": "active", "notes": "same", "amount": decimal.Decimal("1.50")},
    )

    assert change.before == {"status": "lead"}
    assert change.after == {"status": "active"}
    assert change.changed_fields == ["status"]


def test_values_are_stored_as_json(alice):
    client = make_person(alice)
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)

    change = log_change(
        actor=alice,
        obj=client,
        action="create",
        after={"at": moment, "day": moment.date(), "sum": decimal.Decimal("9.99")},
    )

    change.refresh_from_db()
    assert change.after == {"at": "2026-01-02T03:04:05+00:00", "day": "2026-01-02", "sum": "9.99"}


@pytest.mark.parametrize(("path", "channel"), [("/clients/", "web"), ("/api/v1/clients/", "api")])
def test_middleware_marks_the_door_and_request_id(path, channel):
    seen = {}

    def view(request):
        seen["channel"] = current_channel()
        return HttpResponse("ok")

    response = RequestContextMiddleware(view)(RequestFactory().get(path))

    assert seen["channel"] == channel
    assert len(response["X-Request-ID"]) == 32
    assert current_channel() == "system"


def test_change_context_tags_changes(alice):
    with change_context(channel="cli", request_id="batch-7"):
        client = make_person(alice)

    change = ObjectChange.objects.get(object_id=client.pk, content_type__model="client")
    assert (change.channel, change.request_id) == ("cli", "batch-7")


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("off", False), ("Yes", True)])
def test_env_bool_reads_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("KARTOTEKA_X", raw)

    assert kartoteka_settings.env_bool("KARTOTEKA_X") is expected


def test_env_bool_and_int_fail_loudly_on_typos(monkeypatch):
    monkeypatch.setenv("KARTOTEKA_X", "ture")
    monkeypatch.setenv("KARTOTEKA_N", "ten")

    with pytest.raises(ImproperlyConfigured):
        kartoteka_settings.env_bool("KARTOTEKA_X")
    with pytest.raises(ImproperlyConfigured):
        kartoteka_settings.env_int("KARTOTEKA_N", 1)


def test_env_secret_reads_file(monkeypatch, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    monkeypatch.setenv("KARTOTEKA_PW_FILE", str(secret))

    assert kartoteka_settings.env_secret("KARTOTEKA_PW") == "s3cret"


def test_changes_are_linked_to_their_card(alice):
    from kartoteka.clients import services as client_services
    from kartoteka.core.models import SiteSettings

    client = make_person(alice)
    contact = client_services.contact_point_add(
        actor=alice, client=client, kind="email", value="ivan@example.ru"
    )

    card_change = log_change(actor=alice, obj=client, action="update", before={}, after={})
    contact_change = log_change(actor=alice, obj=contact, action="create", after={"kind": "email"})
    settings_change = log_change(actor=alice, obj=SiteSettings.current(), action="update")

    assert card_change.client_id == client.pk
    assert contact_change.client_id == client.pk
    assert settings_change.client_id is None
    linked = set(ObjectChange.objects.filter(client_id=client.pk).values_list("pk", flat=True))
    assert {card_change.pk, contact_change.pk} <= linked
