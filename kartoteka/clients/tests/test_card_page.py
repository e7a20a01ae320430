"""The card page brings every section together: the summary header on top, the history
sections loaded by HTMX, robust when a section's app does not serve it, in a fixed number of
queries however long the card's story is."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from kartoteka.clients import views
from kartoteka.clients.tests.factories import make_person
from kartoteka.clients.tests.test_timeline import add_events
from kartoteka.core.models import SiteSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(alice):
    return make_person(alice, last_name="Карточкина")


def _loaded_sections(html: str) -> list[tuple[str, str]]:
    return re.findall(
        r'<div id="section-([a-z]+)" class="panel section-placeholder" '
        r'hx-get="([^"]+)" hx-trigger="load"',
        html,
    )


def test_sections_load_themselves_in_order(web_client_for, alice, card):
    html = web_client_for(alice).get(card.get_absolute_url()).content.decode()
    expected = []
    for column in ("work", "story"):  # the main column comes first in the page
        for section_column, name, url_name in views.CARD_SECTIONS:
            if section_column != column:
                continue
            try:
                expected.append((name, reverse(url_name, args=[card.pk])))
            except NoReverseMatch:
                continue
    assert _loaded_sections(html) == expected
    assert ("documents", reverse("documents:client-documents", args=[card.pk])) in expected
    # The timeline comes with the page, not in a second request.
    timeline_url = reverse("clients:timeline", args=[card.pk])
    assert f'section-placeholder" hx-get="{timeline_url}"' not in html
    assert html.count('id="section-timeline"') == 1
    # The summary header sits above the sections, the timeline beside the work sections.
    assert html.index('id="card-summary"') < html.index('id="section-timeline"')
    assert html.index('class="card-work"') < html.index('class="card-story"')
    assert "js/card.js" in html


def test_work_sections_keep_the_agreed_order(web_client_for, alice, card):
    html = web_client_for(alice).get(card.get_absolute_url()).content.decode()
    names = [name for name, _url in _loaded_sections(html)]
    agreed = [
        "tasks",
        "interactions",
        "orders",
        "services",
        "money",
        "care",
        "consents",
        "documents",
    ]
    assert names == [name for name in agreed if name in names]


def test_a_section_nobody_serves_is_left_out(web_client_for, alice, card, monkeypatch):
    monkeypatch.setattr(
        views,
        "CARD_SECTIONS",
        (*views.CARD_SECTIONS, ("work", "ghost", "ghosts:client-ghost")),
    )
    response = web_client_for(alice).get(card.get_absolute_url())
    assert response.status_code == 200
    assert "section-ghost" not in response.content.decode()


def test_story_and_summary_listen_for_changes(web_client_for, alice, card):
    web = web_client_for(alice)
    page = web.get(card.get_absolute_url()).content.decode()
    summary = re.search(r'<section id="card-summary"[^>]*>', page).group(0)
    assert 'hx-trigger="card-changed from:body"' in summary
    timeline = web.get(
        reverse("clients:timeline", args=[card.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'hx-trigger="card-changed from:body"' in re.search(r"<section[^>]*>", timeline).group(0)


def test_query_count_is_the_same_for_2_and_50_events(
    web_client_for, alice, card, django_assert_num_queries
):
    """The page with its summary header and first timeline page: what opening a card costs."""
    SiteSettings.current()
    web = web_client_for(alice)
    add_events(card, 2, author=alice)
    web.get(card.get_absolute_url())
    with CaptureQueriesContext(connection) as two:
        response = web.get(card.get_absolute_url())
    assert response.content.decode().count('class="tl-event') == 2
    add_events(card, 48, author=alice, start=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC))
    with django_assert_num_queries(len(two.captured_queries)):
        response = web.get(card.get_absolute_url())
    html = response.content.decode()
    assert html.count('class="tl-event') == 30
    assert "Load more" in html


@pytest.mark.parametrize(("role", "status"), [("ada", 200), ("rita", 200), ("charlie", 404)])
def test_card_page_visibility_is_unchanged(web_client_for, users, card, role, status):
    assert web_client_for(users[role]).get(card.get_absolute_url()).status_code == status
