from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HistoryConfig(AppConfig):
    name = "kartoteka.history"
    verbose_name = _("Card history")
