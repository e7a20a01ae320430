"""Signed-in sessions: where each came from, expiry, signing one or all of them out.

Sessions live in the database (django.contrib.sessions); a UserSession row beside each one
records the address, browser and last activity for the "Your sessions" page. The sign-in
time and last activity also ride in the session itself, so the middleware checks expiry
without a query.
"""

import time

from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from kartoteka.accounts.models import ApiToken, SignInEvent, User, UserSession
from kartoteka.accounts.signin import Client, event_record
from kartoteka.core.client_ip import client_ip

AUTH_AT = "kt_auth_at"
SEEN_AT = "kt_seen_at"
# Last activity is written at most this often: one UPDATE a minute, not one per request.
SEEN_RESOLUTION = 60


def request_client(request: HttpRequest) -> Client:
    """The request's address and browser, for events and the sessions list."""
    return Client(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""))


def session_start(request: HttpRequest, user: User) -> None:
    """Stamp a fresh sign-in on the session and list it (called on user_logged_in, so
    force_login in tests goes through it too)."""
    now = time.time()
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    key = request.session.session_key
    if not key:
        request.session.save()
        key = request.session.session_key
    client = request_client(request)
    UserSession.objects.update_or_create(
        session_key=key,
        defaults={
            "user": user,
            "ip": client.ip[:64],
            "user_agent": client.user_agent[:300],
            "last_seen_at": timezone.now(),
        },
    )


def session_seen(request: HttpRequest) -> None:
    """Record activity (at most once a minute)."""
    request.session[SEEN_AT] = time.time()
    UserSession.objects.filter(session_key=request.session.session_key).update(
        last_seen_at=timezone.now()
    )


def session_list(*, user: User) -> QuerySet[UserSession]:
    """The user's sessions that are still alive, most recently active first."""
    alive = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return UserSession.objects.filter(user=user, session_key__in=alive)


@transaction.atomic
def session_end(*, actor: User, session: UserSession, client: Client | None = None) -> None:
    """Sign one of the actor's sessions out."""
    if session.user_id != actor.pk:
        raise PermissionDenied(_("This is not your session."))
    Session.objects.filter(session_key=session.session_key).delete()
    session.delete()
    event_record(kind=SignInEvent.Kind.SESSION_ENDED, user=actor, client=client)


@transaction.atomic
def sign_out_everywhere(
    *, actor: User, revoke_tokens: bool = False, client: Client | None = None
) -> int:
    """End every session of the actor (this one included) and optionally revoke their API
    tokens. The session epoch is bumped too, so a session missing from the list (made before
    it existed) stops working as well. Returns how many listed sessions were ended."""
    keys = list(UserSession.objects.filter(user=actor).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    ended = UserSession.objects.filter(user=actor).delete()[0]
    User.objects.filter(pk=actor.pk).update(session_epoch=actor.session_epoch + 1)
    actor.session_epoch += 1
    if revoke_tokens:
        ApiToken.objects.filter(user=actor, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    event_record(kind=SignInEvent.Kind.SIGNED_OUT_EVERYWHERE, user=actor, client=client)
    return ended
