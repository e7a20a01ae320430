"""The web door onto client cards: status codes, redirects, HTMX fragments, per-field errors,
duplicate warnings, version conflicts, archive/restore and who may do what."""

import datetime
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone, translation

from kartoteka.accounts.models import User
from kartoteka.accounts.services import user_set_language
from kartoteka.clients.forms import ClientForm
from kartoteka.clients.models import Client
from kartoteka.clients.services import (
    client_archive,
    client_update,
    tags_from_names,
)
from kartoteka.clients.tests.factories import make_company, make_person, next_phone
from kartoteka.core.models import ObjectChange, SiteSettings

HTMX = {"HX-Request": "true"}


def post_data(
    fields: dict[str, Any], contacts: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """What the card form posts: the card's fields and the contacts formset."""
    contacts = contacts or []
    data: dict[str, Any] = {
        "version": "",
        "tags": "",
        "status": "lead",
        "contacts-TOTAL_FORMS": str(len(contacts)),
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
    }
    for name, value in fields.items():
        if value is None:
            value = ""
        elif hasattr(value, "pk"):
            value = value.pk
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        data[name] = value
    for index, contact in enumerate(contacts):
        for name, value in contact.items():
            if name == "is_primary":
                if value:
                    data[f"contacts-{index}-is_primary"] = "on"
                continue
            data[f"contacts-{index}-{name}"] = "" if value is None else value
    return data


def edit_data(client: Client, **changes: Any) -> dict[str, Any]:
    """The edit form as it is first shown for `client`, with `changes` typed over it."""
    fields = ClientForm.initial_for(client)
    fields.update(changes)
    contacts = [
        {"id": c.pk, "kind": c.kind, "value": c.value, "label": c.label, "is_primary": c.is_primary}
        for c in client.contacts.all()
    ]
    return post_data(fields, contacts)


def new_person_data(user: User, last_name: str = "Новикова", **extra: Any) -> dict[str, Any]:
    team_ids = user.team_ids()
    fields = {
        "kind": "person",
        "last_name": last_name,
        "first_name": "Ольга",
        "responsible": user.pk,
        "team": team_ids[0] if team_ids else "",
        **extra,
    }
    return post_data(fields, [{"kind": "phone", "value": next_phone(), "label": "mobile"}])


def changes_of(client: Client) -> int:
    return card_changes(client).count()


def card_changes(client: Client):
    return ObjectChange.objects.filter(
        content_type=ContentType.objects.get_for_model(Client), object_id=client.pk
    )


# --- List -----------------------------------------------------------------------------------


def test_list_requires_login(client):
    response = client.get("/clients/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/clients/"


def test_list_renders_full_page_with_visible_cards(alice, charlie, web_client_for):
    mine = make_person(alice, last_name="Соколова")
    make_person(charlie, last_name="Чужаков")

    response = web_client_for(alice).get(reverse("clients:list"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" in content
    assert 'id="filter-form"' in content
    assert mine.get_absolute_url() in content
    assert "Чужаков" not in content
    assert "vendor/htmx.min.js" in content


def test_list_htmx_request_gets_only_the_table(alice, web_client_for):
    card = make_person(alice, last_name="Соколова")

    response = web_client_for(alice).get(reverse("clients:list"), {"q": "Сокол"}, headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert 'id="filter-form"' not in content
    assert content.strip().startswith('<div id="client-table"')
    assert card.get_absolute_url() in content
    assert "HX-Request" in response["Vary"]


def test_list_history_restore_gets_the_full_page(alice, web_client_for):
    response = web_client_for(alice).get(
        reverse("clients:list"), headers={**HTMX, "HX-History-Restore-Request": "true"}
    )

    assert "<html" in response.content.decode()


def test_list_finds_card_by_phone_digits(alice, web_client_for):
    wanted = make_person(
        alice, last_name="Петрова", contacts=[{"kind": "phone", "value": "+7 (916) 555-12-34"}]
    )
    make_person(alice, last_name="Другая")

    response = web_client_for(alice).get(reverse("clients:list"), {"q": "9165551234"})

    items = response.context["page"].items
    assert [c.pk for c in items] == [wanted.pk]


def test_list_empty_state_offers_to_clear_filters(alice, web_client_for):
    make_person(alice)

    response = web_client_for(alice).get(reverse("clients:list"), {"q": "нетакого"})

    content = response.content.decode()
    assert "No cards match" in content
    assert "Clear search and filters" in content


def test_list_pages_by_cursor_and_keeps_filters(alice, web_client_for, settings):
    settings.KARTOTEKA_PAGE_SIZE = 2
    actives = [make_person(alice, last_name=f"Активный{i}", status="active") for i in range(3)]
    make_person(alice, last_name="Лид", status="lead")
    web = web_client_for(alice)

    first = web.get(reverse("clients:list"), {"status": "active"})

    page = first.context["page"]
    assert [c.pk for c in page.items] == [actives[2].pk, actives[1].pk]
    assert page.next_cursor
    content = first.content.decode()
    assert f"?status=active&amp;cursor={page.next_cursor}" in content
    assert "First page" not in content
    second = web.get(reverse("clients:list"), {"status": "active", "cursor": page.next_cursor})
    assert [c.pk for c in second.context["page"].items] == [actives[0].pk]
    assert second.context["page"].next_cursor is None
    assert 'href="/clients/?status=active"' in second.content.decode()


def test_list_invalid_cursor_goes_back_to_first_page(alice, web_client_for):
    response = web_client_for(alice).get(reverse("clients:list"), {"q": "x", "cursor": "@@@"})

    assert response.status_code == 302
    assert response["Location"] == "/clients/?q=x"


def test_list_invalid_filter_shows_error_and_no_rows(alice, web_client_for):
    make_person(alice)

    response = web_client_for(alice).get(reverse("clients:list"), {"created_from": "not-a-date"})

    assert response.status_code == 200
    assert response.context["page"].items == []
    assert response.context["filter_form"].errors["created_from"] == ["Enter a valid date."]


def _rich_cards(actor: User, count: int) -> None:
    tags = tags_from_names(actor=actor, names=["VIP", "опт"])
    for index in range(count):
        card = make_person(
            actor,
            last_name=f"Клиент{index}",
            contacts=[
                {"kind": "phone", "value": next_phone()},
                {"kind": "email", "value": f"client{index}@example.ru"},
            ],
        )
        card.tags.set(tags)


# Session, user, the user's teams; the page of cards, its tags, primary contacts, responsible
# users and teams; the filter panel's tags, users and teams. The same for two rows or fifty.
LIST_QUERIES = 11


def test_list_query_count_does_not_grow_with_rows(alice, web_client_for, django_assert_num_queries):
    web = web_client_for(alice)
    _rich_cards(alice, 2)

    with django_assert_num_queries(LIST_QUERIES):
        response = web.get(reverse("clients:list"))
    assert len(response.context["page"].items) == 2

    _rich_cards(alice, 6)
    with django_assert_num_queries(LIST_QUERIES):
        response = web.get(reverse("clients:list"))
    assert len(response.context["page"].items) == 8


def test_list_rows_markup(alice, web_client_for):
    """The rows are built in Python (clients_tags.client_rows): every cell as the template
    loop wrote it, escaped, in the reader's language and time zone."""
    person = make_person(
        alice,
        last_name="<b>Соколова</b>",
        first_name="Анна",
        contacts=[
            {"kind": "phone", "value": "+7 916 123-45-67", "is_primary": True},
            {"kind": "email", "value": "anna@example.ru", "is_primary": True},
        ],
    )
    person.tags.set(tags_from_names(actor=alice, names=["VIP", "опт"]))
    company = make_company(alice, legal_name="ООО «Ромашка»", short_name="Ромашка")
    client_archive(actor=alice, client=company)
    web = web_client_for(alice)

    content = web.get(reverse("clients:list"), {"archived": "all"}, headers=HTMX).content.decode()

    person_url = person.get_absolute_url()
    assert (
        f'<td class="cell-number" data-label="No."><a href="{person_url}">'
        f"{person.card_number}</a></td>"
    ) in content
    assert f'<a href="{person_url}">&lt;b&gt;Соколова&lt;/b&gt; Анна' in content
    assert "<b>" not in content
    assert '<span class="kind-icon kind-person" title="Person">' in content
    assert '<span class="kind-icon kind-company" title="Company">' in content
    assert '<a class="contact-link" href="tel:+79161234567">+7 916 123-45-67</a>' in content
    assert (
        '<a class="contact-link muted-link" href="mailto:anna@example.ru">anna@example.ru</a>'
    ) in content
    assert '<span class="tag">VIP</span><span class="tag">опт</span>' in content
    assert f'data-label="Responsible">{alice}</td>' in content
    assert '<tr class="row-archived">' in content
    assert '<span class="badge badge-archived">archived</span>' in content
    # The company has no contacts and no tags.
    assert content.count('<span class="muted">—</span>') == 2
    assert f'<span class="badge badge-{person.status}">' in content
    updated = timezone.localtime(person.updated_at)
    assert f'<time datetime="{updated.isoformat()}">' in content

    user_set_language(actor=alice, language="ru")
    content = web.get(reverse("clients:list"), headers=HTMX).content.decode()
    with translation.override("ru"):
        label = translation.gettext("Phone and email")
    assert label != "Phone and email"
    assert f'data-label="{label}"' in content
    assert f"{updated:%d.%m.%Y}</time>" in content


# --- Card page ------------------------------------------------------------------------------


def test_detail_shows_every_section(alice, web_client_for):
    company = make_company(alice, inn="7707083893", legal_name="ООО «Ромашка»")
    person = make_person(
        alice,
        last_name="Петрова",
        first_name="Анна",
        middle_name="Сергеевна",
        birth_date=datetime.date(1988, 4, 12),
        employer=company,
        position="Бухгалтер",
        interests="Джаз",
        notes="Звонить после 14:00",
        contacts=[
            {"kind": "phone", "value": "+7 916 555-12-34", "label": "mobile"},
            {"kind": "email", "value": "anna@example.ru"},
            {"kind": "telegram", "value": "@anna_p"},
        ],
    )
    web = web_client_for(alice)

    content = web.get(person.get_absolute_url()).content.decode()

    assert person.card_number in content
    assert "Петрова Анна Сергеевна" in content
    assert 'href="tel:+79165551234"' in content
    assert ">+7 916 555-12-34<" in content
    assert 'href="mailto:anna@example.ru"' in content
    assert 'href="https://t.me/anna_p"' in content
    assert f'href="{company.get_absolute_url()}"' in content
    assert "Джаз" in content
    assert "Звонить после 14:00" in content
    assert "Confirm data is current" in content
    assert "freshness-stale" in content  # never confirmed
    company_page = web.get(company.get_absolute_url()).content.decode()
    assert "People at this company" in company_page
    assert person.get_absolute_url() in company_page
    assert "7707083893" in company_page
    assert f"/clients/new/?kind=person&amp;employer={company.pk}" in company_page


def test_detail_of_invisible_card_is_404(alice, charlie, web_client_for):
    card = make_person(alice)

    response = web_client_for(charlie).get(card.get_absolute_url())

    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()


def test_detail_history_names_the_change(alice, bob, web_client_for):
    card = make_person(alice, position="Бухгалтер")
    client_update(
        actor=bob, client=card, expected_version=card.version, data={"position": "Директор"}
    )

    content = web_client_for(alice).get(card.get_absolute_url()).content.decode()

    assert "Бухгалтер</del> → <ins>Директор</ins>" in content
    assert "Bob" in content


# Session, user, teams; the visible card with its references, tags,
# contacts, visible people; the history with actors. Plus one query per kind of reference
# (users, teams, companies) that the shown history changed, never one per row.
# 9 for the card itself, 2 for its summary header (clients/summary.py: the single figures in
# one statement, the invoices that may be overdue), 1 for the first timeline page (the other
# history sections load themselves afterwards). Plus 3 for the audit trail's "view" event
# (lock the chain head, insert the event, move the head).
DETAIL_QUERIES = 11 + 3


def test_detail_query_count_does_not_grow(alice, web_client_for, django_assert_num_queries):
    SiteSettings.current()
    web = web_client_for(alice)
    company = make_company(alice)
    make_person(alice, employer=company)

    with django_assert_num_queries(DETAIL_QUERIES):
        web.get(company.get_absolute_url())

    for index in range(4):
        make_person(alice, last_name=f"Сотрудник{index}", employer=company)
    for index in range(3):
        client_update(
            actor=alice,
            client=company,
            expected_version=None,
            data={"industry": f"Логистика {index}"},
            contacts=[{"kind": "phone", "value": next_phone()} for _ in range(3)],
            tags=tags_from_names(actor=alice, names=["VIP", "опт", f"склад{index}"]),
        )
    with django_assert_num_queries(DETAIL_QUERIES):
        response = web.get(company.get_absolute_url())
    assert len(response.context["client"].visible_people) == 5
    assert len(response.context["contacts"]) == 3
    assert len(response.context["history"]) == 4


# A person's card: no people to list, and whether the user may see the employer is decided
# on the employer fetched with the card (both were a query each before).
PERSON_DETAIL_QUERIES = DETAIL_QUERIES - 1


def test_person_detail_queries(alice, charlie, web_client_for, django_assert_num_queries):
    SiteSettings.current()
    web = web_client_for(alice)
    company = make_company(alice)
    person = make_person(alice, employer=company)

    with django_assert_num_queries(PERSON_DETAIL_QUERIES):
        response = web.get(person.get_absolute_url())
    assert response.context["client"].employer == company
    assert response.context["client"].visible_people == []

    # An employer the user may not see stays hidden, still without a query of its own.
    foreign = make_company(charlie, legal_name="ООО «Чужая»", short_name="Чужая")
    Client.objects.filter(pk=person.pk).update(employer=foreign)
    with django_assert_num_queries(PERSON_DETAIL_QUERIES):
        response = web.get(person.get_absolute_url())
    assert response.context["client"].employer is None
    assert "Чужая" not in response.content.decode()


# --- Create ---------------------------------------------------------------------------------


def test_create_form_prefills_kind_and_company(alice, web_client_for):
    company = make_company(alice)

    response = web_client_for(alice).get(
        reverse("clients:create"), {"kind": "person", "employer": company.pk}
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert f'<option value="{company.pk}" selected>' in content
    assert 'data-kind-section="company" hidden' in content
    company_form = web_client_for(alice).get(reverse("clients:create"), {"kind": "company"})
    assert 'data-kind-section="person" hidden' in company_form.content.decode()


def test_create_person_saves_and_redirects_to_card(alice, north, web_client_for):
    data = post_data(
        {
            "kind": "person",
            "last_name": "Петрова",
            "first_name": "Анна",
            "birth_date": "1988-04-12",
            "status": "active",
            "responsible": alice.pk,
            "team": north.pk,
            "tags": "VIP, бухгалтерия",
            # Company fields typed before switching the kind are not saved on a person.
            "inn": "7707083893",
        },
        [
            {"kind": "phone", "value": "+7 (916) 555-12-34", "label": "mobile"},
            {"kind": "email", "value": "Anna@Example.RU"},
            {"kind": "phone", "value": ""},  # a blank row is ignored
        ],
    )

    response = web_client_for(alice).post(reverse("clients:create"), data)

    card = Client.objects.get()
    assert response.status_code == 302
    assert response["Location"] == card.get_absolute_url()
    assert (card.display_name, card.status, card.inn) == ("Петрова Анна", "active", "")
    assert card.birth_date == datetime.date(1988, 4, 12)
    assert sorted(card.contacts.values_list("kind", "normalized", "is_primary")) == [
        ("email", "anna@example.ru", True),
        ("phone", "+79165551234", True),
    ]
    assert sorted(card.tags.values_list("name", flat=True)) == ["VIP", "бухгалтерия"]
    change = card_changes(card).get(action="create")
    assert (change.actor, change.channel) == (alice, "web")


def test_create_shows_every_error_next_to_its_field_and_keeps_input(alice, web_client_for):
    log_size = ObjectChange.objects.count()
    data = post_data(
        {
            "kind": "company",
            "legal_name": "",
            "short_name": "",
            "inn": "7707083894",
            "notes": "Важно",
        },
        [
            {"kind": "phone", "value": "+7 495 123-45-67"},
            {"kind": "email", "value": "office@@veter"},
        ],
    )

    response = web_client_for(alice).post(reverse("clients:create"), data)

    assert response.status_code == 422
    form = response.context["form"]
    formset = response.context["formset"]
    assert form.errors["legal_name"] == ["A company needs a legal or short name."]
    assert form.errors["inn"] == [
        "“7707083894” is not a valid INN: it must have 10 or 12 digits with a correct check digit."
    ]
    assert formset.forms[0].errors == {}
    assert formset.forms[1].errors["value"] == ["“office@@veter” is not a valid email address."]
    content = response.content.decode()
    assert 'id="id_inn_errors"' in content
    assert 'value="+7 495 123-45-67"' in content
    assert 'value="office@@veter"' in content
    assert "Важно</textarea>" in content
    assert Client.objects.count() == 0
    assert ObjectChange.objects.count() == log_size


def test_create_errors_speak_the_users_language(alice, web_client_for):
    user_set_language(actor=alice, language="ru")
    data = post_data({"kind": "person", "last_name": "Петрова", "birth_date": "31.02.1990"})

    response = web_client_for(alice).post(reverse("clients:create"), data)

    assert response.status_code == 422
    assert response.context["form"].errors["birth_date"] == ["Введите правильную дату."]


def test_create_error_on_second_contact_row_lands_on_that_row(alice, web_client_for):
    data = post_data(
        {"kind": "person", "last_name": "Петрова"},
        [
            {"kind": "phone", "value": ""},  # blank rows do not shift the numbering
            {"kind": "email", "value": "ok@example.ru"},
            {"kind": "phone", "value": "12"},
        ],
    )

    response = web_client_for(alice).post(reverse("clients:create"), data)

    formset = response.context["formset"]
    assert [bool(f.errors) for f in formset.forms] == [False, False, True]
    assert formset.forms[2].errors["value"] == [
        "“12” is not a valid phone number. Add the country code, e.g. +7, +380, +86."
    ]


def test_create_duplicate_warns_then_saves_anyway(alice, web_client_for):
    existing = make_person(
        alice, last_name="Петрова", contacts=[{"kind": "phone", "value": "+79165551234"}]
    )
    data = post_data(
        {"kind": "person", "last_name": "Петрова", "first_name": "Аня"},
        [{"kind": "phone", "value": "8 916 555 12 34"}],
    )
    web = web_client_for(alice)

    warned = web.post(reverse("clients:create"), data)

    assert warned.status_code == 409
    content = warned.content.decode()
    assert f'href="{existing.get_absolute_url()}" target="_blank"' in content
    assert "Phone: +7 916 555-12-34" in content
    assert 'name="allow_duplicates"' in content
    assert 'value="8 916 555 12 34"' in content
    assert Client.objects.count() == 1

    saved = web.post(reverse("clients:create"), {**data, "allow_duplicates": "on"})

    assert saved.status_code == 302
    assert Client.objects.count() == 2


def test_readonly_user_cannot_open_the_create_form(rita, web_client_for):
    response = web_client_for(rita).get(reverse("clients:create"))

    assert response.status_code == 403
    assert "You may not create cards." in response.content.decode()


def test_add_contact_without_javascript_adds_a_row_and_saves_nothing(alice, web_client_for):
    data = new_person_data(alice)
    data["add_contact"] = "1"

    response = web_client_for(alice).post(reverse("clients:create"), data)

    assert response.status_code == 200
    assert len(response.context["formset"].forms) == 2
    assert 'value="Новикова"' in response.content.decode()
    assert Client.objects.count() == 0


# --- Live duplicate check and company picker ------------------------------------------------


def test_check_duplicates_renders_warning_for_a_known_phone(alice, web_client_for):
    existing = make_person(alice, contacts=[{"kind": "phone", "value": "+79165551234"}])
    data = post_data({"kind": "person"}, [{"kind": "phone", "value": "+7 (916) 555-12-34"}])

    response = web_client_for(alice).post(reverse("clients:check-duplicates"), data, headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert content.strip().startswith('<div id="duplicate-warning"')
    assert existing.get_absolute_url() in content
    assert "Phone: +7 916 555-12-34" in content


def test_check_duplicates_by_registration_number_and_excluding_the_card_itself(
    alice, web_client_for
):
    company = make_company(alice, inn="7707083893")
    data = post_data({"kind": "company", "inn": "7707083893"}, [{"kind": "email", "value": "not@"}])
    web = web_client_for(alice)

    found = web.post(reverse("clients:check-duplicates"), data, headers=HTMX)
    itself = web.post(
        reverse("clients:check-duplicates") + f"?exclude={company.pk}", data, headers=HTMX
    )

    assert company.get_absolute_url() in found.content.decode()
    assert "INN: 7707083893" in found.content.decode()
    assert "alert" not in itself.content.decode()


def test_check_duplicates_does_not_reveal_invisible_cards(alice, charlie, web_client_for):
    make_person(charlie, contacts=[{"kind": "phone", "value": "+79165551234"}])
    data = post_data({"kind": "person"}, [{"kind": "phone", "value": "+79165551234"}])

    response = web_client_for(alice).post(reverse("clients:check-duplicates"), data)

    assert "alert" not in response.content.decode()


def test_company_options_search(alice, web_client_for):
    wanted = make_company(alice, legal_name="ООО «Северный ветер»", short_name="Северный ветер")
    make_company(alice, legal_name="ООО «Ромашка»", short_name="Ромашка")

    response = web_client_for(alice).get(
        reverse("clients:company-options"), {"company_q": "Северн"}, headers=HTMX
    )

    content = response.content.decode()
    assert f'value="{wanted.pk}"' in content
    assert "Ромашка" not in content


# --- Edit -----------------------------------------------------------------------------------


def test_edit_saves_and_bumps_version(alice, web_client_for):
    card = make_person(alice, last_name="Петрова", position="Бухгалтер")
    web = web_client_for(alice)
    form_page = web.get(reverse("clients:edit", args=[card.pk]))
    assert f'name="version" value="{card.version}"' in form_page.content.decode()

    response = web.post(
        reverse("clients:edit", args=[card.pk]), edit_data(card, position="Директор")
    )

    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.position, card.version) == ("Директор", 2)
    assert card.contacts.count() == 1


def test_edit_removes_and_adds_contacts(alice, web_client_for):
    card = make_person(alice, contacts=[{"kind": "phone", "value": "+79160000001"}])
    data = edit_data(card)
    data["contacts-0-DELETE"] = "on"
    data["contacts-TOTAL_FORMS"] = "2"
    data["contacts-1-kind"] = "email"
    data["contacts-1-value"] = "new@example.ru"

    response = web_client_for(alice).post(reverse("clients:edit", args=[card.pk]), data)

    assert response.status_code == 302
    assert list(card.contacts.values_list("normalized", flat=True)) == ["new@example.ru"]


def test_edit_version_conflict_shows_comparison_and_saves_nothing(alice, bob, web_client_for):
    card = make_person(alice, last_name="Петрова", position="Бухгалтер", notes="")
    stale = edit_data(card, position="Главный бухгалтер", notes="Мой комментарий")
    client_update(
        actor=bob, client=card, expected_version=card.version, data={"position": "Директор"}
    )
    card.refresh_from_db()
    before = (card.position, card.notes, card.version, changes_of(card))

    response = web_client_for(alice).post(reverse("clients:edit", args=[card.pk]), stale)

    assert response.status_code == 409
    content = response.content.decode()
    assert "Bob saved this card at" in content
    assert "while you were editing" in content
    differences = response.context["conflict"]["differences"]
    assert {"label": "Position", "mine": "Главный бухгалтер", "saved": "Директор"} in differences
    assert {"label": "Notes", "mine": "Мой комментарий", "saved": "—"} in differences
    assert 'value="Главный бухгалтер"' in content  # the user's input is kept
    assert f'name="version" value="{card.version}"' in content  # now the current version
    card.refresh_from_db()
    assert (card.position, card.notes, card.version, changes_of(card)) == before

    again = web_client_for(alice).post(
        reverse("clients:edit", args=[card.pk]), {**stale, "version": str(card.version)}
    )

    assert again.status_code == 302
    card.refresh_from_db()
    assert (card.position, card.notes) == ("Главный бухгалтер", "Мой комментарий")


def test_edit_validation_error_keeps_the_card_title_and_input(alice, web_client_for):
    card = make_person(alice, last_name="Петрова", first_name="Анна", middle_name="")

    response = web_client_for(alice).post(
        reverse("clients:edit", args=[card.pk]), edit_data(card, last_name="", first_name="")
    )

    assert response.status_code == 422
    assert response.context["form"].errors["last_name"] == [
        "A person needs a surname or a given name."
    ]
    assert response.context["client"].display_name == "Петрова Анна"
    card.refresh_from_db()
    assert card.version == 1


# --- Archive, restore, actualise ------------------------------------------------------------


def test_archive_and_restore(alice, web_client_for):
    card = make_person(alice)
    web = web_client_for(alice)

    archived = web.post(reverse("clients:archive", args=[card.pk]))

    assert archived.status_code == 302
    assert archived["Location"] == card.get_absolute_url()
    card.refresh_from_db()
    assert card.is_archived
    page = web.get(card.get_absolute_url()).content.decode()
    assert "This card is archived." in page
    assert reverse("clients:restore", args=[card.pk]) in page

    restored = web.post(reverse("clients:restore", args=[card.pk]))

    assert restored.status_code == 302
    card.refresh_from_db()
    assert not card.is_archived
    assert "This card is archived." not in web.get(card.get_absolute_url()).content.decode()


def test_archive_needs_post(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).get(reverse("clients:archive", args=[card.pk]))

    assert response.status_code == 405
    card.refresh_from_db()
    assert not card.is_archived


def test_actualize_by_htmx_returns_the_refreshed_block(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).post(
        reverse("clients:actualize", args=[card.pk]), headers=HTMX
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert content.strip().startswith('<div id="freshness"')
    assert "by Alice" in content
    card.refresh_from_db()
    assert card.actualized_by == alice


def test_actualize_without_htmx_redirects(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).post(reverse("clients:actualize", args=[card.pk]))

    assert response.status_code == 302
    card.refresh_from_db()
    assert card.actualized_at is not None


def test_archive_by_htmx_asks_the_browser_to_load_the_card(alice, web_client_for):
    card = make_person(alice)

    response = web_client_for(alice).post(reverse("clients:archive", args=[card.pk]), headers=HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == card.get_absolute_url()
    card.refresh_from_db()
    assert card.is_archived


def test_card_not_confirmed_for_180_days_is_highlighted(alice, web_client_for, time_machine):
    time_machine.move_to(datetime.datetime(2025, 1, 10, 12, 0, tzinfo=datetime.UTC))
    card = make_person(alice)
    web = web_client_for(alice)
    web.post(reverse("clients:actualize", args=[card.pk]))

    time_machine.move_to(datetime.datetime(2025, 7, 1, 12, 0, tzinfo=datetime.UTC))
    fresh = web_client_for(alice).get(card.get_absolute_url())
    time_machine.move_to(datetime.datetime(2025, 7, 20, 12, 0, tzinfo=datetime.UTC))
    stale = web_client_for(alice).get(card.get_absolute_url())

    assert fresh.context["is_stale"] is False
    assert "freshness-stale" not in fresh.content.decode()
    assert stale.context["is_stale"] is True
    assert "More than 180 days ago" in stale.content.decode()


def test_edit_form_does_not_reveal_a_company_the_user_cannot_see(
    ada, alice, bob, charlie, south, web_client_for
):
    company = make_company(alice, short_name="Секретная", legal_name="ООО «Секретная»")
    person = make_person(alice, employer=company)
    client_update(
        actor=ada,
        client=company,
        expected_version=None,
        data={"team": south, "responsible": charlie},
    )

    response = web_client_for(bob).get(reverse("clients:edit", args=[person.pk]))

    assert response.status_code == 200
    assert "Секретная" not in response.content.decode()
    assert company not in response.context["employer_options"]
    assert response.context["employer_value"] == ""


def test_buttons_follow_permissions(alice, bob, rita, web_client_for):
    card = make_person(alice)
    edit_url = reverse("clients:edit", args=[card.pk])
    archive_url = reverse("clients:archive", args=[card.pk])

    as_bob = web_client_for(bob).get(card.get_absolute_url()).content.decode()
    as_rita = web_client_for(rita).get(card.get_absolute_url()).content.decode()

    assert edit_url in as_bob
    assert archive_url not in as_bob
    assert edit_url not in as_rita
    assert archive_url not in as_rita
    assert "Confirm data is current" not in as_rita


def test_unknown_page_is_404(alice, web_client_for):
    response = web_client_for(alice).get("/clients/999999/")

    assert response.status_code == 404


# --- Authorization matrix -------------------------------------------------------------------

ROLES = ["ada", "mallory", "alice", "bob", "charlie", "rita", "anonymous"]
# The card belongs to alice (responsible) in team North.
EXPECTED = {
    #            list   detail create  edit   archive restore
    "ada": (True, 200, "ok", "ok", "ok", "ok"),
    "mallory": (True, 200, "ok", "ok", "ok", "ok"),
    "alice": (True, 200, "ok", "ok", "ok", "ok"),
    "bob": (True, 200, "ok", "ok", 403, 403),
    "charlie": (False, 404, "ok", 404, 404, 404),
    "rita": (True, 200, 403, 403, 403, 403),
    "anonymous": ("login", "login", "login", "login", "login", "login"),
}
ACTIONS = ["list", "detail", "create", "edit", "archive", "restore"]


@pytest.fixture
def matrix_card(users):
    card = make_person(users["alice"], last_name="Матрицына", first_name="Вера")
    assert card.team.name == "North"
    assert card.responsible == users["alice"]
    return card


def _web(users, role: str) -> DjangoClient:
    web = DjangoClient()
    if role != "anonymous":
        web.force_login(users[role])
    return web


def _assert_login_redirect(response) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ACTIONS)
def test_authorization_matrix(role, action, users, matrix_card):
    expected = EXPECTED[role][ACTIONS.index(action)]
    card = matrix_card
    if action == "restore":
        client_archive(actor=users["alice"], client=card)
        card.refresh_from_db()
    web = _web(users, role)
    version, log_size, clients = card.version, ObjectChange.objects.count(), Client.objects.count()

    if action == "list":
        response = web.get(reverse("clients:list"))
        if expected == "login":
            _assert_login_redirect(response)
        else:
            assert response.status_code == 200
            assert (card.get_absolute_url() in response.content.decode()) is expected
        return
    if action == "detail":
        response = web.get(card.get_absolute_url())
        if expected == "login":
            _assert_login_redirect(response)
        else:
            assert response.status_code == expected
        return

    if action == "create":
        user = users.get(role)
        response = web.post(reverse("clients:create"), new_person_data(user or users["alice"]))
    elif action == "edit":
        response = web.post(
            reverse("clients:edit", args=[card.pk]), edit_data(card, notes="Изменено")
        )
    else:
        response = web.post(reverse(f"clients:{action}", args=[card.pk]))

    card.refresh_from_db()
    if expected == "ok":
        assert response.status_code == 302
        if action == "create":
            assert Client.objects.count() == clients + 1
            created = Client.objects.latest("number")
            assert response["Location"] == created.get_absolute_url()
            assert created.created_by == users[role]
        elif action == "edit":
            assert card.notes == "Изменено"
            assert card.version == version + 1
        else:
            assert card.is_archived is (action == "archive")
            assert card.version == version + 1
        return
    if expected == "login":
        _assert_login_redirect(response)
    else:
        assert response.status_code == expected
    assert Client.objects.count() == clients
    assert ObjectChange.objects.count() == log_size
    assert card.version == version
    assert card.notes == ""
    assert card.is_archived is (action == "restore")
