"""A card with data in every corner of the product, built through the real services."""

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kartoteka.accounts.models import User
from kartoteka.activities.services import interaction_create
from kartoteka.care import health
from kartoteka.care.services import recommendation_create, survey_create
from kartoteka.clients.models import Client
from kartoteka.clients.tests.factories import make_person
from kartoteka.consent.services import consent_give
from kartoteka.documents.services import document_upload
from kartoteka.documents.tests.files import jpeg_bytes, pdf_bytes, upload
from kartoteka.finance.tests.factories import make_invoice, make_payment
from kartoteka.sales.tests.factories import line, make_order
from kartoteka.tasks.services import task_create


def give_health_access(user: User) -> User:
    User.objects.filter(pk=user.pk).update(health_access=True)
    user.health_access = True
    return user


def rich_card(actor: User, secret: str = "Тайна") -> dict[str, Any]:
    """A person card with contacts, an interaction, an order, an invoice and a payment, a
    survey, a recommendation, a consent, a health note, two documents and a task.

    `actor` needs health access. `secret` is written into every free-text field.
    """
    card: Client = make_person(
        actor,
        last_name=f"Секретова{secret}",
        first_name="Серафима",
        notes=f"заметка {secret}",
        birth_date=datetime.date(1990, 5, 17),
        contacts=[
            {"kind": "phone", "value": "+7 916 555-12-34", "label": secret},
            {"kind": "email", "value": f"{secret.lower()}@example.com"},
        ],
    )
    interaction = interaction_create(
        actor=actor,
        client=card,
        data={"kind": "call", "subject": f"звонок {secret}", "content": f"разговор {secret}"},
    )
    order = make_order(
        actor, card, notes=f"заказ {secret}", lines=[line(unit_price="1500.00", quantity="2")]
    )
    invoice = make_invoice(actor, card, "3000.00", order=order, notes=f"счёт {secret}")
    payment = make_payment(actor, card, "1200.00", invoice=invoice, notes=f"оплата {secret}")
    survey = survey_create(
        actor=actor,
        client=card,
        data={"name": "NPS", "scale": "nps", "score": 9, "summary": f"отзыв {secret}"},
    )
    recommendation = recommendation_create(
        actor=actor, client=card, data={"text": f"совет {secret}"}
    )
    consent = consent_give(
        actor=actor,
        client=card,
        purpose="health",
        text_version="health v1",
        channel="paper_form",
        evidence_reference=f"анкета {secret}",
        effective_at=timezone.now() - datetime.timedelta(minutes=5),
    )
    note, _ = health.health_note_create(
        actor=actor, client=card, kind="allergy", text=f"аллергия {secret}"
    )
    contract = document_upload(
        actor=actor,
        client=card,
        uploaded=upload("contract.pdf", pdf_bytes() + f"% {secret}".encode()),
        kind="contract",
        number="Д-1",
        title=f"договор {secret}",
    )
    photo = document_upload(
        actor=actor,
        client=card,
        uploaded=upload(f"{secret}.jpg", jpeg_bytes()),
        kind="photo",
        title=f"фото {secret}",
    )
    task = task_create(
        actor=actor,
        data={
            "client": card,
            "title": f"перезвонить {secret}",
            "kind": "call",
            "due_at": timezone.now() + datetime.timedelta(days=1),
            "notes": f"задача {secret}",
        },
    )
    return {
        "card": card,
        "interaction": interaction,
        "order": order,
        "invoice": invoice,
        "payment": payment,
        "survey": survey,
        "recommendation": recommendation,
        "consent": consent,
        "health_note": note,
        "contract": contract,
        "photo": photo,
        "task": task,
        "amounts": (order.total, invoice.amount, payment.amount, Decimal("0")),
    }
