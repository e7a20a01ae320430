from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kartoteka.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from kartoteka.core import pgtime

        # PostgreSQL: timestamps parsed in C, with Django's time zone handling (pgtime).
        connection_created.connect(pgtime.install, dispatch_uid="kartoteka.core.pgtime")
