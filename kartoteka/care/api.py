"""REST operations of the care app (full paths under /api/v1/)."""

from ninja import Router

router = Router(tags=["care"])
