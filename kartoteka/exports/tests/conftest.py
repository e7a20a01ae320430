import pytest

from kartoteka.clients.tests.factories import make_company, make_person


@pytest.fixture
def cards(alice, charlie, north):
    """A person with everything, a company, a Chinese person, an injected name; one card of
    another team that alice must never export."""
    company = make_company(alice, inn="7707083893", legal_address="Москва, ул. Ленина, 1")
    person = make_person(
        alice,
        last_name="Иванова",
        first_name="Мария",
        middle_name="Петровна",
        employer=company,
        position="Главный бухгалтер; финансы",
        notes="Звонить после 10:00,\nлучше на мобильный",
        contacts=[
            {"kind": "phone", "value": "+7 916 123-45-67", "is_primary": True},
            {"kind": "phone", "value": "+7 495 123-45-67"},
            {"kind": "email", "value": "Maria@Example.COM"},
            {"kind": "address", "value": "Москва, Тверская 7, кв. 5"},
        ],
    )
    chinese = make_person(
        alice,
        last_name="王",
        first_name="小明",
        middle_name="",
        contacts=[{"kind": "phone", "value": "+86 138 0013 8000"}],
    )
    evil = make_person(
        alice,
        last_name='=HYPERLINK("http://x","y")',
        first_name="Eve",
        middle_name="",
        notes='=HYPERLINK("http://x","y")',
    )
    hidden = make_person(charlie, last_name="Скрытый", first_name="Чужой", middle_name="")
    return {
        "company": company,
        "person": person,
        "chinese": chinese,
        "evil": evil,
        "hidden": hidden,
    }
