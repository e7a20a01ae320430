"""The reminders tick: task reminders at the right instant in every time zone, email through
a real SMTP server on loopback in the recipient's language and zone, and no reminder sent
twice whatever stops or doubles the worker."""

import datetime
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kartoteka.accounts.models import User
from kartoteka.clients.tests.factories import make_person
from kartoteka.notifications import delivery, scheduler
from kartoteka.notifications.models import Notification, ReminderRule
from kartoteka.notifications.services import ensure_rules, reminders_tick
from kartoteka.tasks.models import Task

UTC = datetime.UTC


def at(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def _person(user: User, **data):
    return make_person(user, last_name=data.pop("last_name", "Петров"), **data)


def make_task(assignee: User, due_at: datetime.datetime, **data) -> Task:
    return Task.objects.create(
        title=data.pop("title", "Позвонить"),
        assignee=assignee,
        created_by=assignee,
        due_at=due_at,
        **data,
    )


@pytest.fixture
def moscow(alice) -> User:
    alice.email, alice.language, alice.time_zone = "alice@example.test", "ru", "Europe/Moscow"
    alice.save()
    return alice


@pytest.fixture
def shanghai(bob) -> User:
    bob.email, bob.language, bob.time_zone = "bob@example.test", "zh-hans", "Asia/Shanghai"
    bob.save()
    return bob


@pytest.fixture
def no_daily_rules(db):
    """Only the task reminders: the daily rules stay off so the counts are about tasks."""
    ensure_rules()
    ReminderRule.objects.exclude(key=ReminderRule.Key.TASK_DUE).update(enabled=False)


@pytest.mark.django_db
def test_nine_in_moscow_and_nine_in_shanghai_fire_at_their_utc_instants(
    moscow, shanghai, no_daily_rules
):
    # 09:00 on 1 December in each zone: 06:00 UTC in Moscow (UTC+3), 01:00 UTC in Shanghai
    # (UTC+8); with the default 15 minutes' lead, reminders at 05:45 and 00:45 UTC.
    moscow_due = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=moscow.zone)
    shanghai_due = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=shanghai.zone)
    assert moscow_due.astimezone(UTC) == at(2026, 12, 1, 6, 0)
    assert shanghai_due.astimezone(UTC) == at(2026, 12, 1, 1, 0)
    in_moscow = make_task(moscow, moscow_due, title="Moscow call")
    in_shanghai = make_task(shanghai, shanghai_due, title="Shanghai call")

    assert reminders_tick(now=at(2026, 12, 1, 0, 44, 59)).created["task_due"] == 0
    assert reminders_tick(now=at(2026, 12, 1, 0, 45)).created["task_due"] == 1
    assert list(Notification.objects.values_list("task", "recipient")) == [
        (in_shanghai.pk, shanghai.pk)
    ]
    assert reminders_tick(now=at(2026, 12, 1, 5, 44, 59)).created["task_due"] == 0
    assert reminders_tick(now=at(2026, 12, 1, 5, 45)).created["task_due"] == 1
    reminded = Notification.objects.get(task=in_moscow)
    assert reminded.recipient == moscow
    assert reminded.created_at == at(2026, 12, 1, 5, 45)
    assert reminded.occurs_at == at(2026, 12, 1, 6, 0)
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_reminders_are_emailed_through_smtp_in_the_recipients_language_and_zone(
    smtp, moscow, shanghai, ada, no_daily_rules
):
    ada.email, ada.language, ada.time_zone = "ada@example.test", "en", "Europe/London"
    ada.save()
    client = _person(moscow, last_name="Смирнова", first_name="Анна", middle_name="")
    due = at(2026, 12, 1, 6, 0)  # 09:00 in Moscow, 14:00 in Shanghai, 06:00 in London
    make_task(moscow, due, title="Обсудить договор", client=client)
    make_task(shanghai, due, title="讨论合同")
    make_task(ada, due, title="Discuss the contract")

    report = reminders_tick(now=at(2026, 12, 1, 5, 50))

    assert report.emailed == 3
    assert len(smtp.messages) == 3
    (ru,) = smtp.to("alice@example.test")
    assert ru["Content-Language"] == "ru"
    assert "01.12.2026 09:00" in ru["Subject"]  # Russian date format, Moscow time
    assert "Смирнова Анна" in ru["Subject"]
    assert "Обсудить договор" in ru.get_content()
    assert f"http://127.0.0.1:8000/clients/{client.pk}/" in ru.get_content()
    (zh,) = smtp.to("bob@example.test")
    assert zh["Content-Language"] == "zh-hans"
    assert "2026年12月1日 14:00" in zh["Subject"]  # Chinese date format, Shanghai time
    (en,) = smtp.to("ada@example.test")
    assert en["Content-Language"] == "en"
    assert "12/01/2026 6 a.m." in en["Subject"]  # English format, London time
    assert "Discuss the contract" in en["Subject"]
    assert set(Notification.objects.values_list("email_status", flat=True)) == {"sent"}
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_a_second_tick_and_a_restart_send_nothing_twice(smtp, moscow, no_daily_rules):
    make_task(moscow, at(2026, 12, 1, 6, 0))
    reminders_tick(now=at(2026, 12, 1, 5, 45))
    reminders_tick(now=at(2026, 12, 1, 5, 45))  # the same minute again
    reminders_tick(now=at(2026, 12, 1, 5, 46))
    reminders_tick(now=at(2026, 12, 1, 7, 0))  # a worker restarted later
    assert len(smtp.messages) == 1
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_a_worker_killed_after_claiming_never_sends_those_emails(smtp, moscow, no_daily_rules):
    """At most once: what a dead worker claimed is not sent again, and shows as failed."""
    ensure_rules()
    ReminderRule.objects.filter(key=ReminderRule.Key.TASK_DUE).update(email=True)
    make_task(moscow, at(2026, 12, 1, 6, 0), title="first")
    make_task(moscow, at(2026, 12, 1, 6, 0), title="second")
    # Reminders made, but email left for the "crashing" worker: it claims them and dies.
    ReminderRule.objects.filter(key=ReminderRule.Key.TASK_DUE)
    from kartoteka.notifications import rules

    rule = ReminderRule.objects.get(key=ReminderRule.Key.TASK_DUE)
    assert rules.remind_due_tasks(rule=rule, now=at(2026, 12, 1, 5, 45)) == 2
    claimed = delivery.claim(now=at(2026, 12, 1, 5, 45))
    assert len(claimed) == 2
    # ... the worker is killed here, before sending. A new one starts:
    reminders_tick(now=at(2026, 12, 1, 5, 46))
    assert smtp.messages == []
    assert set(Notification.objects.values_list("email_status", flat=True)) == {"sending"}
    report = reminders_tick(now=at(2026, 12, 1, 5, 56))
    assert report.interrupted == 2
    assert smtp.messages == []
    failed = Notification.objects.filter(email_status="failed")
    assert failed.count() == 2
    assert "never sent twice" in failed.first().email_error
    # The reminders are still under the bell.
    assert Notification.objects.filter(recipient=moscow, read_at__isnull=True).count() == 2


@pytest.mark.django_db
def test_a_mail_server_that_is_down_is_tried_again_later_and_sends_once(
    settings, moscow, no_daily_rules
):
    from kartoteka.notifications.tests.conftest import Inbox, free_port

    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    settings.EMAIL_TIMEOUT = 2
    make_task(moscow, at(2026, 12, 1, 6, 0))
    assert reminders_tick(now=at(2026, 12, 1, 5, 45)).emailed == 0
    notification = Notification.objects.get()
    assert notification.email_status == "pending"
    assert notification.email_attempts == 1
    assert notification.email_error

    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert reminders_tick(now=at(2026, 12, 1, 5, 46)).emailed == 1
        assert reminders_tick(now=at(2026, 12, 1, 5, 47)).emailed == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    notification.refresh_from_db()
    assert (notification.email_status, notification.email_attempts) == ("sent", 2)


@pytest.mark.django_db
def test_done_tasks_old_tasks_and_moved_tasks(moscow, no_daily_rules):
    done = make_task(moscow, at(2026, 12, 1, 6, 0), status=Task.Status.DONE)
    stale = make_task(moscow, at(2026, 11, 29, 6, 0))  # due two days ago: on the overdue list
    moved = make_task(moscow, at(2026, 12, 1, 6, 0))
    reminders_tick(now=at(2026, 12, 1, 5, 45))
    assert list(Notification.objects.values_list("task", flat=True)) == [moved.pk]
    assert not Notification.objects.filter(task__in=[done, stale]).exists()
    # Put off to the afternoon: reminded again at its new time, once.
    Task.objects.filter(pk=moved.pk).update(due_at=at(2026, 12, 1, 12, 0))
    assert reminders_tick(now=at(2026, 12, 1, 6, 0)).created["task_due"] == 0
    assert reminders_tick(now=at(2026, 12, 1, 11, 45)).created["task_due"] == 1
    assert reminders_tick(now=at(2026, 12, 1, 11, 46)).created["task_due"] == 0


@pytest.mark.django_db
def test_the_lead_time_and_email_switch_are_the_administrators(smtp, moscow, no_daily_rules):
    ReminderRule.objects.filter(key=ReminderRule.Key.TASK_DUE).update(amount=60, email=False)
    make_task(moscow, at(2026, 12, 1, 6, 0))
    assert reminders_tick(now=at(2026, 12, 1, 4, 59)).created["task_due"] == 0
    assert reminders_tick(now=at(2026, 12, 1, 5, 0)).created["task_due"] == 1
    assert smtp.messages == []
    assert Notification.objects.get().email_status == ""


@pytest.mark.django_db
def test_the_tick_keeps_its_queries_flat(
    moscow, shanghai, no_daily_rules, smtp, django_assert_max_num_queries
):
    for n in range(30):
        make_task(moscow if n % 2 else shanghai, at(2026, 12, 1, 6, 0), title=f"t{n}")
    # A fixed handful, plus one UPDATE per email sent: each is marked sent the moment it left,
    # which is what keeps a crash from sending it again. Nothing grows per task or recipient.
    with django_assert_max_num_queries(20 + 30):
        report = reminders_tick(now=at(2026, 12, 1, 5, 45))
    assert report.created["task_due"] == 30
    assert report.emailed == 30


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_on_postgresql_send_each_reminder_once(smtp, moscow, shanghai):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent workers are a PostgreSQL matter; SQLite serialises writers")
    ensure_rules()
    ReminderRule.objects.exclude(key=ReminderRule.Key.TASK_DUE).update(enabled=False)
    for n in range(40):
        make_task(moscow if n % 2 else shanghai, at(2026, 12, 1, 6, 0), title=f"t{n}")
    barrier = threading.Barrier(2)
    reports = []
    errors = []

    def work() -> None:
        try:
            barrier.wait()
            reports.append(reminders_tick(now=at(2026, 12, 1, 5, 45)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert Notification.objects.count() == 40
    assert len(smtp.messages) == 40
    subjects = [m["Subject"] for m in smtp.messages]
    assert len(set(subjects)) == 40
    assert sum(r.emailed for r in reports) == 40


@pytest.mark.django_db(transaction=True)
def test_the_clock_enqueues_one_tick_a_minute_and_the_worker_runs_it(
    settings, moscow, smtp, monkeypatch
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # Only the reminders' clock here: other apps' periodic tasks have their own tests.
    reminders = [p for p in scheduler.PERIODIC if p.name == "reminders_tick"]
    monkeypatch.setattr(scheduler, "PERIODIC", reminders)
    now = timezone.now()
    assert scheduler.enqueue_due(now=now) == ["reminders_tick"]
    assert scheduler.enqueue_due(now=now) == []  # another worker at the same moment
    assert scheduler.enqueue_due(now=now + datetime.timedelta(seconds=59)) == []
    assert DBTaskResult.objects.count() == 1
    make_task(moscow, now + datetime.timedelta(minutes=5), title="Soon")

    from django.core.management import call_command

    call_command("worker", batch=True, no_clock=False, verbosity=0)
    result = DBTaskResult.objects.get()
    assert result.status == "SUCCESSFUL"
    assert Notification.objects.filter(recipient=moscow, kind="task_due").count() == 1
    assert len(smtp.messages) == 1
    assert scheduler.enqueue_due(now=now + datetime.timedelta(seconds=60)) == ["reminders_tick"]
