from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kartoteka.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # The auth hook: every sign-in (the login view, force_login in tests, the admin) gets
        # its session stamped and listed; every sign-out removes it from the list.
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        from kartoteka.accounts import receivers

        user_logged_in.connect(receivers.on_signed_in, dispatch_uid="kartoteka_signed_in")
        user_logged_out.connect(receivers.on_signed_out, dispatch_uid="kartoteka_signed_out")
