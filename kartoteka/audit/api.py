"""REST operations of the audit trail (administrators only): search events, verify the chain.

The filters are the web page's (audit.forms.AuditFilterForm), so a bad value gets the same
per-field message, as a 422 in the API's one error shape.
"""

import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Schema

from kartoteka.audit import chain, selectors
from kartoteka.audit.forms import AuditFilterForm
from kartoteka.audit.schemas import AuditAction, AuditDoor, AuditEventPageOut, AuditVerifyOut

router = Router(tags=["audit"])

MAX_LIMIT = 200


class AuditFilters(Schema):
    user: str | None = None
    card: str | None = None
    action: AuditAction | None = None
    door: AuditDoor | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    ip: str | None = None


def _cleaned(filters: AuditFilters) -> dict[str, object]:
    data = {k: v for k, v in filters.model_dump().items() if v is not None}
    form = AuditFilterForm(data)
    if not form.is_valid():
        raise ValidationError(
            {
                field: [ValidationError(e["message"], code=e["code"]) for e in errors]
                for field, errors in form.errors.get_json_data().items()
            }
        )
    return form.cleaned_data


@router.get("/audit/events", response=AuditEventPageOut, operation_id="audit_event_list")
def audit_event_list(
    request: HttpRequest,
    filters: Query[AuditFilters],
    before: int | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
):
    """Audit events, newest first, filtered like the audit page; follow `next_before`.
    `card` is a card number or id; dates are days in your time zone, both inclusive."""
    user = request.auth  # type: ignore[attr-defined]
    selectors.ensure_can_view_audit(user)
    page = selectors.audit_event_page(
        user=user, filters=_cleaned(filters), before=before, limit=limit
    )
    return {"items": page.items, "next_before": page.next_before}


@router.post("/audit/verify", response=AuditVerifyOut, operation_id="audit_verify")
def audit_verify(request: HttpRequest):
    """Walk the whole chain and report the first broken event, if any."""
    selectors.ensure_can_view_audit(request.auth)  # type: ignore[attr-defined]
    result = chain.verify()
    return {
        "intact": result.intact,
        "checked": result.checked,
        "broken_id": result.broken_id,
        "reason": result.reason,
    }
