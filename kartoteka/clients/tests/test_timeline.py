"""The card's one timeline: order, kind filter, keyset pagination, visibility, a constant
number of queries, and the index doing the work (no scan, no sort, no OFFSET)."""

import datetime
import itertools

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kartoteka.activities.models import TimelineEvent
from kartoteka.clients import selectors
from kartoteka.clients.tests.factories import make_person

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
KINDS = [value for value, _label in TimelineEvent.Kind.choices]
_object_ids = itertools.count(1)
NOW = datetime.datetime(2025, 6, 1, 9, 0, tzinfo=datetime.UTC)


def add_events(
    client,
    count,
    *,
    kinds=KINDS,
    start=NOW,
    step=datetime.timedelta(hours=1),
    author=None,
    same_time=False,
):
    """`count` timeline lines, newest at `start`, kinds in turn (the lines alone: what the
    timeline reads; the services that write them are tested in their apps)."""
    content_type = ContentType.objects.get_for_model(TimelineEvent)
    events = [
        TimelineEvent(
            client=client,
            kind=kinds[index % len(kinds)],
            occurred_at=start if same_time else start - step * index,
            content_type=content_type,
            object_id=next(_object_ids),
            title=f"Событие {index}",
            summary=f"Описание {index}",
            author=author,
        )
        for index in range(count)
    ]
    return TimelineEvent.objects.bulk_create(events)


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Хронологова")


def walk(user, card, *, kinds=None, limit=7):
    """Every page of the timeline, following the cursors."""
    seen, cursor, pages = [], None, 0
    while True:
        page = selectors.client_timeline(
            user=user, client=card, kinds=kinds, cursor=cursor, limit=limit
        )
        seen.extend(page.items)
        pages += 1
        if page.next_cursor is None:
            return seen, pages
        cursor = page.next_cursor


# --- The selector ------------------------------------------------------------------------------


def test_newest_first_with_ties_broken_by_id(alice, card):
    add_events(card, 5)
    ties = add_events(card, 3, start=NOW + datetime.timedelta(days=1), same_time=True)
    page = selectors.client_timeline(user=alice, client=card)
    assert [e.pk for e in page.items[:3]] == sorted((e.pk for e in ties), reverse=True)
    times = [(e.occurred_at, e.pk) for e in page.items]
    assert times == sorted(times, reverse=True)
    assert page.next_cursor is None


def test_every_event_exactly_once_across_pages(alice, card):
    add_events(card, 40)
    add_events(
        card, 12, same_time=True, start=NOW - datetime.timedelta(hours=5)
    )  # ties at a page edge
    other = make_person(alice, last_name="Чужая")
    add_events(other, 10)

    seen, pages = walk(alice, card, limit=7)

    ids = [e.pk for e in seen]
    assert len(ids) == len(set(ids)) == 52
    assert set(ids) == set(TimelineEvent.objects.filter(client=card).values_list("pk", flat=True))
    assert pages == 8  # ceil(52 / 7)
    order = [(e.occurred_at, e.pk) for e in seen]
    assert order == sorted(order, reverse=True)


def test_kind_filter(alice, card):
    add_events(card, 24)
    seen, _pages = walk(alice, card, kinds=["payment"], limit=2)
    assert len(seen) == 3
    assert {e.kind for e in seen} == {"payment"}
    both, _pages = walk(alice, card, kinds=["payment", "order"], limit=4)
    assert {e.kind for e in both} == {"payment", "order"}
    assert len(both) == 6


def test_unknown_kind_and_bad_cursor_are_validation_errors(alice, card):
    with pytest.raises(ValidationError) as exc:
        selectors.client_timeline(user=alice, client=card, kinds=["health"])
    assert exc.value.error_dict["kind"][0].code == "invalid_choice"
    for cursor in ("garbage", "WzEsMl0", "WyJ4IiwgMV0"):  # not base64 JSON; [1,2]; ["x",1]
        with pytest.raises(ValidationError) as exc:
            selectors.client_timeline(user=alice, client=card, cursor=cursor)
        assert exc.value.error_dict["cursor"][0].code == "invalid_cursor"


def test_query_count_is_constant(alice, card, django_assert_num_queries):
    add_events(card, 2, author=alice)
    with django_assert_num_queries(1):
        page = selectors.client_timeline(user=alice, client=card)
        assert [e.author.username for e in page.items] == ["alice", "alice"]
    add_events(card, 60, author=alice)
    with django_assert_num_queries(1):
        page = selectors.client_timeline(user=alice, client=card)
        assert [e.author.username for e in page.items] == ["alice"] * 30


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # On a test-sized table the planner's cheapest plan may sort a bitmap scan; switch
            # the alternatives off so the plan shows whether the index itself yields the order
            # (if it could not, a Sort node would still appear, at a penalty cost).
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("kinds", "index"), [(None, "timeline_client_idx"), (["order"], "timeline_client_kind_idx")]
)
def test_the_index_serves_every_page_without_sorting(alice, card, kinds, index):
    add_events(card, 50)
    first = selectors.client_timeline(user=alice, client=card, kinds=kinds, limit=5)
    with CaptureQueriesContext(connection) as queries:
        selectors.client_timeline(
            user=alice, client=card, kinds=kinds, cursor=first.next_cursor, limit=5
        )
    (query,) = queries.captured_queries
    assert "OFFSET" not in query["sql"].upper()
    assert "LIMIT 6" in query["sql"]

    queryset = TimelineEvent.objects.filter(client_id=card.pk)
    if kinds:
        queryset = queryset.filter(kind=kinds[0])
    last = first.items[-1]
    queryset = (
        queryset.filter(occurred_at__lte=last.occurred_at)
        .exclude(occurred_at=last.occurred_at, id__gte=last.pk)
        .select_related("author")
        .order_by("-occurred_at", "-id")[:6]
    )
    plan = _plan(queryset)
    assert index in plan
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in plan.upper()  # read in index order: no sort
        assert "SCAN activities_timelineevent" not in plan
    else:
        assert "Sort" not in plan
        assert f"Index Scan using {index}" in plan


def test_selector_for_the_web_and_api_starts_from_a_visible_card(charlie, card):
    with pytest.raises(Http404):
        selectors.client_get(user=charlie, pk=card.pk)


# --- The section on the card page -------------------------------------------------------------


def test_section_shows_chips_events_and_load_more(web_client_for, alice, card):
    add_events(card, 35, author=alice)
    response = web_client_for(alice).get(reverse("clients:timeline", args=[card.pk]), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="panel section-timeline" id="section-timeline"')
    assert 'hx-trigger="card-changed from:body"' in html
    for label in (
        "All",
        "Interactions",
        "Orders",
        "Services",
        "Invoices",
        "Payments",
        "Surveys",
        "Recommendations",
        "Documents",
    ):
        assert f">{label}</a>" in html
    assert html.count('class="tl-event') == 30
    assert "Событие 0" in html
    assert "Событие 29" in html
    assert "Событие 30" not in html
    assert "Load more" in html
    assert 'aria-current="true">All</a>' in html


# The template loop the events were rendered with before card_tags.timeline_events.
_FORMER_EVENT_LOOP = """{% load card_tags %}{% for event in events %}
            <li class="tl-event tl-{{ event.kind }}">
              {{ event.kind|timeline_icon }}
              <div class="tl-body">
                <div class="tl-head">
                  {% if event.link %}<a class="tl-title" href="{{ event.link }}"{% if event.kind == "document" %} target="_blank" rel="noopener"{% endif %}>{{ event.display_title }}</a>{% else %}<span class="tl-title">{{ event.display_title }}</span>{% endif %}
                  {% if event.amount is not None %}<span class="tl-amount">{{ event.amount|money:event.currency }}</span>{% endif %}
                </div>
                {% if event.summary %}<div class="tl-summary">{{ event.display_summary }}</div>{% endif %}
                <div class="tl-meta">
                  {% if event.has_time %}<time datetime="{{ event.occurred_at|date:'c' }}">{{ event.occurred_at|time:"TIME_FORMAT" }}</time>{% endif %}
                  {% if event.author %}{% if event.has_time %}· {% endif %}{{ event.author }}{% endif %}
                </div>
              </div>
            </li>
          {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["en", "ru", "zh-hans"])
def test_events_markup_is_the_former_template_loops(alice, card, language):
    """The events are built in Python (card_tags.timeline_events): the same markup as the
    template loop, for every kind, with and without link, amount, summary, time and author,
    escaped, in the reader's language and time zone."""
    from decimal import Decimal

    from django.template import Context, Template
    from django.utils import translation

    from kartoteka.clients.templatetags.card_tags import timeline_events

    events = add_events(card, 2 * len(KINDS), author=alice)
    events += add_events(card, 3, start=NOW - datetime.timedelta(days=30))
    for index, event in enumerate(events):
        event.link = "" if index % 3 == 0 else f"/somewhere/{index}?a=1&b=<2>"
        event.has_time = index % 4 != 1
        if index % 2:
            event.amount, event.currency = Decimal("12345.5"), ["RUB", "USD", "XYZ"][index % 3]
        if index % 5 == 0:
            event.summary = ""
        if index % 6 == 0:
            event.title = 'Счёт <b>"№ 1"</b> & Co'
        if index >= 2 * len(KINDS):
            event.author = None
    with translation.override(language):
        former = Template(_FORMER_EVENT_LOOP).render(Context({"events": events}))
        built = timeline_events(events)
    assert "&lt;b&gt;" in built
    assert "<b>" not in built
    assert 'target="_blank" rel="noopener"' in built
    assert built.split() == former.split()


def test_load_more_answers_only_the_next_events(web_client_for, alice, card):
    add_events(card, 35)
    web = web_client_for(alice)
    first = selectors.client_timeline(user=alice, client=card)
    url = reverse("clients:timeline", args=[card.pk]) + "?cursor=" + first.next_cursor

    response = web.get(url, **HTMX)

    html = response.content.decode()
    assert "<section" not in html
    assert html.count('class="tl-event') == 5
    assert "Событие 30" in html
    assert "Событие 34" in html
    assert "Load more" not in html


def test_kind_chip_filters(web_client_for, alice, card):
    add_events(card, 16)
    response = web_client_for(alice).get(
        reverse("clients:timeline", args=[card.pk]) + "?kind=invoice", **HTMX
    )
    html = response.content.decode()
    assert html.count('class="tl-event tl-invoice"') == 2
    assert 'class="tl-event tl-order"' not in html
    assert 'aria-current="true">Invoices</a>' in html
    # The section reloads itself with the same filter when the card changes.
    assert f'hx-get="{reverse("clients:timeline", args=[card.pk])}?kind=invoice"' in html


def test_unknown_kind_or_stale_cursor_shows_the_newest(web_client_for, alice, card):
    add_events(card, 3)
    web = web_client_for(alice)
    base = reverse("clients:timeline", args=[card.pk])
    for query in ("?kind=health", "?cursor=rubbish"):
        response = web.get(base + query, **HTMX)
        assert response.status_code == 200
        assert response.content.decode().count('class="tl-event') == 3


def test_events_link_to_their_place(web_client_for, alice, card):
    events = add_events(card, 8)
    html = (
        web_client_for(alice)
        .get(reverse("clients:timeline", args=[card.pk]), **HTMX)
        .content.decode()
    )
    document = next(e for e in events if e.kind == "document")
    assert reverse("documents:download", args=[document.object_id]) in html
    order = next(e for e in events if e.kind == "order")
    assert f'href="{reverse("sales:order-detail", args=[order.object_id])}"' in html
    assert 'href="#section-services"' in html
    assert 'href="#section-money"' in html
    assert 'href="#section-care"' in html


def test_section_query_count_is_constant(web_client_for, alice, card, django_assert_num_queries):
    web = web_client_for(alice)
    url = reverse("clients:timeline", args=[card.pk])
    add_events(card, 2, author=alice)
    web.get(url, **HTMX)
    with CaptureQueriesContext(connection) as two:
        web.get(url, **HTMX)
    add_events(card, 80, author=alice)
    with django_assert_num_queries(len(two.captured_queries)):
        web.get(url, **HTMX)


@pytest.mark.parametrize(
    ("role", "status"),
    [("ada", 200), ("mallory", 200), ("alice", 200), ("bob", 200), ("rita", 200), ("charlie", 404)],
)
def test_section_visibility(web_client_for, users, card, role, status):
    add_events(card, 2)
    response = web_client_for(users[role]).get(reverse("clients:timeline", args=[card.pk]), **HTMX)
    assert response.status_code == status
    if status == 404:
        assert "Событие" not in response.content.decode()


def test_anonymous_is_sent_to_log_in(client, card):
    response = client.get(reverse("clients:timeline", args=[card.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- API -------------------------------------------------------------------------------------


def test_api_pages_through_every_event(api_client_for, alice, card):
    add_events(card, 25, author=alice)
    api = api_client_for(alice)
    url = f"/api/v1/clients/{card.pk}/timeline"
    seen, cursor = [], None
    while True:
        response = api.get(url, {"limit": 10, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200
        body = response.json()
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len({item["id"] for item in seen}) == len(seen) == 25
    item = seen[0]
    assert set(item) == {
        "id",
        "kind",
        "subkind",
        "occurred_at",
        "title",
        "summary",
        "amount",
        "currency",
        "author",
        "object",
    }
    assert item["author"] == {"id": alice.pk, "name": str(alice)}
    assert item["object"] == {
        "type": "activities.timelineevent",
        "id": TimelineEvent.objects.get(pk=item["id"]).object_id,
    }


def test_api_kind_filter_amount_as_string_and_errors(api_client_for, alice, card):
    events = add_events(card, 16)
    payment = next(e for e in events if e.kind == "payment")
    TimelineEvent.objects.filter(pk=payment.pk).update(amount="1234.50", currency="EUR")
    api = api_client_for(alice)
    url = f"/api/v1/clients/{card.pk}/timeline"

    body = api.get(url + "?kind=payment&kind=invoice").json()
    assert {i["kind"] for i in body["items"]} == {"payment", "invoice"}
    assert len(body["items"]) == 4
    paid = next(i for i in body["items"] if i["id"] == payment.pk)
    assert paid["amount"] == "1234.50"
    assert paid["currency"] == "EUR"

    bad_kind = api.get(url + "?kind=health")
    assert bad_kind.status_code == 422
    assert bad_kind.json()["errors"][0]["field"] == "kind"
    bad_cursor = api.get(url + "?cursor=rubbish")
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["errors"][0]["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("ada", 200),
        ("mallory", 200),
        ("alice", 200),
        ("bob", 200),
        ("rita", 200),
        ("charlie", 404),
        ("anonymous", 401),
    ],
)
def test_api_visibility(api_client_for, users, card, role, status):
    from django.test import Client as DjangoClient

    add_events(card, 2)
    api = DjangoClient() if role == "anonymous" else api_client_for(users[role])
    response = api.get(f"/api/v1/clients/{card.pk}/timeline")
    assert response.status_code == status
    if status == 200:
        assert len(response.json()["items"]) == 2
    else:
        assert "items" not in response.json()


def test_api_query_count_is_constant(api_client_for, alice, card, django_assert_num_queries):
    api = api_client_for(alice)
    url = f"/api/v1/clients/{card.pk}/timeline"
    add_events(card, 2, author=alice)
    api.get(url)
    with CaptureQueriesContext(connection) as two:
        api.get(url)
    add_events(card, 50, author=alice)
    with django_assert_num_queries(len(two.captured_queries)):
        assert len(api.get(url).json()["items"]) == 30
