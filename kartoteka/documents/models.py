import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def _document_path(instance: "Document", filename: str) -> str:
    # Random names: nothing about the client or the original file name leaks into storage.
    return f"documents/{instance.client_id}/{uuid.uuid4().hex}"


def _thumbnail_path(instance: "Document", filename: str) -> str:
    return f"documents/{instance.client_id}/thumbs/{uuid.uuid4().hex}.jpg"


class Document(models.Model):
    """A file on a card (and optionally an order): contract, invoice, waybill, act, photo.

    Stored through Django's storage API with random names, never served from a public URL:
    documents/views.py streams it after checking the reader may see the card.
    """

    class Kind(models.TextChoices):
        CONTRACT = "contract", _("Contract")
        INVOICE = "invoice", _("Invoice")
        WAYBILL = "waybill", _("Waybill")
        ACT = "act", _("Act")
        PHOTO = "photo", _("Photo")
        ID_DOCUMENT = "identity", _("Identity document")
        OTHER = "other", _("Other")

    # Kinds whose file and thumbnail are encrypted at rest (core.encrypted_files): pictures
    # of people and identity papers are what a stolen disk or bucket must not give away.
    ENCRYPTED_KINDS = frozenset({Kind.PHOTO, Kind.ID_DOCUMENT})

    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("client"),
    )
    order = models.ForeignKey(
        "sales.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="documents",
        verbose_name=_("order"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OTHER)
    number = models.CharField(_("number"), max_length=50, blank=True, default="")
    dated_on = models.DateField(_("date"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True, default="")
    file = models.FileField(_("file"), upload_to=_document_path, max_length=300)
    thumbnail = models.FileField(upload_to=_thumbnail_path, max_length=300, blank=True, default="")
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # How the file and thumbnail are stored: "" as uploaded (older files, kinds not
    # encrypted), else encrypted under this key (`kartoteka rotate_keys` moves them on).
    key_id = models.CharField(max_length=20, blank=True, default="", editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    is_deleted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [models.Index(fields=["client", "-uploaded_at"], name="document_client_idx")]

    def __str__(self) -> str:
        return self.title or self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
