"""The REST API: /api/v1/, token and session auth, one error shape. Routers live in each app."""

from ninja import NinjaAPI

api = NinjaAPI(title="Kartoteka API", version="1", urls_namespace="api")
