"""Template tags of the duplicates app used on other apps' pages."""

from typing import Any

from django import template

from kartoteka.clients import permissions
from kartoteka.clients.models import Client
from kartoteka.dedupe.models import Merge, MergedCard

register = template.Library()


@register.simple_tag
def merged_into(client: Client, user: Any) -> MergedCard | None:
    """The merge that archived `client` into another card, if it still stands.

    Only archived cards are looked up (one query, none for ordinary cards). The survivor is
    offered only when `user` may see it, so the banner never reveals a card they cannot open.
    """
    if not client.is_archived:
        return None
    merged = (
        MergedCard.objects.filter(client=client, merge__status=Merge.Status.DONE)
        .select_related("survivor", "merge")
        .order_by("-pk")
        .first()
    )
    if merged is None or not permissions.can_view_client(user, merged.survivor):
        return None
    return merged
