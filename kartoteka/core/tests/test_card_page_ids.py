"""The card page loads every section into one document: element ids must stay unique there,
or a label would point at another section's field (and assistive tech with it)."""

import collections
import datetime
import re
from decimal import Decimal

import pytest

from kartoteka.clients.tests.factories import make_person
from kartoteka.finance import services as finance_services

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_ids_are_unique_across_all_sections_of_the_card_page(alice, web_client_for):
    card = make_person(alice)
    # An unpaid invoice adds the inline "register a payment" form to the money section.
    finance_services.invoice_create(
        actor=alice,
        client=card,
        data={
            "amount": Decimal("10.00"),
            "currency": "RUB",
            "issued_on": datetime.date(2026, 1, 1),
            "due_on": datetime.date(2026, 1, 9),
        },
    )
    web = web_client_for(alice)
    page = web.get(f"/clients/{card.pk}/").content.decode()
    document = page
    section_urls = sorted(set(re.findall(r'hx-get="(/clients/\d+/[a-z-]+/)"', page)))
    assert f"/clients/{card.pk}/money/" in section_urls
    for url in section_urls:
        response = web.get(url, headers=HTMX)
        assert response.status_code == 200, url
        document += response.content.decode()
    # Each section's own wrapper is in the page and again in its fragment (swapped in place).
    ids = collections.Counter(re.findall(r'\sid="([^"]+)"', document))
    duplicated = {
        name: count for name, count in ids.items() if count > 1 and name.startswith("id_")
    }
    assert duplicated == {}
    labels = set(re.findall(r'\sfor="([^"]+)"', document))
    assert labels <= set(ids), labels - set(ids)
