"""Generated history (benchmark and demo): the rows the services would write, each with its
one timeline line, readable by the timeline, the summary and the sections."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count

from kartoteka.activities.models import Interaction, TimelineEvent
from kartoteka.care.models import Recommendation, SurveyResponse
from kartoteka.clients import selectors
from kartoteka.clients.demo_history import history_bulk_create, history_spread, spread
from kartoteka.clients.models import CardNumberCounter
from kartoteka.clients.summary import client_summary
from kartoteka.clients.tests.factories import make_person
from kartoteka.finance.models import Invoice, Payment
from kartoteka.sales.models import Order, OrderLine, ServiceRecord

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("total", "cards"), [(0, 3), (10, 3), (1000, 7), (5, 10)])
def test_spread_adds_up_and_varies(total, cards):
    counts = list(spread(total, cards, seed=3))
    assert len(counts) == cards
    assert sum(counts) == total
    assert min(counts) >= 0


def test_history_rows_and_their_timeline_lines(alice, bob):
    cards = [make_person(alice, last_name=f"История{i}") for i in range(3)]
    written = history_bulk_create(
        history_spread([c.pk for c in cards], 600, seed=2),
        authors=[alice.pk, bob.pk],
        seed=2,
        batch_events=100,
    )

    assert written == 600
    assert TimelineEvent.objects.count() == 600
    by_kind = dict(TimelineEvent.objects.values_list("kind").annotate(n=Count("pk")))
    models = {
        "interaction": Interaction,
        "order": Order,
        "service": ServiceRecord,
        "invoice": Invoice,
        "payment": Payment,
        "survey": SurveyResponse,
        "recommendation": Recommendation,
    }
    for kind, model in models.items():
        assert by_kind.get(kind, 0) == model.objects.count() > 0
        content_type = ContentType.objects.get_for_model(model)
        linked = set(TimelineEvent.objects.filter(kind=kind).values_list("object_id", flat=True))
        assert linked == set(model.objects.values_list("pk", flat=True))
        assert set(
            TimelineEvent.objects.filter(kind=kind).values_list("content_type", flat=True)
        ) == {content_type.pk}
    assert OrderLine.objects.count() >= Order.objects.count()
    for order in Order.objects.prefetch_related("lines")[:20]:
        assert order.total == sum(line.total for line in order.lines.all())
        assert order.subtotal + order.vat_total == order.total
    numbers = list(Order.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    assert CardNumberCounter.objects.get(name="order").value == max(numbers)

    card = cards[0]
    page = selectors.client_timeline(user=alice, client=card, limit=200)
    assert len(page.items) == TimelineEvent.objects.filter(client=card).count()
    summary = client_summary(user=alice, client=card)
    assert (
        summary.orders_count
        == Order.objects.filter(client=card).exclude(status="cancelled").count()
    )


def test_a_second_load_continues_ids_and_numbers(alice):
    card = make_person(alice)
    history_bulk_create([(card.pk, 50)], authors=[alice.pk], seed=1)
    history_bulk_create([(card.pk, 50)], authors=[alice.pk], seed=2)
    assert TimelineEvent.objects.filter(client=card).count() == 100


def test_bench_writes_history_and_measures_the_long_history_card(db, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    report_file = tmp_path / "bench.md"
    call_command(
        "bench",
        cards=60,
        events=500,
        card_events=300,
        repeat=3,
        database="current",
        output=str(report_file),
        stdout=StringIO(),
        stderr=StringIO(),
    )

    report = report_file.read_text(encoding="utf-8")
    assert TimelineEvent.objects.count() == 800
    counts = TimelineEvent.objects.values("client").annotate(n=Count("pk")).order_by("-n")
    assert counts[0]["n"] == 300
    assert "- History: 800 timeline events" in report
    for title in (
        "Long-history card: card page, whole view (HTML)",
        "Long-history card: an older timeline page (cursor, HTML)",
        "Long-history card: summary header (client_summary)",
    ):
        for role in ("admin", "employee"):
            assert f"| {title} | {role} |" in report

    out = StringIO()
    call_command(
        "bench",
        cards=60,
        events=500,
        card_events=300,
        repeat=2,
        database="current",
        stdout=out,
        stderr=StringIO(),
    )
    assert TimelineEvent.objects.count() == 800
    assert "already there (reused)" in out.getvalue()
