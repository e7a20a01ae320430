"""The card merged away says where it went, to those who may follow it."""

from django.urls import reverse

from kartoteka.clients.tests.factories import make_person
from kartoteka.dedupe import services


def _merge(alice):
    survivor = make_person(alice, last_name="Иванов", first_name="Иван")
    other = make_person(alice, last_name="Иванов", first_name="Иван")
    merge = services.merge_cards(actor=alice, survivor=survivor, merged=[other])
    return survivor, other, merge


def test_merged_card_links_to_the_survivor_and_the_merge(alice, web_client_for):
    survivor, other, merge = _merge(alice)

    page = web_client_for(alice).get(reverse("clients:detail", args=[other.pk])).content.decode()

    assert "data-merged-into" in page
    assert reverse("clients:detail", args=[survivor.pk]) in page
    assert reverse("dedupe:merge-detail", args=[merge.pk]) in page
    assert survivor.card_number in page


def test_banner_gone_after_undo_and_absent_on_ordinary_cards(alice, web_client_for):
    survivor, other, merge = _merge(alice)
    web = web_client_for(alice)
    survivor_page = web.get(reverse("clients:detail", args=[survivor.pk])).content.decode()

    services.merge_undo(actor=alice, merge=merge)
    other_page = web.get(reverse("clients:detail", args=[other.pk])).content.decode()

    assert "data-merged-into" not in survivor_page
    assert "data-merged-into" not in other_page
