from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from kartoteka.core.money import Currency
from kartoteka.sales.models import PaymentMethod

POSITIVE = [MinValueValidator(Decimal("0.01"))]


class Invoice(models.Model):
    """A bill issued to a client. What is paid comes from its payments; what is overdue is
    the unpaid rest after `due_on`. `amount_base` is the amount in the base currency."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        CANCELLED = "cancelled", _("Cancelled")

    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="invoices",
        verbose_name=_("client"),
    )
    order = models.ForeignKey(
        "sales.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("order"),
    )
    number = models.CharField(_("number"), max_length=50)
    issued_on = models.DateField(_("date"))
    due_on = models.DateField(_("due date"))
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.RUB
    )
    exchange_rate = models.DecimalField(
        _("exchange rate to base currency"),
        max_digits=14,
        decimal_places=6,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.000001"))],
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, validators=POSITIVE)
    amount_base = models.DecimalField(
        max_digits=16, decimal_places=2, default=Decimal("0"), editable=False
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ISSUED
    )
    notes = models.TextField(_("notes"), blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-pk"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [models.Index(fields=["client", "due_on"], name="invoice_client_due_idx")]

    def __str__(self) -> str:
        return f"№ {self.number}"


class Payment(models.Model):
    """Money received from a client, optionally against one invoice (partial payments are
    several payments on one invoice)."""

    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="payments",
        verbose_name=_("client"),
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("invoice"),
    )
    paid_on = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, validators=POSITIVE)
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.RUB
    )
    exchange_rate = models.DecimalField(
        _("exchange rate to base currency"),
        max_digits=14,
        decimal_places=6,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.000001"))],
    )
    amount_base = models.DecimalField(
        max_digits=16, decimal_places=2, default=Decimal("0"), editable=False
    )
    method = models.CharField(
        _("payment method"),
        max_length=10,
        choices=PaymentMethod.choices,
        default=PaymentMethod.BANK,
    )
    notes = models.TextField(_("notes"), blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-paid_on", "-pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [models.Index(fields=["client", "-paid_on"], name="payment_client_idx")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
