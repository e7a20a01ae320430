"""REST operations of the finance app (full paths under /api/v1/)."""

from ninja import Router

router = Router(tags=["finance"])
