"""Data-subject requests built through the real service."""

from typing import Any

from django.utils import timezone

from kartoteka.accounts.models import User
from kartoteka.clients.models import Client
from kartoteka.privacy.models import DataSubjectRequest
from kartoteka.privacy.services import request_register


def make_request(actor: User, client: Client, **data: Any) -> DataSubjectRequest:
    fields = {
        "kind": "access",
        "received_on": timezone.localdate(),
        "channel": "email",
        "details": "Письмо от 1 марта",
        "reply_to": "ivanov@example.com",
        "identity_checked": True,
        **data,
    }
    return request_register(actor=actor, client=client, **fields)
