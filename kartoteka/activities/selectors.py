"""Reads of interactions. The card comes from clients.selectors.client_get, so an interaction
is visible exactly when its card is."""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kartoteka.activities.models import Interaction
from kartoteka.clients.models import Client


def interaction_list(*, user: Any, client: Client) -> QuerySet[Interaction]:
    """The card's interactions, newest first, without deleted ones (author and person joined).

    `client` must have been fetched for `user` (clients.selectors.client_get).
    """
    return Interaction.objects.filter(client=client, is_deleted=False).select_related(
        "author", "contact_person"
    )


def interaction_latest(*, user: Any, client: Client, limit: int | None = None) -> list[Interaction]:
    """The card's interactions as shown to `user`, newest first (all, or the first `limit`).

    A person at the client whose card `user` may not see is left out (contact_person None),
    so a name never leaks through someone else's record.
    """
    queryset = interaction_list(user=user, client=client)
    rows = list(queryset[:limit] if limit is not None else queryset)
    return hide_invisible_people(user=user, interactions=rows)


def hide_invisible_people(*, user: Any, interactions: list[Interaction]) -> list[Interaction]:
    """Blank out the people `user` may not see, in one query however many rows."""
    ids = {i.contact_person_id for i in interactions if i.contact_person_id is not None}
    if not ids:
        return interactions
    visible = set(Client.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    for interaction in interactions:
        if (
            interaction.contact_person_id is not None
            and interaction.contact_person_id not in visible
        ):
            interaction.contact_person = None
    return interactions


def interaction_get(*, user: Any, client: Client, pk: int) -> Interaction:
    """One interaction of the card; Http404 when it is not there or was deleted."""
    interaction = interaction_list(user=user, client=client).filter(pk=pk).first()
    if interaction is None:
        raise Http404("No such interaction")
    interaction.client = client  # the caller's instance, already checked for visibility
    return interaction


def contact_person_choices(
    *, user: Any, client: Client, include: Client | None = None
) -> list[Client]:
    """People working at the company card `client` whom `user` may see (for the "person at
    the client" picker), plus `include` (the one already chosen) if it is not among them.

    An `include` the user may not see comes back with `is_hidden = True`: the picker keeps it
    without naming it.
    """
    people: list[Client] = []
    if client.is_company:
        people = list(
            Client.objects.visible_to(user)
            .filter(employer=client, kind=Client.Kind.PERSON, is_archived=False)
            .order_by("sort_name", "pk")
        )
    if include is not None and include not in people:
        include.is_hidden = not Client.objects.visible_to(user).filter(pk=include.pk).exists()  # type: ignore[attr-defined]
        people.insert(0, include)
    return people
