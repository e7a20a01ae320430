from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kartoteka.core.money import Currency

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", pgettext_lazy("payment method", "Card")
    BANK = "bank", _("Bank transfer")
    ONLINE = "online", _("Online")
    OTHER = "other", _("Other")


class Product(models.Model):
    """A product or service in the business's simple catalogue, so order lines are not free
    text only. Lines copy name and price, so editing the catalogue never rewrites history."""

    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product")
        SERVICE = "service", _("Service")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PRODUCT)
    price = models.DecimalField(
        _("price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.RUB
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True, default="")
    vat_rate = models.DecimalField(
        _("VAT, %"), max_digits=5, decimal_places=2, default=Decimal("0"), validators=PERCENT
    )
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("product or service")
        verbose_name_plural = _("catalogue")

    def __str__(self) -> str:
        return self.name


class Order(models.Model):
    """An order or deal with a client: lines, currency, totals computed exactly (Decimal) by
    the services, never typed. `exchange_rate` converts to the base currency."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="orders", verbose_name=_("client")
    )
    number = models.PositiveBigIntegerField(_("number"), unique=True, editable=False)
    ordered_on = models.DateField(_("date"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.NEW
    )
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
    payment_method = models.CharField(
        _("payment method"), max_length=10, blank=True, default="", choices=PaymentMethod.choices
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible"),
    )
    notes = models.TextField(_("notes"), blank=True, default="")
    subtotal = models.DecimalField(
        _("without VAT"), max_digits=16, decimal_places=2, default=Decimal("0"), editable=False
    )
    vat_total = models.DecimalField(
        _("VAT"), max_digits=16, decimal_places=2, default=Decimal("0"), editable=False
    )
    total = models.DecimalField(
        _("total"), max_digits=16, decimal_places=2, default=Decimal("0"), editable=False
    )
    total_base = models.DecimalField(
        _("total in base currency"),
        max_digits=16,
        decimal_places=2,
        default=Decimal("0"),
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-ordered_on", "-number"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["client", "-ordered_on"], name="order_client_idx")]

    def __str__(self) -> str:
        return f"№ {self.number}"


class OrderLine(models.Model):
    """One line of an order. net = quantity × price × (1 − discount), VAT added on top; each
    amount rounded to cents half up, the order total is the sum of the rounded lines."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    product = models.ForeignKey(
        Product,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product or service"),
    )
    name = models.CharField(_("name"), max_length=200)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True, default="")
    unit_price = models.DecimalField(
        _("price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    discount_percent = models.DecimalField(
        _("discount, %"), max_digits=5, decimal_places=2, default=Decimal("0"), validators=PERCENT
    )
    vat_rate = models.DecimalField(
        _("VAT, %"), max_digits=5, decimal_places=2, default=Decimal("0"), validators=PERCENT
    )
    net = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"), editable=False)
    vat = models.DecimalField(max_digits=16, decimal_places=2, default=Decimal("0"), editable=False)
    total = models.DecimalField(
        max_digits=16, decimal_places=2, default=Decimal("0"), editable=False
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self) -> str:
        return self.name


class ServiceRecord(models.Model):
    """A service rendered to the client (a haircut, a procedure, a session): who performed it,
    when, before/after photos, and what the client said about it."""

    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="services",
        verbose_name=_("client"),
    )
    product = models.ForeignKey(
        Product,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service"),
        limit_choices_to={"kind": "service"},
    )
    name = models.CharField(_("service"), max_length=200)
    performed_at = models.DateTimeField(_("date and time"))
    performer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("performer"),
    )
    order = models.ForeignKey(
        Order,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="services",
        verbose_name=_("order"),
    )
    before_photo = models.ForeignKey(
        "documents.Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("photo before"),
    )
    after_photo = models.ForeignKey(
        "documents.Document",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("photo after"),
    )
    feedback = models.TextField(_("client's feedback"), blank=True, default="")
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-performed_at", "-pk"]
        verbose_name = _("service rendered")
        verbose_name_plural = _("services rendered")
        indexes = [models.Index(fields=["client", "-performed_at"], name="service_client_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="service_rating_1_to_5",
                violation_error_message=_("Rating is from 1 to 5."),
            ),
        ]

    def __str__(self) -> str:
        return self.name
