"""The duplicate warning on a card's page: the matcher of the full scan, for one card."""

import pytest
from django.urls import reverse

from kartoteka.clients.tests.factories import make_company, make_person
from kartoteka.dedupe import services
from kartoteka.dedupe.models import DuplicateCandidate
from kartoteka.dedupe.similar import similar_cards


def test_transliterated_name_with_same_birth_date_is_found(alice):
    original = make_person(
        alice, last_name="Иванов", first_name="Пётр", birth_date="1980-05-01", contacts=[]
    )
    latin = make_person(
        alice, last_name="Ivanov", first_name="Petr", birth_date="1980-05-01", contacts=[]
    )

    found = similar_cards(user=alice, client=latin)

    assert [s.client.pk for s in found] == [original.pk]
    assert found[0].score >= 0.7
    assert found[0].reasons


def test_same_phone_in_another_format_is_found(alice):
    first = make_person(
        alice,
        last_name="Петрова",
        first_name="Анна",
        contacts=[{"kind": "phone", "value": "+7 916 123-45-67"}],
    )
    second = make_person(
        alice,
        last_name="Петрова",
        first_name="Аня",
        contacts=[{"kind": "phone", "value": "8 (916) 1234567"}],
    )

    assert [s.client.pk for s in similar_cards(user=alice, client=second)] == [first.pk]


def test_family_member_sharing_surname_and_phone_is_not_offered(alice):
    make_person(
        alice,
        last_name="Сидоров",
        first_name="Олег",
        birth_date="1960-01-01",
        contacts=[{"kind": "phone", "value": "+79160000001"}],
    )
    son = make_person(
        alice,
        last_name="Сидоров",
        first_name="Максим",
        birth_date="1990-02-02",
        contacts=[{"kind": "phone", "value": "+79160000001"}],
    )

    assert similar_cards(user=alice, client=son) == []


def test_cards_the_user_cannot_see_and_dismissed_pairs_are_not_offered(alice, charlie):
    mine = make_person(alice, last_name="Орлов", first_name="Игорь", birth_date="1975-03-03")
    theirs = make_person(charlie, last_name="Орлов", first_name="Игорь", birth_date="1975-03-03")
    other = make_person(alice, last_name="Орлов", first_name="Игорь", birth_date="1975-03-03")

    before = similar_cards(user=alice, client=mine)
    a, b = sorted([mine.pk, other.pk])
    candidate = DuplicateCandidate.objects.create(client_a_id=a, client_b_id=b, score=0.9)
    services.candidate_dismiss(actor=alice, candidate=candidate)
    after = similar_cards(user=alice, client=mine)

    assert [s.client.pk for s in before] == [other.pk]
    assert theirs.pk not in [s.client.pk for s in before]
    assert after == []


def test_company_and_its_person_never_match(alice):
    company = make_company(alice, legal_name='ООО "Ромашка"', short_name="Ромашка")
    person = make_person(alice, last_name="Ромашка", first_name="Ромашка", contacts=[])

    assert similar_cards(user=alice, client=person) == []
    assert all(s.client.pk != person.pk for s in similar_cards(user=alice, client=company))


@pytest.mark.parametrize("username", ["charlie"])
def test_card_page_warning_links_to_merge_and_is_scoped(alice, users, username, web_client_for):
    original = make_person(alice, last_name="Ким", first_name="Ли", birth_date="1990-09-09")
    copy = make_person(alice, last_name="Kim", first_name="Li", birth_date="1990-09-09")

    page = web_client_for(alice).get(reverse("dedupe:similar", args=[copy.pk]))
    outsider = web_client_for(users[username]).get(reverse("dedupe:similar", args=[copy.pk]))
    card = web_client_for(alice).get(reverse("clients:detail", args=[copy.pk]))

    body = page.content.decode()
    assert page.status_code == 200
    assert "data-similar" in body
    assert reverse("clients:detail", args=[original.pk]) in body
    assert f"ids={copy.pk}&amp;ids={original.pk}" in body
    assert outsider.status_code == 404
    assert reverse("dedupe:similar", args=[copy.pk]) in card.content.decode()
