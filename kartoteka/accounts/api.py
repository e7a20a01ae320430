"""The signed-in user over REST: /api/v1/me and their personal API tokens."""

from django.http import HttpRequest
from ninja import Router, Status

from kartoteka.accounts import services
from kartoteka.accounts.models import ApiToken
from kartoteka.accounts.schemas import ApiTokenCreatedOut, ApiTokenIn, ApiTokenOut, MeOut

router = Router(tags=["me"])


def _own_tokens(request: HttpRequest):
    return ApiToken.objects.filter(user=request.auth)  # type: ignore[attr-defined]


@router.get("/me", response=MeOut, operation_id="me_get")
def me_get(request: HttpRequest):
    """Who am I: the user the request runs as, their role and teams."""
    return request.auth  # type: ignore[attr-defined]


@router.get("/me/tokens", response=list[ApiTokenOut], operation_id="api_token_list")
def api_token_list(request: HttpRequest):
    """Your API tokens, newest first, revoked ones included. Keys are never shown again."""
    return _own_tokens(request).order_by("-created_at", "-pk")


@router.post("/me/tokens", response={201: ApiTokenCreatedOut}, operation_id="api_token_create")
def api_token_create(request: HttpRequest, payload: ApiTokenIn):
    """Issue a new token for yourself. The answer holds the key: the only time it is shown."""
    token, key = services.api_token_create(
        actor=request.auth,  # type: ignore[attr-defined]
        name=payload.name.strip(),
        scope=payload.scope,
        expires_at=payload.expires_at,
    )
    token.key = key  # type: ignore[attr-defined]
    return Status(201, token)


@router.post(
    "/me/tokens/{int:token_id}/revoke", response=ApiTokenOut, operation_id="api_token_revoke"
)
def api_token_revoke(request: HttpRequest, token_id: int):
    """Revoke one of your tokens; requests with it answer 401 from now on."""
    token = _own_tokens(request).get(pk=token_id)
    services.api_token_revoke(actor=request.auth, token=token)  # type: ignore[attr-defined]
    return token
