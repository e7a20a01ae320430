"""The hash chain: appending, verifying, tamper detection, pruning, the CLI."""

import datetime

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from kartoteka.audit import chain, services
from kartoteka.audit.models import AppendOnlyError, AuditEvent, AuditHead


def _events(count: int, actor=None) -> list[AuditEvent]:
    return [
        services.record("view", object_type="clients.client", object_id=n, client_id=n, actor=actor)
        for n in range(1, count + 1)
    ]


def _raw(sql: str, params: list) -> None:
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(sql.format(table=connection.ops.quote_name(table)), params)


def test_sequential_events_chain_on_the_head(ada):
    before = AuditHead.objects.get_or_create(pk=1)[0]  # creating ada was audited already

    first, second, third = _events(3, actor=ada)

    assert [first.id, second.id, third.id] == [before.last_id + n for n in (1, 2, 3)]
    assert first.prev_hash == before.last_hash
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    head = AuditHead.objects.get(pk=1)
    assert (head.last_id, head.last_hash) == (third.id, third.hash)
    assert third.actor_username == "ada"
    stored = AuditEvent.objects.get(pk=second.id)
    assert chain.row_hash({f: getattr(stored, f) for f in chain.HASHED_FIELDS}) == stored.hash


def test_good_chain_verifies(db):
    _events(7)

    result = chain.verify(batch=3)

    assert result.intact
    assert result.checked == 7


def test_empty_chain_verifies(db):
    assert chain.verify().intact


def test_edited_row_is_detected(db):
    _events(5)
    _raw("UPDATE {table} SET object_id = %s WHERE id = %s", ["99", 3])

    result = chain.verify(batch=2)

    assert (result.broken_id, result.checked) == (3, 2)
    assert "hash" in result.reason


def test_edited_details_are_detected(db):
    _events(3)
    _raw("UPDATE {table} SET details = %s WHERE id = %s", ['{"fields": ["x"]}', 2])

    assert chain.verify().broken_id == 2


def test_deleted_row_in_the_middle_is_detected(db):
    _events(5)
    _raw("DELETE FROM {table} WHERE id = %s", [3])

    result = chain.verify()

    assert result.broken_id == 4
    assert "3" in result.reason


def test_deleted_last_row_is_detected(db):
    _events(4)
    _raw("DELETE FROM {table} WHERE id = %s", [4])

    assert chain.verify().broken_id == 4


def test_reordered_rows_are_detected(db):
    _events(4)
    # Swap rows 2 and 3 by renumbering them.
    _raw("UPDATE {table} SET id = %s WHERE id = %s", [100, 2])
    _raw("UPDATE {table} SET id = %s WHERE id = %s", [2, 3])
    _raw("UPDATE {table} SET id = %s WHERE id = %s", [3, 100])

    assert chain.verify().broken_id == 2


def test_inserted_row_is_detected(db):
    events = _events(3)
    # A forged row made to look right on its own (its hash fits its fields) and pushed in
    # after row 1: every later row is renumbered, but their links no longer fit.
    for event_id in (3, 2):
        _raw("UPDATE {table} SET id = %s WHERE id = %s", [event_id + 1, event_id])
    forged = {f: getattr(events[1], f) for f in chain.HASHED_FIELDS}
    forged.update(id=2, prev_hash=events[0].hash, object_id="666")
    _raw(
        "INSERT INTO {table} (id, at, actor_username, action, channel, object_type, object_id,"
        " client_id, ip, user_agent, request_id, details, prev_hash, hash)"
        " VALUES (%s, %s, '', 'view', 'system', 'clients.client', '666', 2, '', '', '', '{{}}',"
        " %s, %s)",
        [2, events[1].at, events[0].hash, chain.row_hash({**forged, "details": {}})],
    )

    result = chain.verify()

    assert result.broken_id == 3


def test_row_appended_past_the_head_is_detected(db):
    events = _events(2)
    _raw(
        "INSERT INTO {table} (id, at, actor_username, action, channel, object_type, object_id,"
        " client_id, ip, user_agent, request_id, details, prev_hash, hash)"
        " VALUES (3, %s, '', 'view', 'system', '', '', NULL, '', '', '', '{{}}', %s, %s)",
        [events[1].at, events[1].hash, "0" * 64],
    )

    assert chain.verify().broken_id == 3


def test_model_refuses_update_and_delete(db):
    (event,) = _events(1)

    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(object_id="2")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent(id=5, at=timezone.now(), action="view", channel="web").save()
    assert AuditEvent.objects.get().object_id == "1"


def test_deleting_a_user_keeps_the_chain(ada):
    _events(2, actor=ada)

    ada.delete()

    assert AuditEvent.objects.filter(actor__isnull=True, actor_username="ada").count() == 2
    assert chain.verify().intact


def test_details_refuse_values_other_than_names_and_numbers(db):
    with pytest.raises(TypeError):
        services.record("export", details={"when": datetime.date(2020, 1, 1)})

    event = services.record("export", details={"format": "x" * 500, "rows": 3})

    assert event.details == {"format": "x" * 64, "rows": 3}
    assert AuditEvent.objects.count() == 1


def test_failed_change_rolls_back_its_event(db):
    from django.db import transaction

    @transaction.atomic
    def failing_change() -> None:
        services.record("update", object_type="clients.client", object_id=1)
        raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_change()

    assert AuditEvent.objects.count() == 0
    assert services.record("view").id == 1


@pytest.mark.django_db
def test_prune_keeps_verification_passing(settings):
    settings.KARTOTEKA_AUDIT_RETENTION_DAYS = 30
    start = timezone.now()
    with time_machine.travel(start - datetime.timedelta(days=40), tick=False):
        _events(4)
    with time_machine.travel(start - datetime.timedelta(days=10), tick=False):
        _events(2)

    deleted = services.prune(now=start)

    assert deleted == 4
    head = AuditHead.objects.get(pk=1)
    assert head.anchor_id == 4
    assert head.pruned_total == 4
    assert list(AuditEvent.objects.order_by("id").values_list("id", flat=True)) == [5, 6, 7]
    pruning = AuditEvent.objects.get(pk=7)
    assert (pruning.action, pruning.object_type) == ("delete", "audit.auditevent")
    assert pruning.details == {"pruned": 4, "anchor_id": 4, "retention_days": 30}
    assert chain.verify().intact
    assert services.prune(now=start) == 0


@pytest.mark.django_db
def test_prune_in_batches_and_then_tamper_still_detected(settings, monkeypatch):
    settings.KARTOTEKA_AUDIT_RETENTION_DAYS = 1
    monkeypatch.setattr(services, "PRUNE_BATCH", 2)
    with time_machine.travel(timezone.now() - datetime.timedelta(days=5), tick=False):
        _events(5)
    _events(2)

    assert services.prune() == 5
    assert chain.verify().checked == 3
    _raw("UPDATE {table} SET ip = %s WHERE id = %s", ["10.0.0.1", 6])
    assert chain.verify().broken_id == 6


def test_prune_refuses_non_administrators(alice):
    with pytest.raises(Exception, match="administrators"):
        services.prune(actor=alice)


def test_verify_command_reports_intact_chain(db, capsys):
    _events(3)

    call_command("audit", "verify")

    assert "3 events checked: chain intact." in capsys.readouterr().out


def test_verify_command_fails_on_a_broken_chain(db):
    _events(3)
    _raw("UPDATE {table} SET action = %s WHERE id = %s", ["export", 2])

    with pytest.raises(CommandError, match="Chain broken at event 2"):
        call_command("audit", "verify", "--batch", "1")


def test_prune_command(db, settings, capsys):
    settings.KARTOTEKA_AUDIT_RETENTION_DAYS = 1
    with time_machine.travel(timezone.now() - datetime.timedelta(days=3), tick=False):
        _events(2)

    call_command("audit", "prune")

    assert "Pruned 2 events" in capsys.readouterr().out
    assert AuditEvent.objects.get().channel == "cli"
    assert chain.verify().intact


def test_prune_is_on_the_worker_clock():
    from kartoteka.notifications import scheduler

    (entry,) = [p for p in scheduler.PERIODIC if p.name == "audit_prune"]
    assert entry.every == datetime.timedelta(days=1)
    assert entry.task().name == "audit_prune_task"
