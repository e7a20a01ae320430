"""REST operations of the documents app (full paths under /api/v1/)."""

from ninja import Router

router = Router(tags=["documents"])
