"""REST operations of the sales app (full paths under /api/v1/)."""

from ninja import Router

router = Router(tags=["sales"])
