"""The demo data generator: every value valid, the batch writer equal to the services."""

import random
from io import StringIO

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from django.db.models import Prefetch
from stdnum.cn import uscc as stdnum_uscc
from stdnum.ru import inn as stdnum_inn
from stdnum.ru import ogrn as stdnum_ogrn
from stdnum.ua import edrpou as stdnum_edrpou

from kartoteka.accounts.models import Team, User
from kartoteka.clients import demo
from kartoteka.clients.models import CardNumberCounter, Client, ContactPoint
from kartoteka.clients.normalize import (
    REGISTRATION_VALIDATORS,
    format_phone,
    normalize_email,
    normalize_messenger,
    normalize_phone,
)
from kartoteka.clients.selectors import client_list
from kartoteka.clients.services import client_create
from kartoteka.clients.tests.factories import make_person
from kartoteka.core.context import change_context
from kartoteka.core.models import ObjectChange
from kartoteka.search.indexing import build_document
from kartoteka.search.models import SearchEntry


@pytest.fixture
def staff(db) -> demo.Staff:
    return demo.demo_staff_ensure()


@pytest.fixture
def generator(staff) -> demo.CardGenerator:
    return demo.CardGenerator(staff=staff, seed=7, pool_size=200)


def test_check_digits_follow_stdnum():
    rng = random.Random(3)

    def body(length: int, alphabet: str = "0123456789") -> str:
        return rng.choice("123456789") + "".join(rng.choice(alphabet) for _ in range(length - 1))

    for _ in range(500):
        assert stdnum_inn.is_valid(demo.ru_inn_company(body(9)))
        assert stdnum_inn.is_valid(demo.ru_inn_person(body(10)))
        assert stdnum_ogrn.is_valid(demo.ru_ogrn(body(12)))
        ogrnip = demo.ru_ogrnip("3" + body(13))
        assert ogrnip is None or stdnum_ogrn.is_valid(ogrnip)
        assert stdnum_edrpou.is_valid(demo.ua_edrpou(body(7)))
        assert stdnum_uscc.is_valid(demo.cn_uscc("91" + body(6) + body(9, demo.USCC_ALPHABET)))


def test_wrong_check_digit_is_refused_by_stdnum():
    inn = demo.ru_inn_company("770708389")
    wrong = inn[:-1] + str((int(inn[-1]) + 1) % 10)

    assert stdnum_inn.is_valid(inn)
    assert not stdnum_inn.is_valid(wrong)


@pytest.mark.parametrize("locale", ["ru_RU", "uk_UA", "zh_CN", "en_US"])
def test_phones_are_valid_and_formatted_like_the_services(locale, generator):
    for landline in (False, True):
        for _ in range(400):
            display, e164 = generator.phone(locale, landline=landline)

            assert phonenumbers.is_valid_number(phonenumbers.parse(e164, None)), e164
            assert normalize_phone(display) == e164
            assert format_phone(e164) == display


def test_generated_cards_are_valid(generator):
    specs = list(generator.generate(300))

    countries = set()
    for spec in specs:
        fields = spec.fields
        for contact in spec.contacts:
            if contact.kind == "phone":
                assert normalize_phone(contact.value) == contact.normalized
                assert format_phone(contact.normalized) == contact.value
            elif contact.kind == "email":
                assert normalize_email(contact.value) == contact.normalized
            elif contact.kind in ("telegram", "whatsapp", "viber", "wechat"):
                assert normalize_messenger(contact.kind, contact.value) == contact.normalized
        for field, validator in REGISTRATION_VALIDATORS.items():
            if fields.get(field):
                assert validator(fields[field]) == fields[field]
        if fields.get("inn"):
            assert stdnum_inn.is_valid(fields["inn"])
        if fields.get("ogrn"):
            assert stdnum_ogrn.is_valid(fields["ogrn"])
        if fields.get("edrpou"):
            assert stdnum_edrpou.is_valid(fields["edrpou"])
        if fields.get("uscc"):
            assert stdnum_uscc.is_valid(fields["uscc"])
        if fields["kind"] == "company":
            countries.add(fields["country"])
        assert fields["created_at"] <= fields["updated_at"]

    assert countries == {"RU", "UA", "CN", "US"}
    people = [s for s in specs if s.fields["kind"] == "person"]
    assert any(s.fields.get("middle_name") for s in people)
    assert any(s.employer_key is not None for s in people)
    assert any(len(s.fields.get("inn", "")) == 12 and len(s.fields["ogrn"]) == 15 for s in specs)
    assert any(len(s.fields.get("inn", "")) == 10 and s.fields.get("kpp") for s in specs)


def test_same_seed_gives_same_cards(staff):
    first = list(demo.CardGenerator(staff=staff, seed=11, pool_size=100).generate(20))
    second = list(demo.CardGenerator(staff=staff, seed=11, pool_size=100).generate(20))

    assert [s.fields["kind"] for s in first] == [s.fields["kind"] for s in second]
    assert [s.contacts[0].normalized for s in first] == [s.contacts[0].normalized for s in second]


def test_generated_cards_pass_the_services(ada, generator):
    """The strictest check: client_create validates every field and contact."""
    created = demo.cards_create_through_services(generator.generate(60), actor=ada)

    assert len(created) == 60
    assert Client.objects.count() == 60
    assert ContactPoint.objects.filter(client__in=created).count() >= 60


def test_bulk_create_writes_what_the_services_write(ada, generator):
    existing = make_person(ada)
    tag_ids = demo.demo_tags_ensure()

    with change_context(channel="cli"):
        count = demo.cards_bulk_create(
            generator.generate(60), tag_ids=tag_ids, log_changes=True, batch_size=25
        )

    assert count == 60
    cards = list(
        Client.objects.exclude(pk=existing.pk).prefetch_related(
            Prefetch("contacts", queryset=ContactPoint.objects.order_by("pk"))
        )
    )
    numbers = sorted(c.number for c in cards)
    assert numbers == list(range(existing.number + 1, existing.number + 61))
    assert CardNumberCounter.objects.get(name="client").value == max(numbers)
    for card in cards:
        contacts = list(card.contacts.all())
        assert contacts
        assert card.display_name == card.compute_display_name()
        assert SearchEntry.objects.get(client=card).document == build_document(card, contacts)
        kinds = {c.kind for c in contacts}
        for kind in kinds:
            assert sum(1 for c in contacts if c.kind == kind and c.is_primary) == 1
        if card.employer_id:
            assert card.employer.kind == Client.Kind.COMPANY
    changes = ObjectChange.objects.filter(
        action="create", content_type__model="client", object_id__in=[c.pk for c in cards]
    )
    assert changes.count() == 60
    assert set(changes.values_list("channel", flat=True)) == {"cli"}


def test_card_created_after_a_bulk_load_gets_the_next_number(ada, generator):
    demo.cards_bulk_create(generator.generate(30))
    top = Client.objects.order_by("-number").first()

    card = make_person(ada)

    assert card.number == top.number + 1
    assert CardNumberCounter.objects.get(name="client").value == card.number


def test_search_finds_generated_cards(ada, generator):
    demo.cards_bulk_create(generator.generate(60))
    person = (
        Client.objects.filter(kind="person", last_name__regex=r"^[А-Яа-яЁёІіЇїЄєҐґ]{6,}$")
        .prefetch_related("contacts")
        .first()
    )
    phone = next(c for c in person.contacts.all() if c.kind == "phone")

    by_digits = client_list(user=ada, filters={"q": phone.normalized[-9:]}, limit=100).items
    by_name = client_list(user=ada, filters={"q": person.last_name[1:5]}, limit=100).items

    assert person in by_digits
    assert person in by_name


def test_search_after_bulk_load_finds_a_card_made_by_the_services(ada, generator):
    demo.cards_bulk_create(generator.generate(30))
    card = make_person(
        ada, last_name="Жемчужникова", contacts=[{"kind": "phone", "value": "+7 916 555-12-34"}]
    )

    assert client_list(user=ada, filters={"q": "9165551234"}).items == [card]
    assert client_list(user=ada, filters={"q": "жемчуж"}).items == [card]


def test_demo_staff_password_is_returned_once(db):
    first = demo.demo_staff_ensure()
    second = demo.demo_staff_ensure()

    assert first.password
    assert second.password is None
    assert first.teams == second.teams
    assert User.objects.get(username="smirnova").check_password(first.password)
    assert Team.objects.filter(name__in=demo.DEMO_TEAMS).count() == 3
    assert User.objects.get(username="kuznetsov").role == User.Role.EMPLOYEE


def test_demo_command_creates_cards_and_prints_the_password_once(db):
    out = StringIO()
    call_command("demo", count=40, seed=3, stdout=out, stderr=StringIO())
    again = StringIO()
    call_command("demo", count=10, seed=4, stdout=again, stderr=StringIO())

    assert Client.objects.count() == 50
    assert "password for all of them" in out.getvalue()
    assert "password" not in again.getvalue()
    assert len(set(Client.objects.values_list("number", flat=True))) == 50
    assert CardNumberCounter.objects.get(name="client").value == 50
    assert (
        ObjectChange.objects.filter(
            action="create", channel="cli", content_type__model="client"
        ).count()
        == 50
    )


def test_demo_command_through_services(ada):
    call_command("demo", count=15, seed=5, through_services=True, stdout=StringIO())

    assert Client.objects.count() == 15
    assert set(
        ObjectChange.objects.filter(content_type__model="client").values_list("channel", flat=True)
    ) == {"cli"}


def test_demo_command_refuses_unknown_locale(db):
    with pytest.raises(CommandError, match="xx_XX"):
        call_command("demo", count=5, locales="xx_XX", stdout=StringIO())

    assert Client.objects.count() == 0


def test_demo_command_with_one_locale(db):
    call_command("demo", count=30, seed=2, locales="zh_CN", stdout=StringIO(), stderr=StringIO())

    companies = Client.objects.filter(kind="company")
    assert set(companies.values_list("country", flat=True)) <= {"CN"}
    assert all(
        p.startswith("+86")
        for p in ContactPoint.objects.filter(kind="phone").values_list("normalized", flat=True)
    )


def test_through_services_and_created_card_numbers_stay_unique(ada, generator):
    demo.cards_bulk_create(generator.generate(10))
    client_create(actor=ada, data={"kind": "person", "last_name": "Ли"}, contacts=[])
    demo.cards_bulk_create(generator.generate(10))

    numbers = list(Client.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 21
    assert CardNumberCounter.objects.get(name="client").value == max(numbers) == 21


@pytest.mark.parametrize(("bucket", "rare"), [(2048, 1_500), (16, 1_500), (16, 0), (4, 10)])
def test_search_pages_are_complete_for_a_user_who_sees_few_matches(
    db, staff, generator, monkeypatch, bucket, rare
):
    """The id-ordered search (FTS join on SQLite, id windows on PostgreSQL: bucket ranges
    sized by the matches seen, then the trigram index for the rest) must not lose matches a
    restricted user sees, however many newer matches they cannot see. Small buckets (the
    index is then not used, the condition still holds) make the windows many."""
    monkeypatch.setattr("kartoteka.clients.selectors.SEARCH_BUCKET", bucket)
    monkeypatch.setattr("kartoteka.clients.selectors.RARE_MATCHES", rare)
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    reader = User.objects.create(username="reader", role=User.Role.EMPLOYEE)
    reader.teams.set([north])
    specs = [s for s in generator.generate(400) if s.fields["kind"] == "person"][:260]
    for position, spec in enumerate(specs):
        spec.employer_key = None
        spec.fields.update(last_name="Окуневский", responsible_id=None, created_by_id=None)
        spec.fields["actualized_by_id"] = None
        spec.fields["team_id"] = north.pk if position in (3, 7, 11, 250) else south.pk
    demo.cards_bulk_create(specs)
    expected = list(
        Client.objects.filter(team=north, last_name="Окуневский")
        .order_by("-number")
        .values_list("pk", flat=True)
    )

    seen, cursor = [], None
    while True:
        page = client_list(user=reader, filters={"q": "окуне"}, cursor=cursor, limit=2)
        seen += [c.pk for c in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor

    assert len(expected) == 4
    assert seen == expected
    assert client_list(user=reader, filters={"q": "okunev"}, limit=10).items == list(
        Client.objects.filter(pk__in=expected).order_by("-number")
    )
