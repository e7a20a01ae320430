"""Emailing reminders: through Django's email backend (SMTP in production), by the worker,
in the recipient's language and time zone.

Delivery is AT MOST ONCE. A reminder sent twice is worse than one lost (people stop reading
a CRM that nags twice), and a lost one is still under the bell. So:

1. claim: in one short committed transaction, pending rows go to `sending` (with
   SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, so two workers claim disjoint rows; on
   SQLite the transaction is IMMEDIATE, writers queue, and the conditional UPDATE re-checks
   the status);
2. send each claimed message, and mark it `sent` (with `emailed_at`) right after it went;
3. a row left in `sending` (the worker was killed between claiming and marking) is never
   sent again: after INTERRUPTED_AFTER it is marked `failed` with a note, so it shows up
   rather than vanishing.

When the SMTP server refuses the connection or a message, nothing went out: the row goes
back to `pending` and is tried again on a later tick, up to MAX_ATTEMPTS.
"""

import contextlib
import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from kartoteka.notifications import messages
from kartoteka.notifications.models import Notification

logger = logging.getLogger("kartoteka.notifications")

CLAIM_BATCH = 50
MAX_ATTEMPTS = 5
INTERRUPTED_AFTER = datetime.timedelta(minutes=10)


def claim(*, now: datetime.datetime, limit: int = CLAIM_BATCH) -> list[int]:
    """Move up to `limit` pending emails to `sending` for this worker; returns their ids."""
    with transaction.atomic():
        # A row handed back after a refused attempt waits for a later tick (claimed before
        # `now`), so one tick does not burn every attempt on a mail server that is down.
        pending = (
            Notification.objects.filter(email_status=Notification.EmailStatus.PENDING)
            .filter(Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now))
            .order_by("created_at", "pk")
        )
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True)
        ids = list(pending.values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        claimed = Notification.objects.filter(
            pk__in=ids, email_status=Notification.EmailStatus.PENDING
        )
        claimed.update(
            email_status=Notification.EmailStatus.SENDING,
            email_claimed_at=now,
            email_attempts=F("email_attempts") + 1,
        )
        return ids


def absolute(link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    return settings.KARTOTEKA_BASE_URL.rstrip("/") + link


def compose(notification: Notification) -> EmailMessage:
    """The email for one reminder, written in its recipient's language and time zone."""
    recipient = notification.recipient
    language = recipient.language or settings.LANGUAGE_CODE
    with translation.override(language):
        text = messages.render(notification.msgid, notification.params, zone=recipient.zone)
        context = {
            "recipient": recipient,
            "notification": notification,
            "text": text,
            "link": absolute(notification.link),
            "inbox": absolute("/notifications/"),
        }
        subject = " ".join(render_to_string("notifications/email/subject.txt", context).split())
        body = render_to_string("notifications/email/body.txt", context)
    return EmailMessage(
        subject=subject[:200],
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={"Content-Language": language},
    )


def _finish(pk: int, **fields: object) -> None:
    Notification.objects.filter(pk=pk, email_status=Notification.EmailStatus.SENDING).update(
        **fields
    )


def _retry_or_fail(notification: Notification, error: Exception) -> None:
    if notification.email_attempts >= MAX_ATTEMPTS:
        status = Notification.EmailStatus.FAILED
    else:
        status = Notification.EmailStatus.PENDING
    _finish(notification.pk, email_status=status, email_error=str(error)[:1000])


def send_claimed(ids: list[int], *, now: datetime.datetime) -> int:
    """Send the claimed emails; returns how many went out."""
    rows = list(
        Notification.objects.filter(pk__in=ids, email_status=Notification.EmailStatus.SENDING)
        .select_related("recipient")
        .order_by("pk")
    )
    sendable = []
    for notification in rows:
        if notification.recipient.email and notification.recipient.is_active:
            sendable.append(notification)
        else:
            _finish(
                notification.pk,
                email_status=Notification.EmailStatus.NONE,
                email_error="The recipient has no email address or has left.",
            )
    if not sendable:
        return 0
    sent = 0
    backend = get_connection(fail_silently=False)
    try:
        backend.open()
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("Cannot reach the mail server: %s", exc)
        for notification in sendable:
            _retry_or_fail(notification, exc)
        return 0
    try:
        for notification in sendable:
            try:
                message = compose(notification)
                message.connection = backend
                message.send()
            except (OSError, smtplib.SMTPException) as exc:
                logger.warning("Reminder %s not emailed: %s", notification.pk, exc)
                _retry_or_fail(notification, exc)
                continue
            _finish(
                notification.pk,
                email_status=Notification.EmailStatus.SENT,
                emailed_at=timezone.now(),
                email_error="",
            )
            sent += 1
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            backend.close()
    return sent


def sweep_interrupted(*, now: datetime.datetime) -> int:
    """Mark as failed the emails a stopped worker claimed and never marked: they may or may
    not have gone out, and sending again could send them twice."""
    return Notification.objects.filter(
        email_status=Notification.EmailStatus.SENDING,
        email_claimed_at__lt=now - INTERRUPTED_AFTER,
    ).update(
        email_status=Notification.EmailStatus.FAILED,
        email_error="The worker stopped while sending; not retried so it is never sent twice.",
    )


def send_pending(*, now: datetime.datetime, max_batches: int = 20) -> int:
    """Claim and send pending emails batch by batch; returns how many went out."""
    sent = 0
    for _batch in range(max_batches):
        ids = claim(now=now)
        if not ids:
            break
        sent += send_claimed(ids, now=now)
    return sent
