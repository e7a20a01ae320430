"""The card page's privacy line: "Register a privacy request", or when the card was erased."""

from typing import Any

from django import template

from kartoteka.clients.models import Client
from kartoteka.privacy import permissions
from kartoteka.privacy.erasure import ERASED

register = template.Library()


@register.inclusion_tag("privacy/card_link.html", takes_context=True)
def privacy_card_link(context: dict[str, Any], client: Client) -> dict[str, Any]:
    user = context.get("user")
    # No query: erasure names the card "[erased]" and archives it at that moment, which keeps
    # the card page's query count flat (the DestructionRecord has the details).
    erased = client.display_name == ERASED and client.is_archived
    return {
        "client": client,
        "erased_at": client.archived_at if erased else None,
        "can_register": permissions.can_register_request(user, client),
    }
