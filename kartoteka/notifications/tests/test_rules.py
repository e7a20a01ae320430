"""The automatic reminders: each rule with cases that fire and cases that do not, who is
reminded, once a day at most, and a run cut short by a crash runs again without doubles."""

import datetime
from decimal import Decimal

import pytest

from kartoteka.accounts.models import User
from kartoteka.care.services import recommendation_create, recommendation_set_status
from kartoteka.clients.models import Client
from kartoteka.clients.services import client_actualize
from kartoteka.clients.tests.factories import make_person
from kartoteka.finance.tests.factories import make_invoice, make_payment
from kartoteka.notifications import rules
from kartoteka.notifications.models import Notification, ReminderRule
from kartoteka.notifications.services import ensure_rules, reminders_tick
from kartoteka.sales.models import Order
from kartoteka.sales.tests.factories import make_order

UTC = datetime.UTC
D = datetime.date


def morning(day: datetime.date) -> datetime.datetime:
    """09:00 in Moscow (the business's zone in the tests) on `day`."""
    return datetime.datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)


def only(key: str, **values) -> ReminderRule:
    """Switch every rule off but `key` (with `values`), so a test sees one rule's work."""
    ensure_rules()
    ReminderRule.objects.exclude(key=key).update(enabled=False)
    ReminderRule.objects.filter(key=key).update(enabled=True, **values)
    return ReminderRule.objects.get(key=key)


def about(kind: str) -> list[tuple[str, str, str]]:
    return sorted(
        Notification.objects.filter(kind=kind).values_list(
            "recipient__username", "client__last_name", "occurrence"
        )
    )


def person(actor: User, last_name: str, **data) -> Client:
    return make_person(actor, last_name=last_name, first_name="Анна", middle_name="", **data)


# --- Birthdays ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_birthdays_are_reminded_n_days_before_once(alice):
    only("birthday", amount=3)
    person(alice, "Весенняя", birth_date=D(1985, 6, 18))
    person(alice, "Летняя", birth_date=D(1985, 6, 19))
    person(alice, "Безымянная")  # no birth date
    report = reminders_tick(now=morning(D(2026, 6, 15)))
    assert report.rules_run == ["birthday"]
    assert about("birthday") == [("alice", "Весенняя", "2026-06-18")]
    notification = Notification.objects.get(kind="birthday")
    assert notification.params["birthday_on"] == "2026-06-18"
    # The same day again: the rule has run today.
    assert reminders_tick(now=morning(D(2026, 6, 15)) + datetime.timedelta(hours=5)).rules_run == []
    # The next day: the next birthday, and the first is not repeated.
    reminders_tick(now=morning(D(2026, 6, 16)))
    assert about("birthday") == [
        ("alice", "Весенняя", "2026-06-18"),
        ("alice", "Летняя", "2026-06-19"),
    ]


@pytest.mark.django_db
def test_birthdays_wait_for_the_morning_and_catch_up_missed_days(alice):
    only("birthday", amount=0)
    person(alice, "Понедельник", birth_date=D(1990, 6, 15))
    person(alice, "Вторник", birth_date=D(1990, 6, 16))
    person(alice, "Среда", birth_date=D(1990, 6, 17))
    early = datetime.datetime(2026, 6, 15, 4, 59, tzinfo=UTC)  # 07:59 in Moscow
    assert reminders_tick(now=early).rules_run == []
    reminders_tick(now=morning(D(2026, 6, 15)))
    assert [row[1] for row in about("birthday")] == ["Понедельник"]
    # The worker was down on the 16th: on the 17th it catches up with the 16th too.
    reminders_tick(now=morning(D(2026, 6, 17)))
    assert sorted(row[1] for row in about("birthday")) == ["Вторник", "Понедельник", "Среда"]


@pytest.mark.django_db
def test_29_february_birthdays_fall_on_28_february_in_common_years(alice):
    only("birthday", amount=3)
    person(alice, "Високосная", birth_date=D(1992, 2, 29))
    person(alice, "Февральская", birth_date=D(1990, 2, 28))
    person(alice, "Мартовская", birth_date=D(1990, 3, 1))
    # 2027 is a common year: both are celebrated on 28 February, reminded on the 25th.
    reminders_tick(now=morning(D(2027, 2, 25)))
    assert about("birthday") == [
        ("alice", "Високосная", "2027-02-28"),
        ("alice", "Февральская", "2027-02-28"),
    ]
    Notification.objects.all().delete()
    # 2028 is a leap year: the 28th on the 25th, the 29th on the 26th, 1 March on the 27th.
    reminders_tick(now=morning(D(2028, 2, 25)))
    assert about("birthday") == [("alice", "Февральская", "2028-02-28")]
    reminders_tick(now=morning(D(2028, 2, 26)))
    assert ("alice", "Високосная", "2028-02-29") in about("birthday")
    reminders_tick(now=morning(D(2028, 2, 27)))
    assert about("birthday") == [
        ("alice", "Високосная", "2028-02-29"),
        ("alice", "Мартовская", "2028-03-01"),
        ("alice", "Февральская", "2028-02-28"),
    ]


@pytest.mark.django_db
def test_archived_cards_and_companies_get_no_birthday_reminders(alice):
    only("birthday", amount=0)
    archived = person(alice, "Архивная", birth_date=D(1990, 6, 15))
    Client.objects.filter(pk=archived.pk).update(is_archived=True)
    reminders_tick(now=morning(D(2026, 6, 15)))
    assert about("birthday") == []


# --- Who is reminded ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_card_without_its_responsible_goes_to_the_teams_managers(alice, bob, mallory, charlie):
    only("birthday", amount=0)
    orphan = person(alice, "Ничья", birth_date=D(1990, 6, 15))
    Client.objects.filter(pk=orphan.pk).update(responsible=None)
    person(bob, "Ушедшего", birth_date=D(1990, 6, 15))
    User.objects.filter(pk=bob.pk).update(is_active=False)  # bob has left
    nobody = person(charlie, "Бездомная", birth_date=D(1990, 6, 15))
    Client.objects.filter(pk=nobody.pk).update(responsible=None, team=None)
    reminders_tick(now=morning(D(2026, 6, 15)))
    assert about("birthday") == [
        ("mallory", "Ничья", "2026-06-15"),
        ("mallory", "Ушедшего", "2026-06-15"),
    ]
    assert not Notification.objects.filter(client=nobody).exists()


# --- Cards not confirmed ------------------------------------------------------------------


@pytest.mark.django_db
def test_cards_not_confirmed_for_n_days_once_until_confirmed_again(alice):
    only("stale_card", amount=180)
    now = morning(D(2026, 6, 15))
    old = person(alice, "Давняя")
    fresh = person(alice, "Свежая")
    never = person(alice, "Неподтверждённая")
    Client.objects.filter(pk=old.pk).update(actualized_at=now - datetime.timedelta(days=181))
    Client.objects.filter(pk=fresh.pk).update(actualized_at=now - datetime.timedelta(days=179))
    Client.objects.filter(pk=never.pk).update(
        actualized_at=None, created_at=now - datetime.timedelta(days=200)
    )
    reminders_tick(now=now)
    assert [row[1] for row in about("stale_card")] == ["Давняя", "Неподтверждённая"]
    notification = Notification.objects.get(client=old)
    assert notification.params == {"client": "Давняя Анна", "days": 180}
    # Still stale a day later: not reminded again.
    reminders_tick(now=now + datetime.timedelta(days=1))
    assert Notification.objects.filter(kind="stale_card").count() == 2
    # Confirmed, then stale again half a year on: a new reminder.
    client_actualize(actor=alice, client=Client.objects.get(pk=old.pk))
    Client.objects.filter(pk=old.pk).update(actualized_at=now + datetime.timedelta(days=2))
    reminders_tick(now=now + datetime.timedelta(days=183))
    assert Notification.objects.filter(kind="stale_card", client=old).count() == 2


# --- Overdue recommendations --------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_recommendations(alice):
    only("overdue_recommendation", amount=0)
    client = person(alice, "Клиентка")
    due = recommendation_create(
        actor=alice,
        client=client,
        data={"given_on": D(2026, 5, 1), "text": "Повторить процедуру", "due_on": D(2026, 6, 10)},
    )
    followed = recommendation_create(
        actor=alice,
        client=client,
        data={"given_on": D(2026, 5, 1), "text": "Крем", "due_on": D(2026, 6, 10)},
    )
    recommendation_set_status(actor=alice, recommendation=followed, status="followed")
    recommendation_create(
        actor=alice,
        client=client,
        data={"given_on": D(2026, 5, 1), "text": "Сегодня", "due_on": D(2026, 6, 15)},
    )
    recommendation_create(
        actor=alice,
        client=client,
        data={"given_on": D(2025, 1, 1), "text": "Давно", "due_on": D(2025, 2, 1)},
    )
    reminders_tick(now=morning(D(2026, 6, 15)))
    (notification,) = Notification.objects.filter(kind="overdue_recommendation")
    assert notification.subject == f"recommendation:{due.pk}"
    assert notification.params["text"] == "Повторить процедуру"
    assert notification.recipient == alice
    reminders_tick(now=morning(D(2026, 6, 16)))  # the one due today is overdue tomorrow
    assert Notification.objects.filter(kind="overdue_recommendation").count() == 2


# --- Overdue debts ------------------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_unpaid_invoices(alice):
    only("overdue_debt", amount=1)
    client = person(alice, "Должница")
    unpaid = make_invoice(
        alice, client, "1000.00", number="A-1", issued_on=D(2026, 5, 1), due_on=D(2026, 6, 1)
    )
    partly = make_invoice(
        alice, client, "1000.00", number="A-2", issued_on=D(2026, 5, 1), due_on=D(2026, 6, 1)
    )
    make_payment(alice, client, "400.00", invoice=partly, paid_on=D(2026, 6, 2))
    paid = make_invoice(
        alice, client, "500.00", number="A-3", issued_on=D(2026, 5, 1), due_on=D(2026, 6, 1)
    )
    make_payment(alice, client, "500.00", invoice=paid, paid_on=D(2026, 6, 2))
    make_invoice(  # due yesterday: within the one day's grace
        alice, client, "700.00", number="A-4", issued_on=D(2026, 5, 1), due_on=D(2026, 6, 14)
    )
    reminders_tick(now=morning(D(2026, 6, 15)))
    subjects = set(
        Notification.objects.filter(kind="overdue_debt").values_list("subject", flat=True)
    )
    assert subjects == {f"invoice:{unpaid.pk}", f"invoice:{partly.pk}"}
    assert Notification.objects.get(subject=f"invoice:{unpaid.pk}").params["number"] == "A-1"
    reminders_tick(now=morning(D(2026, 6, 16)))
    assert Notification.objects.filter(kind="overdue_debt").count() == 3  # A-4 now


# --- Clients gone silent ------------------------------------------------------------------


def orders_on(actor: User, client: Client, *days: datetime.date) -> None:
    for day in days:
        make_order(actor, client, ordered_on=day)


@pytest.mark.django_db
def test_silent_clients_beyond_their_usual_interval(alice):
    only("silent_client", amount=14, factor=Decimal("1.5"))
    regular = person(alice, "Постоянная")
    orders_on(alice, regular, D(2026, 1, 1), D(2026, 1, 31), D(2026, 3, 2))  # every 30 days
    twice = person(alice, "Дважды")
    orders_on(alice, twice, D(2025, 1, 1), D(2025, 2, 1))  # too few orders to know a rhythm
    cancelled = person(alice, "Отменившая")
    orders_on(alice, cancelled, D(2026, 1, 1), D(2026, 1, 31), D(2026, 3, 2), D(2026, 4, 1))
    Order.objects.filter(client=cancelled, ordered_on=D(2026, 4, 1)).update(status="cancelled")
    # 39 days after the last order: within 1.5 x 30 days.
    reminders_tick(now=morning(D(2026, 4, 10)))
    assert about("silent_client") == []
    # 46 days: beyond it, for both (the cancelled order does not count as a purchase).
    reminders_tick(now=morning(D(2026, 4, 17)))
    assert [row[1] for row in about("silent_client")] == ["Отменившая", "Постоянная"]
    notification = Notification.objects.get(kind="silent_client", client=regular)
    assert notification.params == {
        "client": "Постоянная Анна",
        "last_on": "2026-03-02",
        "interval": 30,
    }
    reminders_tick(now=morning(D(2026, 4, 18)))
    assert Notification.objects.filter(kind="silent_client").count() == 2
    # A new purchase, then silence again: a new reminder.
    orders_on(alice, regular, D(2026, 4, 20))
    reminders_tick(now=morning(D(2026, 7, 1)))
    assert Notification.objects.filter(kind="silent_client", client=regular).count() == 2


# --- Once, whatever happens ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_rule_run_cut_short_runs_again_without_doubles(alice, monkeypatch):
    only("birthday", amount=0)
    for n in range(3):
        person(alice, f"Именинница{n}", birth_date=D(1990, 6, 15))
    real = rules.run_birthdays

    def killed_midway(**kwargs):
        real(**kwargs)  # the rows are written ...
        raise RuntimeError("worker killed")  # ... and the worker dies before committing

    monkeypatch.setattr(rules, "run_birthdays", killed_midway)
    with pytest.raises(RuntimeError):
        reminders_tick(now=morning(D(2026, 6, 15)))
    assert Notification.objects.count() == 0
    assert ReminderRule.objects.get(key="birthday").last_run_on is None
    monkeypatch.setattr(rules, "run_birthdays", real)
    reminders_tick(now=morning(D(2026, 6, 15)) + datetime.timedelta(minutes=1))
    reminders_tick(now=morning(D(2026, 6, 15)) + datetime.timedelta(minutes=2))
    assert Notification.objects.filter(kind="birthday").count() == 3
    assert ReminderRule.objects.get(key="birthday").last_run_on == D(2026, 6, 15)


@pytest.mark.django_db
def test_disabled_rules_do_nothing(alice):
    ensure_rules()
    ReminderRule.objects.update(enabled=False)
    person(alice, "Именинница", birth_date=D(1990, 6, 15))
    assert reminders_tick(now=morning(D(2026, 6, 15))).rules_run == []
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_every_rule_runs_in_a_flat_number_of_queries(alice, bob, django_assert_max_num_queries):
    def scenario(count: int, day: datetime.date) -> None:
        for n in range(count):
            owner = alice if n % 2 else bob
            client = person(owner, f"Клиент{day.day}-{n}", birth_date=day)
            Client.objects.filter(pk=client.pk).update(actualized_at=morning(D(2025, 1, 1)))
            make_invoice(owner, client, "100.00", issued_on=D(2026, 5, 1), due_on=D(2026, 6, 1))
            recommendation_create(
                actor=owner,
                client=client,
                data={"given_on": D(2026, 5, 1), "text": "Совет", "due_on": D(2026, 6, 1)},
            )
            orders_on(owner, client, D(2026, 1, 1), D(2026, 1, 11), D(2026, 1, 21))

    ensure_rules()
    # Emails cost one UPDATE each by design (see test_tick); here only the rules are counted.
    ReminderRule.objects.update(email=False)
    ReminderRule.objects.filter(key="birthday").update(amount=0)
    scenario(5, D(1990, 6, 15))
    with django_assert_max_num_queries(80) as small:
        reminders_tick(now=morning(D(2026, 6, 15)))
    Notification.objects.all().delete()
    ReminderRule.objects.update(last_run_on=None)
    scenario(40, D(1990, 6, 15))
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        report = reminders_tick(now=morning(D(2026, 6, 15)))
    assert report.created["birthday"] == 45
    assert report.created["stale_card"] == 45
    assert report.created["overdue_debt"] == 45
    assert report.created["overdue_recommendation"] == 45
    assert report.created["silent_client"] == 45
    assert len(large.captured_queries) == len(small.captured_queries)
