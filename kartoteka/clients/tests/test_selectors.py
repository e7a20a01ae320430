import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.http import Http404

from kartoteka.clients.models import tags_of
from kartoteka.clients.selectors import client_detail, client_get, client_list
from kartoteka.clients.services import client_actualize, client_archive, tags_from_names
from kartoteka.clients.tests.factories import make_company, make_person


def names(page) -> list[str]:
    return [c.display_name for c in page.items]


@pytest.fixture
def cards(alice, bob, charlie, mallory):
    return {
        "alice": make_person(alice, last_name="Алексеева", first_name="Анна"),
        "bob": make_person(bob, last_name="Борисов", first_name="Борис"),
        "charlie": make_person(charlie, last_name="Чернов", first_name="Чарльз"),
        "mallory": make_company(mallory, legal_name="ООО Марс", short_name="Марс"),
    }


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("ada", {"alice", "bob", "charlie", "mallory"}),
        ("alice", {"alice", "bob", "mallory"}),
        ("bob", {"alice", "bob", "mallory"}),
        ("mallory", {"alice", "bob", "mallory"}),
        ("rita", {"alice", "bob", "mallory"}),
        ("charlie", {"charlie"}),
    ],
)
def test_list_shows_only_cards_the_user_may_see(users, cards, user, expected):
    page = client_list(user=users[user], filters={})

    assert {c.pk for c in page.items} == {cards[name].pk for name in expected}


def test_card_outside_team_answers_404(users, cards):
    with pytest.raises(Http404):
        client_get(user=users["alice"], pk=cards["charlie"].pk)

    assert client_get(user=users["ada"], pk=cards["charlie"].pk) == cards["charlie"]


def test_employee_sees_own_card_without_team(db):
    from kartoteka.accounts.services import user_create

    loner = user_create(actor=None, username="loner", password="x", role="employee")
    own = make_person(loner)
    other = make_person(user_create(actor=None, username="other", password="x"))

    assert [c.pk for c in client_list(user=loner, filters={}).items] == [own.pk]
    with pytest.raises(Http404):
        client_get(user=loner, pk=other.pk)


def test_archived_cards_are_hidden_unless_asked(alice):
    kept = make_person(alice, last_name="Живой")
    gone = make_person(alice, last_name="Архивный")
    client_archive(actor=alice, client=gone)

    assert [c.pk for c in client_list(user=alice, filters={}).items] == [kept.pk]
    assert [c.pk for c in client_list(user=alice, filters={"archived": "yes"}).items] == [gone.pk]
    assert len(client_list(user=alice, filters={"archived": "all"}).items) == 2


def test_filters_by_kind_status_tag_and_team(alice, mallory, north):
    vip = tags_from_names(actor=alice, names=["VIP"])
    person = make_person(alice, status="key")
    company = make_company(alice, status="active")
    from kartoteka.clients.services import client_update

    client_update(actor=alice, client=company, expected_version=None, data={}, tags=vip)

    assert [c.pk for c in client_list(user=alice, filters={"kind": "company"}).items] == [
        company.pk
    ]
    assert [c.pk for c in client_list(user=alice, filters={"status": ["key"]}).items] == [person.pk]
    assert [c.pk for c in client_list(user=alice, filters={"tag": [vip[0].pk]}).items] == [
        company.pk
    ]
    assert len(client_list(user=alice, filters={"team": north.pk}).items) == 2


def test_invalid_filter_is_a_validation_error(alice):
    with pytest.raises(ValidationError):
        client_list(user=alice, filters={"status": ["nonsense"]})


def test_date_filters(alice):
    with time_machine.travel(datetime.datetime(2025, 1, 10, 12, tzinfo=datetime.UTC)):
        old = make_person(alice, last_name="Старый")
    with time_machine.travel(datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC)):
        new = make_person(alice, last_name="Новый")
        client_actualize(actor=alice, client=new)

    created_2026 = client_list(user=alice, filters={"created_from": "2026-01-01"})
    stale = client_list(user=alice, filters={"actualized_to": "2026-01-01"})
    confirmed = client_list(user=alice, filters={"actualized_from": "2026-05-01"})

    assert [c.pk for c in created_2026.items] == [new.pk]
    assert [c.pk for c in stale.items] == [old.pk]
    assert [c.pk for c in confirmed.items] == [new.pk]


@pytest.mark.parametrize("sort", ["-number", "number", "name", "-name", "-updated", "actualized"])
def test_keyset_pages_visit_every_card_once_in_order(alice, sort):
    surnames = ["Яковлев", "Абрамов", "Морозов", "Абрамов", "Ершов", "Павлов", "Зуев"]
    made = [make_person(alice, last_name=s) for s in surnames]
    client_actualize(actor=alice, client=made[2])
    client_actualize(actor=alice, client=made[5])

    seen = []
    cursor = None
    for _ in range(10):
        page = client_list(user=alice, filters={}, sort=sort, cursor=cursor, limit=2)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert sorted(c.pk for c in seen) == sorted(c.pk for c in made)
    full = client_list(user=alice, filters={}, sort=sort, limit=100).items
    assert [c.pk for c in seen] == [c.pk for c in full]
    if sort == "name":
        assert [c.sort_name.split()[0] for c in full] == sorted(s.lower() for s in surnames)


def test_garbage_cursor_is_a_validation_error(alice):
    with pytest.raises(ValidationError):
        client_list(user=alice, filters={}, cursor="not-a-cursor")


def test_list_query_count_does_not_grow_with_rows(alice, django_assert_num_queries):
    tags = tags_from_names(actor=alice, names=["A", "B"])
    from kartoteka.clients.services import client_update

    for _ in range(2):
        client = make_person(
            alice,
            contacts=[
                {"kind": "phone", "value": "+79161111111"},
                {"kind": "email", "value": "a@b.ru"},
            ],
        )
        client_update(actor=alice, client=client, expected_version=None, data={}, tags=tags)
    alice = type(alice).objects.get(pk=alice.pk)
    # The user's teams, the cards, their tags, contacts, responsible users and teams; what
    # a row shows is read from those, not a query per row.
    with django_assert_num_queries(6):
        items = client_list(user=alice, filters={}).items
        shown = [(c.responsible, c.team, [t.name for t in tags_of(c)]) for c in items]
    assert shown == [(alice, alice.teams.get(), ["A", "B"])] * 2
    for _ in range(5):
        make_person(alice)
    alice = type(alice).objects.get(pk=alice.pk)
    with django_assert_num_queries(6):
        items = client_list(user=alice, filters={}).items
        shown = [(c.responsible, c.team, tags_of(c)) for c in items]
    assert len(shown) == 7
    assert {(c.responsible_id, c.team_id) for c in items} == {(r.pk, t.pk) for r, t, _tags in shown}


def test_detail_lists_only_visible_people_of_a_company(alice, charlie, ada):
    company = make_company(ada, responsible=alice, team=None)
    visible = make_person(alice, employer=company)
    make_person(ada, employer=company, responsible=charlie, team=None)

    detail = client_detail(user=alice, pk=company.pk)

    assert [p.pk for p in detail.visible_people] == [visible.pk]
    assert len(client_detail(user=ada, pk=company.pk).visible_people) == 2


def test_detail_hides_employer_the_user_cannot_see(alice, charlie, ada):
    hidden = make_company(ada, responsible=charlie, team=None)
    person = make_person(ada, responsible=alice, team=None, employer=hidden)

    assert client_detail(user=alice, pk=person.pk).employer is None
    assert client_detail(user=ada, pk=person.pk).employer == hidden


def test_manager_sees_teammates_cards_even_without_a_team(alice, mallory, charlie, ada):
    teamless = make_person(ada, responsible=alice, team=None)
    outsider = make_person(ada, responsible=charlie, team=None)

    visible = {c.pk for c in client_list(user=mallory, filters={}).items}

    assert teamless.pk in visible
    assert outsider.pk not in visible
    assert client_get(user=mallory, pk=teamless.pk) == teamless
    assert [c.pk for c in client_list(user=charlie, filters={}).items] == [outsider.pk]


def test_name_search_query_count(ada, alice, django_assert_num_queries):
    """A name-fragment search that fills its page: on PostgreSQL the first id window (which
    also reads the newest id) in one statement, then the cards, their tags and contacts; on
    SQLite the FTS join, tags and contacts. No transaction and no SET LOCAL around it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for index in range(12):
        make_person(alice, last_name=f"Окуневский{index}")
    make_person(alice, last_name="Другой")
    ada = type(ada).objects.get(pk=ada.pk)
    # + the responsible users and the teams of the page's cards
    expected = 6 if connection.vendor == "postgresql" else 5
    with CaptureQueriesContext(connection) as queries, django_assert_num_queries(expected):
        page = client_list(user=ada, filters={"q": "окуне"}, limit=10)
    assert [c.last_name for c in page.items] == [f"Окуневский{i}" for i in range(11, 1, -1)]
    assert page.next_cursor is not None
    statements = [q["sql"].lstrip().upper() for q in queries.captured_queries]
    assert not [s for s in statements if s.startswith(("SET", "BEGIN", "SAVEPOINT"))]
    rest = client_list(user=ada, filters={"q": "окуне"}, limit=10, cursor=page.next_cursor)
    assert [c.last_name for c in rest.items] == ["Окуневский1", "Окуневский0"]
    assert rest.next_cursor is None


def test_name_search_on_an_empty_base(ada):
    assert client_list(user=ada, filters={"q": "окуне"}).items == []


def test_card_fetch_is_one_query_without_order(alice, django_assert_num_queries):
    card = make_person(alice, last_name="Один")
    alice = type(alice).objects.get(pk=alice.pk)
    alice.team_ids()
    with django_assert_num_queries(1) as queries:
        assert client_get(user=alice, pk=card.pk) == card
    assert "ORDER BY" not in queries.captured_queries[0]["sql"]


@pytest.mark.parametrize("bucket", [2048, 4])
def test_an_administrators_small_windows_skip_archived_matches(ada, alice, monkeypatch, bucket):
    """An administrator without filters gets id windows barely larger than the page (on
    PostgreSQL); archived matches drop out of them, and further windows fill the page: no
    card is lost, the order stays."""
    monkeypatch.setattr("kartoteka.clients.selectors.SEARCH_BUCKET", bucket)
    cards = [make_person(alice, last_name=f"Окуневский{index}") for index in range(30)]
    for card in cards[-20:]:
        client_archive(actor=alice, client=card)
    ada = type(ada).objects.get(pk=ada.pk)
    expected = [c.pk for c in reversed(cards[:10])]

    seen, cursor = [], None
    while True:
        page = client_list(user=ada, filters={"q": "окуне"}, limit=3, cursor=cursor)
        seen += [c.pk for c in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor

    assert seen == expected
    everything = client_list(user=ada, filters={"q": "окуне", "archived": "all"}, limit=40)
    assert [c.pk for c in everything.items] == [c.pk for c in reversed(cards)]
