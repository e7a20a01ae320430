from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from kartoteka.api import api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="clients:list", permanent=False)),
    path("accounts/", include("kartoteka.accounts.urls")),
    path("clients/", include("kartoteka.clients.urls")),
    path("imports/", include("kartoteka.imports.urls")),
    path("", include("kartoteka.activities.urls")),
    path("", include("kartoteka.sales.urls")),
    path("", include("kartoteka.finance.urls")),
    path("", include("kartoteka.care.urls")),
    path("", include("kartoteka.tasks.urls")),
    path("", include("kartoteka.documents.urls")),
    path("", include("kartoteka.plans.urls")),
    path("duplicates/", include("kartoteka.dedupe.urls")),
    path("", include("kartoteka.core.urls")),
    path("notifications/", include("kartoteka.notifications.urls")),
    path("exports/", include("kartoteka.exports.urls")),
    path("quality/", include("kartoteka.quality.urls")),
    path("audit/", include("kartoteka.audit.urls")),
    path("", include("kartoteka.history.urls")),
    path("", include("kartoteka.consent.urls")),
    path("privacy/", include("kartoteka.privacy.urls")),
    path("backups/", include("kartoteka.backups.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
