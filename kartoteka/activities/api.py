"""REST operations of the activities app (full paths under /api/v1/)."""

from ninja import Router

router = Router(tags=["activities"])
