"""Search behaviour, identical on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm)."""

import pytest
from django.db import connection

from kartoteka.clients.selectors import client_list
from kartoteka.clients.services import client_archive, client_update
from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.search.models import SearchEntry


def found(user, query: str, **filters) -> list[str]:
    page = client_list(user=user, filters={"q": query, **filters}, limit=100)
    return sorted(c.display_name for c in page.items)


@pytest.fixture
def base(alice):
    return {
        "ivanov": make_person(
            alice,
            last_name="Иванов",
            first_name="Иван",
            middle_name="Петрович",
            contacts=[
                {"kind": "phone", "value": "+7 (916) 123-45-67"},
                {"kind": "email", "value": "ivan.ivanov@mail.ru"},
            ],
        ),
        "yulia": make_person(
            alice,
            last_name="Щукина",
            first_name="Юлия",
            middle_name="",
            contacts=[{"kind": "telegram", "value": "@yulia_sh"}],
        ),
        "smith": make_person(
            alice,
            last_name="Smith",
            first_name="John",
            middle_name="",
            contacts=[{"kind": "phone", "value": "+1 212 555 0123"}],
        ),
        "wang": make_person(
            alice,
            last_name="王",
            first_name="小明",
            middle_name="",
            contacts=[{"kind": "wechat", "value": "wxm_88"}],
        ),
        "romashka": make_company(
            alice,
            legal_name="ООО «Ромашка»",
            short_name="Ромашка",
            inn="7707083893",
            contacts=[{"kind": "phone", "value": "+380 67 765 4321"}],
        ),
        "hua": make_company(
            alice,
            legal_name="华为技术有限公司",
            short_name="华为",
            country="CN",
            uscc="91110000600037341L",
            contacts=[],
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Иванов", ["Иванов Иван Петрович"]),
        ("ванов", ["Иванов Иван Петрович"]),  # any part of a name
        ("ПЕТРОВИЧ", ["Иванов Иван Петрович"]),
        ("ivanov", ["Иванов Иван Петрович"]),  # Latin finds Cyrillic
        ("Смит", ["John Smith"]),  # Cyrillic finds Latin
        ("iuliia", ["Щукина Юлия"]),
        ("yulia", ["Щукина Юлия"]),  # another transliteration system
        ("shchukina", ["Щукина Юлия"]),
        ("иван петр", ["Иванов Иван Петрович"]),  # every word must match
        ("xiaoming", ["王小明"]),  # Chinese by pinyin
        ("wang xiaoming", ["王小明"]),
        ("小明", ["王小明"]),  # two characters, below the trigram length
        ("王", ["王小明"]),
        ("huawei", ["华为"]),
        ("romashka", ["Ромашка"]),
        ("ромаш", ["Ромашка"]),
    ],
)
def test_names_in_any_script(alice, base, query, expected):
    assert found(alice, query) == expected


@pytest.mark.parametrize(
    "query",
    [
        "9161234567",
        "89161234567",
        "+7 916 123-45-67",
        "+79161234567",
        "123-45-67",
        "8 (916) 1234567",
    ],
)
def test_phone_digits_in_any_format(alice, base, query):
    assert found(alice, query) == ["Иванов Иван Петрович"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("0677654321", ["Ромашка"]),  # Ukrainian domestic format
        ("2125550123", ["John Smith"]),
        ("ivan.ivanov@mail.ru", ["Иванов Иван Петрович"]),
        ("IVAN.IVANOV@MAIL.RU", ["Иванов Иван Петрович"]),
        ("@mail.ru", ["Иванов Иван Петрович"]),
        ("yulia_sh", ["Щукина Юлия"]),
        ("wxm_88", ["王小明"]),
        ("7707083893", ["Ромашка"]),
        ("91110000600037341L", ["华为"]),
        ("zzzz", []),
    ],
)
def test_contacts_and_registration_numbers(alice, base, query, expected):
    assert found(alice, query) == expected


def test_a_whole_address_finds_its_owner_and_a_part_of_one_is_a_substring(alice, base):
    """A whole address means the card with that address (looked up among the contacts, not
    in the documents): a longer address that merely contains it is not that client."""
    make_person(
        alice,
        last_name="Сыроежкин",
        first_name="Иван",
        middle_name="",
        contacts=[{"kind": "email", "value": "aivan.ivanov@mail.ru"}],
    )

    assert found(alice, " Ivan.Ivanov@Mail.RU ") == ["Иванов Иван Петрович"]
    assert found(alice, "aivan.ivanov@mail.ru") == ["Сыроежкин Иван"]
    assert found(alice, "ivan.ivanov@mail") == ["Иванов Иван Петрович", "Сыроежкин Иван"]
    assert found(alice, "ivanov@") == ["Иванов Иван Петрович", "Сыроежкин Иван"]
    assert found(alice, "nobody@mail.ru") == []


def test_a_whole_address_respects_visibility_and_archive(alice, charlie, base):
    assert found(charlie, "ivan.ivanov@mail.ru") == []

    client_archive(actor=alice, client=base["ivanov"])

    assert found(alice, "ivan.ivanov@mail.ru") == []
    assert found(alice, "ivan.ivanov@mail.ru", archived="yes") == ["Иванов Иван Петрович"]


def test_a_whole_address_is_a_few_statements(alice, base, django_assert_num_queries):
    # the address's owners, the cards (alice's teams in a subquery), their tags, contacts,
    # responsible users and teams
    with django_assert_num_queries(6):
        page = client_list(user=alice, filters={"q": "ivan.ivanov@mail.ru"})
        assert [c.display_name for c in page.items] == ["Иванов Иван Петрович"]


def test_card_number(alice, base):
    number = base["smith"].number

    assert "John Smith" in found(alice, str(number))
    assert found(alice, base["smith"].card_number) == ["John Smith"]


def test_search_respects_visibility(alice, charlie, base):
    assert found(charlie, "Иванов") == []
    assert found(charlie, "9161234567") == []


def test_search_follows_edits_and_archive(alice, base):
    card = base["ivanov"]
    client_update(
        actor=alice,
        client=card,
        expected_version=None,
        data={"last_name": "Сидоров"},
        contacts=[{"kind": "phone", "value": "+79037654321"}],
    )

    assert found(alice, "Иванов") == []
    assert found(alice, "Сидоров") == ["Сидоров Иван Петрович"]
    assert found(alice, "9161234567") == []
    assert found(alice, "9037654321") == ["Сидоров Иван Петрович"]
    client_archive(actor=alice, client=card)
    assert found(alice, "Сидоров") == []
    assert found(alice, "Сидоров", archived="yes") == ["Сидоров Иван Петрович"]


def test_search_combines_with_filters(alice, base):
    assert found(alice, "ом", kind="company") == []  # short query: name prefix only
    assert found(alice, "ром", kind="company") == ["Ромашка"]
    assert found(alice, "ром", kind="person") == []


def test_quotes_and_operators_in_query_are_plain_text(alice, base):
    assert found(alice, 'Иванов" OR "') == ["Иванов Иван Петрович"]
    assert found(alice, "AND NOT *") == []


def test_database_index_is_used(alice, base):
    """The search runs on the database's own index, not a scan of the documents."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM search_fts WHERE search_fts MATCH '\"ivanov\"'")
            assert cursor.fetchone()[0] == 1
    else:
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(
                "EXPLAIN SELECT client_id FROM search_searchentry WHERE document LIKE '%ivanov%'"
            )
            plan = " ".join(row[0] for row in cursor.fetchall())
            cursor.execute("SET enable_seqscan = on")
        assert "search_bucket_trgm" in plan
    assert SearchEntry.objects.count() == 6
