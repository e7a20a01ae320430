from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class SurveyResponse(models.Model):
    """A survey or questionnaire the client answered: NPS (0-10), CSAT (1-5) or free."""

    class Scale(models.TextChoices):
        NPS = "nps", _("NPS (0–10)")
        CSAT = "csat", _("CSAT (1–5)")
        FREE = "free", _("Free form")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="surveys", verbose_name=_("client")
    )
    taken_on = models.DateField(_("date"))
    name = models.CharField(_("survey"), max_length=200)
    scale = models.CharField(_("scale"), max_length=4, choices=Scale.choices, default=Scale.NPS)
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    summary = models.TextField(_("summary"), blank=True, default="")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken_on", "-pk"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        indexes = [models.Index(fields=["client", "-taken_on"], name="survey_client_idx")]

    def __str__(self) -> str:
        return self.name


class Recommendation(models.Model):
    """Advice given to the client ("repeat the procedure in 6 weeks") with a due date or a
    periodicity, and whether it was followed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        FOLLOWED = "followed", _("Followed")
        NOT_FOLLOWED = "not_followed", _("Not followed")

    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="recommendations",
        verbose_name=_("client"),
    )
    given_on = models.DateField(_("date"))
    text = models.TextField(_("recommendation"))
    due_on = models.DateField(_("due date"), null=True, blank=True)
    period_days = models.PositiveIntegerField(
        _("repeat every, days"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-given_on", "-pk"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        indexes = [
            models.Index(fields=["client", "-given_on"], name="recommendation_client_idx"),
            models.Index(fields=["status", "due_on"], name="recommendation_due_idx"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class HealthNote(models.Model):
    """Special-category data: an allergy, chronic condition, contraindication or health
    preference. Read and written ONLY through care/health.py, which checks the reader's
    health access, logs every view and is the one place a later cipher plugs into."""

    class Kind(models.TextChoices):
        ALLERGY = "allergy", _("Allergy")
        CHRONIC = "chronic", _("Chronic condition")
        CONTRAINDICATION = "contraindication", _("Contraindication")
        PREFERENCE = "preference", _("Preference")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="health_notes"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    stored_text = models.TextField(default="")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "pk"]
        verbose_name = _("health note")
        verbose_name_plural = _("health notes")

    def __str__(self) -> str:
        return self.get_kind_display()  # never the content: it is special-category data


class HealthAccessLog(models.Model):
    """Every view or change of a card's health notes: who, when, what, through which door."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        CREATE = "create", _("Added")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    channel = models.CharField(max_length=16, default="system")
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("health data access")
        verbose_name_plural = _("health data access log")

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.client_id}"
